"""Basal magma ocean (BMO) dynamo: gravity in the basal layer and the BMO's ohmic dissipation.

docs/physics.md §Basal layer, §Basal-magma-ocean dynamo (Scheinberg, Soderlund & Elkins-Tanton 2018). The molten thickness
H_b, the heat flow into the mantle Q_bot and the BMO adiabatic heat flow Q_ad,b are thermal diagnostics.
"""
import math

from numba import float64, njit

from ..thermal.basal_layer import gravity_in_layer as layer_gravity


@njit(float64(float64, float64, float64, float64, float64, float64, float64, float64, float64), cache=True)
def bmo_dissipation(f_ohm, alpha_b, c_b, H_b, r_c, rho_c, rho_b, Q_bot, Q_ad_b):
    """Ohmic dissipation of the BMO dynamo Phi_bmo = f_ohm (alpha_b g_b H_b/c_b)(Q_bot - Q_ad,b) while the
    layer is molten (H_b > 0), g_b = g(r_c + H_b/2); 0 if negative or not molten. An upper bound: internal
    heating lowers the real buoyancy (docs/physics.md §Basal-magma-ocean dynamo; Scheinberg et al. 2018)."""
    if not (H_b > 0.0):
        return 0.0 if H_b == H_b else math.nan
    g_b = layer_gravity(r_c + 0.5 * H_b, r_c, rho_c, rho_b)
    phi = f_ohm * alpha_b * g_b * H_b / c_b * (Q_bot - Q_ad_b)
    if phi < 0.0:
        return 0.0
    return phi
