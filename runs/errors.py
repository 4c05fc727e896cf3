"""The exception types the command line turns into one line (never a traceback).

- ``UserError``: a bad scenario, a foreign store, a missing file, a bad option. ``lunadyn: error: ...``,
  exit status 2.
- ``StoreDamaged`` (a UserError): a store whose chunks or ledger are missing, truncated or corrupt; the
  message names the damaged units and the command that repairs them. Exit status 2.
- ``StorageError``: the file system refused a write (full, over quota, read-only, permission). The
  message says what failed, where, how many units are done and that rerunning resumes. Exit status
  ``EXIT_STORAGE`` (74, ``EX_IOERR`` of sysexits.h).

Every message is one line naming what, which field or file, and what was expected.
"""
import errno
import math

EXIT_USER_ERROR = 2
EXIT_STORAGE = 74          # sysexits.h EX_IOERR: the environment, not the input, is at fault

# write failures that are the file system's answer, not a bug: stop the sweep with one line
STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error",
    errno.EFBIG: "file too large",
}


def exact(v) -> str:
    """A number for a message or a table: as short as possible yet exact, so that typed back it is the
    same value (``4.6``, ``1e+22``, ``3.1622776601683795e+22``; integers as integers)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        return repr(float(v))
    short = f"{v:g}"
    return short if float(short) == v else repr(float(v))


def _one_line(message) -> str:
    return " ".join(str(message).split())


class UserError(Exception):
    """An error the user can fix; ``str(err)`` is one line."""

    exit_status = EXIT_USER_ERROR

    def __init__(self, message: str):
        super().__init__(_one_line(message))


class StoreDamaged(UserError):
    """A store with missing, truncated or corrupt chunks or ledger entries (names units and the repair)."""

    def __init__(self, message: str, units=()):
        super().__init__(message)
        self.units = sorted(int(u) for u in units)


class StorageError(Exception):
    """The file system refused a write; ``str(err)`` is one line, exit status ``EXIT_STORAGE``."""

    exit_status = EXIT_STORAGE

    def __init__(self, message: str):
        super().__init__(_one_line(message))


def storage_reason(exc: BaseException) -> str | None:
    """'no space left on device' etc. if ``exc`` (or what it wraps) is a storage OSError, else None."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            return STORAGE_ERRNOS[exc.errno]
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None
