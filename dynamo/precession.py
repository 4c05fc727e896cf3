"""Precession-driven (mechanical) dynamo: Cassini obliquity, core-mantle shear, CMB friction power.

docs/physics.md §Precession dynamo.

Sign convention. In a Cassini state the spin axis s, the orbit normal k and the ecliptic
(invariable-plane) normal K are coplanar. The obliquity theta is the angle from k to s, signed in that
plane, positive towards K, which lies at theta = +i (i = ``inclination``). Then theta - i is the signed
angle from K to s, and the Cassini relation of docs/physics.md §Precession dynamo,

    (3/2) n beta sin(theta) cos(theta) = |Omega_dot| sin(theta - i),

with |Omega_dot| the (regressing) nodal rate, reads f(theta) = kappa sin(theta) cos(theta)
- sin(theta - i) = 0, kappa = 3 n beta/(2 |Omega_dot|) (kappa ~ a^-3; 0.2354 today). Over the whole
circle f has 2 or 4 zeros (a quartic in e^(i theta)):

- state 2: one root in (i, pi/2) for every kappa > 0 (f(i) = kappa sin i cos i > 0, f(pi/2) = -cos i < 0).
  Today theta = 6.69 deg: the spin axis lies beyond K, K between s and k, theta - i = +1.54 deg.
- state 3: one root in (-pi, -pi/2) (retrograde; never used).
- states 1 and 4: born together by a saddle-node at kappa_c = (sin^(2/3) i + cos^(2/3) i)^(3/2) (Ward 1975;
  Henrard & Murigande 1987), at the double root theta_c = -arctan(tan^(1/3) i) (-24.15 deg for i = 5.145 deg);
  f(theta_c) < 0 for kappa > kappa_c (f decreases with kappa there), so state 1 is the root in (theta_c, 0)
  (f(0) = sin i > 0) and state 4 the one in (-pi/2, theta_c). State 1 lies on the other side of k from
  K: theta < 0 and theta_cm = theta - i < -i. For the default Moon kappa = kappa_c at a = 34.06 R_E.

Both physical roots are found by bisection on these analytic brackets (no scanning, no tolerance on
existence: kappa > kappa_c is exact). The core's axis is taken to stay near K
(docs/physics.md §Precession dynamo), so the
core-mantle misalignment is theta_cm = theta - i.
"""
import math

from numba import float64, int64, njit, types

CASSINI_STATE_1, CASSINI_STATE_2 = 1, 2
_BISECT_ITERATIONS = 60  # bracket <= pi/2 halved 60 times: < 2e-18 rad, i.e. to the last bit


@njit(float64(float64, float64, float64), cache=True)
def cassini_spin_term(n, beta, theta):
    """Left side of the Cassini relation, (3/2) n beta sin(theta) cos(theta) (rad/s)
    (docs/physics.md §Precession dynamo; Peale 1969)."""
    return 1.5 * n * beta * math.sin(theta) * math.cos(theta)


@njit(float64(float64, float64, float64), cache=True)
def cassini_nodal_term(omega_dot, theta, inc):
    """Right side of the Cassini relation, |Omega_dot| sin(theta - i) (rad/s) (docs/physics.md §Precession dynamo)."""
    return omega_dot * math.sin(theta - inc)


@njit(float64(float64, float64, float64), cache=True)
def cassini_ratio(n, omega_dot, beta):
    """kappa = 3 n beta/(2 |Omega_dot|), the ratio of the spin-axis to the nodal precession rate that
    fixes the Cassini states (docs/physics.md §Precession dynamo; Ward 1975)."""
    return 1.5 * n * beta / omega_dot


@njit(float64(float64, float64, float64), cache=True)
def cassini_residual(theta, kappa, inc):
    """f(theta) = kappa sin(theta) cos(theta) - sin(theta - i), the Cassini relation of
    docs/physics.md §Precession dynamo
    divided by |Omega_dot|."""
    return kappa * math.sin(theta) * math.cos(theta) - math.sin(theta - inc)


@njit(float64(float64), cache=True)
def cassini_critical_ratio(inc):
    """kappa_c = (sin^(2/3) i + cos^(2/3) i)^(3/2): Cassini states 1 and 4 exist iff kappa > kappa_c
    (Ward 1975; Henrard & Murigande 1987; follows from f = df/dtheta = 0)."""
    return (math.sin(inc) ** (2.0 / 3.0) + math.cos(inc) ** (2.0 / 3.0)) ** 1.5


@njit(float64(float64), cache=True)
def cassini_critical_obliquity(inc):
    """theta_c = -arctan(tan^(1/3) i), where states 1 and 4 merge (tan^3 theta = -tan i from f = f' = 0)."""
    return -math.atan(math.tan(inc) ** (1.0 / 3.0))


@njit(float64(float64, float64, float64, float64), cache=True)
def _bisect_cassini(lo, hi, kappa, inc):
    """Root of ``cassini_residual`` in [lo, hi] given a sign change, by bisection to the last bit."""
    f_lo = cassini_residual(lo, kappa, inc)
    for _ in range(_BISECT_ITERATIONS):
        mid = 0.5 * (lo + hi)
        if mid == lo or mid == hi:
            break
        f_mid = cassini_residual(mid, kappa, inc)
        if f_mid == 0.0:
            return mid
        if (f_mid > 0.0) == (f_lo > 0.0):
            lo = mid
            f_lo = f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@njit(float64(float64, float64), cache=True)
def cassini_state1_obliquity(kappa, inc):
    """State-1 obliquity theta (rad, < 0 in this module's convention): the root of the Cassini relation in
    (theta_c, 0); NaN when state 1 does not exist (kappa <= kappa_c) (docs/physics.md §Precession dynamo;
    Ward 1975)."""
    if not (inc > 0.0) or not (kappa > cassini_critical_ratio(inc)):
        return math.nan
    return _bisect_cassini(cassini_critical_obliquity(inc), 0.0, kappa, inc)


@njit(float64(float64, float64), cache=True)
def cassini_state2_obliquity(kappa, inc):
    """State-2 obliquity theta (rad): the root of the Cassini relation in (i, pi/2), which exists for every
    kappa > 0 (docs/physics.md §Precession dynamo; Peale 1969)."""
    if not (inc > 0.0):
        return math.nan  # i = 0: the states degenerate (outside the registry's bounds)
    return _bisect_cassini(inc, 0.5 * math.pi, kappa, inc)


@njit(types.Tuple((float64, int64))(float64, float64, float64, float64, float64, float64), cache=True)
def cassini_obliquity(a, n, omega_dot, beta, inc, a_transition):
    """Obliquity theta (rad) and Cassini state (1 or 2) of the Moon at semi-major axis a: the state-1 root
    while it exists and a < a_cassini_transition, else the state-2 root (docs/physics.md §Precession dynamo).
    NaN and state 0 when a is NaN (orbit undefined)."""
    if not (a > 0.0):
        return math.nan, 0
    kappa = cassini_ratio(n, omega_dot, beta)
    if a < a_transition:
        theta = cassini_state1_obliquity(kappa, inc)
        if theta == theta:
            return theta, CASSINI_STATE_1
    return cassini_state2_obliquity(kappa, inc), CASSINI_STATE_2


@njit(float64(float64, float64, float64), cache=True)
def differential_velocity(omega, theta_cm, r_c):
    """Core-mantle differential velocity dv = Omega |sin theta_cm| r_c (docs/physics.md §Precession dynamo)."""
    return omega * abs(math.sin(theta_cm)) * r_c


@njit(float64(float64, float64, float64, float64, float64), cache=True)
def friction_dissipation(c_friction, rho_c, r_c, omega, theta_cm):
    """Turbulent CMB friction power P = xi_t rho_c r_c^5 (Omega |sin theta_cm|)^3, xi_t = 4 pi c_f
    (docs/physics.md §Precession dynamo; Dwyer et al. 2011; Yoder 1995)."""
    dw = omega * abs(math.sin(theta_cm))
    return 4.0 * math.pi * c_friction * rho_c * r_c ** 5 * dw * dw * dw


@njit(float64(float64, float64, float64, float64, float64, float64), cache=True)
def precession_dissipation(f_dyn, c_friction, rho_c, r_c, omega, theta_cm):
    """Ohmic dissipation of the precession dynamo Phi_prec = f_dyn P (docs/physics.md §Precession dynamo;
    Dwyer et al. 2011)."""
    return f_dyn * friction_dissipation(c_friction, rho_c, r_c, omega, theta_cm)
