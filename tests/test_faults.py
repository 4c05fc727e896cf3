"""Faults during creation and writing (issue 15) and concurrent drivers (issue 12).

- SIGKILL and Ctrl-C after every step of a store's creation (the LUNADYN_FAULT_AFTER_STEP hook), new
  and --overwrite: the path holds nothing or a complete store, and a rerun ends bitwise equal to an
  uninterrupted creation; the same for `lunadyn sweep` at a few steps of its creation.
- A size-limited file system (tmpfs) full during creation and during writes, from the serial, dask and
  MPI backends; a file system remounted read-only mid-sweep, serial and dask: one line, exit 74, nothing
  half-written marked done, and after the condition clears the rerun resumes to a bitwise-equal store.
- Two drivers on one new store share the work (per-unit claims): each unit computed once, the store
  bitwise equal to one driver's; a claim left by a dead holder is taken over, a live holder's waited for.

The tmpfs tests need root (mount); they are skipped with the reason elsewhere, and fail instead of
skipping when CI is set and the test runs as root.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

import fault_helper
from lunadyn.runs import api
from lunadyn.runs.cli import main as cli
from lunadyn.runs.io import claims, store
from lunadyn.testing import assert_stores_equal

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPEC = """
title = "fault sweep"
[vary]
r_core = { min = 320e3, max = 380e3 }
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 12
seed = 2
[settings]
output_step = 0.25
chunk_size = 3
[output]
keep_state = false
variables = ["B_surface"]
"""
N_UNITS = 8


def env(**extra):
    e = {k: v for k, v in os.environ.items() if not k.startswith("LUNADYN_")}
    e.update({"NUMBA_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **{k: str(v) for k, v in extra.items()}})
    return e


def sweep_proc(spec, out, *args, **extra):
    cmd = [sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(out), "--json", *args]
    return subprocess.Popen(cmd, cwd=REPO, env=env(**extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def computed(log):
    return [int(line.split()[0]) for line in Path(log).read_text().splitlines()] if Path(log).exists() else []


def leftovers(path):
    path = Path(path)
    return sorted(p.name for p in path.parent.glob(f".{path.name}.lunadyn-*") if not p.name.endswith("-claims"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, warm):
    d = tmp_path_factory.mktemp("faults")
    spec = d / "fault.toml"
    spec.write_text(SPEC)
    report = api.sweep(spec, d / "ref.zarr", backend="serial", progress=False)
    assert report["complete"] and report["chunks_total"] == N_UNITS
    return d / "ref.zarr", spec


# --- creation: every step, SIGKILL and Ctrl-C, new store and --overwrite -------------------------------

FAULTS = {"tried": 0, "survived": 0}


# Ctrl-C on a new store's creation is the same build as --overwrite's (checked here at every step) and is
# also tried through `lunadyn sweep` below
@pytest.mark.parametrize("sig,overwrite", [("KILL", False), ("KILL", True), ("INT", True)],
                         ids=["kill-new", "kill-overwrite", "int-overwrite"])
def test_creation_interrupted_after_every_step_resumes_bitwise(sig, overwrite, tmp_path):
    ref = tmp_path / "ref.zarr"
    store.create_store(ref, **fault_helper.recipe())
    fault_helper.fill(ref)
    base = tmp_path / "faults"
    base.mkdir()
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "fault_helper.py"),
                           json.dumps({"base": str(base), "signal": sig, "overwrite": overwrite})],
                          capture_output=True, text=True, cwd=REPO, env=env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    faults = [r for r in results if r["exit"] != 0]
    assert results[-1]["exit"] == 0 and len(faults) >= 14 + (2 if overwrite else 0), results
    for r in faults:
        path = Path(r["path"])
        if sig == "KILL":
            assert r["signal"] == signal.SIGKILL, r
        else:
            assert r["exit"] == 130, r
            assert leftovers(path) == [], (r, leftovers(path))   # Ctrl-C cleans up at once
        # never half a store: nothing there, or a complete store (the old one or the new one)
        kind = store.identify(path)
        assert kind in ("absent", "store"), (r, kind)
        if kind == "store":
            assert store.scan_store(path, verify=True).ok
            if overwrite:
                old = store.spec_hash(fault_helper.recipe(seed=1)["spec"])
                assert zarr.open_group(str(path), mode="r").attrs["spec_hash"] in (old, store.spec_hash(
                    fault_helper.recipe()["spec"]))
        # the rerun (same command) ends in the store an uninterrupted creation makes
        store.create_store(path, **fault_helper.recipe(), overwrite=overwrite)
        fault_helper.fill(path)
        assert_stores_equal(ref, path)
        assert leftovers(path) == []
        FAULTS["tried"] += 1
        FAULTS["survived"] += 1
    print(f"creation faults ({sig}, {'overwrite' if overwrite else 'new'}): {len(faults)} tried, {len(faults)} survived")


def creation_steps(spec, tmp_path):
    """How many fault points the creation of this sweep's store passes (LUNADYN_FAULT_TRACE)."""
    from lunadyn.runs.compute.driver import open_sweep_store
    from lunadyn.runs.spec.sweep import load_spec

    trace = tmp_path / "trace"
    os.environ["LUNADYN_FAULT_TRACE"] = str(trace)
    try:
        open_sweep_store(load_spec(spec), tmp_path / "count.zarr")
    finally:
        del os.environ["LUNADYN_FAULT_TRACE"]
    return trace.read_text().splitlines()


def test_lunadyn_sweep_killed_or_interrupted_during_creation_resumes_bitwise(reference, tmp_path):
    ref, spec = reference
    steps = creation_steps(spec, tmp_path)
    assert steps[0] == "build directory made" and steps[-1] == "renamed into place" and len(steps) > 15
    cases = [(1, "KILL"), (len(steps) - 1, "KILL"), (len(steps) // 2, "INT")]
    for k, sig in cases:
        out = tmp_path / f"k{k}{sig}.zarr"
        proc = sweep_proc(spec, out, "--backend", "serial", LUNADYN_FAULT_AFTER_STEP=k, LUNADYN_FAULT_SIGNAL=sig)
        _, err = proc.communicate(timeout=300)
        if sig == "KILL":
            assert proc.returncode == -signal.SIGKILL, err
        else:
            assert proc.returncode == 130 and err.strip().splitlines() == ["lunadyn: interrupted"], err
        assert store.identify(out) == ("store" if k == len(steps) else "absent")
        r = cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"])
        assert r == 0
        assert_stores_equal(ref, out)
        assert leftovers(out) == []
        FAULTS["tried"] += 1
        FAULTS["survived"] += 1


def test_overwrite_works_on_a_lunadyn_store_in_any_state(reference, tmp_path, capsys):
    """Half-created (lunadyn <= 0.1 wrote the attributes last), damaged group metadata, missing ledger."""
    ref, spec = reference
    states = {}
    half = tmp_path / "half.zarr"                 # what an interrupted creation of lunadyn 0.1 left
    zarr.open_group(str(half), mode="w", zarr_format=3)
    zarr.open_group(str(half), mode="r+").create_array("sample", shape=(24,), chunks=(3,), dtype="int64",
                                                        attributes={"long_name": store.SAMPLE_LONG_NAME})
    states["half-created"] = half
    for name, damage in (("groupjson", lambda p: (p / "zarr.json").write_text('{"zarr_fo')),
                         ("noledger", lambda p: __import__("shutil").rmtree(p / "done"))):
        p = tmp_path / f"{name}.zarr"
        __import__("shutil").copytree(ref, p)
        damage(p)
        states[name] = p
    assert store.identify(states["groupjson"]) == "damaged"
    assert store.identify(half) == "half-created"
    for what, p in states.items():
        assert cli.main(["sweep", str(spec), "-o", str(p), "--backend", "serial", "--overwrite", "--json"]) == 0, what
        capsys.readouterr()
        assert_stores_equal(ref, p)


# --- two drivers --------------------------------------------------------------------------------------

def test_two_drivers_started_together_on_a_new_store_share_the_work(reference, tmp_path):
    ref, spec = reference
    out, log = tmp_path / "two.zarr", tmp_path / "chunks.log"
    procs = [sweep_proc(spec, out, "--backend", "serial", LUNADYN_CHUNK_LOG=log) for _ in range(2)]
    reports = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert "Traceback" not in stderr and "not a lunadyn store" not in stderr
        reports.append(json.loads(stdout))
    assert all(r["complete"] for r in reports)
    units = computed(log)
    assert sorted(units) == list(range(N_UNITS))             # every unit computed exactly once
    assert sum(r["models_computed_now"] for r in reports) == 3 * N_UNITS
    assert_stores_equal(ref, out)
    assert not claims.claims_dir(out).exists() and leftovers(out) == []


def test_a_dead_holders_claim_is_taken_over_and_a_live_one_waited_for(reference, tmp_path, monkeypatch):
    ref, spec = reference
    out, log = tmp_path / "c.zarr", tmp_path / "chunks.log"
    monkeypatch.setenv("LUNADYN_CHUNK_LOG", str(log))
    dead = subprocess.Popen(["true"])
    dead.wait()
    live = subprocess.Popen(["sleep", "60"])
    cdir = claims.claims_dir(out)
    cdir.mkdir()
    import socket
    (cdir / "1").write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "start": 0}))
    (cdir / "4").write_text(json.dumps({"host": socket.gethostname(), "pid": live.pid,
                                        "start": claims._start_time(live.pid)}))
    (cdir / "6").write_text(json.dumps({"host": "another-node", "pid": 1, "start": 0}))
    old = time.time() - 7200
    os.utime(cdir / "6", (old, old))                    # a claim from another node, two hours old: stale
    result = {}
    t = threading.Thread(target=lambda: result.update(api.sweep(spec, out, backend="serial", progress=False)))
    t.start()
    deadline = time.time() + 120
    while time.time() < deadline and len(computed(log)) < N_UNITS - 1:
        time.sleep(0.05)
    time.sleep(0.5)
    assert 4 not in computed(log) and t.is_alive()         # unit 4 waits for its live holder
    assert {1, 6} <= set(computed(log))                   # dead and stale holders' units are taken over
    live.kill()
    live.wait()
    t.join(timeout=120)
    assert result["complete"] and sorted(computed(log)) == list(range(N_UNITS))
    assert_stores_equal(ref, out)


# --- a small file system: full, read-only --------------------------------------------------------------

class SmallFS:
    def __init__(self, path: Path):
        self.path = path

    def remount(self, opts: str) -> None:
        """mount -o remount,OPTS; a read-only remount is refused (EBUSY) while a file is open for
        writing, so it is retried until it lands between two writes."""
        for _ in range(2000):
            r = subprocess.run(["mount", "-o", f"remount,{opts}", str(self.path)], capture_output=True, text=True)
            if r.returncode == 0:
                return
            time.sleep(0.005)
        raise AssertionError(f"mount -o remount,{opts} {self.path}: {r.stderr}")

    def used(self) -> int:
        s = os.statvfs(self.path)
        return (s.f_blocks - s.f_bfree) * s.f_frsize

    def clear(self) -> None:
        for p in self.path.iterdir():
            subprocess.run(["rm", "-rf", str(p)], check=True)


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "fs"
    mnt.mkdir()
    why = None
    if os.geteuid() != 0:
        why = "mounting a size-limited tmpfs needs root"
    else:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            why = f"mount -t tmpfs failed: {r.stderr.strip()}"
    if why:
        if os.environ.get("CI") and os.geteuid() == 0:
            pytest.fail(f"CI runs as root but {why}")
        pytest.skip(why)
    try:
        yield SmallFS(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


_SIZES = {}


def sizes_on(fs, spec):
    """tmpfs bytes the store's creation takes, and the whole sweep (measured once on a tmpfs)."""
    from lunadyn.runs.compute.driver import open_sweep_store
    from lunadyn.runs.spec.sweep import load_spec

    if spec in _SIZES:
        return _SIZES[spec]
    before = fs.used()
    open_sweep_store(load_spec(spec), fs.path / "m.zarr")
    created = fs.used() - before
    api.sweep(spec, fs.path / "m.zarr", backend="serial", progress=False)
    total = fs.used() - before
    fs.clear()
    _SIZES[spec] = created, total
    return created, total


def one_error_line(err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("lunadyn: error: ") and "Traceback" not in err, err
    return lines[0]


def test_full_during_creation_is_one_line_then_resumes(small_fs, reference, capsys):
    ref, spec = reference
    out = small_fs.path / "s.zarr"
    created, _ = sizes_on(small_fs, spec)
    small_fs.remount(f"size={created // 2}")
    code = cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"])
    _, err = capsys.readouterr()
    line = one_error_line(err)
    assert code == 74 and "no space left on device creating" in line and "rerun" in line, line
    assert not out.exists() and leftovers(out) == [] and not list(small_fs.path.iterdir())
    small_fs.remount("size=16m")
    assert cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"]) == 0
    assert_stores_equal(ref, out)
    FAULTS["tried"] += 1
    FAULTS["survived"] += 1


@pytest.mark.parametrize("backend", ["serial", "dask"])
def test_full_during_writes_is_one_line_then_resumes(backend, small_fs, reference, capfd, tmp_path, monkeypatch):
    ref, spec = reference
    out, log = small_fs.path / "s.zarr", tmp_path / "chunks.log"
    created, total = sizes_on(small_fs, spec)
    small_fs.remount(f"size={created + (total - created) // 3}")
    monkeypatch.setenv("LUNADYN_CHUNK_LOG", str(log))
    args = ["--backend", "serial"] if backend == "serial" else ["--workers", "2"]
    code = cli.main(["sweep", str(spec), "-o", str(out), *args, "--json"])
    _, err = capfd.readouterr()                 # fd level: the dask workers' output too
    line = one_error_line(err)
    assert code == 74 and "no space left on device writing unit" in line, line
    done = np.flatnonzero(zarr.open_group(str(out), mode="r")["done"][:]).tolist()
    assert f"{len(done)} of {N_UNITS} units done" in line and "rerun the same command to resume" in line
    assert 0 < len(done) < N_UNITS
    assert store.scan_store(out, verify=True).ok           # nothing half-written is marked done
    small_fs.remount("size=16m")
    first = computed(log)
    assert cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"]) == 0
    again = computed(log)[len(first):]
    assert not set(again) & set(done) and set(again) | set(done) == set(range(N_UNITS))
    assert_stores_equal(ref, out)
    FAULTS["tried"] += 1
    FAULTS["survived"] += 1


@pytest.mark.skipif(not (BIN / "mpiexec").exists(), reason="no mpiexec next to this python (the mpi extra)")
def test_full_during_writes_under_mpi_is_one_line_then_resumes(small_fs, reference):
    ref, spec = reference
    out = small_fs.path / "s.zarr"
    created, total = sizes_on(small_fs, spec)
    small_fs.remount(f"size={created + (total - created) // 3}")
    cmd = [str(BIN / "mpiexec"), "-n", "2", sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(out),
           "--backend", "mpi", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env(), timeout=300)
    assert proc.returncode == 74, proc.stderr
    line = one_error_line(proc.stderr)
    assert "no space left on device writing unit" in line and "rerun" in line
    assert store.scan_store(out, verify=True).ok
    small_fs.remount("size=16m")
    assert cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"]) == 0
    assert_stores_equal(ref, out)
    FAULTS["tried"] += 1
    FAULTS["survived"] += 1


def test_read_only_mid_sweep_serial_is_one_line_then_resumes(small_fs, reference, capsys, monkeypatch):
    from lunadyn.runs.compute import pipeline

    ref, spec = reference
    out = small_fs.path / "s.zarr"
    real, calls = pipeline.run_chunk, []

    def run_then_freeze(s, i):
        rep = real(s, i)
        calls.append(i)
        if len(calls) == 3:
            small_fs.remount("ro")          # as a Lustre/NFS mount does on a fault
        return rep

    monkeypatch.setattr(pipeline, "run_chunk", run_then_freeze)
    code = cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"])
    _, err = capsys.readouterr()
    line = one_error_line(err)
    assert code == 74 and "read-only file system writing unit 3" in line and "3 of 8 units done" in line, line
    monkeypatch.setattr(pipeline, "run_chunk", real)
    small_fs.remount("rw")
    assert cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"]) == 0
    assert_stores_equal(ref, out)
    FAULTS["tried"] += 1
    FAULTS["survived"] += 1


def test_read_only_mid_sweep_dask_is_one_line_then_resumes(small_fs, reference, tmp_path):
    ref, spec = reference
    out, log = small_fs.path / "s.zarr", tmp_path / "chunks.log"
    proc = sweep_proc(spec, out, "--workers", "2", LUNADYN_CHUNK_LOG=log)
    deadline = time.time() + 240
    while time.time() < deadline and len(computed(log)) < 2 and proc.poll() is None:
        time.sleep(0.02)
    small_fs.remount("ro")
    _, err = proc.communicate(timeout=240)
    line = one_error_line(err)
    assert proc.returncode == 74 and "read-only file system" in line and "units done" in line, line
    small_fs.remount("rw")
    done = set(np.flatnonzero(zarr.open_group(str(out), mode="r")["done"][:]).tolist())
    assert len(done) >= 2 and store.scan_store(out, verify=True).ok
    first = len(computed(log))
    assert cli.main(["sweep", str(spec), "-o", str(out), "--backend", "serial", "--json"]) == 0
    assert not set(computed(log)[first:]) & done
    assert_stores_equal(ref, out)
    FAULTS["tried"] += 1
    FAULTS["survived"] += 1


def test_zz_report_fault_counts(capsys):
    """Prints the counts of faults tried and survived by this module (run with -s to see them)."""
    with capsys.disabled():
        print(f"\nfaults tried {FAULTS['tried']}, survived {FAULTS['survived']}")
    assert FAULTS["tried"] == FAULTS["survived"]
