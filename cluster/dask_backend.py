"""The dask.distributed backend: chunk indices as tasks on a LocalCluster, a scheduler address, or any
``distributed`` cluster object (e.g. a dask_jobqueue SLURMCluster/PBSCluster built by cluster.jobqueue).

Workers are single-threaded processes with NUMBA_NUM_THREADS=1 (DESIGN.md "Parallelism and
compilation"): parallelism comes from chunks. Kernels are warmed in the driver before workers start, so
they load compiled code from the on-disk cache instead of compiling N times. A chunk whose worker is lost
is rescheduled by the scheduler; an exception in a chunk is retried (``retries``). Knows no physics: it
maps ``fn`` over chunk indices and gets small reports back; model arrays never travel through it.

A bounded queue: at most ``tasks_per_worker`` tasks per worker thread are in flight (submitted and not
yet returned); the next chunk is submitted as a result comes back (``distributed.as_completed`` with
``add``; the small reports are gathered a few at a time: READ_EVERY, READ_S), so a sweep of 10^6
chunks starts at once, the scheduler never holds a graph of 10^6 tasks (dask/distributed#2181) and
the driver's memory stays flat. The number of worker threads is re-read
at most once a second while results arrive, so workers that join later (an adaptive dask_jobqueue
cluster) get work too.
"""
from __future__ import annotations

import itertools
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from .protocol import ONE_CORE_ENV, Backend, keeps

REFRESH_S = 1.0   # how often the worker count behind the in-flight bound is re-read
# the reports of finished units are read (gathered) once a READ_EVERY-th of the in-flight bound has
# finished, at the latest READ_S after the last read, and when nothing is left in flight
READ_EVERY, READ_S = 4, 0.25

# dask settings of every worker lunadyn starts (and of a LocalCluster's scheduler and nannies, in the
# driver). The statistical profiler (on by default) wakes every 10 ms and walks every thread's stack under
# the GIL; a unit's write is GIL-bound Python (zarr's async pipeline, ~1 ms an array), and on 2 workers of
# a 2-core machine a 256-model full-history unit took 212 ms with it, 167 ms without (its write 152 ->
# 120 ms). The other three are the periodic callbacks of every dask server's event loop: the blocked-
# loop detector's tick (20 ms by default; it still warns of a loop blocked over its 3 s limit), the system
# monitor (500 ms; what a dashboard plots) and the memory monitor (100 ms; the nanny's memory limit and the
# worker's spill/pause, which a unit's flat few MB do not need ten times a second). On an idle 2-worker
# LocalCluster they cost the driver 5.9 % of a core and each worker 1.8 % (9.5 % of a core in all, taken
# from the units on a machine whose every core computes); at these settings 1.2 % and 0.3 % (issue 13).
WORKER_CONFIG = {"distributed.worker.profile.enabled": False,
                 "distributed.admin.tick.interval": "1s",
                 "distributed.admin.system-monitor.interval": "5s",
                 "distributed.worker.memory.monitor-interval": "1s"}


def worker_config_env() -> list[str]:
    """WORKER_CONFIG as shell lines for a worker's job script (dask reads DASK_* variables)."""
    return [f"export DASK_{k.upper().replace('.', '__').replace('-', '_')}={v}" for k, v in WORKER_CONFIG.items()]


def _one_core_env() -> dict:
    """What a LocalCluster's fork server and workers run with: one Numba thread, one codec thread."""
    return {"NUMBA_NUM_THREADS": "1", **ONE_CORE_ENV}


@contextmanager
def _environment(env: dict):
    """os.environ updated with ``env`` inside the block (inherited by processes started there), restored after."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def start_fork_server(preload=()) -> bool:
    """Start the fork server from which a LocalCluster forks its workers, in the background; returns
    whether one is (now) starting or running (False where the platform has none).

    The server is a fresh interpreter that imports ``distributed`` and ``preload`` (the modules the
    work needs; ~3 s) and then waits; ``local_cluster`` forks every worker from it, so a worker starts
    in a fraction of a second. Started early (by the command line, before its own imports), those
    seconds pass while the driver imports, loads the spec and creates the store, instead of after. It
    is one per process (multiprocessing's), started once: a later call changes nothing. Only modules are
    imported there, never a kernel run, so no thread exists in the process that forks.
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    from multiprocessing import forkserver

    with _environment(_one_core_env()):      # inherited by the server, so by every worker
        # distributed's get_mp_context returns this same context; the preload list it sets there on first
        # use comes after the server started here, so it changes nothing
        multiprocessing.get_context("forkserver").set_forkserver_preload(["distributed", *preload])
        forkserver.ensure_running()
    return True


def local_cluster(workers: int | None = None, preload=(), setup: str | None = None):
    """A LocalCluster of ``workers`` single-threaded worker processes (default one per core).

    preload: modules the workers need (e.g. the chunk function's), imported once by a fork server
    (``start_fork_server``) from which the worker processes are forked: a worker then starts in a
    fraction of a second instead of importing numpy, numba, zarr, dask and the kernels' cached code on
    its own (seconds each). setup: a module whose ``dask_setup(worker)`` each worker runs as it starts,
    after the fork (dask's worker preload), e.g. to load compiled code the fork server must not hold.
    """
    import dask
    from distributed import LocalCluster  # imported only where a cluster is used

    n = workers or os.cpu_count() or 1
    with _environment(_one_core_env()):       # inherited by the workers
        method = "forkserver" if preload and start_fork_server(preload) else None
        with dask.config.set({**WORKER_CONFIG,
                              **({"distributed.worker.multiprocessing-method": method} if method else {})}):
            # dashboard_address ":0": the scheduler's HTTP server (started even without a dashboard) takes
            # a free port; with None it tries 8787 and warns on stderr when another cluster holds it
            return LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                silence_logs=40, **({"preload": [setup]} if setup else {}))


@contextmanager
def client_for(workers: int | None = None, scheduler: str | None = None, cluster=None, local=None):
    """A distributed.Client: on ``cluster``, at ``scheduler``, on ``local`` (a LocalCluster started
    beforehand, closed afterwards) or on a LocalCluster started for the run."""
    from distributed import Client  # imported only where a cluster is used

    if cluster is not None or scheduler:
        client = Client(cluster if cluster is not None else scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    lc = local if local is not None else local_cluster(workers)
    client = Client(lc)
    try:
        yield client
    finally:
        client.close()
        lc.close()


STOP_GRACE_S = 300   # after a stop report: how long the units already running may take to finish


class _Tokened:
    """``fn`` with a fixed dask token. ``client.map`` names its expression by tokenizing the function on
    every call (dask's _MapExpr), which for a sweep's unit function walks every field of its spec, the
    samples included: 2.3 ms a call for the 10,000-model backend benchmark spec, 8.6 ms for 50,000
    models, once per refill of the queue. The tasks carry explicit keys; a token drawn once per ``map``
    names them as well."""

    def __init__(self, fn, token: str):
        self.fn, self.token = fn, token

    def __call__(self, *args):
        return self.fn(*args)

    def __dask_tokenize__(self):
        return self.token


class DaskBackend(Backend):
    """dask.distributed backend of the protocol in ``cluster.backends``: chunk indices as tasks.

    options: ``workers`` (LocalCluster size, default one per core), ``scheduler`` (address of a running
    scheduler) or ``cluster`` (a distributed cluster object, e.g. from ``cluster.jobqueue``); ``retries``
    for a chunk whose task raised; ``tasks_per_worker``: tasks in flight per worker thread (the bound of
    the queue: a worker always has chunks waiting while it computes one, and half the bound is
    refilled at a time, in one graph update). 8, not fewer: on a 2-worker LocalCluster a unit that does
    nothing costs 3.6 ms of round trip at 4 a worker, 2.6 ms at 8 and no less at 16 (the driver waits
    for results less often); units of real size do not notice.

    Bookkeeping of the last ``map`` (read by tests and benchmarks): ``in_flight_limit`` (the largest
    bound in force), ``max_in_flight`` (the most tasks ever in flight at once), ``submitted``.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, cluster=None, retries: int = 3,
                 tasks_per_worker: int = 8):
        if not isinstance(tasks_per_worker, int) or tasks_per_worker < 1:
            raise ValueError(f"tasks_per_worker must be a positive integer, got {tasks_per_worker!r}")
        self.workers, self.scheduler, self.cluster, self.retries = workers, scheduler, cluster, retries
        self.tasks_per_worker = tasks_per_worker
        self._starting = None          # a LocalCluster being started in the background (start_workers)
        self.in_flight_limit = 0
        self.max_in_flight = 0
        self.submitted = 0
        self._session = None
        self._client = None

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
        futures = client.map(_Tokened(fn, f"lunadyn-items-{uuid.uuid4().hex[:8]}"), list(items), pure=False,
                             retries=self.retries)
        try:
            return client.gather(futures)
        except KeyboardInterrupt:
            client.cancel(futures)
            raise

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

    def start_workers(self, preload=(), setup: str | None = None) -> None:
        """Begin starting the LocalCluster's worker processes in the background (their interpreters and
        imports take seconds), so that they start while the driver creates the store and warms its
        kernels; ``map`` then uses them. preload, setup: what the workers import and run (``local_cluster``).
        Nothing to do on a given cluster or scheduler."""
        if self.cluster is None and not self.scheduler and self._starting is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lunadyn-dask-start")
            self._starting = pool.submit(local_cluster, self.workers, tuple(preload), setup)
            pool.shutdown(wait=False)

    def __exit__(self, *exc):
        if self._session is not None:           # the client of map_items/each
            self._session.__exit__(*exc)
            self._session = self._client = None
        if self._starting is not None:          # started but never used (nothing to do, or an error)
            try:
                self._starting.result().close()
            except Exception:  # noqa: BLE001 - the cluster failed to start; nothing to close
                pass
            self._starting = None
        return False

    def _bound(self, client) -> int:
        threads = sum(client.nthreads().values())
        return self.tasks_per_worker * max(1, threads)

    def map(self, fn, todo, on_report=None, collect: bool = True) -> list:
        """fn(i) for every i in ``todo`` on dask workers; the reports in completion order (none with
        ``collect=False``: the caller counts them through ``on_report``, so memory stays flat).

        The client (and a LocalCluster) is started only when there is work. At most the bound of tasks
        is in flight. On KeyboardInterrupt, an exception from ``on_report``, or when a chunk fails after
        its retries, the tasks in flight are cancelled and the exception propagates; after a ``stop``
        report the running ones finish first (``_drain``). Chunks already written stay done.
        """
        if len(todo) == 0:
            return []
        from distributed import as_completed  # distributed is imported only where a cluster is used

        reports = []
        token = uuid.uuid4().hex[:8]
        fn = _Tokened(fn, f"lunadyn-map-{token}")
        units = iter(todo)
        self.in_flight_limit, self.max_in_flight, self.submitted = 0, 0, 0
        local, self._starting = (self._starting.result() if self._starting is not None else None), None
        with client_for(self.workers, self.scheduler, self.cluster, local) as client:
            pending = set()
            queue = as_completed()
            limit = self._bound(client)
            refreshed = time.monotonic()
            exhausted = False

            def top_up():
                # refill to the bound once half of it has come back: one graph update per batch of
                # submissions (a graph update per task costs the scheduler more than the task itself)
                nonlocal exhausted
                if exhausted or len(pending) > limit // 2:
                    return
                batch = list(itertools.islice(units, limit - len(pending)))
                if len(batch) < limit - len(pending):
                    exhausted = True
                if batch:
                    futs = client.map(fn, batch, key=[f"lunadyn-unit-{int(i)}-{token}" for i in batch],
                                      retries=self.retries)
                    pending.update(futs)
                    queue.update(futs)
                    self.submitted += len(futs)
                self.in_flight_limit = max(self.in_flight_limit, limit)
                self.max_in_flight = max(self.max_in_flight, len(pending))

            unread, read_at = [], time.monotonic()
            try:
                top_up()
                stopped = False
                for done in queue.batches():
                    pending.difference_update(done)
                    unread += done
                    now = time.monotonic()
                    if len(unread) >= max(1, limit // READ_EVERY) or not pending or now - read_at >= READ_S:
                        # the reports of several units in one round trip (a gather per unit costs the
                        # driver ~1 ms of CPU, ~30 % of its share of a unit on dask)
                        results = client.gather(unread)
                        for fut, rep in zip(unread, results):
                            fut.release()
                            if keeps(collect, rep):
                                reports.append(rep)
                            if on_report is not None:
                                on_report(rep)
                            stopped = stopped or bool(rep.get("stop"))
                        unread, read_at = [], now
                    if stopped:
                        reports += [r for r in self._drain(client, list(pending)) if keeps(collect, r)]
                        pending.clear()
                        break
                    now = time.monotonic()
                    if now - refreshed >= REFRESH_S:
                        limit, refreshed = self._bound(client), now
                    top_up()
            except BaseException:
                client.cancel(list(pending))
                raise
        return reports
