"""The Python API: the operations of the command line as plain functions (DESIGN.md "The command line").

``import lunadyn`` re-exports these; see ``lunadyn/__init__.py`` for a runnable example of each.
"""
from __future__ import annotations

from pathlib import Path

from .compute.driver import sweep
from .compute.scenario import run_scenario
from .io.dataset import grid_view, result_to_dataset
from .io.store import open_dataset
from .inference.compare import compare_store
from .inference.fit import fit
from .inference.infer import to_arviz
from .inference.summary import summarize
from .registry import params_table
from .spec.config import Scenario, load_scenario, scenario_from_text, scenario_records
from .compute import pipeline
from .errors import UserError

EXAMPLES = Path(__file__).resolve().parent / "examples"

__all__ = ["run", "sweep", "open_store", "compare", "fit", "infer", "to_arviz", "params", "load_scenario",
           "run_scenario", "result_to_dataset", "summarize", "grid_view", "example"]


def run(scenario=None, **overrides):
    """Run one scenario in memory and return an ``xarray.Dataset`` (nothing is written to disk).

    Parameters
    ----------
    scenario : str, path, Scenario or None
        A scenario TOML file, a loaded ``Scenario``, or None for the default Moon.
    **overrides
        Parameter or setting values in SI units (ages in Ga), validated like the file, e.g.
        ``r_core=380e3``, ``law="ml"``, ``output_step=0.1``.

    Returns
    -------
    xarray.Dataset
        Dimensions ``sample`` (1) and ``age`` (Ga, decreasing), every declared output and summary,
        and ``status`` (0 = the model is right).

    Examples
    --------
    >>> import lunadyn
    >>> ds = lunadyn.run(r_core=380e3, output_step=0.1)
    >>> int(ds.status[0]) & 15        # the thermal code: 0 = ok (the bits above are flags)
    0
    >>> float(ds.age[0]), float(ds.age[-1])
    (4.5, 0.0)
    """
    if scenario is None:
        scn = scenario_from_text("", "defaults", overrides)
    elif isinstance(scenario, Scenario):
        where = str(scenario.path) if scenario.path else "<scenario>"
        scn = scenario_from_text(scenario.text, where, {**scenario.overrides, **overrides}, path=scenario.path)
    else:
        scn = load_scenario(scenario, overrides)
    result = pipeline.compute(scenario_records(scn, 1), scn.settings)
    return result_to_dataset(result, scn)


def open_store(path):
    """Open a lunadyn store (a run, sweep or field store) as a lazy ``xarray.Dataset``.

    Refuses, in one line (``lunadyn.runs.errors.UserError``), a path that is not a lunadyn store.

    Examples
    --------
    >>> import lunadyn, tempfile, pathlib
    >>> scn = lunadyn.load_scenario(lunadyn.example("moon_default.toml"), {"output_step": 0.5})
    >>> path = lunadyn.run_scenario(scn, pathlib.Path(tempfile.mkdtemp()) / "moon.zarr")
    >>> ds = lunadyn.open_store(path)
    >>> ds.sizes["age"]
    10
    """
    return open_dataset(path)


def compare(store, data=None, select=None, settings=None, *, best: int = 5, write: bool = True) -> dict:
    """Score every model of a store against the measured record; returns the comparison summary.

    Parameters
    ----------
    store : path of a run or sweep store that keeps ``B_surface`` (or was scored per chunk).
    data : a record CSV (default the shipped record); select : ``KEY=VALUE`` strings or "all".
    settings : likelihood settings (dict, see ``lunadyn data``); best : models listed; write : store
        ``loglike``, per-record terms and misfits into the store.

    Examples
    --------
    >>> import lunadyn, tempfile, pathlib
    >>> scn = lunadyn.load_scenario(lunadyn.example("moon_default.toml"), {"output_step": 0.05})
    >>> path = lunadyn.run_scenario(scn, pathlib.Path(tempfile.mkdtemp()) / "moon.zarr")
    >>> summary = lunadyn.compare(path, write=False)
    >>> summary["n_scored"], len(summary["records"]) > 0
    (1, True)
    """
    return compare_store(store, data=data, select=select, settings=settings, best=best, write=write)


def example(name: str):
    """The path of a shipped example file (``runs/examples/``), e.g. ``example("demo_sweep.toml")``.

    Examples
    --------
    >>> import lunadyn
    >>> lunadyn.example("moon_default.toml").name
    'moon_default.toml'
    """
    path = EXAMPLES / name
    if not path.is_file():
        raise UserError(f"no example {name!r}: expected one of {', '.join(sorted(p.name for p in EXAMPLES.iterdir()))}")
    return path


def params() -> list[dict]:
    """The parameter registry as a list of dicts: name, unit, default, bounds, prior, stage, reference.

    Examples
    --------
    >>> import lunadyn
    >>> row = next(p for p in lunadyn.params() if p["name"] == "r_core")
    >>> row["unit"], row["default"]
    ('m', 350000.0)
    """
    return params_table()


def infer(spec, store=None, backend: str = "dask", workers: int | None = None, scheduler: str | None = None,
          overwrite: bool = False, progress: bool = True) -> dict | None:
    """Run an inference spec into an inference store and return the answer (``lunadyn infer``).

    For each hypothesis of the spec (a named set of fixed parameters, above all ``sources``) the
    waste-free tempering SMC of ``runs/inference/evidence.py`` samples the posterior of the free
    parameters and estimates the evidence ln Z ± err; the store also holds the Bayes factors, the
    predictive checks ln p(CE-6 | rest) and ln p(CE-5 | rest) and the field histories of posterior draws
    (``runs/inference/infer.py``). A store of the same spec resumes from its last finished generation
    (a complete one is read, not recomputed); a store of another spec is refused unless ``overwrite``.

    Parameters
    ----------
    spec : str, path or InferenceSpec
        An inference spec TOML file (e.g. ``example("demo_infer.toml")``) or a loaded
        ``runs.spec.inference.InferenceSpec``.
    store : str or path, optional
        The inference store (default ``./<spec stem>.zarr``).
    backend : {"dask", "serial", "mpi"}
        Where each batch of models is computed: a local dask cluster of ``workers`` (or the running
        scheduler at ``scheduler``), this process, or the ranks of ``mpiexec``.
    workers : int, optional
        dask workers (default: one per core).
    scheduler : str, optional
        The address of a running dask scheduler, e.g. ``"tcp://host:8786"``.
    overwrite : bool
        Replace an existing store of another spec.
    progress : bool
        Print a progress line per generation on stderr.

    Returns
    -------
    dict or None
        The answer: ``hypotheses`` (one dict per hypothesis: ``ln_z``, ``ln_z_err``, ``ln_b_vs_best``,
        ``ess``, ``n_evaluations``, ``ln_p_ce6_given_rest``, ``predictive_B_site_uT``, ``source_weight``,
        ``posterior`` quantiles, ...), ``best``, ``bayes_factors`` and ``warnings`` (a small ESS, a large
        evidence error); ``runs.inference.infer.format_table(answer)`` is the table the command prints.
        None on the MPI ranks other than 0.

    Examples
    --------
    >>> import lunadyn
    >>> answer = lunadyn.infer(lunadyn.example("demo_infer.toml"), "demo_infer.zarr", backend="serial")  # doctest: +SKIP
    >>> answer["best"], [(h["hypothesis"], h["ln_z"], h["ln_z_err"]) for h in answer["hypotheses"]]     # doctest: +SKIP
    """
    from .inference.infer import infer as _infer
    return _infer(spec, store, backend=backend, workers=workers, scheduler=scheduler, overwrite=overwrite,
                  progress=progress)
