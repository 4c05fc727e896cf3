"""A LocalCluster started for a sweep forks its workers from a fork server that imported what a unit needs
(runs.compute.pipeline.WORKER_MODULES): a worker's first unit does not import scipy.stats itself."""
import sys

from lunadyn.cluster.dask_backend import local_cluster
from lunadyn.runs.compute import WORKER_MODULES


def _imported():
    return sorted(name for name in WORKER_MODULES if name in sys.modules)


def test_workers_start_with_the_unit_modules_imported():
    assert "scipy.stats.qmc" in WORKER_MODULES
    lc = local_cluster(1, preload=WORKER_MODULES)
    try:
        from distributed import Client

        with Client(lc) as client:
            # before any task: what the worker process holds is what the fork server imported
            assert list(client.run(_imported).values()) == [sorted(WORKER_MODULES)]
    finally:
        lc.close()


def test_the_command_line_starts_the_fork_server_only_for_a_local_cluster(tmp_path):
    from lunadyn.runs.cli.launch import will_start_local_cluster

    spec = tmp_path / "s.toml"
    spec.write_text('[vary]\nr_core = {}\n[sampler]\nmethod = "lhs"\nn = 8\n')
    on_jobqueue = tmp_path / "c.toml"
    on_jobqueue.write_text(spec.read_text() + '[cluster]\nkind = "slurm"\n')
    s = str(spec)
    assert will_start_local_cluster(["sweep", s])
    assert will_start_local_cluster(["sweep", s, "-o", "x.zarr", "--workers", "2", "--backend", "dask"])
    assert will_start_local_cluster(["sweep", "--backend=dask", s, "--overwrite"])
    for argv in (["sweep", s, "--backend", "serial"], ["sweep", s, "--backend=mpi"],
                 ["sweep", s, "--scheduler", "tcp://h:8786"], ["sweep", s, "--task-index", "0", "--n-tasks", "2"],
                 ["sweep", str(on_jobqueue)], ["sweep", s, "--cluster", "slurm"], ["sweep", "--help"],
                 ["sweep", str(tmp_path / "missing.toml")], ["info", s], [], ["run", s]):
        assert not will_start_local_cluster(argv), argv


def _kernels_loaded():
    from lunadyn.thermal import kernel

    return bool(kernel.integrate.signatures)


def test_workers_load_the_cached_kernels_as_they_start():
    """With the on-disk cache complete (the driver's warmup marks it), a worker started with the unit's
    setup holds the compiled kernels before it runs any task; without the setup it does not."""
    from distributed import Client

    from lunadyn.runs.compute import WORKER_SETUP, pipeline

    pipeline.warmup()
    assert pipeline.WARM_MARK.exists()
    for setup, loaded in ((WORKER_SETUP, True), (None, False)):
        lc = local_cluster(1, preload=WORKER_MODULES, setup=setup)
        try:
            with Client(lc) as client:
                assert list(client.run(_kernels_loaded).values()) == [loaded]
        finally:
            lc.close()
