"""Per-unit claims: several drivers on one store share its work instead of duplicating it (issue 12).

A user resubmitting while the first job still runs, two job arrays over one store, a dask sweep and a
serial one: each process computing unit ``i`` first *claims* it by creating the file
``.NAME.lunadyn-claims/i`` beside the store with ``O_CREAT | O_EXCL`` (atomic on local file systems and
on NFSv3+/Lustre), and removes it when the unit is done. A unit claimed by a live process is skipped
(the driver waits for it at the end instead of computing it twice).

Stale-claim rule (a killed holder never blocks the store): a claim holds the holder's host, pid and the
pid's start time. On the same host it is stale as soon as that process is gone (or the pid was reused:
another start time); from another host it is stale once older than ``LUNADYN_CLAIM_STALE_S`` seconds
(default 3600: a unit is minutes of work at most). A stale claim is removed and re-taken with
``O_EXCL`` again, so at most one taker wins.

Correctness does not depend on the claims: a unit's bytes are a deterministic function of the spec and
each chunk file is written atomically (write to a temporary file, rename), so even two writers of one
unit (a lost race on a stale claim) leave the same complete files. The claims make sure that this does
not happen in practice, and that two drivers finish in about the time of one.

Hand-written (about eighty lines) rather than a lock library: the libraries (filelock, fasteners) lock
a whole resource with fcntl/flock, which Lustre mounts without ``-o flock`` refuse, and their stale-lock
rules do not cover a holder on another node.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from .store import pid_alive

STALE_ENV = "LUNADYN_CLAIM_STALE_S"
DEFAULT_STALE_S = 3600.0


def claims_dir(store) -> Path:
    p = Path(store)
    return p.parent / f".{p.name}.lunadyn-claims"


def _start_time(pid: int) -> float | None:
    try:
        import psutil
        return float(psutil.Process(pid).create_time())
    except Exception:
        return None


_ME: dict = {}


def _me() -> dict:
    pid = os.getpid()
    if _ME.get("pid") != pid:
        _ME.clear()
        _ME.update(host=socket.gethostname(), pid=pid, start=_start_time(pid))
    return dict(_ME)


def _stale(path: Path) -> bool:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        # being written this very moment (empty), or garbage: stale once a few seconds old
        try:
            return time.time() - path.stat().st_mtime > 5
        except OSError:
            return True
    if info.get("host") == socket.gethostname():
        pid = int(info.get("pid", -1))
        if pid == os.getpid() or not pid_alive(pid):
            return True             # ours (left by a failed attempt in this process) or a dead holder's
        start = info.get("start")
        now = _start_time(pid)
        return start is not None and now is not None and abs(now - float(start)) > 1.0
    return age > float(os.environ.get(STALE_ENV, DEFAULT_STALE_S))


class Claim:
    """A held claim on unit ``i`` of a store; ``release()`` removes it."""

    def __init__(self, path: Path):
        self.path = path

    def release(self) -> None:
        """Remove the claim; a file system that refuses (read-only since) leaves it: a claim on a done
        unit is never looked at, and ``clear_done`` removes it once its holder is gone."""
        try:
            self.path.unlink()
        except OSError:
            pass


def holder(store, i: int) -> dict | None:
    """Who holds unit i's claim (host, pid), or None if nobody (or a stale holder)."""
    path = claims_dir(store) / str(int(i))
    if not path.exists() or _stale(path):
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def acquire(store, i: int) -> Claim | None:
    """Claim unit i: a Claim, or None if a live process holds it. OSError if the claim cannot be written
    (a full or read-only file system: the caller reports it like any failed write)."""
    d = claims_dir(store)
    path = d / str(int(i))
    body = json.dumps(_me()).encode()
    for _attempt in range(4):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileNotFoundError:
            d.mkdir(parents=True, exist_ok=True)
            continue
        except FileExistsError:
            if not _stale(path):
                return None
            try:
                path.unlink()           # a dead holder's claim: remove it, then race for it with O_EXCL
            except FileNotFoundError:
                pass
            continue
        try:
            try:
                os.write(fd, body)
            finally:
                os.close(fd)
        except OSError:
            path.unlink(missing_ok=True)     # no empty claim left behind (a full disk)
            raise
        return Claim(path)
    return None


def remove_dir_if_empty(store) -> None:
    """The claims directory goes when its last claim does (another driver may still be using it)."""
    try:
        claims_dir(store).rmdir()
    except OSError:
        pass


def clear_done(store, done) -> None:
    """Remove claims left on units already done (a holder killed between its done flag and release)."""
    d = claims_dir(store)
    if not d.is_dir():
        return
    for f in d.iterdir():
        try:
            i = int(f.name)
        except ValueError:
            continue
        if 0 <= i < len(done) and done[i] and _stale(f):
            try:
                f.unlink()
            except OSError:
                pass
