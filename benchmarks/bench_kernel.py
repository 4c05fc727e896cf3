"""Thermal kernel throughput (first issue): the Numba kernel + diagnostics against scipy's LSODA.

kernel_models_per_s: default Moon, 0.01 Ga output step, rtol 1e-6, all cores (prange threads);
kernel_models_per_s_1thread: the same on one thread (kernel_models_per_cpu_s_1thread: over the process's
CPU time instead of the wall clock -- on a shared machine the wall clock counts the time other processes
hold the core; the CPU time does not); scipy_models_per_s: the same right-hand side through
solve_ivp(LSODA) with the same output ages (thermal.reference), in the same run; speedup = 1-thread / scipy.
"""
import time

import numba
import numpy as np

from lunadyn.runs.compute.pipeline import output_ages, warmup
from lunadyn.runs.registry import make_records
from lunadyn.thermal import diagnostics, kernel
from lunadyn.thermal.core import N_TAB
from lunadyn.thermal.layout import N_DIAG, N_STATE, N_SUMMARY
from lunadyn.thermal.reference import integrate_reference


def thermal_buffers(n, ages):
    """Default-Moon records and the kernel/diagnostics arrays for n models (shared by bench_dynamo)."""
    return (make_records(n), np.empty((n, ages.size, N_STATE)), np.empty((n, N_SUMMARY)),
            np.empty(n, np.int32), np.empty((n, ages.size, N_DIAG)), np.empty((n, N_TAB)))


def _best_rate(n, ages, repeats=3, cpu=False):
    """Best models/s of kernel + diagnostics and of the kernel alone (over CPU time with ``cpu``)."""
    clock = time.process_time if cpu else time.perf_counter
    recs, state, summ, status, diag, tabs = thermal_buffers(n, ages)
    best_k = best_all = 0.0
    for _ in range(repeats):
        t0 = clock()
        kernel.integrate(recs, ages, 1e-6, 20000, state, summ, status, tabs)
        t1 = clock()
        diagnostics.diagnose(recs, ages, state, diag, tabs)
        t2 = clock()
        best_k = max(best_k, n / (t1 - t0))
        best_all = max(best_all, n / (t2 - t0))
    assert np.all(status & 15 == 0)
    return best_all, best_k


def run(n=4000, n_scipy=8):
    warmup()
    ages = output_ages(4.5, 0.01)
    threads = numba.get_num_threads()
    both, both_state = _best_rate(n, ages)
    numba.set_num_threads(1)
    # the per-thread figures the goals are stated in: best of 7 (the machine's speed varies by 30 % from one
    # half-second run to the next, with no steal time reported; the best run is what the code can do)
    one, one_state = _best_rate(n // 2, ages, repeats=7)
    one_cpu, _ = _best_rate(n // 2, ages, repeats=7, cpu=True)
    numba.set_num_threads(threads)
    rec = make_records(1)[0]
    integrate_reference(rec, ages, rtol=1e-6, method="LSODA")   # compile its entry points first
    t0 = time.perf_counter()
    for _ in range(n_scipy):
        integrate_reference(rec, ages, rtol=1e-6, method="LSODA")
    scipy_rate = n_scipy / (time.perf_counter() - t0)
    return {
        "kernel_models_per_s": round(both, 1),
        "kernel_models_per_s_1thread": round(one, 1),
        "kernel_models_per_cpu_s_1thread": round(one_cpu, 1),
        "kernel_state_only_models_per_s_1thread": round(one_state, 1),
        "kernel_thread_scaling": round(both / one, 3),
        "kernel_threads": threads,
        "scipy_models_per_s": round(scipy_rate, 2),
        "speedup": round(one / scipy_rate, 1),
    }


if __name__ == "__main__":
    print(run())
