"""The MPI backend under a real ``mpiexec -n 2`` (the MPICH wheel's, from the venv).

The store an MPI sweep writes is bitwise the serial store of the same spec (every data variable and
coordinate; provenance attributes aside); chunks are handed out dynamically; a rank killed mid-sweep
takes the job down with every chunk marked done kept, and a rerun completes the store without
recomputing any of them.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from lunadyn.testing import assert_stores_equal, serial_reference_store

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MPIEXEC = BIN / "mpiexec"

pytestmark = pytest.mark.skipif(not MPIEXEC.exists(), reason=f"no mpiexec next to {sys.executable} "
                                "(install the mpi extra: mpi4py and the mpich wheel)")

# 320 models (160 LHS points x 2 laws) in chunks of 8, so a rank can be killed with the sweep half done
BIG_SPEC = """
title = "mpi crash-safety sweep"
[vary]
r_core = { min = 320e3, max = 380e3 }
eta_ref = {}
sulfur_core = {}
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 160
seed = 11
[settings]
output_step = 0.05
chunk_size = 8
"""

SMALL_SPEC = """
title = "mpi determinism sweep"
[vary]
r_core = { min = 300e3, max = 400e3 }
eta_ref = { min = 1e18, max = 1e22, scale = "log" }
T_cmb0 = {}
law = ["cia", "ml"]
[sampler]
method = "sobol"
n = 64
seed = 5
[settings]
output_step = 0.05
chunk_size = 12
"""


def mpi_env(**extra):
    env = dict(os.environ)
    env.pop("LUNADYN_CHUNK_LOG", None)
    env.update({"NUMBA_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **extra})
    return env


def mpi_sweep(spec, store, n=2, env=None, timeout=180, **popen):
    cmd = [str(MPIEXEC), "-n", str(n), sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(store),
           "--backend", "mpi", "--json"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env or mpi_env(), timeout=timeout,
                          **popen)


serial_store = serial_reference_store
assert_same_store = assert_stores_equal


def read_log(path):
    if not Path(path).exists():
        return []
    rows = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            rows.append((int(parts[0]), int(parts[1])))
    return rows


@pytest.fixture(scope="module")
def small(tmp_path_factory, warm):
    d = tmp_path_factory.mktemp("mpi_small")
    spec = d / "small.toml"
    spec.write_text(SMALL_SPEC)
    serial_store(spec, d / "serial.zarr")
    return d, spec


def test_two_ranks_write_the_serial_store_bitwise(small):
    d, spec = small
    log = d / "chunks.log"
    proc = mpi_sweep(spec, d / "mpi.zarr", env=mpi_env(LUNADYN_CHUNK_LOG=str(log)))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)             # only rank 0 prints the report
    assert report["complete"] and report["chunks_done"] == report["chunks_total"] == 11
    assert report["models_computed_now"] == 128              # 64 Sobol points x 2 laws
    assert_same_store(d / "mpi.zarr", d / "serial.zarr")
    rows = read_log(log)
    assert sorted(i for i, _ in rows) == list(range(11))      # every chunk computed exactly once
    assert len({pid for _, pid in rows}) == 2                # by both ranks
    assert "NUMBA_NUM_THREADS" not in proc.stderr            # single-threaded ranks: no warning

    # a rerun on the complete store computes nothing
    again = mpi_sweep(spec, d / "mpi.zarr", env=mpi_env(LUNADYN_CHUNK_LOG=str(log)))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["models_computed_now"] == 0
    assert len(read_log(log)) == 11


def test_store_of_another_spec_is_refused_by_rank_0_in_one_line(small, tmp_path):
    d, spec = small
    other = tmp_path / "other.toml"
    other.write_text(SMALL_SPEC.replace("seed = 5", "seed = 6"))
    proc = mpi_sweep(other, d / "serial.zarr")
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("lunadyn: error: ")]
    assert len(errors) == 1 and "sampler.seed" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_chunks_are_handed_out_while_rank_0_is_busy(tmp_path):
    """The shared counter: rank 1 keeps taking positions while rank 0 computes without calling MPI."""
    script = tmp_path / "counter.py"
    script.write_text(
        "import json, sys, time\n"
        "from mpi4py import MPI\n"
        "from lunadyn.cluster.mpi_backend import SharedCounters\n"
        "comm = MPI.COMM_WORLD\n"
        "c = SharedCounters(comm)\n"
        "got = []\n"
        "if comm.rank == 0:\n"
        "    got.append(c.fetch_add(0))\n"
        "    t = time.perf_counter()\n"
        "    while time.perf_counter() - t < 1.5: pass      # busy, outside MPI\n"
        "    got.append(c.fetch_add(0))\n"
        "else:\n"
        "    time.sleep(0.2)\n"
        "    t = time.perf_counter()\n"
        "    while time.perf_counter() - t < 0.5: got.append(c.fetch_add(0))\n"
        "all_ = comm.gather(got, root=0)\n"
        "c.free()\n"
        "if comm.rank == 0: print(json.dumps(all_))\n")
    proc = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, str(script)], capture_output=True, text=True,
                          cwd=REPO, env=mpi_env(PYTHONPATH=str(REPO)), timeout=60)
    assert proc.returncode == 0, proc.stderr
    r0, r1 = json.loads(proc.stdout)
    assert len(r1) > 100                                     # not one fetch per rank-0 chunk
    values = sorted(r0 + r1)
    assert values == list(range(len(values)))                # atomic: every position handed out once
    assert r0[0] == 0 or r1[0] == 0


def test_killed_rank_takes_the_job_down_and_a_rerun_resumes_without_recomputing(tmp_path, warm):
    spec = tmp_path / "big.toml"
    spec.write_text(BIG_SPEC)
    store, log = tmp_path / "mpi.zarr", tmp_path / "chunks.log"
    from lunadyn.runs.spec.sweep import load_spec
    n_chunks = load_spec(spec).n_chunks
    assert n_chunks == 40
    cmd = [str(MPIEXEC), "-n", "2", sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(store),
           "--backend", "mpi", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env=mpi_env(LUNADYN_CHUNK_LOG=str(log)))
    victim = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            rows = read_log(log)
            pids = {pid for _, pid in rows}
            if len(rows) >= 6 and len(pids) == 2:
                victim = rows[-1][1]
                os.kill(victim, signal.SIGKILL)
                break
            time.sleep(0.02)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert victim is not None, f"the sweep ended before a rank could be killed: {proc.returncode}\n{err}"
    assert proc.returncode != 0                              # the job went down with the rank
    g = zarr.open_group(str(store), mode="r")
    done_before = set(np.flatnonzero(g["done"][:]).tolist())
    logged_before = {i for i, _ in read_log(log)}
    assert logged_before <= done_before                      # done is set before the chunk is logged
    assert 0 < len(done_before) < n_chunks, len(done_before)

    # the same command again: only the chunks not done are computed, each once
    log.unlink()
    rerun = mpi_sweep(spec, store, env=mpi_env(LUNADYN_CHUNK_LOG=str(log)))
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["complete"]
    computed = [i for i, _ in read_log(log)]
    assert len(computed) == len(set(computed))
    assert not set(computed) & done_before                  # no done chunk recomputed
    assert set(computed) | done_before == set(range(n_chunks))
    assert report["models_computed_now"] == 8 * len(computed)

    serial_store(spec, tmp_path / "serial.zarr")
    assert_same_store(store, tmp_path / "serial.zarr")


def test_a_rank_with_several_numba_threads_is_warned_and_limited_to_one(small):
    d, spec = small
    proc = mpi_sweep(spec, d / "serial.zarr", n=1, env=mpi_env(NUMBA_NUM_THREADS="2"))
    assert proc.returncode == 0, proc.stderr
    assert "set NUMBA_NUM_THREADS=1" in proc.stderr
    assert json.loads(proc.stdout)["models_computed_now"] == 0          # complete store: nothing to do
