"""The core: Nimmo (2009) constant-property budget with an S-enriched liquidus (docs/physics.md §Core).

Adiabat T_a(r) = T_c exp((r_c^2 - r^2)/D_c^2), pressure P(r) = P_cmb + (2/3) pi G rho_c^2 (r_c^2 - r^2),
outer-core sulfur c_oc = c0/(1 - (r_i/r_c)^3). The inner-core radius of the bottom-up regime solves
T_c = T*(r_i) with T*(r) = T_L(P(r), c_oc(r)) exp((r^2 - r_c^2)/D_c^2) on the decreasing branch of T*,
by a safeguarded Newton-bisection whose bracket and first guess come from a per-record table of T*
built from the record alone (so the right-hand side stays a pure function of (age, y, mode, record)).
"""
import math

import numpy as np
from numba import njit

from .constants import G
from .parameters import LIQUIDUS_LINEAR

M_S, M_FE = 32.065, 55.845
NT = 64                      # nodes of the per-record T* branch table
NSCAN = 129                  # scan points when locating the branch (<= 3 NT: the scan is kept in the node slots)
assert NSCAN <= 3 * NT, "build_branch_table keeps its scan of T* in the 3 NT node slots"
# table layout (per model, float64)
(TAB_RSTAR, TAB_TMAX, TAB_REND, TAB_TEND, TAB_ENDKIND, TAB_TLCMB0, TAB_XSTAR, TAB_REU, TAB_RPE, TAB_TPE,
 TAB_CURV) = range(11)
TAB_R0 = 11
CURV_STEP = 1e-3   # r_c: the step of the one-sided difference for the curvature of T* at r* (TAB_CURV)
# an off-centre nucleus grows at the plateau a little past r* (PLATEAU_OVERSHOOT r_c) so that regime 1
# starts where dT*/dr != 0; the T_c snap this costs is ~1e-7 K. Regime 1 lives on [r_pe, r_end] (r_pe = r*
# = 0 for a centre nucleus): a warming core that shrinks its inner core back to r_pe (T_c = T*(r_pe))
# returns to the plateau, where the nucleus melts at constant T_c (docs/physics.md §Reheated off-centre nucleus).
PLATEAU_OVERSHOOT = 1e-4
TAB_T0 = TAB_R0 + NT
TAB_D0 = TAB_T0 + NT
# then constants of the record that the right-hand side would otherwise recompute at every call
# (thermal.model.record_constants fills them; N_RECORD_CONSTANTS slots)
TAB_REC0 = TAB_D0 + NT
N_RECORD_CONSTANTS = 8
N_TAB = TAB_REC0 + N_RECORD_CONSTANTS
# end of the bottom-up branch: what happens when T_c reaches T*(r_end)
END_EUTECTIC, END_MINIMUM, END_SOLID = 3, 2, 4

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
# T* and the liquidus (adiabat_length ... freezing_temperature) are inline="always": the branch table and
# the r_i root find call them ~500 times a model, and a compiled call costs more than their arithmetic
# (thermal/kernel.py, "Compilation")


@njit(cache=True, inline='always')
def adiabat_length(p):
    """Adiabatic length scale D_c = sqrt(3 c_p / (2 pi alpha_c rho_c G)) (Nimmo 2009 Table 1)."""
    return math.sqrt(3.0 * p.cp_core / (2.0 * math.pi * p.alpha_core * p.rho_core * G))


@njit(cache=True)
def core_mass(p):
    """M_c = (4/3) pi rho_c r_c^3."""
    return 4.0 / 3.0 * math.pi * p.rho_core * p.r_core ** 3


@njit(cache=True)
def secular_capacity(p):
    """C_S = M_c c_p (1 + 2 r_c^2/(5 D_c^2)), the core's heat capacity without freezing
    (docs/physics.md §Core structure)."""
    D = adiabat_length(p)
    return core_mass(p) * p.cp_core * (1.0 + 2.0 * p.r_core ** 2 / (5.0 * D * D))


@njit(cache=True, inline='always')
def core_pressure(r, p):
    """P(r) = P_cmb + (2/3) pi G rho_c^2 (r_c^2 - r^2), Pa (docs/physics.md §Core structure)."""
    return p.p_cmb + 2.0 / 3.0 * math.pi * G * p.rho_core ** 2 * (p.r_core ** 2 - r * r)


@njit(cache=True, inline='always')
def outer_core_sulfur(r_i, p):
    """c_oc = c0 / (1 - (r_i/r_c)^3): sulfur rejected by the inner core stays in the outer core."""
    f3 = (r_i / p.r_core) ** 3
    return p.sulfur_core / (1.0 - f3)


@njit(cache=True)
def eutectic_radius(p):
    """Inner-core radius at which c_oc reaches sulfur_eutectic: r_c (1 - c0/c_eu)^(1/3)."""
    return p.r_core * (1.0 - p.sulfur_core / p.sulfur_eutectic) ** (1.0 / 3.0)


@njit(cache=True, inline='always')
def liquidus(P, c, p):
    """Core liquidus T_L(P, c) and its partials (dT_L/dP in K/Pa, dT_L/dc per unit mass fraction).

    buono_walker (code 0): Buono & Walker (2011, GCA) eq. 29, P in GPa, c converted to the FeS mole
    fraction x = n_S/n_Fe (docs/physics.md §Core liquidus). linear (code 1): T0 + dTdP (P - P(0)) + dTdc (c - c_ref).
    """
    if p.liquidus == LIQUIDUS_LINEAR:
        P0 = core_pressure(0.0, p)
        return (p.liquidus_T0 + p.liquidus_dTdP * (P - P0) + p.liquidus_dTdc * (c - p.liquidus_c_ref),
                p.liquidus_dTdP, p.liquidus_dTdc)
    x = (M_FE / M_S) * c / (1.0 - c)
    dxdc = (M_FE / M_S) / ((1.0 - c) * (1.0 - c))
    Pg = P * 1e-9
    a4 = (((-2.4724 * Pg + 28.025) * Pg + 9.1404) * Pg + 581.71) * Pg + 3394.8
    a3 = (((1.7978 * Pg - 6.7881) * Pg - 197.69) * Pg - 271.69) * Pg - 8219.5
    a2 = (((-0.1702 * Pg - 9.3959) * Pg + 163.53) * Pg - 319.35) * Pg + 5698.6
    a1 = (((-0.2308 * Pg + 7.1) * Pg - 64.118) * Pg + 105.98) * Pg - 1621.9
    a0 = (((0.2302 * Pg - 5.3688) * Pg + 38.124) * Pg - 46.681) * Pg + 1813.8
    d4 = ((-4 * 2.4724 * Pg + 3 * 28.025) * Pg + 2 * 9.1404) * Pg + 581.71
    d3 = ((4 * 1.7978 * Pg - 3 * 6.7881) * Pg - 2 * 197.69) * Pg - 271.69
    d2 = ((-4 * 0.1702 * Pg - 3 * 9.3959) * Pg + 2 * 163.53) * Pg - 319.35
    d1 = ((-4 * 0.2308 * Pg + 3 * 7.1) * Pg - 2 * 64.118) * Pg + 105.98
    d0 = ((4 * 0.2302 * Pg - 3 * 5.3688) * Pg + 2 * 38.124) * Pg - 46.681
    T = (((a4 * x + a3) * x + a2) * x + a1) * x + a0
    dTdx = ((4.0 * a4 * x + 3.0 * a3) * x + 2.0 * a2) * x + a1
    dTdP = ((((d4 * x + d3) * x + d2) * x + d1) * x + d0) * 1e-9
    return T, dTdP, dTdx * dxdc


@njit(cache=True, inline='always')
def freezing_temperature(r, p):
    """T*(r) = T_L(P(r), c_oc(r)) exp((r^2 - r_c^2)/D_c^2) and dT*/dr (docs/physics.md §Core liquidus).

    T_c = T*(r_i) is the condition that the adiabat meets the liquidus at r_i; dT*/dr includes
    dc_oc/dr_i = 3 c_oc r_i^2/(r_c^3 - r_i^3), so dr_i/dT_c = 1/(dT*/dr) (implicit differentiation).
    """
    rc = p.r_core
    D = adiabat_length(p)
    P = core_pressure(r, p)
    c = outer_core_sulfur(r, p)
    TL, dTdP, dTdc = liquidus(P, c, p)
    e = math.exp((r * r - rc * rc) / (D * D))
    dPdr = -4.0 / 3.0 * math.pi * G * p.rho_core ** 2 * r
    dcdr = 3.0 * c * r * r / (rc ** 3 - r ** 3)
    return TL * e, e * (dTdP * dPdr + dTdc * dcdr + TL * 2.0 * r / (D * D))


@njit(cache=True)
def gravitational_factor_r2(r_i, p):
    """Q_G / (r_i^2 dr_i/dt) (J/m^3), finite at r_i = 0; see ``gravitational_factor``."""
    rc = p.r_core
    f = r_i / rc
    c = outer_core_sulfur(r_i, p)
    return (8.0 / 3.0 * math.pi ** 2 * G * p.rho_core ** 2 * rc ** 5
            * (0.2 - f * f / 3.0 + 2.0 * f ** 5 / 15.0) * p.beta_sulfur * 3.0 * c / (rc ** 3 - r_i ** 3))


@njit(cache=True)
def gravitational_factor(r_i, p):
    """Q_G / (dr_i/dt) = (8/3) pi^2 G rho_c^2 r_c^5 (1/5 - f^2/3 + 2 f^5/15) beta_S dc_oc/dr_i (J/m).

    Nimmo (2009) form with drho/rho = beta_S c_oc and dc_oc/dr_i = 3 c_oc r_i^2/(r_c^3 - r_i^3)
    (docs/physics.md §Core energy budget).
    """
    return r_i * r_i * gravitational_factor_r2(r_i, p)


@njit(cache=True)
def gravitational_energy(r_i, p):
    """Psi_G(r_i) = integral_0^r_i Q_G/(dr_i/dt) dr, the gravitational energy released so far (J).

    16-point Gauss-Legendre quadrature (docs/physics.md §Energy books); the integrand is smooth for r_i < r_c.
    """
    if r_i <= 0.0:
        return 0.0
    s = 0.0
    for k in range(_GL_X.shape[0]):
        s += _GL_W[k] * gravitational_factor(0.5 * r_i * (_GL_X[k] + 1.0), p)
    return 0.5 * r_i * s


@njit(cache=True)
def freezing_energy(r_i, p):
    """Energy released by growing the inner core from 0 to r_i at fixed T_c: L_H M_ic + Psi_G (J)."""
    return p.latent_core * p.rho_core * 4.0 / 3.0 * math.pi * r_i ** 3 + gravitational_energy(r_i, p)


@njit(cache=True)
def adiabatic_heat_flow(T_c, p):
    """Q_ad = 4 pi r_c^2 k_c alpha_c g_c T_c / c_p, g_c = (4/3) pi G rho_c r_c
    (docs/physics.md §Adiabatic heat flow)."""
    return adiabatic_factor(p) * T_c / p.cp_core


@njit(cache=True)
def adiabatic_factor(p):
    """4 pi r_c^2 k_c alpha_c g_c, the record constant of ``adiabatic_heat_flow`` (Q_ad = it T_c / c_p;
    the same operations in the same order, so the same numbers whether computed once or per call)."""
    g_c = 4.0 / 3.0 * math.pi * G * p.rho_core * p.r_core
    return 4.0 * math.pi * p.r_core ** 2 * p.k_core * p.alpha_core * g_c


@njit(cache=True)
def _golden_extremum(a, b, p, sign):
    """Golden-section search for the maximum (sign=1) or minimum (sign=-1) of T* on [a, b]."""
    gr = 0.5 * (math.sqrt(5.0) - 1.0)
    c = b - gr * (b - a)
    d = a + gr * (b - a)
    fc = sign * freezing_temperature(c, p)[0]
    fd = sign * freezing_temperature(d, p)[0]
    for _ in range(200):
        if b - a < 1e-12 * p.r_core:
            break
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - gr * (b - a)
            fc = sign * freezing_temperature(c, p)[0]
        else:
            a, c, fc = c, d, fd
            d = a + gr * (b - a)
            fd = sign * freezing_temperature(d, p)[0]
    return 0.5 * (a + b)


@njit(cache=True, _nrt=False)
def build_branch_table(p, tab):
    """Fill ``tab`` (length N_TAB) with the bottom-up branch of T*(r), from the record alone.

    The branch runs from the first-contact radius r* (the maximum of T*; 0 when T* decreases from the
    centre) down to r_end: the first minimum of T* after r*, else the eutectic radius (or r_c without
    sulfur). NT nodes uniform in (r - r*)^2 hold (r, T*); they give the bracket and first guess of the
    root find, never its answer.
    """
    rc = p.r_core
    if p.sulfur_core > 0.0:
        r_lim = eutectic_radius(p)
        kind_lim = END_EUTECTIC
    else:
        r_lim = rc * (1.0 - 1e-9)
        kind_lim = END_SOLID
    # scan for the global maximum, keeping the scan in the node slots (filled at the end) for the search
    # of the first minimum below
    h = r_lim / (NSCAN - 1)
    kmax = 0
    Tmax = -1.0
    for k in range(NSCAN):
        T = freezing_temperature(h * k, p)[0]
        tab[TAB_R0 + k] = T
        if T > Tmax:
            Tmax = T
            kmax = k
    if kmax == 0:
        r_star = 0.0
    else:
        r_star = _golden_extremum(h * (kmax - 1), min(h * (kmax + 1), r_lim), p, 1.0)
    T_star_max = freezing_temperature(r_star, p)[0]
    # first minimum after r*
    r_end = r_lim
    kind = kind_lim
    Tprev = T_star_max
    for k in range(kmax + 1, NSCAN):
        T = tab[TAB_R0 + k]
        if T > Tprev:
            r_end = _golden_extremum(max(h * (k - 2), r_star), h * k, p, -1.0)
            kind = END_MINIMUM
            break
        Tprev = T
    tab[TAB_RSTAR] = r_star
    tab[TAB_TMAX] = T_star_max
    tab[TAB_REND] = r_end
    tab[TAB_TEND] = freezing_temperature(r_end, p)[0]
    tab[TAB_ENDKIND] = kind
    tab[TAB_TLCMB0] = liquidus(p.p_cmb, p.sulfur_core, p)[0]
    r_pe = min(r_star + PLATEAU_OVERSHOOT * rc, r_end) if r_star > 0.0 else 0.0
    tab[TAB_RPE] = r_pe
    tab[TAB_TPE] = freezing_temperature(r_pe, p)[0] if r_star > 0.0 else T_star_max
    tab[TAB_XSTAR] = freezing_energy(r_pe, p)
    tab[TAB_REU] = r_lim
    # a = -(1/2) d2T*/dr2 at r* (K/m^2), one-sided: T* ~ T_max - a (r - r*)^2 there; only the first guess
    # of the root find in the first node interval uses it (``inner_core_radius``)
    dr = CURV_STEP * rc
    tab[TAB_CURV] = (T_star_max - freezing_temperature(min(r_star + dr, r_end), p)[0]) / (dr * dr)
    for k in range(NT):
        r = r_star + (r_end - r_star) * math.sqrt(k / (NT - 1.0))
        T, dT = freezing_temperature(r, p)
        tab[TAB_R0 + k] = r
        tab[TAB_T0 + k] = T
        tab[TAB_D0 + k] = dT
    tab[TAB_T0] = T_star_max
    tab[TAB_T0 + NT - 1] = tab[TAB_TEND]


@njit(cache=True, _nrt=False)
def inner_core_radius(T_c, p, tab):
    """Bottom-up inner-core radius r_i(T_c) and dT*/dr at it (docs/physics.md §Core regimes, regime 1).

    Safeguarded Newton-bisection on T*(r) = T_c inside the table bracket, to |dr| < 1e-9 r_c.
    Outside the branch r_i is clamped to its ends. The clamp never holds a state: regime 1 is left by a
    located event before T_c reaches either end (T*(r_pe) on warming, T*(r_end) on cooling), so only the
    trial stages of the step that crosses the event can see it. Returns (r_i, dT*/dr, ok).
    """
    r_star = tab[TAB_RSTAR]
    if T_c >= tab[TAB_TMAX]:
        return r_star, freezing_temperature(r_star, p)[1], True
    if T_c <= tab[TAB_TEND]:
        r_end = tab[TAB_REND]
        return r_end, freezing_temperature(r_end, p)[1], True
    if not (T_c == T_c):
        return math.nan, math.nan, False
    # bracket: T decreasing along the nodes
    lo_k, hi_k = 0, NT - 1
    while hi_k - lo_k > 1:
        mid = (lo_k + hi_k) >> 1
        if tab[TAB_T0 + mid] >= T_c:
            lo_k = mid
        else:
            hi_k = mid
    lo, hi = tab[TAB_R0 + lo_k], tab[TAB_R0 + hi_k]
    Tlo, Thi = tab[TAB_T0 + lo_k], tab[TAB_T0 + hi_k]
    if lo_k == 0 and tab[TAB_D0 + 1] < 0.0 and tab[TAB_CURV] > 0.0:
        # the first interval, from the maximum of T*: cubic Hermite of v = (r - r*)^2 in T, with the slopes
        # dv/dT = -1/a at r* (T* ~ T_max - a v) and 2 (r_1 - r*)/(dT*/dr) at the next node
        v1 = (hi - r_star) ** 2
        dT = Thi - Tlo
        s = (T_c - Tlo) / dT
        h10 = s * (1.0 - s) ** 2
        h01 = s * s * (3.0 - 2.0 * s)
        h11 = s * s * (s - 1.0)
        v = h10 * dT * (-1.0 / tab[TAB_CURV]) + h01 * v1 + h11 * dT * 2.0 * (hi - r_star) / tab[TAB_D0 + 1]
        if not (0.0 <= v <= v1):
            v = v1 * (Tlo - T_c) / (Tlo - Thi)
        r = r_star + math.sqrt(v)
    elif lo_k == 0 or tab[TAB_D0 + lo_k] >= 0.0 or tab[TAB_D0 + hi_k] >= 0.0:
        # T* is quadratic about its maximum: interpolate linearly in (r - r*)^2
        vlo, vhi = (lo - r_star) ** 2, (hi - r_star) ** 2
        v = vlo + (vhi - vlo) * (Tlo - T_c) / (Tlo - Thi)
        r = r_star + math.sqrt(v)
    else:
        # cubic Hermite of r(T) with slopes 1/(dT*/dr) at the nodes
        dT = Thi - Tlo
        s = (T_c - Tlo) / dT
        h00 = (1.0 + 2.0 * s) * (1.0 - s) ** 2
        h10 = s * (1.0 - s) ** 2
        h01 = s * s * (3.0 - 2.0 * s)
        h11 = s * s * (s - 1.0)
        r = h00 * lo + h10 * dT / tab[TAB_D0 + lo_k] + h01 * hi + h11 * dT / tab[TAB_D0 + hi_k]
        if not (lo <= r <= hi):
            r = 0.5 * (lo + hi)
    tol = 1e-9 * p.r_core
    for _ in range(100):
        T, dT = freezing_temperature(r, p)
        f = T - T_c
        if f > 0.0:
            lo = r
        else:
            hi = r
        if dT < 0.0:
            r_new = r - f / dT
            if abs(r_new - r) < tol:
                # converged: accepted before the bracket test, since at the root itself (f = 0, or f < 0
                # by roundoff) r has just become an end of the bracket, and a Newton step that stays on
                # it would otherwise be taken for a failure and bisected ~20 times down to tol
                return r_new, dT, True
        else:
            r_new = -1.0
        if not (lo < r_new < hi):
            r_new = 0.5 * (lo + hi)
        if abs(r_new - r) < tol or hi - lo < tol:
            # the slope of the last evaluation, 1e-9 r_c away: its relative error is ~1e-12
            return r_new, dT, True
        r = r_new
    return r, freezing_temperature(r, p)[1], False


@njit(cache=True, _nrt=False)
def nucleus_radius(X, p, tab):
    """Radius of an off-centre nucleus grown at the T_c plateau by the released energy X (J).

    Solves L_H M_ic(r) + Psi_G(r) = X on [0, r_pe], r_pe just past r* (docs/physics.md §Inner-core nucleation).
    Returns (r_i, ok).
    """
    r_star = tab[TAB_RPE]
    if X <= 0.0:
        return 0.0, True
    if X >= tab[TAB_XSTAR]:
        return r_star, True
    lo, hi = 0.0, r_star
    r = min((3.0 * X / (4.0 * math.pi * p.rho_core * p.latent_core)) ** (1.0 / 3.0), r_star)
    tol = 1e-9 * p.r_core
    for _ in range(100):
        f = freezing_energy(r, p) - X
        if f < 0.0:
            lo = r
        else:
            hi = r
        df = 4.0 * math.pi * r * r * p.rho_core * p.latent_core + gravitational_factor(r, p)
        r_new = r - f / df if df > 0.0 else -1.0
        if not (lo < r_new < hi):
            r_new = 0.5 * (lo + hi)
        if abs(r_new - r) < tol or hi - lo < tol:
            return r_new, True
        r = r_new
    return r, False


@njit(cache=True)
def labrosse_length(K0, rho0):
    """Labrosse (2015) density length L = sqrt(3 K0 / (2 pi G rho0^2)) (docs/physics.md §Reference formulas)."""
    return math.sqrt(3.0 * K0 / (2.0 * math.pi * G * rho0 * rho0))
