"""Sweeps through a real SLURM (the single-node one cluster/slurm_local.sh starts on loopback).

`lunadyn submit --mode array` and `--mode mpi` each complete a sweep whose store is bitwise the serial
one, a failed array task is resubmitted alone and the store resumes, and dask_jobqueue SLURMCluster
workers (started by `lunadyn sweep --cluster slurm`, by the driver job of `lunadyn submit --mode dask`,
and from the Python API with a [cluster] section) complete a sweep.

With CI=true or LUNADYN_REQUIRE_SLURM=1 (.ci/run sets it after starting SLURM) these tests must run:
a missing or stopped SLURM fails them. Elsewhere they skip and say why.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zarr

from lunadyn.testing import assert_stores_equal as assert_same_store
from test_mpi import read_log

REPO = Path(__file__).resolve().parents[1]
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("LUNADYN_REQUIRE_SLURM") == "1"
JOB_TIMEOUT = 300

SPEC = """
title = "slurm test sweep"
[vary]
r_core = { min = 320e3, max = 380e3 }
eta_ref = {}
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 24
seed = 7
[settings]
output_step = 0.05
chunk_size = 8
"""
N_CHUNKS = 6


def slurm_problem():
    """Why SLURM cannot run jobs here, or None."""
    for tool in ("sbatch", "squeue", "sinfo", "scontrol"):
        if shutil.which(tool) is None:
            return f"{tool} not found (start a local SLURM with: sudo cluster/slurm_local.sh)"
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: slurmctld does not answer"
    if proc.returncode != 0:
        return f"sinfo failed: {(proc.stderr.strip() or 'no output').splitlines()[-1]}"
    states = {s.strip().rstrip("*~#$@^-") for s in proc.stdout.split()}
    if not states & {"idle", "mixed", "allocated", "completing"}:
        return f"no SLURM node is up (sinfo: {', '.join(sorted(states)) or 'no nodes'})"
    return None


@pytest.fixture(scope="module")
def slurm():
    problem = slurm_problem()
    if problem:
        if REQUIRED:
            pytest.fail(f"SLURM is required here (CI=true or LUNADYN_REQUIRE_SLURM=1) but {problem}")
        pytest.skip(f"no usable SLURM: {problem}")


@pytest.fixture(scope="module")
def work(tmp_path_factory, slurm, warm):
    """The spec and its serial store (the reference); a directory jobs can write to."""
    d = tmp_path_factory.mktemp("slurm")
    spec = d / "sweep.toml"
    spec.write_text(SPEC)
    from lunadyn.runs import api
    api.sweep(spec, d / "serial.zarr", backend="serial", progress=False)
    return d, spec


def job_env(**extra):
    env = dict(os.environ)
    env.pop("LUNADYN_CHUNK_LOG", None)
    env.update(NUMBA_NUM_THREADS="1", **extra)
    return env


def lunadyn(*args, env=None, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "lunadyn", *map(str, args)], capture_output=True, text=True,
                          env=env or job_env(), cwd=cwd or REPO, timeout=timeout)


def submit(spec, store, mode, *args, env=None):
    proc = lunadyn("submit", spec, "--scheduler", "slurm", "--mode", mode, "-o", store, "--time", "00:10:00",
                   "--json", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert rep["submitted"] and rep["job_id"], rep
    return rep


def job_states(job_id):
    """JobState of every job (array task) of job_id, from slurmctld (MinJobAge keeps finished ones)."""
    proc = subprocess.run(["scontrol", "-o", "show", "job", str(job_id)], capture_output=True, text=True, timeout=30)
    states = []
    for line in proc.stdout.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        states.append(fields.get("JobState"))
    return states


def wait_for_job(job_id, store, log_dir, timeout=JOB_TIMEOUT):
    """Poll squeue until the job (every array task) has left the queue; then it must have completed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        q = subprocess.run(["squeue", "-h", "-j", str(job_id), "-o", "%i %T"], capture_output=True, text=True,
                           timeout=30)
        if q.returncode == 0 and not q.stdout.strip():
            break
        time.sleep(1.0)
    else:
        subprocess.run(["scancel", str(job_id)], timeout=30)
        pytest.fail(f"job {job_id} still queued or running after {timeout} s\n{logs(log_dir)}")
    states = job_states(job_id)
    assert states and all(s == "COMPLETED" for s in states), f"job {job_id}: {states}\n{logs(log_dir)}"
    info = json.loads(lunadyn("info", store, "--json").stdout)
    assert info["complete"], f"{info['chunks_done']}/{info['chunks_total']} chunks\n{logs(log_dir)}"


def logs(log_dir):
    out = []
    for f in sorted(Path(log_dir).glob("*.out")) + sorted(Path(log_dir).glob("*.err")):
        out.append(f"--- {f.name}\n{f.read_text()[-3000:]}")
    return "\n".join(out)


def test_array_job_completes_the_sweep_and_a_failed_task_is_resubmitted_alone(work):
    d, spec = work
    store, log = d / "array.zarr", d / "array.log"
    rep = submit(spec, store, "array", "--ntasks", "3", env=job_env(LUNADYN_CHUNK_LOG=str(log)))
    assert rep["ntasks"] == 3 and Path(rep["script_path"]).is_file()
    wait_for_job(rep["job_id"], store, rep["log_dir"])
    assert_same_store(store, d / "serial.zarr")
    rows = read_log(log)
    assert sorted(i for i, _ in rows) == list(range(N_CHUNKS))          # each chunk once, by the tasks
    by_task = {i % 3 for i, _ in rows}
    assert by_task == {0, 1, 2} and len({pid for _, pid in rows}) == 3  # one process per task

    # task 1 "failed" before writing its chunks: resubmit that task alone, the store resumes
    g = zarr.open_group(str(store), mode="r+")
    lost = [i for i in range(N_CHUNKS) if i % 3 == 1]
    for i in lost:
        g["done"][i] = False
    log.unlink()
    proc = subprocess.run(["sbatch", "--parsable", "--array=1", rep["script_path"]], capture_output=True,
                          text=True, timeout=60, env=job_env(LUNADYN_CHUNK_LOG=str(log)))
    assert proc.returncode == 0, proc.stderr
    wait_for_job(proc.stdout.strip().split(";")[0], store, rep["log_dir"])
    assert sorted(i for i, _ in read_log(log)) == lost
    assert_same_store(store, d / "serial.zarr")


def test_mpi_job_completes_the_sweep_bitwise(work):
    d, spec = work
    store, log = d / "mpi.zarr", d / "mpi.log"
    rep = submit(spec, store, "mpi", "--ntasks", "2", "--nodes", "1", env=job_env(LUNADYN_CHUNK_LOG=str(log)))
    wait_for_job(rep["job_id"], store, rep["log_dir"])
    assert_same_store(store, d / "serial.zarr")
    rows = read_log(log)
    assert sorted(i for i, _ in rows) == list(range(N_CHUNKS))
    assert len({pid for _, pid in rows}) == 2                            # both ranks computed
    out = logs(rep["log_dir"])
    assert "complete, 6/6 chunks" in out and "NUMBA_NUM_THREADS" not in out


def test_dask_slurmcluster_workers_complete_a_sweep(work):
    """`lunadyn sweep --cluster slurm`: the scheduler runs here, the workers are SLURM jobs."""
    d, spec = work
    store, log, wlogs = d / "dask.zarr", d / "dask.log", d / "dask-workers"
    proc = lunadyn("sweep", spec, "-o", store, "--cluster", "slurm", "--workers", "2", "--json",
                   env=job_env(LUNADYN_CHUNK_LOG=str(log), LUNADYN_CLUSTER_LOG_DIRECTORY=str(wlogs)))
    assert proc.returncode == 0, proc.stderr + logs(wlogs)
    report = json.loads(proc.stdout)
    assert report["complete"] and report["models_computed_now"] == 48
    assert_same_store(store, d / "serial.zarr")
    rows = read_log(log)
    assert sorted(i for i, _ in rows) == list(range(N_CHUNKS))
    assert list(wlogs.glob("lunadyn-worker-*.out"))                     # the workers ran as SLURM jobs
    time.sleep(1.0)
    left = subprocess.run(["squeue", "-h", "-n", "lunadyn-worker", "-o", "%i"], capture_output=True, text=True,
                          timeout=30).stdout.split()
    assert not left, f"worker jobs left behind: {left}"


def test_dask_cluster_section_from_the_api(work, monkeypatch):
    """api.sweep with a SLURMCluster built from a [cluster] section (kind, cores, memory, walltime, jobs)."""
    from lunadyn.runs import api
    from lunadyn.cluster.jobqueue import cluster_from_spec

    d, spec = work
    store = d / "dask_api.zarr"
    section = {"kind": "slurm", "cores": 1, "memory": "1GB", "walltime": "00:10:00", "jobs": 1,
               "log_directory": str(d / "dask-api-workers"), "job_name": "lunadyn-apitest"}
    cluster = cluster_from_spec(section)
    try:
        assert "#SBATCH -t 00:10:00" in cluster.job_script()
        report = api.sweep(spec, store, backend="dask", cluster=cluster, progress=False)
    finally:
        cluster.close()
    assert report["complete"]
    assert_same_store(store, d / "serial.zarr")


def test_submit_dask_mode_driver_job_starts_its_own_workers(work):
    d, spec = work
    store = d / "dask_driver.zarr"
    rep = submit(spec, store, "dask", "--ntasks", "1")
    wait_for_job(rep["job_id"], store, rep["log_dir"])
    assert_same_store(store, d / "serial.zarr")
    assert list(Path(rep["log_dir"]).glob("lunadyn-worker-*.out"))      # worker jobs submitted by the driver
