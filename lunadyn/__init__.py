"""lunadyn: the thermal evolution of the Moon and its core, basal-magma-ocean and precession dynamos,
swept over millions of models and compared with the measured lunar paleointensities.

The public Python API, in one place (each function's docstring has a runnable example)::

    import lunadyn
    ds = lunadyn.run(r_core=380e3)                        # one model in memory: an xarray.Dataset
    report = lunadyn.sweep(lunadyn.example("demo_sweep.toml"), "demo.zarr", backend="serial")
    ds = lunadyn.open_store("demo.zarr")                  # a store as a lazy xarray.Dataset
    summary = lunadyn.compare("demo.zarr")                # scores against the measured record
    result = lunadyn.fit(lunadyn.example("moon_default.toml"), ["eta_ref"])
    answer = lunadyn.infer(lunadyn.example("demo_infer.toml"), "infer.zarr")   # evidence per hypothesis
    tree = lunadyn.to_arviz("infer.zarr")                 # ArviZ data: a DataTree, one child per hypothesis
    table = lunadyn.params()                              # the parameter registry

The packages below it: ``lunadyn.thermal`` and ``lunadyn.dynamo`` (the physics), ``lunadyn.runs``
(specs, stores, the chunk pipeline, inference, figures, the command line) and ``lunadyn.cluster``
(execution backends and job submission); ``lunadyn.testing`` for users' own tests.

The API is loaded on first use (PEP 562 ``__getattr__``), so ``import lunadyn.thermal`` in a dask
worker or an MPI rank does not import xarray, zarr or matplotlib.
"""
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("lunadyn")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree not installed
    __version__ = "0+unknown"

__all__ = ["run", "sweep", "open_store", "compare", "fit", "infer", "to_arviz", "params", "example",
           "load_scenario", "run_scenario", "__version__"]


def __getattr__(name):
    if name in __all__:
        from .runs import api

        return getattr(api, name)
    raise AttributeError(f"module 'lunadyn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
