"""Sweeps at scale (issue 13): reduced sweeps, their stores, and one end-to-end sweep of 10^6 models.

reduced_models_per_s_1thread: runs.compute.pipeline.compute_reduced on one thread, default Moon, 0.01 Ga
    output grid, a reduced sweep that needs only the record ages: [observations] of the CE-5 and CE-6
    records (their age-averaging nodes need 11 output ages), B_surface at the CE-5/CE-6 ages, status,
    loglike and the two thermal age summaries; best of 7 (as the kernel's per-thread figures), wall clock
    (reduced_models_per_cpu_s_1thread: over the process's CPU time, which a shared machine's other
    processes do not inflate).
reduced_default_records_models_per_s_1thread: the same with the default record selection (12 records,
    whose age nodes read 345 of the 451 output ages).
million_*: that reduced sweep over 5 parameters (Sobol, 2^20 = 1,048,576 models, the default unit of
    32,768 models) through `lunadyn.sweep` on a local dask cluster of 2 workers: models/s and wall time
    (api.sweep's, LocalCluster start included), bytes on disk per model (store_bytes_per_model_reduced)
    and the store's files (files_per_million_models: scaled to 10^6 models as the unit files over the
    models plus the fixed files). With LUNADYN_BENCH_MILLION=0 the store figures come from a 2^17-model
    sweep with the same unit instead (and no million_* rates).
dask_s_per_task: the dask backend's round trip per unit of work (2 workers, 4,000 units that do nothing),
    the scaling model's t_sched.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import numba

from lunadyn.runs import api
from lunadyn.runs.compute import pipeline
from lunadyn.runs.io.store import file_census
from lunadyn.runs.registry import make_records
from lunadyn.runs.spec.sweep import spec_from_text
from lunadyn.testing import noop_unit

SPEC = """
title = "bench: a reduced sweep"
[vary]
sulfur_core = {{}}
r_core = {{}}
eta_ref = {{}}
bmo_thickness0 = {{ min = 50e3, max = 500e3 }}
sigma_bmo = {{}}
[sampler]
method = "sobol"
n = {n}
seed = 1
[settings]
output_step = 0.01
{chunk}
[output]
reduced = true
at_ages = [2.03, 2.807]
[observations]
{select}
"""
CHANG_E = 'select = ["id=ce5_basalt,ce6_basalt"]'
MILLION = 1 << 20


def reduced_rate(select: str, n: int = 4000, repeats: int = 3, cpu: bool = False) -> float:
    """models/s of compute_reduced on one thread (default-Moon records; over CPU time with ``cpu``)."""
    clock = time.process_time if cpu else time.perf_counter
    spec = spec_from_text(SPEC.format(n=64, chunk="", select=select), "bench")
    recs = make_records(n)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        pipeline.compute_reduced(spec, recs[:8])
        best = 0.0
        for _ in range(repeats):
            t0 = clock()
            pipeline.compute_reduced(spec, recs)
            best = max(best, n / (clock() - t0))
    finally:
        numba.set_num_threads(threads)
    return best


def dask_task_cost(n_units: int = 4000) -> float:
    """Seconds per unit of the dask backend's bounded queue on 2 workers (units that do nothing)."""
    from lunadyn.cluster.dask_backend import DaskBackend, local_cluster

    lc = local_cluster(2)
    try:
        be = DaskBackend(scheduler=lc.scheduler_address)
        be.map(noop_unit, range(50), collect=False)      # workers warm
        t0 = time.perf_counter()
        be.map(noop_unit, range(n_units), collect=False)
        return (time.perf_counter() - t0) / n_units
    finally:
        lc.close()


def reduced_sweep(n: int, tmp: Path, workers: int = 2) -> dict:
    """A reduced sweep of n models on dask (default unit of a 2^20 sweep): its report, census, wall time."""
    spec = spec_from_text(SPEC.format(n=n, chunk=f"chunk_size = {32768}", select=CHANG_E), "bench")
    t0 = time.perf_counter()
    rep = api.sweep(spec, tmp / f"r{n}.zarr", backend="dask", workers=workers, progress=False)
    wall = time.perf_counter() - t0
    assert rep["complete"]
    census = file_census(tmp / f"r{n}.zarr")
    fixed = census["files"] - census["unit_files"]
    per_million = census["unit_files"] * 1e6 / n + fixed
    return {"report": rep, "wall": wall, "census": census, "files_per_million": per_million,
            "bytes_per_model": census["bytes"] / n}


def run() -> dict:
    pipeline.warmup()
    load0 = os.getloadavg()[0]
    out = {"reduced_models_per_s_1thread": round(reduced_rate(CHANG_E, repeats=7), 1),
           "reduced_models_per_cpu_s_1thread": round(reduced_rate(CHANG_E, repeats=7, cpu=True), 1),
           "reduced_default_records_models_per_s_1thread": round(reduced_rate(""), 1),
           "dask_s_per_task": round(dask_task_cost(), 5)}
    tmp = Path(tempfile.mkdtemp(prefix="lunadyn-bench-scale-"))
    try:
        million = os.environ.get("LUNADYN_BENCH_MILLION", "1") != "0"
        r = reduced_sweep(MILLION if million else 1 << 17, tmp)
        out.update({"store_bytes_per_model_reduced": round(r["bytes_per_model"], 1),
                    "files_per_million_models": round(r["files_per_million"]),
                    "reduced_store_files": r["census"]["files"],
                    "reduced_unit_compute_s": r["report"]["unit_compute_s"],
                    "reduced_unit_write_s": r["report"]["unit_write_s"]})
        if million:
            out.update({"million_models": MILLION, "million_workers": 2,
                        "million_models_per_s": round(MILLION / r["wall"], 1),
                        "million_wall_s": round(r["wall"], 1),
                        "million_sweep_seconds": r["report"]["seconds"]})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out["scale_loadavg_1min_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:45s} {v}")
