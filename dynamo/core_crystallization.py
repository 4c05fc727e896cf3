"""Core convection and crystallization dynamo: the ohmic dissipation of the core's entropy budget.

docs/physics.md §Core entropy budget, §Core dynamo (Gubbins et al. 2003/2004; Nimmo 2009, 2015). The entropy terms
(E_S, E_L, E_G, E_R, E_k in W/K) and f_i are thermal diagnostics; this module only combines them.
"""
from numba import float64, njit


@njit(float64(float64, float64, float64, float64, float64, float64), cache=True)
def core_dissipation(T_c, E_S, E_L, E_G, E_R, E_k):
    """Ohmic dissipation available to the core dynamo Phi_core = T_c (E_S + E_L + E_G + E_R - E_k), 0 if
    negative (thermal and compositional convection in one entropy budget)
    (docs/physics.md §Core dynamo; Nimmo 2015). NaN inputs give NaN."""
    phi = T_c * (E_S + E_L + E_G + E_R - E_k)
    if phi < 0.0:
        return 0.0
    return phi
