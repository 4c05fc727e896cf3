"""The scaling model of a sweep: wall time, store size and file count from measured per-unit costs.

A sweep of N models in units of U models on P cores (single-threaded workers or ranks) runs
N_u = ceil(N / U) units. One unit costs

    t_unit(U) = U t_model + t_write(U) + t_sched,     t_write(U) = t_w0 + U t_w1

(t_model: the pipeline per model on one core; t_w0 + U t_w1: opening the store, the region writes of
the unit's arrays and its done flag; t_sched: what the backend spends per unit -- a dask task's round
trip through the scheduler, an MPI fetch-and-add, nothing for a job array). Units are handed out
dynamically, so

    T ~ t_start + N_u t_unit / P + t_unit          (the last unit may start when the others finish)

and a dask scheduler, one process, also bounds T >= N_u t_sched_scheduler. The store holds
N b_model bytes (b_model measured on a written unit, compressed) in N_u f_unit + f_fixed files
(f_unit: one file per array along ``sample`` and per unit, the done flag included; f_fixed: metadata
and the small coordinates).

The recommended unit size is the power of two that minimises T while keeping at most
FILE_BUDGET files per 10^6 models (FILE_BUDGET in all below 10^6 models) and a unit's working memory
within MEMORY_BUDGET; the costs come
from ``calibrate`` (a unit of the sweep itself, computed and written in a scratch store, as
``lunadyn submit --dry-run`` does; on one Numba thread, as workers and ranks run) or from the
benchmarks (README "Sweeps at 10⁹ models").
"""
from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

FILE_BUDGET = 1000            # files per 10^6 models (issue 13: parallel file systems' quota)
MEMORY_BUDGET = 2 * 2 ** 30   # bytes of a unit's arrays in a worker
UNIT_RANGE = (256, 1 << 20)
REPEATS = 3                   # calibration: the best of this many timings (the machine may be shared)
# per-unit cost of each backend's dispatch (seconds), measured on the 2-core development machine
# (benchmarks/bench_scale.py: dask_s_per_task with 2 workers, the driver, scheduler and workers on the
# same two cores: 2.1 ms with 8 tasks in flight a worker, 5.4 ms with 4 on a slower machine before;
# taken as 3 ms; the MPI counter's fetch-and-add is ~10 us, negligible next to a unit)
SCHED_S = {"dask": 3e-3, "mpi": 1e-5, "array": 0.0, "serial": 0.0}
STARTUP_S = {"dask": 10.0, "mpi": 5.0, "array": 5.0, "serial": 2.0}   # workers start, kernels load


@dataclass
class UnitCosts:
    """Measured costs of one sweep's units (see the module docstring for the symbols)."""

    model_s: float                # t_model
    write_s0: float               # t_w0
    write_s_per_model: float      # t_w1
    bytes_per_model: float        # b_model (on disk, compressed)
    memory_per_model: float       # bytes a model's kept arrays take in a worker
    files_per_unit: int           # f_unit
    fixed_files: int              # f_fixed
    source: str = "measured"
    memory_fixed: float = 0.0     # bytes of a worker's working arrays whatever the unit (a reduced batch)

    def to_dict(self) -> dict:
        return asdict(self)


def estimate(n_models: int, cores: int, unit: int, costs: UnitCosts, mode: str = "mpi") -> dict:
    """Wall time (s), store size (bytes) and file count of a sweep (the module docstring's model)."""
    cores = max(1, int(cores))
    n_units = -(-int(n_models) // int(unit))
    sched = SCHED_S.get(mode, 0.0)
    t_unit = unit * costs.model_s + costs.write_s0 + unit * costs.write_s_per_model + sched
    wall = STARTUP_S.get(mode, 5.0) + n_units * t_unit / cores + t_unit
    if mode == "dask":
        wall = max(wall, n_units * sched)
    compute = n_models * costs.model_s / cores
    return {"n_models": int(n_models), "cores": cores, "mode": mode, "unit": int(unit), "units": n_units,
            "unit_s": t_unit, "wall_s": wall, "compute_s": compute, "efficiency": compute / wall,
            "store_bytes": n_models * costs.bytes_per_model,
            "files": n_units * costs.files_per_unit + costs.fixed_files,
            "files_per_million": (n_units * costs.files_per_unit + costs.fixed_files) * 1e6 / n_models,
            "unit_memory_bytes": costs.memory_fixed + unit * costs.memory_per_model}


def recommend_unit(n_models: int, cores: int, costs: UnitCosts, mode: str = "mpi") -> dict:
    """The estimate at the recommended unit size (module docstring); ``feasible`` False when no unit
    size meets the file budget within the memory budget: then the unit with the fewest files among those
    that give every core at least one unit (the fewest files alone would leave most cores idle), or with
    the fewest files if none does; the advice names what meets the budget: a reduced sweep, fewer kept
    variables."""
    best = fallback = busy = None
    u = UNIT_RANGE[0]
    while u <= UNIT_RANGE[1]:
        e = estimate(n_models, cores, u, costs, mode)
        fits_memory = e["unit_memory_bytes"] <= MEMORY_BUDGET
        if fits_memory and (fallback is None or e["files"] < fallback["files"]):
            fallback = e
        if fits_memory and e["units"] >= e["cores"] and (busy is None or e["files"] < busy["files"]):
            busy = e
        within = e["files"] <= FILE_BUDGET * max(1.0, n_models / 1e6)
        if fits_memory and within and (best is None or e["wall_s"] < best["wall_s"]):
            best = e
        if u >= n_models:
            break
        u *= 2
    out = dict(best or busy or fallback or estimate(n_models, cores, UNIT_RANGE[0], costs, mode))
    out["feasible"] = best is not None
    return out


def calibrate(spec, models: int = 512) -> UnitCosts:
    """Costs of ``spec``'s units on this machine: its first ``models`` models computed once, and
    written as one unit into scratch stores of ``models`` and ``models // 8`` samples (two sizes give
    the fixed and the per-model write cost). Kernels must be warm (``pipeline.warmup``)."""
    from . import driver, pipeline      # noqa: PLC0415 (driver imports this module's users)
    from ..io import store as st_mod

    k = max(8, min(int(models), spec.n_samples, spec.chunk_size))
    records = spec.records(0, k)

    def run(recs):
        if spec.reduced:
            return pipeline.compute_reduced(spec, recs)
        keep = set(spec.variables) | ({"B_surface"} if spec.obs is not None else set())
        res = pipeline.compute(recs, spec.settings, keep=keep)
        out = {name: res[g][name] for name in spec.variables for g in ("state", "outputs", "summaries")
               if name in res[g]}
        if spec.obs is not None:
            out.update(pipeline.loglike_for_outputs(res["age"], res["outputs"], spec.obs, spec.likelihood,
                                                    status=res["status"], per_record=False))
        return out, res["status"]

    import numba                           # noqa: PLC0415

    run(records[:8])                       # first calls: plans and caches are made here, not timed
    model_s = math.inf
    threads = numba.get_num_threads()
    numba.set_num_threads(1)               # t_model is a core's: the kernels' prange must not use them all
    try:
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            arrays, status = run(records)
            model_s = min(model_s, (time.perf_counter() - t0) / k)
    finally:
        numba.set_num_threads(threads)
    memory = sum(np.asarray(a).nbytes for a in arrays.values()) / k
    fixed_memory = 0.0
    if spec.reduced:                       # batches of bounded working memory, then the kept arrays
        fixed_memory = float(pipeline.BATCH_BYTES)
    else:                                  # the whole unit at once: state, diagnostics, dynamo (float64)
        memory += pipeline.working_bytes(pipeline.output_ages(spec.settings["start_age"],
                                                              spec.settings["output_step"]).size)
    tmp = Path(tempfile.mkdtemp(prefix="lunadyn-calibrate-"))
    times, sizes = {}, {}
    try:
        for m in sorted({k, max(1, k // 8)}):
            path = tmp / f"u{m}.zarr"
            layout = driver.store_layout(spec)
            coords = spec.samples(0, m)
            g = st_mod.create_store(path, spec={"kind": "calibration", "m": m}, spec_text="", n_samples=m,
                                    chunk_size=m, ages=layout["ages"], variables=layout["variables"],
                                    coords=coords, dims=layout["dims"])
            part = {name: np.asarray(a)[:m] for name, a in arrays.items()}
            times[m] = math.inf
            for _ in range(REPEATS):       # the same unit written again: the same files, the best time
                t = time.perf_counter()
                st_mod.write_chunk(st_mod.open_store(path, mode="r+"), 0, part, status[:m])
                times[m] = min(times[m], time.perf_counter() - t)
            c = st_mod.file_census(path)
            sizes[m] = (c["unit_bytes"], c["unit_files"], c["files"])
        big, small = max(times), min(times)
        w1 = max(0.0, (times[big] - times[small]) / (big - small)) if big != small else 0.0
        w0 = max(0.0, times[big] - big * w1)
        data_bytes, unit_files, all_files = sizes[big]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return UnitCosts(model_s=model_s, write_s0=w0, write_s_per_model=w1, bytes_per_model=data_bytes / big,
                     memory_per_model=memory, files_per_unit=unit_files, fixed_files=all_files - unit_files,
                     source=f"calibrated on {k} models of this sweep", memory_fixed=fixed_memory)


def describe(e: dict) -> list[str]:
    """The estimate as lines of text (``lunadyn submit --dry-run``)."""
    def t(s):
        if s < 10:
            return f"{s:.2g} s"
        return f"{s:,.0f} s" if s < 3600 else f"{s / 3600:,.1f} h"

    return [f"estimate: {e['n_models']:,} models on {e['cores']:,} cores ({e['mode']}) in {e['units']:,} units "
            f"of {e['unit']:,} models",
            f"  wall time ~{t(e['wall_s'])} (compute {t(e['compute_s'])}, efficiency {e['efficiency']:.2f}), "
            f"a unit ~{e['unit_s']:.2f} s",
            f"  store ~{e['store_bytes'] / 1e9:,.2f} GB in {e['files']:,} files "
            f"({e['files_per_million']:,.0f} per 10^6 models; budget {FILE_BUDGET:,})"]


def unit_advice(spec, rec: dict) -> str:
    """One line comparing the spec's unit with the recommended one."""
    if rec["unit"] == spec.chunk_size:
        return f"  unit size {spec.chunk_size:,} is the recommended one"
    return (f"  recommended unit size: chunk_size = {rec['unit']:,} (~{rec['wall_s']:,.0f} s, "
            f"{rec['files']:,} files{'' if rec['feasible'] else '; no unit size meets the file budget: a reduced sweep ([output] reduced = true) or fewer kept variables writes fewer files a unit'})")


def million_files(costs: UnitCosts, unit: int) -> float:
    """Files per 10^6 models at unit size ``unit`` (the benchmarks' files_per_million_models)."""
    return math.ceil(1e6 / unit) * costs.files_per_unit + costs.fixed_files
