"""Orbit a(t), mean motion, nodal rate, Cassini obliquity and CMB friction
(docs/physics.md §Orbit, §Precession dynamo; VALIDATION.md A4, A5, E7, E8, F1-F5)."""
import math

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from lunadyn.dynamo import orbit as o
from lunadyn.dynamo import precession as p
from lunadyn.thermal.constants import R_EARTH, YEAR

INC = math.radians(5.145)
BETA = 6.31e-4
A_START = 30.0 * R_EARTH
A_TRANSITION = 34.0 * R_EARTH
KNOTS = {
    o.ORBIT_CYCLOSTRATIGRAPHY: [(0.0, 384400e3), (1.4, 341000e3), (2.46, 321800e3), (4.5, A_START)],
    o.ORBIT_DWYER: [(0.0, 384400e3), (2.7, 48.0 * R_EARTH), (4.5, A_START)],
}


def _tuple4(v):
    v = list(v)
    return tuple(v + [v[-1]] * (4 - len(v)))


# ---------------------------------------------------------------------------------------------------
# PCHIP

def test_pchip_matches_scipy():
    """The Numba PCHIP (<= 4 knots) is scipy's PchipInterpolator: random knots, flat and non-monotone data,
    inside the knots and a little beyond them."""
    rng = np.random.default_rng(42)
    for trial in range(400):
        n = int(rng.integers(2, 5))
        xs = np.sort(rng.uniform(0.0, 5.0, n))
        if np.min(np.diff(xs)) < 0.05:
            continue
        ys = rng.normal(size=n) * 1e8
        if trial % 3 == 0:
            ys = np.sort(ys)[::-1]
        if trial % 5 == 0 and n > 2:
            ys[1] = ys[2]
        ref = PchipInterpolator(xs, ys)
        x = np.linspace(xs[0] - 0.2, xs[-1] + 0.2, 37)
        got = np.array([o.pchip_eval(_tuple4(xs), _tuple4(ys), n, xi) for xi in x])
        assert np.allclose(got, ref(x), rtol=0.0, atol=1e-9 * np.abs(ys).max())
        for k in range(n):
            assert o.pchip_slope(_tuple4(xs), _tuple4(ys), n, k) == pytest.approx(
                ref.derivative()(xs[k]), rel=1e-10, abs=1e-6)


@pytest.mark.parametrize("orbit", [o.ORBIT_CYCLOSTRATIGRAPHY, o.ORBIT_DWYER])
def test_orbit_models_match_scipy_pchip_through_their_knots(orbit):
    """cyclostratigraphy and dwyer are PCHIP curves in age through the knots of docs/physics.md §Orbit."""
    ages, a_knots = zip(*KNOTS[orbit])
    ref = PchipInterpolator(ages, a_knots)
    x = np.linspace(0.0, 4.5, 451)
    got = o.semi_major_axis_array(orbit, x, 4.5, A_START)
    assert np.allclose(got, ref(x), rtol=1e-13, atol=0.0)
    for age, a in KNOTS[orbit]:
        assert o.semi_major_axis_array(orbit, age, 4.5, A_START) == pytest.approx(a, rel=1e-14)


@pytest.mark.parametrize("orbit", [o.ORBIT_CYCLOSTRATIGRAPHY, o.ORBIT_DWYER, o.ORBIT_CONSTANT_Q])
def test_the_moon_recedes_monotonically(orbit):
    """a(t) decreases monotonically with age (the Moon only recedes), wherever the model is defined."""
    x = np.linspace(0.0, 4.5, 4501)
    a = o.semi_major_axis_array(orbit, x, 4.5, A_START)
    ok = np.isfinite(a)
    assert ok[0]
    assert np.all(np.diff(a[ok]) < 0.0)


def test_fixed_knots_older_than_start_age_are_dropped():
    """With start_age = 2.0 Ga the cyclostratigraphy curve runs (0, 1.4, 2.0 Ga) and dwyer (0, 2.0 Ga)."""
    a_s = 45.0 * R_EARTH
    ref = PchipInterpolator([0.0, 1.4, 2.0], [384400e3, 341000e3, a_s])
    x = np.linspace(0.0, 2.0, 41)
    assert np.allclose(o.semi_major_axis_array(o.ORBIT_CYCLOSTRATIGRAPHY, x, 2.0, a_s), ref(x), rtol=1e-13)
    lin = 384400e3 + (a_s - 384400e3) * x / 2.0
    assert np.allclose(o.semi_major_axis_array(o.ORBIT_DWYER, x, 2.0, a_s), lin, rtol=1e-13)


def test_f3_f4_f5_orbit_anchors():
    """F3/F4 (cyclostratigraphy: 341,000 km at 1.4 Ga, 50.5 R_E at 2.46 Ga) and F5 (dwyer: 48 R_E at 2.7 Ga;
    cyclostratigraphy reaches 48 R_E only around 2.9-3.2 Ga)."""
    cyc = o.ORBIT_CYCLOSTRATIGRAPHY
    assert o.semi_major_axis_array(cyc, 1.4, 4.5, A_START) == pytest.approx(341000e3, rel=0.02)
    assert o.semi_major_axis_array(cyc, 2.46, 4.5, A_START) / R_EARTH == pytest.approx(50.5, rel=0.02)
    assert o.semi_major_axis_array(o.ORBIT_DWYER, 2.7, 4.5, A_START) / R_EARTH == pytest.approx(48.0, rel=1e-12)
    x = np.linspace(2.5, 4.5, 2001)
    a = o.semi_major_axis_array(cyc, x, 4.5, A_START)
    age_48 = x[np.argmax(a < 48.0 * R_EARTH)]
    assert 2.8 <= age_48 <= 3.2


# ---------------------------------------------------------------------------------------------------
# constant Q (A5, F1)

def test_a5_f1_constant_q_collapse():
    """A5/F1: constant-Q recession from 3.82 cm/yr collapses at 1.548127 Ga; a(1 Ga) = 51.42836 R_E,
    a(1.5 Ga) = 35.37250 R_E; beyond the collapse the orbit is undefined (NaN, not an error)."""
    q = o.ORBIT_CONSTANT_Q
    assert o.CONSTANT_Q_COLLAPSE_AGE == pytest.approx(1.548127, abs=5e-7)
    assert o.semi_major_axis_array(q, 1.0, 4.5, A_START) / R_EARTH == pytest.approx(51.42836, rel=1e-6)
    assert o.semi_major_axis_array(q, 1.5, 4.5, A_START) / R_EARTH == pytest.approx(35.37250, rel=1e-6)
    assert o.semi_major_axis_array(q, 0.0, 4.5, A_START) == 384400e3
    for age in (1.5482, 1.6, 2.0, 4.5):
        assert math.isnan(o.semi_major_axis_array(q, age, 4.5, A_START))
    assert math.isnan(o.mean_motion(math.nan))


def test_constant_q_recedes_at_todays_rate():
    """F2: da/dt today = 3.82 cm/yr."""
    h = 1e-6  # Ga
    rate = (o.semi_major_axis_array(o.ORBIT_CONSTANT_Q, 0.0, 4.5, A_START)
            - o.semi_major_axis_array(o.ORBIT_CONSTANT_Q, h, 4.5, A_START)) / (h * 1e9)
    assert rate == pytest.approx(0.0382, rel=1e-5)


# ---------------------------------------------------------------------------------------------------
# spin and nodal precession

def test_todays_nodal_period_and_month():
    """Today's nodal period is 18.6 yr; n(384,400 km) is the sidereal month within 0.2 %;
    n ~ a^(-3/2) and Omega_dot ~ a^(3/2)."""
    a0 = 384400e3
    assert 2 * math.pi / o.nodal_rate(a0) / YEAR == pytest.approx(18.6, rel=1e-14)
    assert o.mean_motion(a0) == pytest.approx(2 * math.pi / (27.32 * 86400.0), rel=2e-3)
    assert o.mean_motion(4 * a0) == pytest.approx(o.mean_motion(a0) / 8, rel=1e-14)
    assert o.nodal_rate(4 * a0) == pytest.approx(o.nodal_rate(a0) * 8, rel=1e-14)


# ---------------------------------------------------------------------------------------------------
# Cassini states

def test_a4_cassini_relation_today():
    """A4: at theta = 6.688 deg the two sides of the Cassini relation are 2.914255e-10 and 2.882397e-10 s^-1."""
    n = 2 * math.pi / (27.32 * 86400.0)
    omega_dot = 2 * math.pi / (18.6 * YEAR)
    theta = math.radians(6.688)
    assert p.cassini_spin_term(n, BETA, theta) == pytest.approx(2.914255e-10, rel=1e-6)
    assert p.cassini_nodal_term(omega_dot, theta, INC) == pytest.approx(2.882397e-10, rel=1e-6)


def test_todays_obliquity_is_cassini_state_2():
    """Today (a = 384,400 km) the Moon is in state 2: theta ~ 6.69 deg (A4), theta_cm = +1.5 deg (E7), with
    the spin axis beyond the ecliptic normal (theta > i) -- this module's sign convention."""
    a = 384400e3
    theta, state = p.cassini_obliquity(a, o.mean_motion(a), o.nodal_rate(a), BETA, INC, A_TRANSITION)
    assert state == p.CASSINI_STATE_2
    assert math.degrees(theta) == pytest.approx(6.688, abs=0.05)
    assert math.degrees(theta - INC) == pytest.approx(1.54, abs=0.05)
    kappa = p.cassini_ratio(o.mean_motion(a), o.nodal_rate(a), BETA)
    assert abs(p.cassini_residual(theta, kappa, INC)) < 1e-15
    assert math.isnan(p.cassini_state1_obliquity(kappa, INC))  # no state 1 at kappa = 0.24 < kappa_c


def test_cassini_roots_match_a_brute_force_scan():
    """For random (kappa, i): state 2 is the only root in (0, pi/2); states 1 and 4 exist in (-pi/2, 0) iff
    kappa > kappa_c, state 1 being the one nearer 0."""
    rng = np.random.default_rng(7)
    th = np.linspace(-math.pi / 2, math.pi / 2, 20001)[1:-1]
    for _ in range(300):
        inc = rng.uniform(0.005, 1.4)
        kappa = 10 ** rng.uniform(-2, 2)
        if abs(kappa / p.cassini_critical_ratio(inc) - 1.0) < 1e-3:
            continue  # a near-double root is not resolved by the scan
        f = kappa * np.sin(th) * np.cos(th) - np.sin(th - inc)
        j = np.nonzero(np.sign(f[:-1]) != np.sign(f[1:]))[0]
        roots = th[j] - f[j] * (th[j + 1] - th[j]) / (f[j + 1] - f[j])  # linear interpolation in the cell
        neg, pos = roots[roots < 0], roots[roots > 0]
        assert len(pos) == 1
        assert p.cassini_state2_obliquity(kappa, inc) == pytest.approx(pos[0], abs=1e-6)
        s1 = p.cassini_state1_obliquity(kappa, inc)
        if math.isnan(s1):
            assert len(neg) == 0 and kappa < p.cassini_critical_ratio(inc)
        else:
            assert len(neg) == 2 and kappa > p.cassini_critical_ratio(inc)
            assert s1 == pytest.approx(neg.max(), abs=1e-6)


def test_state_1_exists_exactly_above_the_critical_ratio():
    """kappa_c = (sin^(2/3) i + cos^(2/3) i)^(3/2) and theta_c = -arctan(tan^(1/3) i) are the double root
    f = f' = 0; for the default Moon state 1 disappears at a = 34.05 R_E, just beyond a_cassini_transition."""
    kc = p.cassini_critical_ratio(INC)
    tc = p.cassini_critical_obliquity(INC)
    assert abs(p.cassini_residual(tc, kc, INC)) < 1e-15
    assert kc * math.cos(2 * tc) - math.cos(tc - INC) == pytest.approx(0.0, abs=1e-15)  # f'(theta_c) = 0
    assert math.isnan(p.cassini_state1_obliquity(kc * (1 - 1e-9), INC))
    assert p.cassini_state1_obliquity(kc * (1 + 1e-9), INC) == pytest.approx(tc, abs=1e-3)
    for a_re, state in ((33.9, 1), (33.999, 1), (34.0, 2), (34.04, 2), (40.0, 2)):
        a = a_re * R_EARTH
        _, s = p.cassini_obliquity(a, o.mean_motion(a), o.nodal_rate(a), BETA, INC, A_TRANSITION)
        assert s == state
    for a_re, state in ((34.04, 1), (34.06, 2)):  # with the transition moved out, existence decides
        a = a_re * R_EARTH
        _, s = p.cassini_obliquity(a, o.mean_motion(a), o.nodal_rate(a), BETA, INC, 40 * R_EARTH)
        assert s == state


def test_early_moon_state_1_at_4p2_ga_with_dwyer():
    """The reference figures: at 4.2 Ga on the dwyer orbit a = 33.6 R_E, Cassini state 1, theta_cm ~ -21 deg
    (the spin axis on the far side of the orbit normal from the ecliptic normal)."""
    a = o.semi_major_axis_array(o.ORBIT_DWYER, 4.2, 4.5, A_START)
    assert a / R_EARTH == pytest.approx(33.6, abs=0.05)
    theta, state = p.cassini_obliquity(a, o.mean_motion(a), o.nodal_rate(a), BETA, INC, A_TRANSITION)
    assert state == p.CASSINI_STATE_1
    assert theta < 0.0
    assert math.degrees(theta - INC) == pytest.approx(-21.0, abs=0.5)


def test_e8_large_obliquity_at_the_cassini_transition():
    """E8: the state 1 -> 2 transition falls at 30-34 R_E (+-4) with a large core-mantle obliquity on both sides."""
    for a_re in (33.99, 34.0):
        a = a_re * R_EARTH
        theta, _ = p.cassini_obliquity(a, o.mean_motion(a), o.nodal_rate(a), BETA, INC, A_TRANSITION)
        assert abs(math.degrees(theta - INC)) > 20.0
    assert 26.0 <= A_TRANSITION / R_EARTH <= 38.0


def test_obliquity_is_nan_where_the_orbit_is_undefined():
    """An undefined orbit (NaN a) gives a NaN obliquity, not an error."""
    theta, state = p.cassini_obliquity(math.nan, math.nan, math.nan, BETA, INC, A_TRANSITION)
    assert math.isnan(theta) and state == 0


# ---------------------------------------------------------------------------------------------------
# CMB friction (E7)

def test_e7_present_day_cmb_friction():
    """E7: today (theta_cm = 1.54 deg, r_c = 350 km, rho = 7000) dv ~ 0.025 m/s and the turbulent friction
    P = 4 pi c_f rho r_c^5 (Omega sin theta_cm)^3 is 1.7e8-5.1e8 W for c_f = 1-3e-3 (factor 1.1)."""
    omega = 2 * math.pi / (27.32 * 86400.0)
    tcm = math.radians(1.54)
    assert p.differential_velocity(omega, tcm, 350e3) == pytest.approx(0.025, rel=0.1)
    for c_f, P in ((1e-3, 1.7e8), (3e-3, 5.1e8)):
        got = p.friction_dissipation(c_f, 7000.0, 350e3, omega, tcm)
        assert 1 / 1.1 <= got / P <= 1.1
        assert p.friction_dissipation(c_f, 7000.0, 350e3, omega, -tcm) == got  # |sin theta_cm|
        assert p.precession_dissipation(1e-4, c_f, 7000.0, 350e3, omega, tcm) == pytest.approx(1e-4 * got,
                                                                                               rel=1e-15)


def test_friction_scales_as_the_cube_of_the_shear():
    """P ~ (Omega |sin theta_cm|)^3 and ~ r_c^5."""
    P1 = p.friction_dissipation(2e-3, 7000.0, 350e3, 2e-6, 0.3)
    assert p.friction_dissipation(2e-3, 7000.0, 350e3, 4e-6, 0.3) == pytest.approx(8 * P1, rel=1e-14)
    assert p.friction_dissipation(2e-3, 7000.0, 700e3, 2e-6, 0.3) == pytest.approx(32 * P1, rel=1e-14)
