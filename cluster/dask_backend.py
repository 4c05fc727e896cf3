"""The dask.distributed backend: chunk indices as tasks on a LocalCluster, a scheduler address, or any
``distributed`` cluster object (e.g. a dask_jobqueue SLURMCluster/PBSCluster built by cluster.jobqueue).

Workers are single-threaded processes with NUMBA_NUM_THREADS=1 (DESIGN.md "Parallelism and
compilation"): parallelism comes from chunks. Kernels are warmed in the driver before workers start, so
they load compiled code from the on-disk cache instead of compiling N times. A chunk whose worker is lost
is rescheduled by the scheduler; an exception in a chunk is retried (``retries``). Knows no physics: it
maps ``fn`` over chunk indices and gets small reports back; model arrays never travel through it.
"""
from __future__ import annotations

import os
from contextlib import contextmanager


@contextmanager
def client_for(workers: int | None = None, scheduler: str | None = None, cluster=None):
    """A distributed.Client: on ``cluster``, at ``scheduler``, or on a LocalCluster started for the run."""
    from distributed import Client, LocalCluster

    if cluster is not None:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
        return
    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    n = workers or os.cpu_count() or 1
    old = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"     # inherited by the worker processes
    try:
        lc = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=40)
    finally:
        if old is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = old
    client = Client(lc)
    try:
        yield client
    finally:
        client.close()
        lc.close()


def map_items(client, fn, items, retries=3) -> list:
    """fn(item) for every item on the workers of a running client; the results in the items' order.

    For callers that map many small batches (inference: one batch per sampler step) on one client;
    items and results should be small (parameter vectors in, a few numbers per model out).
    """
    futures = client.map(fn, list(items), pure=False, retries=retries)
    try:
        return client.gather(futures)
    except KeyboardInterrupt:
        client.cancel(futures)
        raise


def map_chunks(fn, todo, on_report=None, workers=None, scheduler=None, cluster=None, retries=3):
    """Run fn(i) for every i in ``todo`` on dask workers; returns the reports (in completion order).

    On KeyboardInterrupt the pending tasks are cancelled; chunks already written stay done.
    """
    from distributed import as_completed

    reports = []
    with client_for(workers, scheduler, cluster) as client:
        futures = client.map(fn, list(todo), pure=False, retries=retries)
        try:
            for fut in as_completed(futures):
                rep = fut.result()
                reports.append(rep)
                if on_report is not None:
                    on_report(rep)
        except KeyboardInterrupt:
            client.cancel(futures)
            raise
    return reports
