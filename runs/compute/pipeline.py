"""The chunk pipeline: records -> thermal kernel -> state in the store dtype -> diagnostics -> dynamo.

``compute(records, settings)`` is the one place models are computed (DESIGN.md "Data flow"); every
command and backend goes through it, so every one produces the same bytes.
"""
from __future__ import annotations

import time

import numpy as np

from ...dynamo import stage as dynamo_stage
from .. import registry
from ..status import THERMAL_CODE_MASK
from ...thermal import diagnostics, kernel
from ...thermal.layout import N_DIAG, N_STATE, N_SUMMARY
import os
from ..io import store
from ..record.scoring import loglike_for_outputs


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
            keep=None) -> dict:
    """Run the model pipeline on ``records`` (structured array of runs.registry.RECORD_DTYPE).

    settings: start_age (Ga), output_step (Ga), rtol, max_steps (registry defaults where missing).
    Returns {'age': (n_age,), 'status': (n,) int32, 'state': {name: (n, n_age) float64},
             'outputs': {name: (n, n_age) in the declared dtype}, 'summaries': {name: (n,) float64}}.
    keep: names of the outputs wanted (default all); the others are not cast or returned.
    """
    s = {**DEFAULT_SETTINGS, **(settings or {})}
    ages = output_ages(float(s["start_age"]), float(s["output_step"]))
    n, n_age = records.shape[0], ages.shape[0]
    state = np.empty((n, n_age, N_STATE))
    summ = np.empty((n, N_SUMMARY))
    status = np.empty(n, dtype=np.int32)
    t0 = time.perf_counter()
    kernel.integrate(records, ages, float(s["rtol"]), int(s["max_steps"]), state, summ, status)
    t1 = time.perf_counter()
    # the state passes through the store's dtype before stages 2-3 (docs/physics.md §Three stages)
    state_dtype = np.dtype(registry.OUTPUTS[registry.STATE_NAMES[0]].dtype)
    if state_dtype != np.float64:
        state = state.astype(state_dtype).astype(np.float64)
    outputs, dyn_summaries = after_kernel(records, ages, state, status, timings, keep)
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
                 timings: dict | None = None, keep=None):
    """Stages 2-3 on a state already in the store dtype: thermal diagnostics, then the dynamo stage.

    ``lunadyn field`` calls this on a stored history, so re-running it reproduces the store bitwise.
    ``status`` is updated in place (dynamo flags). Returns (outputs, dynamo summaries) as dicts.
    """
    n, n_age = state.shape[0], state.shape[1]
    t0 = time.perf_counter()
    diag = np.empty((n, n_age, N_DIAG))
    diagnostics.diagnose(records, ages, state, diag)
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


def warmup() -> float:
    """Compile (or load from the on-disk cache) every kernel with its one signature; returns seconds."""
    t0 = time.perf_counter()
    compute(registry.make_records(2), {"start_age": 4.5, "output_step": 0.5})
    return time.perf_counter() - t0


def run_chunk(spec, i: int) -> dict:
    """Compute sweep chunk ``i`` of ``spec`` (a runs.sweep.SweepSpec with ``spec.store`` set) and write it.

    The one place a chunk is computed (DESIGN.md "Data flow"): records -> compute -> kept variables ->
    (log-likelihood when the spec has observations) -> region write of chunk i -> done[i]. Every backend
    calls it, so every backend writes the same bytes. Returns a small report (no model arrays). When the
    environment names a file in LUNADYN_CHUNK_LOG, one line "chunk pid" is appended per computed chunk
    (how the crash-safety tests count recomputation).
    """
    t0 = time.perf_counter()
    g = store.open_store(spec.store, mode="r+")
    lo, hi = spec.chunk_bounds(i)
    if g["done"][i]:
        return {"chunk": i, "n": hi - lo, "skipped": True, "seconds": 0.0, "ok": 0, "failed": {}}
    records = spec.records(lo, hi)
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
    t1 = time.perf_counter()
    store.write_chunk(g, i, arrays, res["status"])
    log = os.environ.get("LUNADYN_CHUNK_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{i} {os.getpid()}\n")
    codes = res["status"] & THERMAL_CODE_MASK
    failed = {int(c): int((codes == c).sum()) for c in np.unique(codes) if c != 0}
    return {"chunk": i, "n": hi - lo, "skipped": False, "ok": int((codes == 0).sum()), "failed": failed,
            "compute_s": t1 - t0, "seconds": time.perf_counter() - t0, "pid": os.getpid()}
