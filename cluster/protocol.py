"""The backend protocol (see ``cluster.backends``) and its common part for backends whose one process
is the root: ``once(fn)`` is just ``fn()``; entering and leaving hold nothing."""
from abc import ABC, abstractmethod

# A process that owns one core (a dask worker, an MPI rank, a job-array task) encodes a unit's arrays
# one at a time: zarr's codec pool (threading.max_workers, default one thread more than the cores, plus
# four) otherwise encodes the unit's 67 arrays on every core, so one worker borrows its neighbours'
# cores while they compute. Measured on the backend benchmark (2 cores, issue 13), three interleaved
# rounds: dask efficiency at 2 workers 0.76, 0.74, 0.59 with the pool, 0.96, 0.95, 0.80 without; the
# 2-worker throughput the same within the machine's noise (the one-worker reference no longer runs on
# more than its core). The environment form is for processes that import zarr later (dask workers
# forked from a fork server, job scripts).
ONE_CORE_ENV = {"ZARR_THREADING__MAX_WORKERS": "1"}


def one_core_exports() -> list[str]:
    """ONE_CORE_ENV as the shell lines of a job script."""
    return [f"export {k}={v}" for k, v in ONE_CORE_ENV.items()]


def one_core_io() -> None:
    """This process's zarr encodes and decodes on one thread (see ONE_CORE_ENV)."""
    import zarr

    zarr.config.set({"threading.max_workers": 1})


class Backend(ABC):
    """Base of the backends: map a chunk function over chunk indices, return the small reports.

    Subclasses set ``name`` and implement ``map(fn, todo, on_report=None, collect=True) -> list``
    (``collect``: True returns every report, False none, a predicate the reports it accepts -- the
    caller counts the others through ``on_report``, so memory stays flat; ``keeps``); a backend spanning
    several processes (MPI) also overrides ``once`` and sets ``is_root`` per process.

    A report with a true ``"stop"`` entry ends the mapping early on every process: no further chunk is
    started (work in flight finishes or is cancelled) and ``map`` returns the reports so far, the
    stopping one included. The chunk function uses it for a failure every chunk would meet (a full or
    read-only file system), which it reports instead of raising, so that nothing is printed per task.
    The backends that serve many small root-driven batches (the inference driver) add
    ``map_items(fn, items)`` and ``each(fn)`` (see ``cluster.backends``).
    """

    name = "backend"
    is_root = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def once(self, fn):
        """fn() on the root process; its result on every process."""
        return fn()

    @abstractmethod
    def map(self, fn, todo, on_report=None, collect: bool = True) -> list:
        """fn(i) for every chunk index i in ``todo``; the reports (all of them on the root process;
        none with ``collect=False``)."""


def keeps(collect, rep: dict) -> bool:
    """Whether ``map`` returns report ``rep`` under its ``collect`` option (True, False or a predicate)."""
    return bool(collect(rep)) if callable(collect) else bool(collect)
