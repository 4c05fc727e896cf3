"""One protocol for every execution backend, and the registry that finds them by name.

A backend maps a chunk function over chunk indices and returns the small reports the function returns
(DESIGN.md "Backends"); it knows no physics and no store. Preparing the store, warm-up, progress and the
final report live once, in the sweep driver (``runs.compute.driver``), which uses a backend like this::

    with get_backend("dask", workers=2) as backend:
        todo = backend.once(prepare)            # on the root process; its result reaches every process
        reports = backend.map(fn, todo, on_report)

``once(fn)`` runs ``fn()`` on the root process only (rank 0 under MPI; the one process elsewhere) and
returns its result on every process, so the store is created exactly once. ``is_root`` tells the driver
which process reports. ``map`` returns the reports (all of them on the root, possibly none elsewhere;
none at all with ``collect=False``, so a sweep of 10^6 chunks keeps no list of 10^6 reports) and calls
``on_report`` on the root as work completes. ``todo`` is a sequence of chunk indices (a list or a NumPy
array); no backend submits them all at once (dask keeps a bounded queue, MPI and job arrays take them
one at a time). A KeyboardInterrupt stops between chunks and propagates; chunks already finished stay
finished. A report with a true ``"stop"`` entry stops the mapping on every process
(``cluster.protocol.Backend``).

Callers that map many small batches on one backend (the inference driver: one batch per sampler step)
also use ``map_items(fn, items)`` (the results in the items' order; items and results small),
``each(fn)`` (fn() once on every worker process) and, under MPI, ``serve()`` on the ranks other than 0
until rank 0 calls ``release()``; the dask backend keeps one client for the whole ``with`` block.

Backends are found by name in ``BACKENDS`` and, like xarray's engines (``xarray/backends/plugins.py``),
in the entry-point group ``lunadyn.backends`` of any installed distribution.
"""
from __future__ import annotations

from importlib import metadata

from .array import ArraySliceBackend
from .dask_backend import DaskBackend
from .errors import ClusterError
from .mpi_backend import MpiBackend
from .serial import SerialBackend

BACKENDS = {"serial": SerialBackend, "dask": DaskBackend, "mpi": MpiBackend, "array": ArraySliceBackend}
ENTRY_POINT_GROUP = "lunadyn.backends"


def available() -> dict:
    """Every backend by name: the built-in ones and those installed under the entry-point group."""
    found = dict(BACKENDS)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def get_backend(name: str, **options):
    """The backend called ``name``, built with its options (e.g. ``workers=2`` for dask)."""
    found = available()
    if name not in found:
        raise ClusterError(f"unknown backend {name!r}: expected one of {', '.join(found)}")
    cls = found[name]
    if isinstance(cls, metadata.EntryPoint):
        cls = cls.load()
    return cls(**options)
