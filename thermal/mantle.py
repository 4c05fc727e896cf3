"""0-D stagnant-lid mantle with crust, lid profile and lower boundary layer (docs/physics.md §Mantle).

Sources: Grott & Breuer 2008; Morschhauser et al. 2011; Thiriet et al. 2019 (boundary layers,
Deschamps & Sotin 2001 lower layer); Spohn 1991 (lid growth). Surface gravity throughout (v1).
"""
import math

import numpy as np
from numba import njit

from .constants import R_GAS

MIN_MANTLE_THICKNESS = 10e3  # m: the thinnest convecting mantle the model accepts (thinner: status ST_BOUNDS)


@njit(cache=True)
def viscosity(T, eta_ref, E_visc, T_visc_ref):
    """Arrhenius viscosity eta(T) = eta_ref exp[(E/R_g)(1/T - 1/T_ref)]
    (docs/physics.md §Viscosity and rheological scale)."""
    return eta_ref * math.exp(E_visc / R_GAS * (1.0 / T - 1.0 / T_visc_ref))


@njit(cache=True)
def rheological_scale(T_m, a_rh, E_visc):
    """Rheological temperature scale dT_rh = a_rh R_g T_m^2 / E (docs/physics.md §Viscosity and rheological scale)."""
    return a_rh * R_GAS * T_m * T_m / E_visc


@njit(cache=True)
def log_viscosity(T, ln_eta_ref, E_visc, T_visc_ref):
    """ln eta(T) = ln eta_ref + (E/R_g)(1/T - 1/T_ref): the Arrhenius law of ``viscosity`` in logarithms
    (the boundary layers need eta only inside cube roots of Rayleigh numbers, which they take in logs)."""
    return ln_eta_ref + E_visc / R_GAS * (1.0 / T - 1.0 / T_visc_ref)


@njit(cache=True)
def log_rayleigh_factor(p):
    """ln F, F = alpha rho g / kappa (m^-3 K^-1 Pa s): Ra = F dT D^3 / eta (a record constant)."""
    return math.log(p.alpha_mantle * p.rho_mantle * p.g_surface / p.kappa_mantle)


# ln 0.28, the prefactor of Ra_crit,b = 0.28 Ra_i^0.21 (Deschamps & Sotin 2001)
LN_RA_CRIT_B = math.log(0.28)


@njit(cache=True)
def upper_boundary_flux(T_m, ln_eta, ln_F, p):
    """Heat flux q_u out of the convecting mantle into the lid base (docs/physics.md §Upper boundary layer).

    Ra = alpha rho g dT_rh D^3/(kappa eta(T_m)); delta_u = D (Ra_crit/Ra)^(1/3); q_u = k dT_rh/delta_u.
    D cancels in delta_u = (Ra_crit kappa eta/(alpha rho g dT_rh))^(1/3), evaluated in logarithms as
    exp((ln(Ra_crit/dT_rh) - ln F + ln eta)/3): one log and one exponential where eta and the cube root
    took an exponential and a cube root (the same number to rounding). ``ln_eta`` = log_viscosity(T_m),
    computed once by the caller for both boundary layers; ``ln_F`` = log_rayleigh_factor(p).
    """
    dT = rheological_scale(T_m, p.a_rh, p.E_visc)
    delta = math.exp((math.log(p.Ra_crit / dT) - ln_F + ln_eta) / 3.0)
    return p.k_mantle * dT / delta


@njit(cache=True)
def lower_boundary_flux(T_m, T_bot, D, ln_eta, ln_eta_ref, ln_F, p):
    """Heat flux q_b into the mantle base from below (docs/physics.md §Lower boundary layer; Deschamps & Sotin 2001).

    T_mb = T_m + alpha g T_m D / c_m is the adiabatic base temperature; Ra_crit,b = 0.28 Ra_i^0.21;
    delta_b = D (Ra_crit,b/Ra_b)^(1/3) with eta at (T_bot + T_mb)/2; q_b = 0 if T_bot <= T_mb.
    In logarithms: delta_b = D exp((ln 0.28 + 0.21 ln Ra_i - ln Ra_b)/3), ln Ra = ln F + 3 ln D + ln dT -
    ln eta (three logs and an exponential where eta, the power and the cube root took two exponentials,
    a power and a cube root). ``ln_eta`` = log_viscosity(T_m); ``ln_eta_ref`` = ln eta_ref; ``ln_F`` =
    log_rayleigh_factor(p).
    """
    T_mb = T_m + p.alpha_mantle * p.g_surface * T_m * D / p.cp_mantle
    if T_bot <= T_mb:
        return 0.0
    ln_fac = ln_F + 3.0 * math.log(D)
    ln_Ra_i = ln_fac + math.log(T_bot - p.T_surface) - ln_eta
    ln_Ra_b = (ln_fac + math.log(T_bot - T_mb)
               - log_viscosity(0.5 * (T_bot + T_mb), ln_eta_ref, p.E_visc, p.T_visc_ref))
    delta = D * math.exp((LN_RA_CRIT_B + 0.21 * ln_Ra_i - ln_Ra_b) / 3.0)
    return p.k_mantle * (T_bot - T_mb) / delta


@njit(cache=True)
def lid_base_flux(T_l, D_l, A_c, A_m, p):
    """Heat flux q_lb conducted into the lid base (planar steady lid with crust; docs/physics.md §Stagnant lid).

    q_lb = [T_l - T_s - (A_m (D_l-d_c) d_c + A_c d_c^2/2)/k_cr - A_m (D_l-d_c)^2/(2 k_m)]
           / (d_c/k_cr + (D_l-d_c)/k_m)
    """
    d_c = p.crust_thickness
    dm = D_l - d_c
    num = (T_l - p.T_surface - (A_m * dm * d_c + 0.5 * A_c * d_c * d_c) / p.k_crust
           - A_m * dm * dm / (2.0 * p.k_mantle))
    return num / (d_c / p.k_crust + dm / p.k_mantle)


@njit(cache=True)
def surface_flux(q_lb, D_l, A_c, A_m, p):
    """Surface heat flux q_s = q_lb + A_m (D_l - d_c) + A_c d_c (docs/physics.md §Stagnant lid)."""
    return q_lb + A_m * (D_l - p.crust_thickness) + A_c * p.crust_thickness


@njit(cache=True)
def katz_solidus(P):
    """Katz et al. (2003) dry peridotite solidus in K at pressure P (Pa): 1085.7 + 132.9 P - 5.1 P^2 (degC, GPa)."""
    Pg = P * 1e-9
    return 1085.7 + 132.9 * Pg - 5.1 * Pg * Pg + 273.15


@njit(cache=True)
def solidus_excess(T_m, D_l, p):
    """Volcanism proxy T_m - T_sol(P_l) at the lid base
    (docs/physics.md §Volcanism proxy), solidus shifted by solidus_offset."""
    P_l = p.rho_crust * p.g_surface * p.crust_thickness + p.rho_mantle * p.g_surface * (D_l - p.crust_thickness)
    return T_m - (katz_solidus(P_l) + p.solidus_offset)
