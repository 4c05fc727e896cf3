"""Dynamo-stage throughput (third issue): the stage alone, and its share of the cost of a full model.

dynamo_model_ages_per_s: (models x output ages) per second through dynamo.stage.dynamo_stage alone;
dynamo_share: its time over kernel + diagnostics + dynamo for the same models (default Moon, 0.01 Ga).
"""
import time

import numpy as np

from bench_kernel import thermal_buffers

from lunadyn.dynamo import stage
from lunadyn.runs import registry
from lunadyn.runs.compute.pipeline import output_ages, warmup
from lunadyn.thermal import diagnostics, kernel
from lunadyn.thermal.layout import N_SUMMARY


def run(n=4000, repeats=3):
    warmup()
    ages = output_ages(4.5, 0.01)
    recs, state, summ, status, diag, tabs = thermal_buffers(n, ages)
    n_dyn = len(registry.DYNAMO_NAMES)
    dyn = np.empty((n, ages.size, n_dyn))
    dsumm = np.empty((n, len(registry.SUMMARY_NAMES) - N_SUMMARY))
    best = {"kernel": np.inf, "diag": np.inf, "dynamo": np.inf}
    for _ in range(repeats):
        t0 = time.perf_counter()
        kernel.integrate(recs, ages, 1e-6, 20000, state, summ, status, tabs)
        t1 = time.perf_counter()
        diagnostics.diagnose(recs, ages, state, diag, tabs)
        t2 = time.perf_counter()
        stage.dynamo_stage(recs, ages, state, diag, status, dyn, dsumm)
        t3 = time.perf_counter()
        best["kernel"] = min(best["kernel"], t1 - t0)
        best["diag"] = min(best["diag"], t2 - t1)
        best["dynamo"] = min(best["dynamo"], t3 - t2)
    total = best["kernel"] + best["diag"] + best["dynamo"]
    return {
        "dynamo_model_ages_per_s": round(n * ages.size / best["dynamo"], 0),
        "dynamo_share": round(best["dynamo"] / total, 4),
        "full_model_models_per_s": round(n / total, 1),
    }


if __name__ == "__main__":
    print(run())
