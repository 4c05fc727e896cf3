"""`lunadyn submit --dry-run`: the job scripts carry the directives asked for (there is no PBS server here;
SLURM submission for real is in test_slurm.py), and the [cluster] section builds single-threaded
dask_jobqueue workers."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lunadyn.runs.cli import main as cli
from lunadyn.cluster.errors import ClusterError

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

SPEC = """
title = "submit test"
[vary]
r_core = { min = 320e3, max = 380e3 }
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 40
[settings]
output_step = 0.1
chunk_size = 8
"""


@pytest.fixture
def spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "sweep.toml"
    p.write_text(SPEC)
    return p


def dry_run(capsys, spec, *args):
    code = cli.main(["submit", str(spec), "--dry-run", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def directives(script, prefix):
    return [ln[len(prefix):].strip() for ln in script.splitlines() if ln.startswith(prefix)]


def test_pbs_mpi_script_carries_walltime_select_queue_account_and_name(spec, capsys, tmp_path):
    out = dry_run(capsys, spec, "--scheduler", "pbs", "--mode", "mpi", "--nodes", "2", "--ntasks", "64",
                  "--time", "12:30:00", "--partition", "workq", "--account", "moon42", "--name", "lunar",
                  "-o", "out/s.zarr")
    d = directives(out, "#PBS ")
    assert "-l walltime=12:30:00" in d
    assert "-l select=2:ncpus=32:mpiprocs=32" in d
    assert "-q workq" in d and "-A moon42" in d and "-N lunar" in d
    store = (tmp_path / "out" / "s.zarr").resolve()
    run = out.strip().splitlines()[-1]
    assert run == (f"{BIN / 'mpiexec'} -n 64 {BIN / 'lunadyn'} sweep {spec.resolve()} -o {store} --backend mpi")
    assert "export NUMBA_NUM_THREADS=1" in out
    assert not (tmp_path / "out").exists()            # a dry run creates nothing


def test_pbs_array_script_is_a_J_array_of_task_index_slices(spec, capsys):
    out = dry_run(capsys, spec, "--scheduler", "pbs", "--mode", "array", "--ntasks", "4", "--time", "1-02:00:00",
                  "--account", "acc")
    d = directives(out, "#PBS ")
    assert "-J 0-3" in d
    assert "-l walltime=26:00:00" in d                 # PBS has no day field
    assert "-A acc" in d and "-N lunadyn-sweep" in d
    assert "-q" not in " ".join(d)                      # no queue asked, none written
    assert re.search(r'--backend serial --task-index "\$TASK" --n-tasks 4$', out.strip())
    assert "PBS_ARRAY_INDEX" in out


def test_pbs_dask_script_is_a_driver_that_starts_pbs_workers(spec, capsys):
    out = dry_run(capsys, spec, "--scheduler", "pbs", "--mode", "dask", "--ntasks", "16", "--time", "04:00:00",
                  "--partition", "long", "--account", "acc")
    d = directives(out, "#PBS ")
    assert "-l walltime=04:00:00" in d and "-q long" in d and "-A acc" in d and "-N lunadyn-sweep" in d
    assert "-l select=1:ncpus=1" in d
    assert out.strip().endswith("--backend dask --cluster pbs --workers 16")
    assert "export LUNADYN_CLUSTER_QUEUE=long" in out and "export LUNADYN_CLUSTER_ACCOUNT=acc" in out


def test_slurm_scripts_carry_time_partition_account_ntasks_nodes_array(spec, capsys):
    common = ["--time", "02:00:00", "--partition", "cpu", "--account", "a1"]
    mpi = directives(dry_run(capsys, spec, "--scheduler", "slurm", "--mode", "mpi", "--nodes", "2", "--ntasks",
                             "8", *common), "#SBATCH ")
    assert {"--time=02:00:00", "--partition=cpu", "--account=a1", "--ntasks=8", "--nodes=2",
            "--cpus-per-task=1"} <= set(mpi)
    out = dry_run(capsys, spec, "--scheduler", "slurm", "--mode", "array", "--ntasks", "3", *common,
                  "--directive=--qos=short")
    arr = directives(out, "#SBATCH ")
    assert {"--time=02:00:00", "--partition=cpu", "--account=a1", "--array=0-2", "--ntasks=1",
            "--qos=short"} <= set(arr)
    assert '--task-index "$SLURM_ARRAY_TASK_ID" --n-tasks 3' in out
    # more array tasks than chunks: one task per chunk (10 chunks here)
    arr = directives(dry_run(capsys, spec, "--scheduler", "slurm", "--mode", "array", "--ntasks", "50"), "#SBATCH ")
    assert "--array=0-9" in arr
    dask = dry_run(capsys, spec, "--scheduler", "slurm", "--mode", "dask", *common)
    assert {"--time=02:00:00", "--partition=cpu", "--account=a1"} <= set(directives(dask, "#SBATCH "))
    assert dask.strip().endswith("--backend dask --cluster slurm")


def test_json_dry_run_reports_the_script_and_submits_nothing(spec, capsys):
    out = dry_run(capsys, spec, "--scheduler", "slurm", "--mode", "mpi", "--json")
    rep = json.loads(out)
    assert rep["submitted"] is False and rep["job_id"] is None and rep["ntasks"] == 2
    assert rep["script"].startswith("#!/bin/bash") and rep["chunks_total"] == 10


@pytest.mark.parametrize("args, fragment", [
    (["--scheduler", "lsf", "--mode", "mpi"], "argument --scheduler: invalid choice: 'lsf'"),
    (["--scheduler", "slurm", "--mode", "threads"], "argument --mode: invalid choice: 'threads'"),
    (["--mode", "mpi"], "--scheduler"),
    (["--scheduler", "slurm", "--mode", "mpi", "--time", "90 minutes"], "--time '90 minutes'"),
    (["--scheduler", "pbs", "--mode", "mpi", "--ntasks", "0"], "--ntasks 0"),
    (["--scheduler", "pbs", "--mode", "mpi", "--nodes", "4", "--ntasks", "2"], "--nodes 4 > --ntasks 2"),
])
def test_bad_options_are_one_line_errors(spec, args, fragment):
    proc = subprocess.run([sys.executable, "-m", "lunadyn", "submit", str(spec), "--dry-run", *args],
                          capture_output=True, text=True, cwd=spec.parent, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lunadyn: error: "), proc.stderr
    assert fragment in lines[0]


def test_missing_submit_tool_is_a_one_line_error(spec, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    code = cli.main(["submit", str(spec), "--scheduler", "pbs", "--mode", "array"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "qsub not found" in err[0]
    assert not (spec.parent / "sweep.zarr").exists()


# --- the [cluster] section -----------------------------------------------------------------------------


def test_cluster_section_builds_single_threaded_workers():
    from lunadyn.cluster.jobqueue import cluster_options

    kind, kw, jobs = cluster_options({"kind": "pbs", "queue": "q", "account": "a", "cores": 8, "memory": "16GB",
                                      "walltime": "02:00:00", "jobs": 3, "job_extra_directives": ["-l place=free"],
                                      "job_script_prologue": ["module load gcc"], "interface": "ib0"})
    assert kind == "pbs" and jobs == 3
    assert kw["cores"] == kw["processes"] == 8                      # one worker process per core
    assert kw["job_script_prologue"][0] == "export NUMBA_NUM_THREADS=1"
    assert kw["job_script_prologue"][-1] == "module load gcc"
    assert kw["queue"] == "q" and kw["account"] == "a" and kw["interface"] == "ib0"
    assert cluster_options(None, "slurm")[1]["cores"] == 1


@pytest.mark.parametrize("section, fragment", [
    ({"kind": "lsf"}, "kind in [cluster]"),
    ({}, "kind = \"slurm\" or \"pbs\""),
    ({"kind": "slurm", "core": 4}, "did you mean 'cores'"),
    ({"kind": "slurm", "cores": 4, "processes": 2}, "processes must equal cores"),
    ({"kind": "slurm", "walltime": "2h"}, "walltime in [cluster]"),
    ({"kind": "slurm", "jobs": 0}, "jobs in [cluster]"),
])
def test_bad_cluster_sections_are_user_errors(section, fragment):
    from lunadyn.cluster.jobqueue import cluster_options

    with pytest.raises(ClusterError, match=re.escape(fragment)):
        cluster_options(section)


def test_pbs_cluster_job_script_has_the_directives_and_one_thread_per_worker():
    from dask_jobqueue import PBSCluster

    from lunadyn.cluster.jobqueue import cluster_options

    _, kw, _ = cluster_options({"queue": "workq", "account": "moon", "cores": 4, "memory": "8GB",
                                "walltime": "03:00:00"}, "pbs")
    cluster = PBSCluster(**kw)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#PBS -q workq" in script and "#PBS -A moon" in script
    assert "#PBS -l walltime=03:00:00" in script and "ncpus=4" in script
    assert "export NUMBA_NUM_THREADS=1" in script
    assert "export ZARR_THREADING__MAX_WORKERS=1" in script          # one core, one encoding thread
    assert "--nthreads 1" in script and "--nworkers 4" in script
