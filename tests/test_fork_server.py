"""A LocalCluster started for a sweep forks its workers from a fork server that imported what a unit needs
(runs.compute.pipeline.WORKER_MODULES): a worker's first unit does not import scipy.stats itself."""
import sys

from lunadyn.cluster.dask_backend import local_cluster
from lunadyn.runs.compute.pipeline import WORKER_MODULES


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
