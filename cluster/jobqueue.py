"""dask workers on a batch scheduler: a dask_jobqueue SLURMCluster or PBSCluster from a spec's [cluster].

    [cluster]                          # in the sweep spec (not part of its hash), or `--cluster slurm|pbs`
    kind = "slurm"                     # or "pbs" (the --cluster option wins)
    queue = "compute"                  # partition (SLURM) / queue (PBS)
    account = "proj123"
    cores = 8                          # cores per job = single-threaded worker processes per job
    memory = "16GB"                    # per job
    walltime = "02:00:00"
    jobs = 4                           # jobs to start (--workers N asks for N workers instead)
    processes = 8                      # optional; must equal cores (one single-threaded worker per core)
    job_extra_directives = ["--qos=normal"]
    job_script_prologue = ["module load gcc"]
    interface = "ib0"                  # network interface of workers and scheduler
    log_directory = "dask-logs"        # optional: where the worker jobs' output goes

Workers run Numba single-threaded (DESIGN.md "Parallelism and compilation"): one worker process per
core, one thread each, and ``export NUMBA_NUM_THREADS=1`` in every worker job. The driver (``lunadyn
sweep``) runs the dask scheduler; the chunks go to the workers as tasks (cluster.dask_backend). A
scheduler that is already running (e.g. started by dask-mpi) is used with ``--scheduler ADDR`` instead.

Inside a job of ``lunadyn submit --mode dask`` the environment variables LUNADYN_CLUSTER_QUEUE and
LUNADYN_CLUSTER_ACCOUNT give the queue and account the [cluster] section leaves out, and
LUNADYN_CLUSTER_LOG_DIRECTORY where the worker jobs' output goes (the driver's log directory).
"""
from __future__ import annotations

import os
import re
import sys

from .errors import ClusterError
import difflib

KINDS = ("slurm", "pbs")
KEYS = ("kind", "queue", "account", "cores", "memory", "walltime", "jobs", "processes",
        "job_extra_directives", "job_script_prologue", "interface", "log_directory", "local_directory",
        "job_name", "death_timeout", "resource_spec")
DEFAULTS = {"cores": 1, "memory_per_core_gb": 2, "walltime": "01:00:00", "jobs": 1}
WALLTIME = re.compile(r"(\d+-)?\d{1,3}:\d{2}:\d{2}")
MEMORY = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|[KMGT])?", re.IGNORECASE)
# values dask-jobqueue writes into job scripts unquoted (#SBATCH lines, the worker command): validated,
# always with fullmatch (a trailing newline must not pass)
SAFE = {"queue": re.compile(r"[A-Za-z0-9_.+,-]+"), "account": re.compile(r"[A-Za-z0-9_.+,-]+"),
        "interface": re.compile(r"[A-Za-z0-9_.:-]+"),
        "log_directory": re.compile(r"[A-Za-z0-9_./@%+,=:~-]+"),
        "local_directory": re.compile(r"[A-Za-z0-9_./@%+,=:~-]+"),
        "resource_spec": re.compile(r"[A-Za-z0-9_=:.+,-]+"),
        "job_name": re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")}
SAFE_TEXT = {"queue": "_ . + , -", "account": "_ . + , -", "interface": "_ . : -",
             "log_directory": "_ . / @ % + , = : ~ -", "local_directory": "_ . / @ % + , = : ~ -",
             "resource_spec": "_ = : . + , -"}


def _where(key):
    return f"{key} in [cluster]"


def _positive_int(section, key, default):
    v = section.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ClusterError(f"{_where(key)}: expected a positive integer, got {v!r}")
    return v


def _string_list(section, key):
    v = section.get(key, [])
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ClusterError(f"{_where(key)}: expected a list of strings, got {v!r}")
    return list(v)


def cluster_options(section: dict | None, kind: str | None = None) -> tuple[str, dict, int]:
    """Validate a [cluster] section; returns (kind, keyword arguments of the dask_jobqueue class, jobs)."""
    section = dict(section or {})
    if not isinstance(section, dict):
        raise ClusterError("[cluster]: expected a table")
    for key in section:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f": did you mean '{close[0]}'?" if close else f" (expected one of {', '.join(KEYS)})"
            raise ClusterError(f"unknown key '{key}' in [cluster]{hint}")
    kind = kind or section.get("kind")
    if kind is None:
        raise ClusterError("[cluster]: say which batch scheduler: kind = \"slurm\" or \"pbs\" (or --cluster slurm|pbs)")
    if kind not in KINDS:
        raise ClusterError(f"{_where('kind')}: expected \"slurm\" or \"pbs\", got {kind!r}")
    cores = _positive_int(section, "cores", DEFAULTS["cores"])
    processes = _positive_int(section, "processes", cores)
    if processes != cores:
        raise ClusterError(f"{_where('processes')}: workers are single-threaded, one process per core: "
                        f"processes must equal cores ({cores}), got {processes}")
    jobs = _positive_int(section, "jobs", DEFAULTS["jobs"])
    memory = section.get("memory", f"{DEFAULTS['memory_per_core_gb'] * cores}GB")
    if isinstance(memory, (int, float)) and not isinstance(memory, bool):
        memory = f"{memory}GB"
    if not isinstance(memory, str) or not MEMORY.fullmatch(memory.strip()):
        raise ClusterError(f"{_where('memory')}: expected a size such as \"16GB\", got {memory!r}")
    walltime = section.get("walltime", DEFAULTS["walltime"])
    if not isinstance(walltime, str) or not WALLTIME.fullmatch(walltime):
        raise ClusterError(f"{_where('walltime')}: expected HH:MM:SS, got {walltime!r}")
    import shlex

    from .submit import CONTROL, check_directive

    from .dask_backend import worker_config_env
    from .protocol import one_core_exports

    prologue = ["export NUMBA_NUM_THREADS=1", "export OMP_NUM_THREADS=1",
                *one_core_exports(), *worker_config_env()]
    if os.environ.get("NUMBA_CACHE_DIR"):
        prologue.append(f"export NUMBA_CACHE_DIR={shlex.quote(os.environ['NUMBA_CACHE_DIR'])}")
    for line in _string_list(section, "job_script_prologue"):
        if CONTROL.search(line):
            raise ClusterError(f"{_where('job_script_prologue')}: {line!r}: one line of shell per entry "
                               "(no newlines or control characters)")
        prologue.append(line)
    for d in _string_list(section, "job_extra_directives"):
        try:
            check_directive(d)
        except ClusterError as e:
            raise ClusterError(f"{_where('job_extra_directives')}: {str(e).removeprefix('--directive ')}") from None
    kw = {
        "cores": cores,
        "processes": processes,
        "memory": memory.strip(),
        "walltime": walltime,
        "job_extra_directives": _string_list(section, "job_extra_directives"),
        "job_script_prologue": prologue,
        "python": sys.executable,
        "job_name": section.get("job_name", "lunadyn-worker"),
    }
    if not isinstance(kw["job_name"], str) or not SAFE["job_name"].fullmatch(kw["job_name"]):
        raise ClusterError(f"{_where('job_name')}: expected a letter then letters, digits, '_', '.', '-', "
                           f"got {kw['job_name']!r}")
    queue = section.get("queue", os.environ.get("LUNADYN_CLUSTER_QUEUE") or None)
    account = section.get("account", os.environ.get("LUNADYN_CLUSTER_ACCOUNT") or None)
    for key, v in (("queue", queue), ("account", account), ("interface", section.get("interface")),
                   ("log_directory", section.get("log_directory", os.environ.get("LUNADYN_CLUSTER_LOG_DIRECTORY") or None)),
                   ("local_directory", section.get("local_directory")),
                   ("resource_spec", section.get("resource_spec"))):
        if v is None:
            continue
        if not isinstance(v, str) or not v:
            raise ClusterError(f"{_where(key)}: expected a non-empty string, got {v!r}")
        if not SAFE[key].fullmatch(v):
            raise ClusterError(f"{_where(key)}: {v!r} goes into the worker job scripts unquoted: expected only "
                               f"letters, digits and {SAFE_TEXT[key]} (no spaces or shell metacharacters)")
        kw[key] = v
    if "resource_spec" in kw and kind != "pbs":
        raise ClusterError(f"{_where('resource_spec')}: only PBS takes a resource_spec")
    if "death_timeout" in section:
        dt = section["death_timeout"]
        if not isinstance(dt, (int, float)) or isinstance(dt, bool) or dt <= 0:
            raise ClusterError(f"{_where('death_timeout')}: expected seconds > 0, got {dt!r}")
        kw["death_timeout"] = dt
    return kind, kw, jobs


def cluster_from_spec(section: dict | None, kind: str | None = None, workers: int | None = None):
    """A dask_jobqueue SLURMCluster or PBSCluster built from a [cluster] section, already scaled.

    kind overrides section["kind"]; workers (``--workers N``) asks for N single-threaded workers instead
    of ``jobs`` jobs. The caller's dask backend connects a Client to it (cluster.dask_backend).
    """
    kind, kw, jobs = cluster_options(section, kind)
    if workers is not None and workers < 1:
        raise ClusterError(f"--workers {workers}: expected a positive number of workers")
    try:
        import dask_jobqueue
    except ImportError:
        raise ClusterError("dask workers on SLURM/PBS need dask-jobqueue: pip install 'lunadyn[cluster]'") from None
    cls = dask_jobqueue.SLURMCluster if kind == "slurm" else dask_jobqueue.PBSCluster
    cluster = cls(**kw)
    if workers is not None:
        cluster.scale(n=workers)
    else:
        cluster.scale(jobs=jobs)
    return cluster
