"""A core that is heated while it freezes melts back (docs/physics.md §Reheated off-centre nucleus).

The default Moon's freezing curve T*(r) peaks off-centre (r* = 4.3 km). A core that starts just below
that peak, under a basal layer rich in heat-producing elements, must melt its nucleus (back to r_pe, then
on the plateau at constant T_c), return to the liquid regime, and let the core and the layer warm and
evolve afterwards -- with both energy books closed. Before the rule the state froze at r* for billions of
years with ~1e11 W flowing into the core (issue 10).
"""
import numpy as np
import pytest

from lunadyn.runs.registry import make_records
from lunadyn.thermal import core, kernel
from lunadyn.thermal.layout import REG_BOTTOM_UP, REG_EUTECTIC, REG_LIQUID, REG_PLATEAU, REG_TOP_DOWN

RTOL = 1e-6


def _table(rec):
    tab = np.zeros(core.N_TAB)
    core.build_branch_table(rec, tab)
    return tab


def _run(run_models, values, step=0.05):
    return run_models(make_records(1, values), {"rtol": RTOL, "output_step": step})


def _books(r):
    s = r["summaries"]
    return (abs(s["book_core_residual"][0]) / s["book_core_scale"][0],
            abs(s["book_layer_residual"][0]) / s["book_layer_scale"][0])


PEAK = _table(make_records(1)[0])


@pytest.mark.parametrize("T_start, first_regime", [
    (PEAK[core.TAB_TMAX] - 0.43, REG_BOTTOM_UP),       # a 51 km inner core, below the peak of T*
    (PEAK[core.TAB_TPE] + 1e-8, REG_PLATEAU),          # a nucleus smaller than r_pe: on the plateau
])
def test_a_heated_off_centre_nucleus_remelts_and_the_core_and_layer_evolve(run_models, T_start, first_regime):
    assert PEAK[core.TAB_RSTAR] > 0.0 and PEAK[core.TAB_TPE] < PEAK[core.TAB_TMAX]
    r = _run(run_models, {"T_bmo0": T_start, "f_hpe_basal": 0.4})
    assert r["status"][0] & 15 == 0
    regime = r["state"]["mode_core"][0]
    r_i = r["outputs"]["r_inner_core"][0]
    T_c, T_b = r["state"]["T_cmb"][0], r["state"]["T_basal"][0]
    assert regime[0] == first_regime and r_i[0] > 0.0
    # the nucleus melts within the first 0.05 Ga and the core is liquid again
    assert regime[1] == REG_LIQUID and r_i[1] == 0.0
    # ... and the core and the molten layer warm, far past the peak of T* (no state held at r*)
    assert T_c[1:].max() > PEAK[core.TAB_TMAX] + 50.0 and T_b[1:].max() > T_start + 50.0
    assert np.all(np.abs(np.diff(T_b[:10])) > 1.0)
    # later the layer cools, the core nucleates again and grows until the top-down turn
    assert r["summaries"]["age_inner_core_nucleation"][0] > 0.0 and REG_TOP_DOWN in regime
    core_book, layer_book = _books(r)
    assert core_book <= 10 * RTOL and layer_book <= 10 * RTOL


def test_a_core_only_eutectic_core_that_is_heated_melts_back_through_regime_1_to_liquid(run_models):
    """Regime 3 is left when the solid grown at the eutectic temperature has melted (r_i back to r_eu):
    bottom-up again, then liquid; the book closes."""
    r = _run(run_models, {"mode": "core_only", "liquidus": "linear", "liquidus_dTdP": 4e-8, "qcmb_n": 5,
                          "qcmb_ages": [0.0, 1.0, 1.5, 2.0, 4.5],
                          "qcmb_values": [-2e10, -2e10, 8e9, 8e9, 1.2e10]})
    assert r["status"][0] & 15 == 0
    regime = r["state"]["mode_core"][0]
    seq = [int(regime[0])] + [int(b) for a, b in zip(regime[:-1], regime[1:]) if b != a]
    assert seq == [REG_LIQUID, REG_BOTTOM_UP, REG_EUTECTIC, REG_BOTTOM_UP, REG_LIQUID]
    r_i = r["outputs"]["r_inner_core"][0]
    assert r_i[-1] == 0.0 and r_i.max() > core.eutectic_radius(make_records(1, {"liquidus": "linear"})[0]) - 1.0
    assert _books(r)[0] <= 10 * RTOL


def test_an_event_fires_when_a_mode_entered_on_its_threshold_reverses_at_once():
    """Every event snaps its component onto the threshold, so the reverse event of the new mode starts at
    g = 0: leaving 0 downward is a crossing, staying at 0 or starting below is not."""
    assert kernel.crosses(1.0, 0.0) and kernel.crosses(1.0, -1.0) and kernel.crosses(0.0, -1e-300)
    assert not kernel.crosses(0.0, 0.0) and not kernel.crosses(0.0, 1.0) and not kernel.crosses(-1e-12, -1.0)
    assert not kernel.crosses(1.0, 0.5)


def test_a_layer_that_starts_warming_and_then_cools_leaves_the_hot_branch(run_models):
    """A run starts exactly at T_b0; when the first step warms the layer and a later one cools it back
    through T_b0 within that step, the layer must still change to the partly molten branch (where it
    takes latent heat and can solidify). Before the crossing rule it stayed 'hot' while T_b fell below
    the solidus, and its book broke by 5%."""
    r = _run(run_models, {"r_core": 362269.4, "sulfur_core": 0.11548, "bmo_thickness0": 318024.2,
                          "T_bmo0": 1849.23, "f_hpe_basal": 0.335, "eta_ref": 1.5723e18, "T_mantle0": 1705.19,
                          "K_core_ppm": 25.3, "T_cmb0": 2199.5}, step=0.1)
    assert r["status"][0] & 15 == 0
    layer, T_b = r["state"]["mode_layer"][0], r["state"]["T_basal"][0]
    assert np.all(layer[T_b < 1849.23 - 1.0] >= 2)     # cooler than T_b0: partly molten, then solid
    assert r["summaries"]["age_bmo_solidified"][0] > 0.0
    assert max(_books(r)) <= 10 * RTOL
