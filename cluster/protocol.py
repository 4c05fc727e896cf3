"""The backend protocol (see ``cluster.backends``) and its common part for backends whose one process
is the root: ``once(fn)`` is just ``fn()``; entering and leaving hold nothing."""
from abc import ABC, abstractmethod


class Backend(ABC):
    """Base of the backends: map a chunk function over chunk indices, return the small reports.

    Subclasses set ``name`` and implement ``map(fn, todo, on_report=None) -> list``; a backend spanning
    several processes (MPI) also overrides ``once`` and sets ``is_root`` per process. The backends that
    serve many small root-driven batches (the inference driver) add ``map_items(fn, items)`` and
    ``each(fn)`` (see ``cluster.backends``).
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
    def map(self, fn, todo, on_report=None) -> list:
        """fn(i) for every chunk index i in ``todo``; the reports (all of them on the root process)."""
