"""Radiogenic heating (docs/physics.md §Radiogenic heating; Turcotte & Schubert, constants without neutrinos).

Heat production per kg of the element (natural isotopic mix) today, growing back in time with each
isotope's decay constant. Ages in Ga before present; half-lives in years (year = 365.25 d).
"""
import math

from numba import njit

from .constants import GA

LN2 = math.log(2.0)
# Heat production per kg of isotope (W/kg) and natural abundance (T&S Table 4.2, no neutrinos).
H_U238, H_U235, H_TH232, H_K40 = 9.46e-5, 5.69e-4, 2.64e-5, 2.92e-5
X_U238, X_U235, X_TH232, X_K40 = 0.9928, 0.0071, 1.0, 1.19e-4
# Decay constants per Ga from the half-lives 4.468e9, 7.038e8, 1.405e10, 1.248e9 yr.
LAM_U238 = LN2 / 4.468
LAM_U235 = LN2 / 0.7038
LAM_TH232 = LN2 / 14.05
LAM_K40 = LN2 / 1.248


@njit(cache=True)
def heat_per_kg_U(age):
    """W per kg of natural U at ``age`` Ga (T&S eq. 4.6 summed over 238U and 235U)."""
    return X_U238 * H_U238 * math.exp(LAM_U238 * age) + X_U235 * H_U235 * math.exp(LAM_U235 * age)


@njit(cache=True)
def heat_per_kg_Th(age):
    """W per kg of Th at ``age`` Ga (T&S eq. 4.6, 232Th)."""
    return X_TH232 * H_TH232 * math.exp(LAM_TH232 * age)


@njit(cache=True)
def heat_per_kg_K(age):
    """W per kg of natural K at ``age`` Ga (T&S eq. 4.6, 40K)."""
    return X_K40 * H_K40 * math.exp(LAM_K40 * age)


@njit(cache=True)
def silicate_heating(age, U_ppb, Th_ppb, K_ppm):
    """Heat production h(t) of the bulk silicate Moon, W/kg (docs/physics.md §Radiogenic heating)."""
    return silicate_heating_from(heat_per_kg_U(age), heat_per_kg_Th(age), heat_per_kg_K(age), U_ppb, Th_ppb,
                                 K_ppm)


@njit(cache=True)
def silicate_heating_from(h_U, h_Th, h_K, U_ppb, Th_ppb, K_ppm):
    """``silicate_heating`` from the heat per kg of U, Th and K at the age (the same operations: the
    same number); those three depend on the age alone, so a batch evaluated at shared ages computes
    them once per age (``heat_per_kg``)."""
    return U_ppb * 1e-9 * h_U + Th_ppb * 1e-9 * h_Th + K_ppm * 1e-6 * h_K


@njit(cache=True)
def heat_per_kg(ages, out):
    """out[k] = (heat_per_kg_U, heat_per_kg_Th, heat_per_kg_K) at ages[k] (W per kg of the element)."""
    for k in range(ages.shape[0]):
        out[k, 0] = heat_per_kg_U(ages[k])
        out[k, 1] = heat_per_kg_Th(ages[k])
        out[k, 2] = heat_per_kg_K(ages[k])


@njit(cache=True)
def core_potassium_heating(age, K_core_ppm):
    """Core radiogenic heating per kg of core, h_K(t) (docs/physics.md §Radiogenic heating, Q_R = M_c h_K)."""
    return core_potassium_heating_from(heat_per_kg_K(age), K_core_ppm)


@njit(cache=True)
def core_potassium_heating_from(h_K, K_core_ppm):
    """``core_potassium_heating`` from the heat per kg of K at the age."""
    if K_core_ppm == 0.0:
        return 0.0
    return K_core_ppm * 1e-6 * h_K


@njit(cache=True)
def core_potassium_energy(age_from, age_to, K_core_ppm, M_c):
    """Integral of Q_R dt (J) from ``age_from`` to ``age_to`` (Ga, age_to <= age_from), analytic."""
    if K_core_ppm == 0.0:
        return 0.0
    return (M_c * K_core_ppm * 1e-6 * X_K40 * H_K40 * GA
            * (math.exp(LAM_K40 * age_from) - math.exp(LAM_K40 * age_to)) / LAM_K40)
