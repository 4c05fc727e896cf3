"""Formula-level checks of the thermal physics (VALIDATION.md A6, A7, A9, A10) and of its derivatives."""
import math

import numpy as np
import pytest
from scipy.integrate import quad

from lunadyn.runs.registry import make_records
from lunadyn.thermal import core, radiogenic
from lunadyn.thermal.constants import GA


def rel(a, b):
    return abs(a - b) / abs(b)


@pytest.mark.parametrize("fn,today,start", [
    (radiogenic.heat_per_kg_U, 9.795878e-5, 5.284877e-4),
    (radiogenic.heat_per_kg_Th, 2.640000e-5, 3.296243e-5),
    (radiogenic.heat_per_kg_K, 3.474800e-9, 4.230333e-8),
])
def test_A6_heat_production_per_kg_of_element(fn, today, start):
    """A6: T&S heat production per kg of U, Th, K today and at 4.5 Ga (7 figures)."""
    assert rel(fn(0.0), today) < 1e-6
    assert rel(fn(4.5), start) < 1e-6


def test_A7_potassium_in_the_core_per_ppm_at_start():
    """A7: 1 ppm K in the core heats 4.230333e-14 W/kg at 4.5 Ga."""
    assert rel(radiogenic.core_potassium_heating(4.5, 1.0), 4.230333e-14) < 1e-6


def test_core_radiogenic_energy_is_the_integral_of_Q_R():
    """The analytic integral of Q_R used by the books equals the quadrature of Q_R dt."""
    M_c, K = 1.3e21, 30.0
    num = quad(lambda a: M_c * radiogenic.core_potassium_heating(a, K) * GA, 0.0, 4.5)[0]
    assert rel(radiogenic.core_potassium_energy(4.5, 0.0, K, M_c), num) < 1e-10


def test_A9_labrosse_length():
    """A9: sqrt(3 K0/(2 pi G rho0^2)) = 4549.915 km for K0 = 121.4 GPa, rho0 = 6477; r_c/L = 0.07692451."""
    L = core.labrosse_length(121.4e9, 6477.0)
    assert abs(L / 1e3 - 4549.915) < 5e-4
    assert rel(350e3 / L, 0.07692451) < 1e-6


@pytest.mark.parametrize("k,alpha,expected", [(30.0, 7.5e-5, 5.114167e9), (40.0, 1e-4, 9.091853e9)])
def test_A10_core_adiabatic_heat_flow(k, alpha, expected):
    """A10: 4 pi r_c^2 k alpha g_c T / c_p for r_c = 350 km, rho = 7000, T = 1800 K, c_p = 835."""
    rec = make_records(1, {"k_core": k, "alpha_core": alpha, "rho_core": 7000.0, "cp_core": 835.0})[0]
    assert rel(core.adiabatic_heat_flow(1800.0, rec), expected) < 1e-6


@pytest.mark.parametrize("liq", ["buono_walker", "linear"])
def test_liquidus_partials_match_finite_differences(liq):
    """dT_L/dP and dT_L/dc returned with T_L are the derivatives of T_L."""
    rec = make_records(1, {"liquidus": liq})[0]
    for P, c in [(4.4e9, 0.1), (5.0e9, 0.2), (4.8e9, 0.03)]:
        T, dP, dc = core.liquidus(P, c, rec)
        hP, hc = 1e3, 1e-7
        fdP = (core.liquidus(P + hP, c, rec)[0] - core.liquidus(P - hP, c, rec)[0]) / (2 * hP)
        fdc = (core.liquidus(P, c + hc, rec)[0] - core.liquidus(P, c - hc, rec)[0]) / (2 * hc)
        assert abs(dP - fdP) <= 1e-5 * abs(fdP) + 1e-12
        assert abs(dc - fdc) <= 1e-5 * abs(fdc) + 1e-6


def test_freezing_temperature_derivative_and_root():
    """dT*/dr matches finite differences, and r_i(T_c) solves T*(r_i) = T_c to 1e-9 r_c."""
    rec = make_records(1)[0]
    tab = np.zeros(core.N_TAB)
    core.build_branch_table(rec, tab)
    for r in [20e3, 100e3, 200e3, 270e3]:
        h = 1.0
        fd = (core.freezing_temperature(r + h, rec)[0] - core.freezing_temperature(r - h, rec)[0]) / (2 * h)
        assert abs(core.freezing_temperature(r, rec)[1] - fd) <= 1e-5 * abs(fd)
    for T_c in np.linspace(tab[core.TAB_TMAX] - 1e-3, tab[core.TAB_TEND] + 1e-3, 40):
        r_i, dTdr, ok = core.inner_core_radius(T_c, rec, tab)
        assert ok
        assert abs(core.freezing_temperature(r_i, rec)[0] - T_c) <= abs(dTdr) * 1e-9 * 350e3 + 1e-9


def test_gravitational_energy_is_the_integral_of_Q_G_per_growth():
    """Psi_G(r_i) is the integral of Q_G/(dr_i/dt) over 0..r_i (used by the core's books)."""
    rec = make_records(1)[0]
    for r in [50e3, 150e3, 250e3]:
        num = quad(lambda x: core.gravitational_factor(x, rec), 0.0, r, epsabs=0, epsrel=1e-12)[0]
        assert rel(core.gravitational_energy(r, rec), num) < 1e-10


def test_off_centre_nucleus_radius_inverts_its_energy():
    """The plateau nucleus radius inverts L_H M_ic + Psi_G."""
    rec = make_records(1)[0]
    tab = np.zeros(core.N_TAB)
    core.build_branch_table(rec, tab)
    assert tab[core.TAB_RSTAR] > 0.0  # the default Moon first freezes slightly off the centre
    for frac in [0.01, 0.3, 0.9]:
        r = frac * tab[core.TAB_RPE]
        r2, ok = core.nucleus_radius(core.freezing_energy(r, rec), rec, tab)
        assert ok and abs(r2 - r) < 1e-6 * 350e3
