"""The basal layer: molten (the basal magma ocean), then a solid conducting shell (docs/physics.md §Basal layer).

Dense, heat-producing cumulates that overturned onto the core-mantle boundary: the shell
(r_c, r_c + H0). While molten (T_b > T_sol,b) the core is slaved to it (T_c = T_b + dT_cb); after it
solidifies it conducts heat from the core to the mantle.
"""
import math

from numba import njit

from .constants import G


@njit(cache=True)
def layer_mass(p):
    """M_layer = rho_b (4/3) pi ((r_c + H0)^3 - r_c^3)."""
    return p.rho_bmo * 4.0 / 3.0 * math.pi * ((p.r_core + p.bmo_thickness0) ** 3 - p.r_core ** 3)


@njit(cache=True)
def molten_thickness(T_b, p):
    """Liquid thickness H_b = H0 clip((T_b - T_sol,b)/(T_b0 - T_sol,b), 0, 1) (docs/physics.md §Molten basal layer)."""
    x = (T_b - p.T_bmo_solidus) / (p.T_bmo0 - p.T_bmo_solidus)
    if x < 0.0:
        x = 0.0
    elif x > 1.0:
        x = 1.0
    return p.bmo_thickness0 * x


@njit(cache=True)
def latent_capacity(H_b, partial, p):
    """L_b rho_b 4 pi r_h^2 dH_b/dT_b (J/K): latent heat per kelvin of the partly molten layer.

    dH_b/dT_b = H0/(T_b0 - T_sol,b) while partly molten (``partial``), 0 above T_b0
    (docs/physics.md §Molten basal layer).
    """
    if not partial:
        return 0.0
    r_h = p.r_core + H_b
    return p.latent_bmo * p.rho_bmo * 4.0 * math.pi * r_h * r_h * p.bmo_thickness0 / (p.T_bmo0 - p.T_bmo_solidus)


@njit(cache=True)
def layer_energy(T_b, H_b, p):
    """E_layer = M_layer c_b T_b + L_b rho_b (4/3) pi (r_h^3 - r_c^3), r_h = r_c + H_b
    (docs/physics.md §Energy books)."""
    return (layer_mass(p) * p.cp_bmo * T_b
            + p.latent_bmo * p.rho_bmo * 4.0 / 3.0 * math.pi * ((p.r_core + H_b) ** 3 - p.r_core ** 3))


@njit(cache=True)
def conductive_cmb_flow(T_c, T_b, p):
    """Q_cmb = 4 pi k_b (T_c - T_b)/(1/r_c - 1/r_mid), r_mid = r_c + H0/2, through the solid layer
    (docs/physics.md §Solid basal layer)."""
    r_mid = p.r_core + 0.5 * p.bmo_thickness0
    return 4.0 * math.pi * p.k_bmo * (T_c - T_b) / (1.0 / p.r_core - 1.0 / r_mid)


@njit(cache=True)
def gravity_in_layer(r, r_c, rho_c, rho_b):
    """g(r) = G [M_c + rho_b (4/3) pi (r^3 - r_c^3)] / r^2, M_c = (4/3) pi rho_c r_c^3
    (docs/physics.md §Gravity and adiabat in the basal layer)."""
    m = 4.0 / 3.0 * math.pi * (rho_c * r_c ** 3 + rho_b * (r ** 3 - r_c ** 3))
    return G * m / (r * r)


@njit(cache=True)
def layer_gravity(r, p):
    """g(r) in the basal layer of record ``p`` (``gravity_in_layer``)."""
    return gravity_in_layer(r, p.r_core, p.rho_core, p.rho_bmo)


@njit(cache=True)
def bmo_adiabatic_heat_flow(T_b, H_b, p):
    """Q_ad,b = 4 pi r_h^2 k_b alpha_b g_b T_b / c_b, g_b = g(r_c + H_b/2)
    (docs/physics.md §Gravity and adiabat in the basal layer)."""
    if H_b <= 0.0:
        return 0.0
    r_h = p.r_core + H_b
    g_b = layer_gravity(p.r_core + 0.5 * H_b, p)
    return 4.0 * math.pi * r_h * r_h * p.k_bmo * p.alpha_bmo * g_b * T_b / p.cp_bmo
