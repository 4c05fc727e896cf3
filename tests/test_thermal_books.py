"""The energy books of the core and the basal layer close (docs/physics.md §Energy books) across the model's regimes.

|int Q_cmb dt + dE_core - int Q_R dt| <= 10 rtol (int |Q_cmb| dt + C_S 1000 K), and likewise for the
basal layer against int Q_cmb, int Q_bot and int H_layer. Each case also checks that the regime it is
meant to exercise is actually reached.
"""
import numpy as np
import pytest

from lunadyn.runs.registry import make_records

NO_LAYER = {"bmo_thickness0": 0.0, "f_hpe_basal": 0.0}
CASES = {
    # name: (parameters, core regimes that must occur, must the basal layer solidify)
    "default Moon (BMO, nucleation off-centre, top-down)": ({}, {0, 1, 2}, True),
    "no basal layer, inner-core growth": (NO_LAYER, {0, 1, 2}, False),
    "no basal layer, no inner-core growth": ({**NO_LAYER, "T_cmb0": 2200.0, "sulfur_core": 0.15}, {0, 2}, False),
    "basal layer, no inner core": ({"eta_ref": 1e21}, {0}, False),
    "warming BMO": ({"f_hpe_basal": 0.4}, {0, 1, 2}, True),
    "thin basal layer": ({"bmo_thickness0": 50e3}, {0, 1, 2}, True),
    "core born with an inner core": ({"sulfur_core": 0.02}, {1, 2}, True),
    "eutectic (steep linear liquidus, no layer)": (
        {**NO_LAYER, "liquidus": "linear", "liquidus_dTdP": 4e-8, "eta_ref": 1e18, "sulfur_core": 0.15,
         "T_cmb0": 1800.0, "U_ppb": 10.0, "Th_ppb": 40.0, "K_ppm": 25.0}, {0, 1, 3}, False),
    "core-only, constant Q_cmb": ({"mode": "core_only", "qcmb_n": 1, "qcmb_values": [3e9]}, {0, 1, 2}, False),
    "core-only, eutectic to solid, K in the core": (
        {"mode": "core_only", "qcmb_n": 3, "qcmb_ages": [0.0, 2.0, 4.5], "qcmb_values": [6e9, 8e9, 1.2e10],
         "liquidus": "linear", "liquidus_dTdP": 4e-8, "K_core_ppm": 30.0}, {0, 1, 3, 4}, False),
}


@pytest.fixture(scope="module")
def book_runs(run_models):
    names = list(CASES)
    out = {}
    for name in names:
        out[name] = run_models(make_records(1, CASES[name][0]), {"rtol": 1e-6})
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_core_and_layer_books_close(book_runs, name):
    params, regimes, solidifies = CASES[name]
    r = book_runs[name]
    assert r["status"][0] & 15 == 0
    s = r["summaries"]
    rtol = 1e-6
    assert abs(s["book_core_residual"][0]) <= 10 * rtol * s["book_core_scale"][0]
    assert abs(s["book_layer_residual"][0]) <= 10 * rtol * s["book_layer_scale"][0]
    assert set(np.unique(r["outputs"]["core_regime"][0]).tolist()) == regimes
    assert (s["age_bmo_solidified"][0] > 0) == solidifies


def test_core_only_constant_flow_grows_an_inner_core(book_runs):
    """A constant prescribed CMB heat flow cools the core until an inner core nucleates and grows."""
    r = book_runs["core-only, constant Q_cmb"]
    ri = r["outputs"]["r_inner_core"][0]
    assert r["summaries"]["age_inner_core_nucleation"][0] > 0
    assert ri[-1] > 100e3
    np.testing.assert_allclose(r["outputs"]["Q_cmb"][0], 3e9, rtol=1e-6)
    assert np.all(np.diff(ri) >= 0)
