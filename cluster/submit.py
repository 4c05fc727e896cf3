"""``lunadyn submit``: render a SLURM or PBS job script from cluster/templates/ and submit it.

Three modes (DESIGN.md "Backends"):

- ``mpi``: one job of ``ntasks`` ranks running ``mpiexec -n N lunadyn sweep SPEC -o STORE --backend mpi``;
- ``array``: a job array of ``ntasks`` single-core tasks, task I running ``lunadyn sweep SPEC -o STORE
  --backend serial --task-index I --n-tasks N`` (a failed task is simply resubmitted: the store resumes);
- ``dask``: one driver job running ``lunadyn sweep SPEC -o STORE --cluster slurm|pbs``, which starts its own
  dask_jobqueue worker jobs from the spec's [cluster] section.

The sweep driver (``runs.compute.driver.submit_sweep``) creates (or validates) the store before any job
starts and warms the kernel cache, then calls ``render`` and ``submit_script`` here. Every path
in a job script is absolute (the spec, the store, and the lunadyn/mpiexec of this Python's environment),
so jobs find the environment whatever directory and shell they start in. ``dry_run`` renders the script
and touches nothing.
"""
from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2

from .errors import ClusterError
from .protocol import one_core_exports

SCHEDULERS = ("slurm", "pbs")
MODES = ("mpi", "array", "dask")
TEMPLATES = Path(__file__).resolve().parent / "templates"
TIME = re.compile(r"(\d+-)?\d{1,3}:[0-5]\d:[0-5]\d")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,14}")
# Job scripts cannot be injected into (issue 12). Values that land on a #SBATCH/#PBS line are read by
# sbatch/qsub, not bash, and cannot be shell-quoted there: they are validated against these patterns
# (always with fullmatch: ``$`` would let a trailing newline through). Values on command lines are
# shlex-quoted by the templates' ``q`` filter.
DIRECTIVE = re.compile(r"-{1,2}[A-Za-z][A-Za-z0-9_=:,./@%+\[\]-]*( [A-Za-z0-9_=:,./@%+\[\]-]+)*")
QUEUE = re.compile(r"[A-Za-z0-9_.+,-]+")                 # partitions (SLURM lists: a,b), queues, accounts
DIRECTIVE_PATH = re.compile(r"[A-Za-z0-9_./@%+,=:~-]+")  # a path written into a directive (the log dir)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SUBMIT_CMD = {"slurm": ["sbatch", "--parsable"], "pbs": ["qsub"]}


def _env():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters["q"] = lambda v: shlex.quote(str(v))
    return env


def executables() -> dict:
    """Absolute paths of the console script and mpiexec next to this Python (the job's environment)."""
    bindir = Path(sys.executable).parent
    lunadyn = bindir / "lunadyn"
    return {"lunadyn": str(lunadyn) if lunadyn.exists() else f"{sys.executable} -m lunadyn",
            "mpiexec": str(bindir / "mpiexec") if (bindir / "mpiexec").exists() else (shutil.which("mpiexec") or "mpiexec")}


def check_directive(text: str) -> str:
    """An extra #SBATCH/#PBS directive: an option and its value, no newline or shell metacharacter."""
    if not isinstance(text, str) or CONTROL.search(text):
        raise ClusterError(f"--directive {text!r}: newlines and control characters are not allowed in a job-script "
                           "directive (one --directive per option, e.g. --directive=--qos=debug)")
    if not DIRECTIVE.fullmatch(text):
        raise ClusterError(f"--directive {text!r}: expected an option such as --qos=debug or '-l mem=4gb' (letters, "
                           "digits, single spaces and - _ = : , . / @ % + [ ]); shell metacharacters "
                           "(; & | $ ` < > ( ) quotes, backslash, * ? ! #) are refused")
    return text


def check_path(path, what: str, in_directive: bool = False) -> None:
    """A path rendered into a job script: never a control character (a newline would start a new line of
    shell); on a #SBATCH/#PBS line (which cannot be quoted) only the characters of DIRECTIVE_PATH."""
    text = str(path)
    if CONTROL.search(text):
        raise ClusterError(f"{what} {text!r}: a path with a newline or control character cannot go into a job script")
    if in_directive and not DIRECTIVE_PATH.fullmatch(text):
        raise ClusterError(f"{what} {text!r}: the job's log directory is written on a #SBATCH/#PBS line, which cannot "
                           "be quoted: use a path of letters, digits and _ . / @ % + , = : ~ - (no spaces or shell "
                           "metacharacters), e.g. another -o")


def _positive(value, option):
    if value is not None and value < 1:
        raise ClusterError(f"{option} {value}: expected a positive integer")
    return value


def render(spec_path, *, scheduler: str, mode: str, store=None, nodes: int | None = None,
           ntasks: int | None = None, time: str = "01:00:00", partition: str | None = None,
           account: str | None = None, name: str | None = None, extra: list | None = None,
           n_chunks: int | None = None, log_dir=None) -> dict:
    """The job script for a sweep (nothing is written); returns {'script', 'ntasks', 'log_dir', ...}."""
    if scheduler not in SCHEDULERS:
        raise ClusterError(f"--scheduler {scheduler!r}: expected one of {', '.join(SCHEDULERS)}")
    if mode not in MODES:
        raise ClusterError(f"--mode {mode!r}: expected one of {', '.join(MODES)}")
    if not isinstance(time, str) or not TIME.fullmatch(time):
        raise ClusterError(f"--time {time!r}: expected a wall time HH:MM:SS (or D-HH:MM:SS)")
    if scheduler == "pbs" and "-" in time:
        d, hms = time.split("-", 1)
        h, m, s = hms.split(":")
        time = f"{int(d) * 24 + int(h)}:{m}:{s}"
    _positive(nodes, "--nodes")
    _positive(ntasks, "--ntasks")
    spec_path = Path(spec_path).resolve()
    store = Path(store).resolve() if store else Path.cwd().resolve() / f"{spec_path.stem}.zarr"
    name = name or re.sub(r"[^A-Za-z0-9_.-]", "_", f"lunadyn-{spec_path.stem}")[:15]   # a safe default
    if not NAME.fullmatch(name):
        raise ClusterError(f"--name {name!r}: a job name is a letter then up to 14 letters, digits, '_', '.', '-'")
    for opt, v in (("--partition", partition), ("--account", account)):
        if v is not None and not QUEUE.fullmatch(v):
            raise ClusterError(f"{opt} {v!r}: expected a name of letters, digits and _ . + , - (no spaces or shell "
                               "metacharacters)")
    extra = [check_directive(d) for d in (extra or [])]
    log_dir = Path(log_dir).resolve() if log_dir else store.parent / f"{store.name}.logs"
    check_path(spec_path, "the spec")
    check_path(store, "-o")
    check_path(Path.cwd().resolve(), "the working directory")
    check_path(log_dir, "the log directory", in_directive=True)
    check_path(os.environ.get("NUMBA_CACHE_DIR", ""), "NUMBA_CACHE_DIR")
    workers = None
    if mode == "mpi":
        ntasks = ntasks or (nodes or 1) * 2
        if nodes and nodes > ntasks:
            raise ClusterError(f"--nodes {nodes} > --ntasks {ntasks}: every node needs at least one rank")
    elif mode == "array":
        ntasks = ntasks or min(n_chunks or 8, 8)
        if n_chunks is not None and ntasks > n_chunks:
            ntasks = n_chunks          # more tasks than chunks would leave tasks with nothing to do
    else:
        workers, ntasks = ntasks, 1    # dask: --ntasks asks the driver for that many workers
    exe = executables()
    values = {
        "name": name, "mode": mode, "ntasks": ntasks, "nodes": nodes, "time": time, "partition": partition,
        "account": account, "extra": list(extra or []), "spec": spec_path, "store": store, "log_dir": log_dir,
        "workdir": Path.cwd().resolve(), "lunadyn": exe["lunadyn"], "mpiexec": exe["mpiexec"],
        "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR", ""), "workers": workers,
        # zarr on one thread in every rank, task and worker (cluster/protocol.py ONE_CORE_ENV)
        "prologue": one_core_exports(),
        "per_node": math.ceil(ntasks / (nodes or 1)),
    }
    if values["nodes"] is None and scheduler == "pbs":
        values["nodes"] = 1
    template = _env().get_template(f"{scheduler}_{mode}.sh.j2")
    script = template.render(**values)
    if exe["lunadyn"].endswith(" -m lunadyn"):      # no console script: the module form, unquoted
        script = script.replace(shlex.quote(exe["lunadyn"]), exe["lunadyn"])
    return {"script": script, "ntasks": ntasks, "store": str(store), "spec": str(spec_path),
            "log_dir": str(log_dir), "name": name, "workers": workers}


def parse_job_id(scheduler: str, stdout: str) -> str:
    """The job id in sbatch --parsable ("123" or "123;cluster") or qsub ("123.server") output."""
    text = stdout.strip().splitlines()[-1].strip() if stdout.strip() else ""
    if scheduler == "slurm":
        text = text.split(";")[0]
    if not text:
        raise ClusterError(f"{SUBMIT_CMD[scheduler][0]} printed no job id")
    return text


def check_can_submit(scheduler: str, mode: str) -> None:
    """Refuse, in one line, to submit where the scheduler's command (or dask-jobqueue for dask) is missing."""
    tool = SUBMIT_CMD[scheduler][0]
    if shutil.which(tool) is None:
        raise ClusterError(f"{tool} not found: submit from a {scheduler.upper()} login node (or use --dry-run)")
    if mode == "dask":
        try:
            import dask_jobqueue  # noqa: F401  optional dependency (the cluster extra)
        except ImportError:
            raise ClusterError("--mode dask needs dask-jobqueue: pip install 'lunadyn[cluster]'") from None


def submit_script(info: dict, scheduler: str, mode: str) -> dict:
    """Write the rendered script into its log directory and submit it; returns its path and job id."""
    tool = SUBMIT_CMD[scheduler][0]
    log_dir = Path(info["log_dir"])
    log_dir.mkdir(parents=True, exist_ok=True)
    script_path = log_dir / f"{info['name']}.{scheduler}-{mode}.sh"
    script_path.write_text(info["script"])
    proc = subprocess.run([*SUBMIT_CMD[scheduler], str(script_path)], capture_output=True, text=True,
                          cwd=str(Path.cwd()), timeout=120)
    if proc.returncode != 0:
        err = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()[-1]
        raise ClusterError(f"{tool} refused {script_path}: {err}")
    return {"script_path": str(script_path), "job_id": parse_job_id(scheduler, proc.stdout), "submitted": True}
