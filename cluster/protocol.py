"""The backend protocol (see ``cluster.backends``) and its common part for backends whose one process
is the root: ``once(fn)`` is just ``fn()``; entering and leaving hold nothing."""
from abc import ABC, abstractmethod


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
