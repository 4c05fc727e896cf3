"""lunadyn.cluster: execution backends (serial, dask, MPI) and job submission. Knows no physics."""
