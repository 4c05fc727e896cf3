"""The ``lunadyn`` console script's entry point: a light module, so that what must start early does.

A sweep on a LocalCluster (``lunadyn sweep SPEC`` with the dask backend, the default) forks its
workers from a fork server that imports the pipeline first (~3 s; cluster.dask_backend
start_fork_server). Started here, before the command line imports its modules (~3 s), loads the spec
and creates the store, those seconds overlap; started when the sweep begins, they were waited for
(a 100k-model sweep: ~3 s of ~19 s). Every process a LocalCluster starts also re-imports the script
that started it (multiprocessing's main-module rule), and this module is all that script imports.
"""
from __future__ import annotations

import sys

# options of `lunadyn sweep` under which no LocalCluster is started (another cluster, a job array, help)
NOT_LOCAL = ("--scheduler", "--cluster", "--task-index", "--n-tasks", "-h", "--help")


def _option(argv: list[str], name: str) -> str | None:
    for k, a in enumerate(argv):
        if a == name and k + 1 < len(argv):
            return argv[k + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def will_start_local_cluster(argv: list[str]) -> bool:
    """Whether the command ``argv`` (without the program name) sweeps on a LocalCluster: ``sweep`` on the
    dask backend, no other cluster or job-array slice asked for, and no [cluster] section in the spec.
    A guess made before parsing: when it is wrong, a fork server is started for nothing or not early
    (nothing else changes), and a bad command is left to the parser to report."""
    if not argv or argv[0] != "sweep" or any(a.split("=", 1)[0] in NOT_LOCAL for a in argv[1:]):
        return False
    if (_option(argv[1:], "--backend") or "dask") != "dask":
        return False
    specs = [a for k, a in enumerate(argv[1:], 1) if not a.startswith("-")
             and argv[k - 1] not in ("-o", "--output", "--backend", "--workers")]
    if len(specs) != 1:
        return False
    import tomllib

    try:
        with open(specs[0], "rb") as f:
            return "cluster" not in tomllib.load(f)
    except (OSError, ValueError):       # unreadable or not TOML: the command will say so
        return False


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lunadyn`` console script (runs.cli.main.main); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if will_start_local_cluster(argv):
        from ...cluster.dask_backend import start_fork_server
        from ..compute import WORKER_MODULES

        start_fork_server(WORKER_MODULES)
    from .main import main as run_command

    return run_command(argv)
