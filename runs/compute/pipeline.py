"""The chunk pipeline: records -> thermal kernel -> state in the store dtype -> diagnostics -> dynamo.

``compute(records, settings)`` is the one place models are computed (DESIGN.md "Data flow"); every
command and backend goes through it, so every one produces the same bytes.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass

import numpy as np

from ...dynamo import stage as dynamo_stage
from .. import registry
from ..registry import at_name
from ..status import THERMAL_CODE_MASK
from ...thermal import diagnostics, jit_cache, kernel
from ...thermal import model as thermal_model
from ...thermal.core import N_TAB
from ...thermal.layout import FLAG_ORBIT_UNDEFINED, N_DIAG, N_STATE, N_SUMMARY
from ..io import store
from . import allocator
from ..record.likelihood import make_plan, plan_columns, restrict_plan
from ..record.scoring import loglike_for_outputs
from ..spec import sampling
from ..spec.sweep import GRID_SUMMARIES


DEFAULT_SETTINGS = {name: p.default for name, p in registry.SPEC.items()}


def output_ages(start_age: float, output_step: float) -> np.ndarray:
    """Output ages start_age - k*output_step, k = 0..N, ending exactly at 0 (docs/physics.md §Three stages)."""
    n = int(round(start_age / output_step))
    ages = start_age - np.arange(n + 1) * output_step
    ages[-1] = 0.0
    return ages


def _to_store_dtype(name, values, dtype):
    """Cast an output to its declared store dtype (integers: failed models get -1, never garbage)."""
    if np.dtype(dtype).kind in "iu":
        out = np.where(np.isfinite(values), values, -1.0)
        return out.astype(dtype)
    return values.astype(dtype)


def compute(records: np.ndarray, settings: dict | None = None, timings: dict | None = None,
            keep=None, ages=None) -> dict:
    """Run the model pipeline on ``records`` (structured array of runs.registry.RECORD_DTYPE).

    settings: start_age (Ga), output_step (Ga), rtol, max_steps (registry defaults where missing).
    Returns {'age': (n_age,), 'status': (n,) int32, 'state': {name: (n, n_age) float64},
             'outputs': {name: (n, n_age) in the declared dtype}, 'summaries': {name: (n,) float64}}.
    keep: names of the outputs wanted (default all); the others are not cast or returned.
    ages: the ages to evaluate (decreasing, ages[0] = start_age; default the output grid of the
    settings). The kernel's steps do not depend on them (only on start_age, rtol and the record), so a
    model's values at an age are bitwise the same whatever other ages are asked for (``Reduction``);
    the dynamo end ages are read off ``ages`` (the output grid's only when ``ages`` is that grid).
    """
    allocator.keep_freed_memory()      # the next batch reuses this one's pages (runs/compute/allocator.py)
    s = {**DEFAULT_SETTINGS, **(settings or {})}
    if ages is None:
        ages = output_ages(float(s["start_age"]), float(s["output_step"]))
    else:
        ages = np.ascontiguousarray(ages, dtype=np.float64)
        if ages[0] != float(s["start_age"]) or np.any(np.diff(ages) >= 0.0):
            raise ValueError("ages must decrease from start_age")
    n, n_age = records.shape[0], ages.shape[0]
    state = np.empty((n, n_age, N_STATE))
    summ = np.empty((n, N_SUMMARY))
    status = np.empty(n, dtype=np.int32)
    tabs = np.empty((n, N_TAB))
    t0 = time.perf_counter()
    kernel.integrate(records, ages, float(s["rtol"]), int(s["max_steps"]), state, summ, status, tabs)
    t1 = time.perf_counter()
    # the state passes through the store's dtype before stages 2-3 (docs/physics.md §Three stages)
    state_dtype = np.dtype(registry.OUTPUTS[registry.STATE_NAMES[0]].dtype)
    if state_dtype != np.float64:
        state = state.astype(state_dtype).astype(np.float64)
    outputs, dyn_summaries = after_kernel(records, ages, state, status, timings, keep, tabs)
    summaries = {name: summ[:, j] for j, name in enumerate(registry.SUMMARY_NAMES[:N_SUMMARY])}
    summaries.update(dyn_summaries)
    if timings is not None:
        timings["kernel"] = t1 - t0
    return {
        "age": ages,
        "status": status,
        "state": {name: state[:, :, j] for j, name in enumerate(registry.STATE_NAMES)},
        "outputs": outputs,
        "summaries": summaries,
    }


def after_kernel(records: np.ndarray, ages: np.ndarray, state: np.ndarray, status: np.ndarray,
                 timings: dict | None = None, keep=None, tabs=None):
    """Stages 2-3 on a state already in the store dtype: thermal diagnostics, then the dynamo stage.

    ``lunadyn field`` calls this on a stored history, so re-running it reproduces the store bitwise.
    ``status`` is updated in place (dynamo flags). tabs: the records' branch tables as the kernel left
    them (default: built here, the same numbers). Returns (outputs, dynamo summaries) as dicts.
    """
    n, n_age = state.shape[0], state.shape[1]
    t0 = time.perf_counter()
    if tabs is None:                # a stored history (lunadyn field): the tables from the records
        tabs = np.empty((n, N_TAB))
        thermal_model.build_tables(records, tabs)
    diag = np.empty((n, n_age, N_DIAG))
    diagnostics.diagnose(records, ages, state, diag, tabs)
    t1 = time.perf_counter()
    outputs = {name: _to_store_dtype(name, diag[:, :, j], registry.OUTPUTS[name].dtype)
               for j, name in enumerate(registry.DIAG_NAMES) if keep is None or name in keep}
    dyn = np.empty((n, n_age, len(registry.DYNAMO_NAMES)))
    dsumm = np.empty((n, len(registry.SUMMARY_NAMES) - N_SUMMARY))
    dynamo_stage.dynamo_stage(records, ages, state, diag, status, dyn, dsumm)
    t2 = time.perf_counter()
    outputs.update({name: _to_store_dtype(name, dyn[:, :, j], registry.OUTPUTS[name].dtype)
                    for j, name in enumerate(registry.DYNAMO_NAMES) if keep is None or name in keep})
    summaries = {name: dsumm[:, j] for j, name in enumerate(registry.SUMMARY_NAMES[N_SUMMARY:])}
    if timings is not None:
        timings.update(diagnostics=t1 - t0, dynamo=t2 - t1)
    return outputs, summaries


# --------------------------------------------------------------------------------------------------
# reduced sweeps: stages 1-3 at the ages that are needed, no history kept

BATCH_BYTES = 64 * 2 ** 20      # working arrays of one compute call of a reduced unit (bounds memory)


def working_bytes(n_age: int) -> int:
    """Bytes of one model's float64 working arrays in ``compute`` at n_age ages: state, diagnostics and
    dynamo outputs."""
    return n_age * (N_STATE + N_DIAG + len(registry.DYNAMO_NAMES)) * 8
_REDUCTIONS: dict = {}          # spec hash -> Reduction, per process


@dataclass
class Reduction:
    """What a reduced sweep evaluates (runs.spec.sweep module docstring).

    grid: the spec's output ages (what the likelihood's age interpolation and the dynamo end ages are
    defined on); ages: the ages evaluated -- start_age, the grid ages the likelihood reads (both
    brackets of every age-averaging node, and of each record's nominal age when misfits are kept), the
    named ages, or the whole grid when a dynamo end age is kept; named_cols: the named ages' columns in
    ``ages``; plan: the likelihood plan of the grid restricted to ``ages`` (None without observations).

    Equality with a full-history sweep (tests/test_scale.py): the kernel's step sequence depends on
    start_age, rtol and the record only -- never on the output ages (each output age is read off the
    dense output of the step that contains it) -- and the diagnostics and the dynamo stage are
    element-wise in age, so every value at an evaluated age is bitwise the full run's at that age; the
    stored float32 outputs are the same float32 numbers; ln L gathers the same values at its nodes, so
    it is bitwise equal too; status takes the orbit flag over the whole grid (dynamo.stage.orbit_undefined).
    """

    grid: np.ndarray
    ages: np.ndarray
    named: np.ndarray
    named_cols: np.ndarray
    plan: object
    full_grid: bool

    @classmethod
    def for_spec(cls, spec) -> "Reduction":
        """The reduction of a reduced SweepSpec (cached per process by spec hash)."""
        key = spec.hash
        if key not in _REDUCTIONS:
            grid = output_ages(float(spec.settings["start_age"]), float(spec.settings["output_step"]))
            full = any(name in GRID_SUMMARIES for name in spec.variables)
            cols = np.arange(grid.size) if full else np.array([0], dtype=np.int64)
            plan = None
            if spec.obs is not None:
                plan = make_plan(grid, spec.obs, spec.likelihood)
                cols = np.union1d(cols, plan_columns(plan, misfit=spec.per_record))
            named = np.asarray(spec.at_ages, dtype=np.float64)
            ages = np.unique(np.concatenate([grid[cols], named]))[::-1].copy()
            index = {float(a): k for k, a in enumerate(ages)}
            named_cols = np.array([index[float(a)] for a in named], dtype=np.int64)
            if plan is not None:
                plan = restrict_plan(plan, ages, cols)
            _REDUCTIONS[key] = cls(grid=grid, ages=ages, named=named, named_cols=named_cols, plan=plan,
                                   full_grid=full)
        return _REDUCTIONS[key]

    def batch_size(self) -> int:
        """Models per compute call: the working arrays (state, diagnostics, dynamo, float64) within
        BATCH_BYTES."""
        return int(max(64, BATCH_BYTES // (2 * working_bytes(self.ages.size))))


def compute_reduced(spec, records: np.ndarray) -> tuple[dict, np.ndarray]:
    """A reduced sweep's per-model results for ``records``: ({store variable: (n, ...)}, status).

    Computed in batches (``Reduction.batch_size``) at ``Reduction.ages``; see ``Reduction`` for why
    the values equal a full-history run's.
    """
    red = Reduction.for_spec(spec)
    keep = set(spec.at_age_variables) | ({"B_surface"} if spec.obs is not None else set())
    n = records.shape[0]
    parts, statuses = [], []
    step = red.batch_size()
    for b0 in range(0, n, step):
        recs = records[b0:b0 + step]
        res = compute(recs, spec.settings, keep=keep, ages=red.ages)
        status = res["status"]
        if not red.full_grid:      # the orbit flag is the whole grid's (the stage saw a few ages)
            flag = np.where(dynamo_stage.orbit_undefined(recs, red.grid), FLAG_ORBIT_UNDEFINED, 0)
            status = ((status & ~FLAG_ORBIT_UNDEFINED) | flag).astype(np.int32)
        part = {name: res["summaries"][name] for name in spec.variables}
        for name in spec.at_age_variables:
            src = res["outputs"][name] if name in res["outputs"] else res["state"][name]
            part[at_name(name)] = _to_store_dtype(name, src[:, red.named_cols], registry.OUTPUTS[name].dtype)
        if spec.obs is not None:
            scored = loglike_for_outputs(red.ages, res["outputs"], spec.obs, spec.likelihood, status=status,
                                         per_record=spec.per_record, plan=red.plan, misfit=spec.per_record)
            part["loglike"] = scored["loglike"]
            if spec.per_record:
                part["loglike_record"] = scored["loglike_record"].astype(np.float32)
                part["misfit"] = scored["misfit"]
        parts.append(part)
        statuses.append(status)
    arrays = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return arrays, np.concatenate(statuses)


# written in the kernel cache's directory once warmup has compiled every kernel into it: from then on a
# process may load them without compiling (``warmup_if_cached``). The directory is named by the physics'
# sources (thermal.jit_cache), so an edit starts without the mark.
WARM_MARK = jit_cache.CACHE_DIR / "lunadyn-warm"


def warmup() -> float:
    """Compile (or load from the on-disk cache) every kernel with its one signature, and import what a unit
    needs beyond them (``sampling.preload``); returns seconds."""
    t0 = time.perf_counter()
    sampling.preload()
    recs = registry.make_records(2)
    compute(recs, {"start_age": 4.5, "output_step": 0.5})
    thermal_model.build_tables(recs, np.empty((2, N_TAB)))     # what after_kernel uses on a stored history
    with contextlib.suppress(OSError):     # a read-only cache: the processes then load at their first unit
        WARM_MARK.touch()
    return time.perf_counter() - t0


def warmup_if_cached() -> float | None:
    """``warmup`` when the on-disk cache holds every kernel already (``WARM_MARK``): loading, never
    compiling; else nothing (None). What a worker runs as it starts (runs.compute.worker_start)."""
    return warmup() if WARM_MARK.exists() else None


def run_chunk(spec, i: int) -> dict:
    """Compute sweep chunk ``i`` of ``spec`` (a runs.sweep.SweepSpec with ``spec.store`` set) and write it.

    The one place a chunk is computed (DESIGN.md "Data flow"): records -> compute -> kept variables ->
    (log-likelihood when the spec has observations) -> region write of chunk i -> done[i]. Every backend
    calls it, so every backend writes the same bytes. Returns a small report (no model arrays). When the
    environment names a file in LUNADYN_CHUNK_LOG, one line "chunk pid" is appended per computed chunk
    (how the crash-safety tests count recomputation).
    """
    t0 = time.perf_counter()
    i = int(i)                      # backends hand out NumPy integers
    g = store.open_unit_store(spec.store)
    lo, hi = spec.chunk_bounds(i)
    if store.unit_array(g, "done")[i]:
        return {"chunk": i, "n": hi - lo, "skipped": True, "seconds": 0.0, "ok": 0, "failed": {}}
    tc = time.perf_counter()
    records = spec.records(lo, hi)
    if spec.reduced:
        arrays, status = compute_reduced(spec, records)
    else:
        keep = set(spec.variables) | ({"B_surface"} if spec.obs is not None else set())
        res = compute(records, spec.settings, keep=keep)
        arrays = {}
        for name in spec.variables:
            for group in ("state", "outputs", "summaries"):
                if name in res[group]:
                    arrays[name] = res[group][name]
        if spec.obs is not None:
            arrays.update(loglike_for_outputs(res["age"], res["outputs"], spec.obs, spec.likelihood,
                                              status=res["status"], per_record=False))
        status = res["status"]
    t1 = time.perf_counter()
    store.write_chunk(g, i, arrays, status, coordinates=spec.samples(lo, hi) if spec.large else None)
    t2 = time.perf_counter()
    log = os.environ.get("LUNADYN_CHUNK_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{i} {os.getpid()}\n")
    codes = status & THERMAL_CODE_MASK
    failed = {int(c): int((codes == c).sum()) for c in np.unique(codes) if c != 0}
    return {"chunk": i, "n": hi - lo, "skipped": False, "ok": int((codes == 0).sum()), "failed": failed,
            "compute_s": t1 - tc, "write_s": (tc - t0) + (t2 - t1), "seconds": time.perf_counter() - t0,
            "pid": os.getpid()}
