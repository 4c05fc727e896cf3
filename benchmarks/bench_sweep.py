"""Sweep throughput (fourth issue): 100,000 models on a local dask cluster against the bare pipeline.

sweep_models_per_s: `lunadyn sweep` backend dask, 2 single-threaded workers, keeping the summaries and the
B variables at a 0.05 Ga step, over the sweep report's seconds (from the store existing and the driver's
kernels warm: worker start-up included, to the last unit written and the workers stopped; the report's
own reading of the store is not counted); kernel_models_per_s_same_run: the same records through
runs.pipeline.compute in this process on the same cores (Numba threads), no store; sweep_overhead = 1 -
their ratio (sweep_overhead_wall: over api.sweep's whole wall time); best of three interleaved runs each;
store_bytes_per_model: bytes on disk per model of a sweep keeping the default outputs (everything, state
included) at the default 0.01 Ga step, and of the B-only 100k store.
"""
import os
import shutil
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from lunadyn.runs import api
from lunadyn.runs.compute.pipeline import compute, warmup
from lunadyn.runs.spec.sweep import spec_from_text

SPEC = """
title = "bench: 100k models"
[vary]
sulfur_core = {{}}
r_core = {{}}
eta_ref = {{}}
bmo_thickness0 = {{ min = 50e3, max = 500e3 }}
sigma_bmo = {{}}
[sampler]
method = "lhs"
n = {n}
seed = 1
[settings]
output_step = {step}
chunk_size = {chunk}
[output]
{output}
"""
B_ONLY = 'variables = ["B_core", "B_bmo", "B_precession", "B_surface"]\nkeep_state = false'


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run(n=100_000, chunk=2000, workers=2, repeats=3):
    warmup()
    load0 = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="lunadyn-bench-"))
    try:
        spec = spec_from_text(SPEC.format(n=n, step=0.05, chunk=chunk, output=B_ONLY), "bench")
        # the bare pipeline, same records, same cores, no store; interleaved with the sweep and the best
        # of each kept (the machine may be shared: a transient load then hits one run, not the ratio)
        recs = spec.records()
        bare = sweep_rate = steady = wall_rate = 0.0
        for rep in range(repeats):
            t0 = time.perf_counter()
            for lo in range(0, n, chunk):
                compute(recs[lo:lo + chunk], spec.settings, keep=set(spec.variables))
            bare = max(bare, n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            report = api.sweep(spec, tmp / f"b{rep}.zarr", backend="dask", workers=workers, progress=False)
            wall = time.perf_counter() - t0
            assert report["complete"]
            if n / report["seconds"] > sweep_rate:
                sweep_rate, steady, startup = n / report["seconds"], report["models_per_s_after_first_chunk"], \
                    report["startup_s"]
            wall_rate = max(wall_rate, n / wall)
        b_bytes = _size(tmp / "b0.zarr") / n
        m = 2048
        full = spec_from_text(SPEC.format(n=m, step=0.01, chunk=256, output=""), "bench-full")
        api.sweep(full, tmp / "f.zarr", backend="serial", progress=False)
        full_bytes = _size(tmp / "f.zarr") / m
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "sweep_models_per_s": round(sweep_rate, 1),
        "kernel_models_per_s_same_run": round(bare, 1),
        "sweep_overhead": round(1.0 - sweep_rate / bare, 4),
        # the whole call, store creation and the driver's warm-up included (api.sweep's wall time)
        "sweep_overhead_wall": round(1.0 - wall_rate / bare, 4),
        "sweep_models_per_s_after_startup": round(steady, 1),
        "sweep_overhead_after_startup": round(1.0 - steady / bare, 4),
        "sweep_startup_s": startup,
        "store_bytes_per_model": round(full_bytes, 1),
        "store_bytes_per_model_B_only_0p05": round(b_bytes, 1),
        "sweep_models": n,
        "sweep_workers": workers,
        "bare_threads": numba.get_num_threads(),
        "sweep_loadavg_1min_start_end": [round(load0, 2), round(os.getloadavg()[0], 2)],
    }


if __name__ == "__main__":
    print(run())
