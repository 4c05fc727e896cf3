"""What a LocalCluster's worker runs as it starts (a dask worker preload: ``dask_setup``).

It loads the compiled kernels from the on-disk cache, when that cache is complete
(``pipeline.warmup_if_cached``), so that a worker which is ready before the driver has created the
store does that loading while it waits, instead of in its first unit (~0.15 s a worker). On a cache
not yet complete (the first sweep after an edit of the physics) it does nothing: the driver compiles
once, before any unit is handed out, and no worker compiles beside it.
"""
from __future__ import annotations


def dask_setup(worker) -> None:
    from . import pipeline

    pipeline.warmup_if_cached()
