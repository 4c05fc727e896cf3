"""Fitting and comparison throughput (issue 6).

mcmc_models_per_s: walkers x steps / wall time of an emcee fit of the default Moon (free sulfur_core
and f_hpe_basal, shipped record, default selection, 0.05 Ga output step, 16 walkers x 100 steps,
walkers started at a prior draw so no optimisation precedes the chain; best of 3 after a warm-up
fit; the wall time includes the 400 posterior draws a fit recomputes for its store); every model is one element of
a batched compute call (two per step: emcee's stretch move updates each half of the ensemble).
compare_100k_s: seconds for ``runs.compare.compare_store`` on a 100,000-model store (random
log-normal fields B_core, B_bmo, B_precession and their maximum B_surface at a 0.05 Ga step, float32,
chunks of 10,000 samples, two varied coordinates), including writing loglike/per-record
arrays back and the sweep posterior (weights, marginals, source weights at 2.8 Ga).
compare_models_per_s: the same as a rate.
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


from lunadyn.runs.compute.pipeline import output_ages, warmup  # noqa: E402


def bench_mcmc(walkers=16, steps=100, seed=0, repeats=3) -> float:
    """Best of ``repeats`` fits, after a short one that imports emcee/scipy and builds the caches."""
    from lunadyn.runs.spec.config import scenario_from_text
    from lunadyn.runs.inference.fit import fit

    scn = scenario_from_text("", "<bench>")
    free = ["sulfur_core", "f_hpe_basal"]
    fit(scn, free, method="mcmc", walkers=walkers, steps=4, seed=seed, init="prior", write=False)
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit(scn, free, method="mcmc", walkers=walkers, steps=steps, seed=seed, init="prior", write=False)
        best = max(best, walkers * steps / (time.perf_counter() - t0))
    return best


def build_store(path, n=100_000, chunk=10_000, seed=0):
    from lunadyn.runs.io.store import create_store, write_chunk

    ages = output_ages(4.5, 0.05)
    rng = np.random.default_rng(seed)
    names = ("B_core", "B_bmo", "B_precession", "B_surface")
    coords = {"sulfur_core": rng.uniform(0.01, 0.15, n), "f_hpe_basal": rng.uniform(0.0, 0.5, n)}
    g = create_store(path, spec={"kind": "sweep", "benchmark": "compare_100k", "n": n}, spec_text="",
                     n_samples=n, chunk_size=chunk, ages=ages, variables={v: ("float32", "age") for v in names},
                     coords=coords)
    for i in range(n // chunk):
        m = chunk
        src = rng.lognormal(np.log(1e-6), 1.5, size=(3, m, ages.size)).astype(np.float32)
        src *= rng.random((3, m, ages.size)) < 0.6  # sources switch off at random
        data = {"B_core": src[0], "B_bmo": src[1], "B_precession": src[2], "B_surface": src.max(axis=0)}
        write_chunk(g, i, data, np.zeros(m, np.int32))
    return path


def bench_compare(n=100_000) -> float:
    from lunadyn.runs.inference.compare import compare_store

    d = Path(tempfile.mkdtemp(prefix="lunadyn_bench_"))
    try:
        path = build_store(d / "compare100k.zarr", n=n)
        t0 = time.perf_counter()
        compare_store(path)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(d, ignore_errors=True)


def run() -> dict:
    warmup()
    rate = bench_mcmc()
    secs = bench_compare()
    return {
        "mcmc_models_per_s": round(rate, 1),
        "compare_100k_s": round(secs, 2),
        "compare_models_per_s": round(100_000 / secs, 0),
    }


if __name__ == "__main__":
    print(run())
