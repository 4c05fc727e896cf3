"""A process that owns one core encodes on one thread (cluster/protocol.py ONE_CORE_ENV): dask workers
of a LocalCluster, job-array tasks and job scripts; the driver's own zarr is left as it was."""
import os

import zarr

from lunadyn.cluster.array import ArraySliceBackend
from lunadyn.cluster.dask_backend import local_cluster
from lunadyn.cluster.protocol import ONE_CORE_ENV
from lunadyn.cluster.submit import render


def _zarr_threads():
    import zarr as z

    return z.config.get("threading.max_workers")


def test_dask_workers_encode_on_one_thread():
    before = {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", *ONE_CORE_ENV)}
    lc = local_cluster(1)
    try:
        from distributed import Client

        with Client(lc) as client:
            assert list(client.run(_zarr_threads).values()) == [1]
    finally:
        lc.close()
    assert {k: os.environ.get(k) for k in before} == before      # the driver's environment is restored


def test_array_task_encodes_on_one_thread():
    old = zarr.config.get("threading.max_workers")
    try:
        ArraySliceBackend(0, 2)
        assert zarr.config.get("threading.max_workers") == 1
    finally:
        zarr.config.set({"threading.max_workers": old})


def test_job_scripts_encode_on_one_thread(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[vary]\nr_core = {}\n[sampler]\nmethod = "lhs"\nn = 8\n')
    for scheduler in ("slurm", "pbs"):
        for mode in ("mpi", "array", "dask"):
            script = render(spec, scheduler=scheduler, mode=mode, store=tmp_path / "s.zarr", ntasks=2,
                            n_chunks=4)["script"]
            assert "export ZARR_THREADING__MAX_WORKERS=1\n" in script, (scheduler, mode)


def _intervals_ms(dask_worker=None, dask_scheduler=None):
    server = dask_worker if dask_worker is not None else dask_scheduler
    return {k: v.callback_time for k, v in server.periodic_callbacks.items()}


def test_dask_servers_run_worker_config():
    """The workers, nannies and scheduler of a LocalCluster run with WORKER_CONFIG's periodic intervals
    (dask's defaults: ticks every 20 ms, system monitor 500 ms, memory monitor 100 ms), and the job
    scripts of dask-jobqueue workers export the same settings."""
    from distributed import Client

    from lunadyn.cluster.dask_backend import worker_config_env

    lc = local_cluster(1)
    try:
        with Client(lc) as client:
            (worker,) = client.run(_intervals_ms).values()
            scheduler = client.run_on_scheduler(_intervals_ms)
            nanny = _intervals_ms(lc.workers[0])
    finally:
        lc.close()
    for server in (worker, scheduler, nanny):
        assert server["tick"] == 1000 and server["monitor"] == 5000, server
    assert worker["memory_monitor"] == 1000 and nanny["memory_monitor"] == 1000
    env = worker_config_env()
    assert "export DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=1s" in env
    assert "export DASK_DISTRIBUTED__WORKER__MEMORY__MONITOR_INTERVAL=1s" in env
