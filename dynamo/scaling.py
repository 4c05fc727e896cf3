"""Dynamo scaling laws: dissipation -> velocity and rms field -> dipole -> surface and site field.

docs/physics.md §Scaling laws. Everything is SI (T, W, m, s, rad).

Laws (codes = order of the ``law`` choices in dynamo/parameters.py):

- ``ml``   (0) mixing length, inertia-buoyancy balance        (docs/physics.md §Velocity and field, c = 0.63)
- ``cia``  (1) Coriolis-inertia-Archimedes balance            (docs/physics.md §Velocity and field, c = 0.63)
- ``mac``  (2) magnetostrophic (magneto-Archimedes-Coriolis)  (docs/physics.md §Velocity and field, c = 0.63)
- ``ca06`` (3) Christensen & Aubert 2006 Lorentz-number fit, P = Phi, c_Lo = 1, exponent 0.34
               (docs/physics.md §Velocity and field); its velocity is the ``ml`` one
               (docs/physics.md §Velocity and field).

Every law takes the dissipation per unit shell volume phi = Phi/V_shell, the shell thickness L, the
fluid density rho and the spin Omega (docs/physics.md §Orbit: Omega = n(a), the mean motion).

Scalar functions are ``@njit`` with one explicit float64 signature (the dynamo stage calls them); the
``*_array`` versions are ``@vectorize`` ufuncs of the same functions for arrays of any shape.
"""
import math

from numba import float64, int64, njit, vectorize

from ..thermal.constants import MU0
from .parameters import _code

LAW_ML, LAW_CIA, LAW_MAC, LAW_CA06 = (_code("law", c) for c in ("ml", "cia", "mac", "ca06"))

C_ENERGY = 0.63          # prefactor c of the energy-flux law, docs/physics.md §Velocity and field (Christensen 2010; Hamid)
CA06_EXPONENT = 0.34     # Lorentz-number exponent, docs/physics.md §Velocity and field (Christensen & Aubert 2006)
CA06_C_LO = 1.0          # c_Lo with P = Phi (Hamid's implementation), docs/physics.md §Velocity and field
B_DIP0 = 7.3             # dipolarity b_dip of a full sphere, Aubert et al. 2009 (docs/physics.md §Dipolarity)
CHI_MAX = 0.35           # b_dip is kept inside ALP09's calibrated range of chi = r_i/r_o
SQRT2 = math.sqrt(2.0)

_F3 = float64(float64, float64, float64)
_F4 = float64(float64, float64, float64, float64)


# --------------------------------------------------------------------------------------------------
# geometry and the magnetic Reynolds number

@njit(float64(float64, float64), cache=True)
def shell_volume(r_in, r_out):
    """Volume of the spherical shell (r_in, r_out): V = (4/3) pi (r_out^3 - r_in^3) (docs/physics.md §Scaling laws)."""
    return 4.0 / 3.0 * math.pi * (r_out ** 3 - r_in ** 3)


@njit(_F3, cache=True)
def magnetic_reynolds(u, L, sigma):
    """Magnetic Reynolds number Rm = mu0 sigma u L (docs/physics.md §Dynamo onset)."""
    return MU0 * sigma * u * L


@njit(float64(float64, float64), cache=True)
def magnetic_diffusion_time(L, sigma):
    """Magnetic diffusion time tau = L^2/(pi^2 eta_m), eta_m = 1/(mu0 sigma)
    (docs/physics.md §Reference formulas; Hamid [C])."""
    return L * L * MU0 * sigma / (math.pi ** 2)


@njit(_F3, cache=True)
def elsasser_field(rho, omega, sigma):
    """Field of Elsasser number one, B = sqrt(rho Omega/sigma) (docs/physics.md §Reference formulas; Stevenson 2003)."""
    return math.sqrt(rho * omega / sigma)


# --------------------------------------------------------------------------------------------------
# the laws: velocity and rms field in the shell

@njit(_F3, cache=True)
def ml_velocity(phi, L, rho):
    """Mixing-length (inertia-buoyancy) velocity u = (phi L/rho)^(1/3)
    (docs/physics.md §Velocity and field; Scheinberg 2018)."""
    return (phi * L / rho) ** (1.0 / 3.0)


@njit(_F3, cache=True)
def ml_field(phi, L, rho):
    """Mixing-length rms field B = sqrt(2 mu0 c) (rho L^2 phi^2)^(1/6), c = 0.63 (docs/physics.md §Velocity and field;
    Christensen 2010; Scheinberg 2018)."""
    return math.sqrt(2.0 * MU0 * C_ENERGY) * (rho * L * L * phi * phi) ** (1.0 / 6.0)


@njit(_F4, cache=True)
def cia_velocity(phi, L, rho, omega):
    """CIA velocity u = (phi/rho)^(2/5) (L/Omega)^(1/5)
    (docs/physics.md §Velocity and field; Davidson 2013; Scheinberg 2018)."""
    return (phi / rho) ** 0.4 * (L / omega) ** 0.2


@njit(_F4, cache=True)
def cia_field(phi, L, rho, omega):
    """CIA rms field B = sqrt(2 mu0 c) (rho^2 L^4 Omega phi^3)^(1/10), c = 0.63 (docs/physics.md §Velocity and field;
    Davidson 2013; Scheinberg 2018)."""
    return math.sqrt(2.0 * MU0 * C_ENERGY) * (rho * rho * L ** 4 * omega * phi ** 3) ** 0.1


@njit(_F3, cache=True)
def mac_velocity(phi, rho, omega):
    """Magnetostrophic velocity u = (phi/(rho Omega))^(1/2)
    (docs/physics.md §Velocity and field; Starchenko & Jones 2002)."""
    return math.sqrt(phi / (rho * omega))


@njit(_F4, cache=True)
def mac_field(phi, L, rho, omega):
    """Magnetostrophic rms field B = sqrt(2 mu0 c) (rho L^2 Omega phi)^(1/4), c = 0.63
    (docs/physics.md §Velocity and field;
    Starchenko & Jones 2002; Scheinberg 2018)."""
    return math.sqrt(2.0 * MU0 * C_ENERGY) * (rho * L * L * omega * phi) ** 0.25


@njit(_F4, cache=True)
def ca06_field(phi, L, rho, omega):
    """Christensen & Aubert 2006 rms field B = c_Lo sqrt(rho mu0) Omega D p^0.34 with the power
    p = P/(rho Omega^3 D^2 V) = phi/(rho Omega^3 D^2), P = Phi, c_Lo = 1, D = L
    (docs/physics.md §Velocity and field; Christensen
    & Aubert 2006; Aubert et al. 2009; Hamid [C])."""
    p = phi / (rho * omega ** 3 * L * L)
    return CA06_C_LO * math.sqrt(rho * MU0) * omega * L * p ** CA06_EXPONENT


@njit(float64(int64, float64, float64, float64, float64), cache=True)
def law_field(law, phi, L, rho, omega):
    """rms field in the shell under ``law`` (0 ml, 1 cia, 2 mac, 3 ca06) (docs/physics.md §Velocity and field).
    0 when phi <= 0 or L <= 0; NaN for an unknown law code."""
    if not (phi > 0.0) or not (L > 0.0):
        return 0.0
    if law == LAW_ML:
        return ml_field(phi, L, rho)
    if law == LAW_CIA:
        return cia_field(phi, L, rho, omega)
    if law == LAW_MAC:
        return mac_field(phi, L, rho, omega)
    if law == LAW_CA06:
        return ca06_field(phi, L, rho, omega)
    return math.nan


@njit(float64(int64, float64, float64, float64, float64), cache=True)
def law_velocity(law, phi, L, rho, omega):
    """Convective velocity under ``law``; ``ca06`` uses the ``ml`` velocity (docs/physics.md §Velocity and field).
    0 when phi <= 0 or L <= 0; NaN for an unknown law code."""
    if not (phi > 0.0) or not (L > 0.0):
        return 0.0
    if law == LAW_ML or law == LAW_CA06:
        return ml_velocity(phi, L, rho)
    if law == LAW_CIA:
        return cia_velocity(phi, L, rho, omega)
    if law == LAW_MAC:
        return mac_velocity(phi, rho, omega)
    return math.nan


@njit(_F4, cache=True)
def olson_christensen_moment(F, D, r_c, rho):
    """Olson & Christensen 2006 dipole moment M = 4 pi r_c^3 gamma_d sqrt(rho/(2 mu0)) (F D)^(1/3),
    gamma_d = 0.2, F the buoyancy flux in m^2 s^-3
    (docs/physics.md §Reference formulas; VPLanet fdMagMom [C]). Used only as the
    VALIDATION B4 cross-check; the dynamo stage does not use it."""
    return 4.0 * math.pi * r_c ** 3 * 0.2 * math.sqrt(rho / (2.0 * MU0)) * (F * D) ** (1.0 / 3.0)


# --------------------------------------------------------------------------------------------------
# dipolarity: rms field in the shell -> rms dipole at the shell top

@njit(float64(float64, float64), cache=True)
def core_dipolarity(chi, f_i):
    """Core b_dip = 7.3 (1 - min(chi, 0.35)) (1 + f_i), chi = r_i/r_c
    (docs/physics.md §Dipolarity; Aubert et al. 2009)."""
    return B_DIP0 * (1.0 - min(chi, CHI_MAX)) * (1.0 + f_i)


@njit(float64(float64, float64), cache=True)
def precession_dipolarity(chi, penalty):
    """Precession b_dip = 7.3 (1 - min(chi, 0.35)) * precession_dipolarity_penalty (docs/physics.md §Dipolarity;
    Cebron et al. 2019 for the penalty)."""
    return B_DIP0 * (1.0 - min(chi, CHI_MAX)) * penalty


@njit(float64(float64), cache=True)
def bmo_dipolarity(penalty):
    """BMO b_dip = 7.3 * bmo_dipolarity_penalty, independent of chi
    (docs/physics.md §Dipolarity; Soderlund et al. AGU25)."""
    return B_DIP0 * penalty


# --------------------------------------------------------------------------------------------------
# dipole -> surface -> site

@njit(float64(float64, float64), cache=True)
def shell_top_dipole_field(B_rms, b_dip):
    """rms dipole field at the top of the dynamo shell B_dip,rms = B_rms/b_dip
    (docs/physics.md §Surface and site field; Aubert et al. 2009)."""
    return B_rms / b_dip


@njit(_F4, cache=True)
def equatorial_surface_field(B_rms, b_dip, r_out, R):
    """Equatorial surface field of the dipole B_eq = (B_rms/b_dip)(r_out/R)^3/sqrt(2): the rms of a dipole
    over a sphere is sqrt(2) x its equatorial value (docs/physics.md §Surface and site field)."""
    return shell_top_dipole_field(B_rms, b_dip) * (r_out / R) ** 3 / SQRT2


@njit(float64(float64), cache=True)
def site_factor(lat):
    """Dipole field at latitude lat (rad) over its equatorial value, sqrt(1 + 3 sin^2 lat)
    (docs/physics.md §Surface and site field)."""
    s = math.sin(lat)
    return math.sqrt(1.0 + 3.0 * s * s)


@njit(float64(float64, float64), cache=True)
def site_field(B_eq, lat):
    """Field of an axial dipole at a site of latitude lat (rad): B = B_eq sqrt(1 + 3 sin^2 lat)
    (docs/physics.md §Surface and site field)."""
    return B_eq * site_factor(lat)


@njit(float64(float64, float64), cache=True)
def equatorial_field_from_site(B_site, lat):
    """Equatorial field of the axial dipole that gives B_site at latitude lat (rad)
    (docs/physics.md §Surface and site field)."""
    return B_site / site_factor(lat)


@njit(float64(float64, float64), cache=True)
def dipole_moment(B_eq, R):
    """Dipole moment of an equatorial surface field, M = 4 pi R^3 B_eq/mu0 (docs/physics.md §Reference formulas)."""
    return 4.0 * math.pi * R ** 3 * B_eq / MU0


@njit(float64(float64, float64), cache=True)
def equatorial_field_from_moment(M, R):
    """Equatorial surface field of a dipole moment, B_eq = mu0 M/(4 pi R^3) (docs/physics.md §Reference formulas)."""
    return MU0 * M / (4.0 * math.pi * R ** 3)


@njit(float64(float64, float64, float64), cache=True)
def vadm(B_site, lat, R):
    """Virtual axial dipole moment M = 4 pi R^3 B_obs/(mu0 sqrt(1 + 3 sin^2 lat))
    (docs/physics.md §Reference formulas)."""
    return dipole_moment(equatorial_field_from_site(B_site, lat), R)


# --------------------------------------------------------------------------------------------------
# array versions (any shape)

_V2 = [float64(float64, float64)]
_V3 = [float64(float64, float64, float64)]


@vectorize([float64(int64, float64, float64, float64, float64)], cache=True)
def law_field_array(law, phi, L, rho, omega):
    """Array version of ``law_field``."""
    return law_field(law, phi, L, rho, omega)


@vectorize([float64(int64, float64, float64, float64, float64)], cache=True)
def law_velocity_array(law, phi, L, rho, omega):
    """Array version of ``law_velocity``."""
    return law_velocity(law, phi, L, rho, omega)


@vectorize([float64(float64, float64, float64, float64)], cache=True)
def equatorial_surface_field_array(B_rms, b_dip, r_out, R):
    """Array version of ``equatorial_surface_field``."""
    return equatorial_surface_field(B_rms, b_dip, r_out, R)


@vectorize(_V2, cache=True)
def site_field_array(B_eq, lat):
    """Array version of ``site_field``."""
    return site_field(B_eq, lat)


@vectorize(_V2, cache=True)
def equatorial_field_from_site_array(B_site, lat):
    """Array version of ``equatorial_field_from_site``."""
    return equatorial_field_from_site(B_site, lat)


@vectorize(_V2, cache=True)
def dipole_moment_array(B_eq, R):
    """Array version of ``dipole_moment``."""
    return dipole_moment(B_eq, R)


@vectorize(_V2, cache=True)
def equatorial_field_from_moment_array(M, R):
    """Array version of ``equatorial_field_from_moment``."""
    return equatorial_field_from_moment(M, R)


@vectorize(_V3, cache=True)
def vadm_array(B_site, lat, R):
    """Array version of ``vadm``."""
    return vadm(B_site, lat, R)
