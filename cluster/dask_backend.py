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
        # dashboard_address ":0": the scheduler's HTTP server (started even without a dashboard) takes a
        # free port; with None it tries 8787 and warns on stderr when another cluster holds it
        lc = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
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


STOP_GRACE_S = 300   # after a stop report: how long the units already running may take to finish


class DaskBackend(Backend):
    """dask.distributed backend of the protocol in ``cluster.backends``: chunk indices as tasks.

    options: ``workers`` (LocalCluster size, default one per core), ``scheduler`` (address of a running
    scheduler) or ``cluster`` (a distributed cluster object, e.g. from ``cluster.jobqueue``); ``retries``
    for a chunk whose task raised.
    """

    name = "dask"
    def __init__(self, workers: int | None = None, scheduler: str | None = None, cluster=None, retries: int = 3):
        self.workers, self.scheduler, self.cluster, self.retries = workers, scheduler, cluster, retries

    @staticmethod
    def _drain(client, futures) -> list:
        """After a stop report: cancel the tasks not yet running, let the running ones finish (their
        reports are returned), so that the cluster closes with idle workers: a worker killed mid-task
        by the closing cluster would print a heartbeat traceback of its own."""
        from distributed import as_completed

        running = {key for keys in client.processing().values() for key in keys}
        client.cancel([f for f in futures if not f.done() and f.key not in running])
        busy = [f for f in futures if f.key in running and not f.cancelled()]
        reports = []
        try:
            for fut in as_completed(busy, timeout=STOP_GRACE_S):
                try:
                    reports.append(fut.result())
                except Exception:  # noqa: BLE001 - a unit failing after the stop changes nothing
                    pass
        except Exception:          # the grace period is over: cancel what is left
            client.cancel(busy)
        return reports

    def map(self, fn, todo, on_report=None) -> list:
        """fn(i) for every i in ``todo`` on dask workers; the reports in completion order.

        The client (and a LocalCluster) is started only when there is work. On KeyboardInterrupt, an
        exception from ``on_report``, or a ``stop`` report, the pending tasks are cancelled; chunks
        already written stay done.
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
                    if rep.get("stop"):
                        reports += self._drain(client, futures)
                        break
            except BaseException:
                client.cancel(futures)
                raise
        return reports
