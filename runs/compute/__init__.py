"""Computing models: the chunk pipeline, single runs, the sweep driver, field re-scoring, progress."""
from ..spec.sampling import WORKER_MODULES as _SAMPLING_MODULES

# The modules a process computing units imports: the chunk pipeline and what drawing samples imports
# lazily (scipy.stats). A LocalCluster's fork server imports them once, before it forks the workers
# (cluster.dask_backend.start_fork_server), so no worker's first unit pays those imports. Named here,
# not in the pipeline, so that the command line can start that server before importing anything heavy.
WORKER_MODULES = (f"{__name__}.pipeline", *_SAMPLING_MODULES)
# What a LocalCluster's worker runs as it starts: load the cached kernels (runs.compute.worker_start).
WORKER_SETUP = f"{__name__}.worker_start"
