"""The Numba integrator against scipy's solve_ivp on the same right-hand side, and its determinism."""
import numba
import numpy as np
import pytest
from scipy.stats import qmc

from lunadyn.runs.compute.pipeline import output_ages
from lunadyn.runs.registry import PARAMS, make_records
from lunadyn.thermal import core, kernel
from lunadyn.thermal.layout import N_STATE, N_SUMMARY, N_Y, ST_BOUNDS
from lunadyn.thermal.reference import integrate_reference

PRIOR_NAMES = ["r_core", "rho_core", "k_core", "sulfur_core", "K_core_ppm", "T_mantle0", "eta_ref",
               "f_hpe_crust", "f_hpe_basal", "bmo_thickness0", "T_bmo0"]


def prior_records(n, seed):
    """n records spread over the prior ranges (Latin hypercube, log where the registry says so)."""
    u = qmc.LatinHypercube(d=len(PRIOR_NAMES), seed=seed).random(n)
    vals = {}
    for j, name in enumerate(PRIOR_NAMES):
        lo, hi = PARAMS[name].prior
        if PARAMS[name].scale == "log":
            vals[name] = 10 ** (np.log10(lo) + u[:, j] * (np.log10(hi) - np.log10(lo)))
        else:
            vals[name] = lo + u[:, j] * (hi - lo)
    vals["f_hpe_basal"] = np.where(vals["bmo_thickness0"] < 20e3, 0.0, vals["f_hpe_basal"])
    vals["bmo_thickness0"] = np.where(vals["bmo_thickness0"] < 20e3, 0.0, vals["bmo_thickness0"])
    return make_records(n, vals)


def run_kernel(recs, ages, rtol):
    n = recs.shape[0]
    state = np.empty((n, ages.size, N_STATE))
    summ = np.empty((n, N_SUMMARY))
    status = np.empty(n, dtype=np.int32)
    kernel.integrate(recs, ages, rtol, 20000, state, summ, status, np.empty((n, core.N_TAB)))
    return state, summ, status


def test_numba_integrator_agrees_with_solve_ivp(warm):
    """Tight tolerances on both (rtol 1e-9): agreement to 1e-5 relative with a floor of 10 x atol,
    at every output age and state, with the same events located (same nucleation/solidification ages)."""
    ages = output_ages(4.5, 0.05)
    recs = prior_records(6, seed=1)
    rtol = 1e-9
    state, summ, status = run_kernel(recs, ages, rtol)
    atol = rtol * kernel.ATOL_SCALE
    for i in range(recs.shape[0]):
        ref, rsumm, rstatus = integrate_reference(recs[i], ages, rtol=rtol * 0.1, method="DOP853")
        assert (status[i] & 15) == rstatus == 0
        a, b = state[i, :, :N_Y], ref[:, :N_Y]
        assert np.all(np.abs(a - b) <= 1e-5 * np.abs(b) + 10 * atol), f"record {i}"
        np.testing.assert_array_equal(state[i, :, N_Y:N_Y + 3], ref[:, N_Y:N_Y + 3])  # the same modes
        np.testing.assert_allclose(summ[i, :2], rsumm[:2], atol=1e-6)  # event ages (Ga)


def test_bitwise_deterministic_across_chunking_and_threads(warm):
    """The same records in chunks of 1, 7 and 64, on 1 and 2 threads, give bitwise equal outputs."""
    ages = output_ages(4.5, 0.05)
    recs = prior_records(64, seed=7)
    ref = run_kernel(recs, ages, 1e-6)
    threads = numba.get_num_threads()
    try:
        for nthreads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(nthreads)
            for chunk in (1, 7, 64):
                parts = [run_kernel(recs[s:s + chunk], ages, 1e-6) for s in range(0, 64, chunk)]
                for k in range(3):
                    got = np.concatenate([p[k] for p in parts])
                    np.testing.assert_array_equal(got, ref[k])
    finally:
        numba.set_num_threads(threads)


def test_a_failing_record_leaves_its_neighbours_untouched(warm):
    """A record whose lid reaches the basal layer fails with status 4 and NaNs; the others are unchanged."""
    ages = output_ages(4.5, 0.05)
    good = prior_records(5, seed=3)
    mixed = good.copy()
    mixed[2]["lid0"] = mixed[2]["radius"] - mixed[2]["r_core"] - mixed[2]["bmo_thickness0"] - 5e3
    s_good = run_kernel(good, ages, 1e-6)
    s_mixed = run_kernel(mixed, ages, 1e-6)
    assert s_mixed[2][2] & 15 == ST_BOUNDS
    assert np.all(np.isnan(s_mixed[0][2])) and np.all(np.isnan(s_mixed[1][2]))
    for i in (0, 1, 3, 4):
        np.testing.assert_array_equal(s_mixed[0][i], s_good[0][i])
        np.testing.assert_array_equal(s_mixed[1][i], s_good[1][i])
        assert s_mixed[2][i] == s_good[2][i]
