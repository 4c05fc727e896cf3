"""The Python API: the operations of the command line as plain functions (DESIGN.md "The command line").

    >>> from runs import api
    >>> ds = api.run("runs/examples/moon_default.toml", r_core=380e3)   # an in-memory xarray.Dataset
    >>> path = api.run_scenario(api.load_scenario("moon.toml"), "moon.zarr")   # a store on disk
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from runs import pipeline
from runs import status as st
from runs.config import Scenario, load_scenario, scenario_from_text, scenario_records
from runs.registry import OUTPUTS, PARAMS, SUMMARIES

__all__ = ["load_scenario", "run", "run_scenario", "result_to_dataset", "summarize", "scenario_spec", "sweep",
           "infer", "to_arviz"]


def scenario_spec(scn: Scenario) -> dict:
    """The validated spec of a single run; its hash identifies the store."""
    return {"kind": "run", "parameters": scn.values, "settings": scn.settings}


def spec_text(scn: Scenario) -> str:
    """The scenario's TOML text, with any overrides recorded as trailing comments."""
    if not scn.overrides:
        return scn.text
    lines = [f"# {k} = {json.dumps(v)}" for k, v in scn.overrides.items()]
    return scn.text.rstrip("\n") + "\n\n# overrides applied on top of the above (--set):\n" + "\n".join(lines) + "\n"


def store_variables() -> dict:
    """Every declared output: name -> (dtype, 'age' | 'run') as the store keeps it."""
    out = {name: (o.dtype, "age") for name, o in OUTPUTS.items()}
    out.update({name: (o.dtype, "run") for name, o in SUMMARIES.items()})
    return out


def _text_attrs(scn: Scenario) -> dict:
    attrs = {"title": scn.title, "description": scn.description}
    if scn.path is not None:
        attrs["source"] = str(scn.path)
    return {k: v for k, v in attrs.items() if v}


def run_scenario(scn: Scenario, store_path, *, overwrite: bool = False) -> Path:
    """Compute one scenario and write it to a store (one sample, one chunk); returns the store path.

    A store of the same spec that is already complete is kept as it is (resume: nothing to do); a
    different spec at ``store_path`` is refused unless ``overwrite``; a foreign directory always is.
    """
    from runs.store import create_store, write_chunk

    path = Path(store_path)
    ages = pipeline.output_ages(scn.settings["start_age"], scn.settings["output_step"])
    g = create_store(path, spec=scenario_spec(scn), spec_text=spec_text(scn), n_samples=1, chunk_size=1,
                     ages=ages, variables=store_variables(), fixed=scn.values, attrs=_text_attrs(scn),
                     overwrite=overwrite)
    if g["done"][0]:
        return path
    result = pipeline.compute(scenario_records(scn, 1), scn.settings)
    if not np.array_equal(np.asarray(result["age"]), ages):
        raise RuntimeError("pipeline.compute returned output ages that differ from pipeline.output_ages")
    arrays = {**result["state"], **result["outputs"], **result["summaries"]}
    write_chunk(g, 0, {k: v for k, v in arrays.items() if k in store_variables()}, result["status"])
    return path


def result_to_dataset(result: dict, scn: Scenario | None = None):
    """A ``pipeline.compute`` result as an xarray.Dataset laid out like a store (dims sample, age)."""
    import xarray as xr

    n = np.asarray(result["status"]).shape[0]
    data = {"status": (("sample",), np.asarray(result["status"], dtype=np.int32),
                       {"long_name": "model status: thermal code | flags", "units": "1"})}
    for group in ("state", "outputs"):
        for name, arr in result[group].items():
            o = OUTPUTS.get(name)
            data[name] = (("sample", "age"), np.asarray(arr),
                          {"units": o.unit, "long_name": o.long_name} if o else {})
    for name, arr in result["summaries"].items():
        o = SUMMARIES.get(name)
        data[name] = (("sample",), np.asarray(arr), {"units": o.unit, "long_name": o.long_name} if o else {})
    coords = {"sample": np.arange(n), "age": ("age", np.asarray(result["age"]), {"units": "Ga",
                                                                                 "long_name": "age before present"})}
    attrs = {}
    if scn is not None:
        attrs = {**_text_attrs(scn), "spec": json.dumps(scenario_spec(scn), sort_keys=True),
                 "fixed_parameters": json.dumps(scn.values, sort_keys=True)}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def run(scenario=None, **overrides):
    """Run a scenario in memory and return an xarray.Dataset (nothing written to disk).

    scenario: a path to a TOML file, a Scenario, or None for the default Moon; overrides: parameter or
    setting values (``r_core=380e3``, ``law="ml"``), validated like the file.
    """
    if scenario is None:
        scn = scenario_from_text("", "defaults", overrides)
    elif isinstance(scenario, Scenario):
        where = str(scenario.path) if scenario.path else "<scenario>"
        scn = scenario_from_text(scenario.text, where, {**scenario.overrides, **overrides}, path=scenario.path)
    else:
        scn = load_scenario(scenario, overrides)
    return result_to_dataset(pipeline.compute(scenario_records(scn, 1), scn.settings), scn)


def _num(x):
    """A finite float, or None (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _age(x):
    """An event age in Ga, None if it never happened (fill -1) or the model failed."""
    x = _num(x)
    return None if x is None or x < 0 else x


def summarize(ds, sample: int = 0) -> dict:
    """Headline figures of one model of a dataset: status, today's heat flow, core, events."""
    one = ds.isel(sample=sample)
    today = one.isel(age=int(np.argmin(np.abs(one["age"].values))))
    fixed = json.loads(ds.attrs.get("fixed_parameters", "{}"))
    radius = float(one["radius"]) if "radius" in one.coords else fixed.get("radius", PARAMS["radius"].default)
    status = int(one["status"])
    out = {"status": status, "status_text": st.describe(status)}
    if "Q_surface" in one:
        out["q_surface_today_mW_m2"] = _num(float(today["Q_surface"]) / (4 * math.pi * radius ** 2) * 1e3)
    if "T_cmb" in one:
        out["T_cmb_today_K"] = _num(today["T_cmb"])
    if "r_inner_core" in one:
        out["r_inner_core_today_km"] = _num(float(today["r_inner_core"]) / 1e3)
    if "age_inner_core_nucleation" in one:
        out["age_inner_core_nucleation_Ga"] = _age(one["age_inner_core_nucleation"])
    if "age_bmo_solidified" in one:
        out["age_bmo_solidified_Ga"] = _age(one["age_bmo_solidified"])
    if "B_surface" in one:
        out["dynamo_epochs_Ga"] = dynamo_epochs(one)
        out["chang_e"] = chang_e_fields(one)
    return out


SOURCES = ("core", "bmo", "precession")


def dynamo_epochs(one) -> dict:
    """Intervals [start, end] (Ga) during which each source is on, from dynamo_on_* of one model."""
    ages = np.asarray(one["age"].values, dtype=float)
    out = {}
    for src in SOURCES:
        name = f"dynamo_on_{src}"
        if name not in one:
            continue
        on = np.asarray(one[name].values) == 1
        spans, k = [], 0
        while k < on.size:
            if on[k]:
                j = k
                while j + 1 < on.size and on[j + 1]:
                    j += 1
                spans.append([float(ages[k]), float(ages[j])])
                k = j + 1
            else:
                k += 1
        out[src] = spans
    return out


def chang_e_fields(one) -> list[dict]:
    """The model field at the Chang'e-5 and Chang'e-6 sites and ages against the measured ranges.

    Model fields are equatorial surface fields (PHYSICS.md I.3) times the site factor sqrt(1 + 3 sin^2 lat);
    each source's field is interpolated linearly in age.
    """
    from dynamo.scaling import site_factor
    from runs.plots import chang_e_boxes

    ages = np.asarray(one["age"].values, dtype=float)
    rows = []
    for box in chang_e_boxes():
        k = site_factor(math.radians(box["lat"]))
        row = {"id": box["id"], "mission": box["label"], "age_Ga": box["age"], "site_lat_deg": box["lat"],
               "measured_uT": list(box["site_ut"])}
        for name in ("B_surface", "B_core", "B_bmo", "B_precession"):
            if name in one:
                b = np.interp(box["age"], ages[::-1], np.asarray(one[name].values, dtype=float)[::-1])
                row[f"{name}_site_uT"] = _num(b * k * 1e6)
        b = row.get("B_surface_site_uT")
        lo, hi = box["site_ut"]
        row["within_range"] = b is not None and lo <= b <= hi
        row["factor_to_range"] = None if not b else _num(lo / b if b < lo else (b / hi if b > hi else 1.0))
        rows.append(row)
    return rows


def sweep(spec, store=None, backend: str = "dask", workers: int | None = None, scheduler: str | None = None,
          overwrite: bool = False, progress: bool = True, task_index: int | None = None,
          n_tasks: int | None = None, cluster=None) -> dict:
    """Run a sweep spec (path or runs.sweep.SweepSpec) into a store; returns the final report.

    backend: 'serial' (in process), 'dask' (a LocalCluster started for the run, or ``scheduler``, or a
    ``cluster`` object such as a dask_jobqueue cluster) or 'mpi' (under mpiexec). A store of the same spec
    is resumed: only chunks not done are computed. task_index/n_tasks compute one slice of the chunks (job
    arrays).
    """
    from functools import partial

    from runs import pipeline
    from runs import store as st_mod
    from runs.progress import Progress
    from runs.sweep import SweepSpec, load_spec, prepare_store

    if not isinstance(spec, SweepSpec):
        spath = Path(spec)
        spec = load_spec(spath)
        store = store or Path(f"{spath.stem}.zarr")
    store = Path(store)
    if backend == "mpi":
        from cluster import mpi_backend
        return mpi_backend.run_sweep(spec, store, overwrite=overwrite, progress=progress)
    g = prepare_store(spec, store, overwrite=overwrite)
    todo = st_mod.chunks_to_do(g)
    if task_index is not None:
        todo = [i for i in todo if i % n_tasks == task_index]
    prog = Progress(spec.n_chunks, spec.n_samples, done_chunks=spec.n_chunks - len(st_mod.chunks_to_do(g)),
                    quiet=not progress)
    fn = partial(pipeline.run_chunk, spec)
    interrupted = False
    pipeline.warmup()               # compile once, before any worker starts (on-disk cache)
    prog.start()
    try:
        if backend == "serial" or not todo:
            from cluster.serial import map_chunks
            map_chunks(fn, todo, prog.update)
        elif backend == "dask":
            from cluster.dask_backend import map_chunks
            map_chunks(fn, todo, prog.update, workers=workers, scheduler=scheduler, cluster=cluster)
        else:
            raise ValueError(f"unknown backend {backend!r}")
    except KeyboardInterrupt:
        interrupted = True
    return sweep_report(store, prog, interrupted)


def sweep_report(store, prog, interrupted: bool = False) -> dict:
    """Final figures of a sweep run: store, chunks, ok and failed models by status, throughput."""
    from runs import store as st_mod

    info = st_mod.store_info(store)
    return {
        "store": str(store),
        "chunks_done": info["chunks_done"],
        "chunks_total": info["chunks_total"],
        "complete": info["complete"],
        "interrupted": interrupted,
        "models_computed_now": prog.models,
        "models_ok": int(sum(v for k, v in info["status_counts"].items() if int(k) >= 0 and int(k) & 15 == 0)),
        "models_failed_by_status": {info["status_meaning"][k]: v for k, v in info["status_counts"].items()
                                    if int(k) >= 0 and int(k) & 15 != 0},
        "seconds": round(prog.elapsed, 3),
        "models_per_s": round(prog.rate, 1),
        "models_per_s_after_first_chunk": round(prog.steady_rate, 1),
        "startup_s": round(prog.first_s, 3),
        "size_bytes": info["size_bytes"],
    }


def grid_view(ds):
    """A grid sweep reshaped to its n-dimensional form: one dimension per varied parameter (plus age).

    The store stays flat along ``sample`` (DESIGN.md); this only re-indexes it (xarray set_index/unstack).
    """
    varied = json.loads(ds.attrs.get("varied_parameters", "[]"))
    if not varied:
        return ds
    return ds.set_index(sample=varied).unstack("sample")


def infer(spec, store=None, backend: str = "dask", workers: int | None = None, scheduler: str | None = None,
          overwrite: bool = False, progress: bool = True) -> dict:
    """Run an inference spec (path or runs.infer_spec.InferenceSpec) into an inference store: posterior
    samples and ln Z ± err per dynamo hypothesis, Bayes factors, predictive checks (runs.infer). A store
    of the same spec resumes from its last finished generation; returns the answer (runs.infer.summarize).
    """
    from runs.infer import infer as _infer
    return _infer(spec, store, backend=backend, workers=workers, scheduler=scheduler, overwrite=overwrite,
                  progress=progress)


def to_arviz(store, hypothesis: str | None = None):
    """An inference store as ArviZ data (runs.infer.to_arviz): an InferenceData for one hypothesis, or a
    DataTree with one child per hypothesis."""
    from runs.infer import to_arviz as _to_arviz
    return _to_arviz(store, hypothesis)
