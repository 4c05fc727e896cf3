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

from .protocol import Backend


@contextmanager
def client_for(workers: int | None = None, scheduler: str | None = None, cluster=None):
    """A distributed.Client: on ``cluster``, at ``scheduler``, or on a LocalCluster started for the run."""
    from distributed import Client, LocalCluster  # imported only where a cluster is used

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


class DaskBackend(Backend):
    """dask.distributed backend of the protocol in ``cluster.backends``: chunk indices as tasks.

    options: ``workers`` (LocalCluster size, default one per core), ``scheduler`` (address of a running
    scheduler) or ``cluster`` (a distributed cluster object, e.g. from ``cluster.jobqueue``); ``retries``
    for a chunk whose task raised.
    """

    name = "dask"
    def __init__(self, workers: int | None = None, scheduler: str | None = None, cluster=None, retries: int = 3):
        self.workers, self.scheduler, self.cluster, self.retries = workers, scheduler, cluster, retries
        self._session = None
        self._client = None

    def __exit__(self, *exc):
        if self._session is not None:
            self._session.__exit__(*exc)
            self._session = self._client = None
        return False

    def client(self):
        """The client of this ``with`` block, started on first use and kept until it ends (for callers
        that map many small batches: the inference driver, one batch per sampler step)."""
        if self._client is None:
            self._session = client_for(self.workers, self.scheduler, self.cluster)
            self._client = self._session.__enter__()
        return self._client

    def each(self, fn):
        """fn() once on every worker process (e.g. loading the compiled kernels before a clock starts)."""
        return list(self.client().run(fn).values())

    def map_items(self, fn, items) -> list:
        """fn(item) for every item on the workers; the results in the items' order. Items and results
        are small (parameter vectors in, a few numbers per model out)."""
        client = self.client()
        futures = client.map(fn, list(items), pure=False, retries=self.retries)
        try:
            return client.gather(futures)
        except KeyboardInterrupt:
            client.cancel(futures)
            raise

    def map(self, fn, todo, on_report=None) -> list:
        """fn(i) for every i in ``todo`` on dask workers; the reports in completion order.

        The client (and a LocalCluster) is started only when there is work. On KeyboardInterrupt the
        pending tasks are cancelled; chunks already written stay done.
        """
        if not todo:
            return []
        from distributed import as_completed  # distributed is imported only where a cluster is used

        reports = []
        with client_for(self.workers, self.scheduler, self.cluster) as client:
            futures = client.map(fn, list(todo), pure=False, retries=self.retries)
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
