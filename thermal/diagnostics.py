"""Thermal diagnostics: the heat-related variables of
docs/physics.md §What every run reports from the stored state (stage 2 of §Three stages).

Element-wise over (sample, age): each value comes from ``thermal.model.evaluate`` -- the function the
right-hand side uses, as ``evaluate_heated`` with the radiogenic heat per kg computed once per age --
at the stored state and mode, plus the core entropy terms of
docs/physics.md §Core entropy budget:
  E_S = -M_c c_p (2 r_c^2/(5 D_c^2)) (dT_c/dt)/T_c;   E_L = Q_L (T_i - T_c)/(T_i T_c), T_i = T_a(r_i);
  E_G = Q_G/T_c;   E_R = Q_R 2 r_c^2/(5 D_c^2 T_c);   E_k = 16 pi k_c (r_c^5 - r_i^5)/(5 D_c^4);
  f_i = clip((E_L + E_G)/(E_S + E_L + E_G + E_R), 0, 1) in regime 1, else 0.
"""
import math

import numpy as np
from numba import njit, prange

from . import core
from .layout import (D_DTC, D_EG, D_EK, D_EL, D_ER, D_ES, D_FI, D_HB, D_HRAD, D_QAD, D_QADB, D_QBOT,
                            D_QCMB, D_QS, D_REGIME, D_RI, D_SOLEX, M_CORE, N_DIAG, N_Y, REG_BOTTOM_UP,
                            REG_PLATEAU, Y_DL, Y_TC, Y_TM)
from .mantle import solidus_excess
from .model import (F_DTC, F_HB, F_HRAD, F_QADB, F_QBOT, F_QCMB, F_QG, F_QL, F_QR, F_QS, F_RI, N_F,
                    evaluate_heated)
from .radiogenic import heat_per_kg
from .parameters import MODE_COUPLED


@njit(cache=True)
def entropy_constants(p):
    """The record constants of ``entropy_terms`` and of Q_ad, computed once per model: (r_c^2, D_c^2,
    -M_c c_p 2 r_c^2/(5 D_c^2), 5 D_c^2, 16 pi k_c, r_c^5, 5 D_c^4, 4 pi r_c^2 k_c alpha_c g_c). Each is
    the left part of its formula as written (the same operations in the same order), so the terms are
    bitwise those of the formulas evaluated whole at every age."""
    rc = p.r_core
    D = core.adiabat_length(p)
    M_c = core.core_mass(p)
    return (rc * rc, D * D, -M_c * p.cp_core * (2.0 * rc * rc / (5.0 * D * D)), 5.0 * D * D,
            16.0 * math.pi * p.k_core, rc ** 5, 5.0 * D ** 4, core.adiabatic_factor(p))


@njit(cache=True, _nrt=False)
def entropy_terms(T_c, r_i, dTc_dt, Q_L, Q_G, Q_R, p, c):
    """(E_S, E_L, E_G, E_R, E_k) in W/K, signed (docs/physics.md §Core entropy budget); c: the record's
    ``entropy_constants``."""
    rc = p.r_core
    rc2, DD, es_factor, five_DD, k16pi, rc5, five_D4 = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    E_S = es_factor * dTc_dt / T_c
    T_i = T_c * math.exp((rc2 - r_i * r_i) / DD)
    E_L = Q_L * (T_i - T_c) / (T_i * T_c)
    E_G = Q_G / T_c
    E_R = Q_R * 2.0 * rc * rc / (five_DD * T_c)
    E_k = k16pi * (rc5 - r_i ** 5) / five_D4
    return E_S, E_L, E_G, E_R, E_k


@njit(cache=True)
def inner_boundary_fraction(E_S, E_L, E_G, E_R, regime):
    """f_i = clip((E_L + E_G)/(E_S + E_L + E_G + E_R), 0, 1) in regime 1 (0 if the denominator <= 0)."""
    if regime != REG_BOTTOM_UP and regime != REG_PLATEAU:
        return 0.0
    den = E_S + E_L + E_G + E_R
    if den <= 0.0:
        return 0.0
    return min(max((E_L + E_G) / den, 0.0), 1.0)


@njit(cache=True, _nrt=False)
def diagnose_one(p, ages, heat, state, diag, tab, y, mode, dy, fl):
    """Diagnostics of one model at every output age (state (n_age, N_STATE) -> diag (n_age, N_DIAG));
    tab: the record's branch table (``core.build_branch_table``); heat: ``radiogenic.heat_per_kg`` at the
    ages."""
    start_age = ages[0]
    c = entropy_constants(p)
    for k in range(ages.shape[0]):
        for j in range(N_Y):
            y[j] = state[k, j]
        for j in range(mode.shape[0]):
            mode[j] = state[k, N_Y + j]
        if not math.isfinite(y[Y_TC]):
            for j in range(N_DIAG):
                diag[k, j] = np.nan
            continue
        evaluate_heated(ages[k], heat[k, 0], heat[k, 1], heat[k, 2], start_age, y, mode, p, tab, dy, fl, True)
        regime = int(mode[M_CORE])
        T_c = y[Y_TC]
        r_i = fl[F_RI]
        E_S, E_L, E_G, E_R, E_k = entropy_terms(T_c, r_i, fl[F_DTC], fl[F_QL], fl[F_QG], fl[F_QR], p, c)
        diag[k, D_RI] = r_i
        diag[k, D_REGIME] = REG_BOTTOM_UP if regime == REG_PLATEAU else regime
        diag[k, D_HB] = fl[F_HB]
        diag[k, D_QS] = fl[F_QS]
        diag[k, D_QCMB] = fl[F_QCMB]
        diag[k, D_QAD] = c[7] * T_c / p.cp_core           # core.adiabatic_heat_flow
        diag[k, D_QBOT] = fl[F_QBOT]
        diag[k, D_QADB] = fl[F_QADB]
        diag[k, D_HRAD] = fl[F_HRAD]
        diag[k, D_DTC] = fl[F_DTC]
        diag[k, D_ES] = E_S
        diag[k, D_EL] = E_L
        diag[k, D_EG] = E_G
        diag[k, D_ER] = E_R
        diag[k, D_EK] = E_k
        diag[k, D_FI] = inner_boundary_fraction(E_S, E_L, E_G, E_R, regime)
        diag[k, D_SOLEX] = solidus_excess(y[Y_TM], y[Y_DL], p) if p.mode == MODE_COUPLED else 0.0


@njit(cache=True, parallel=True)
def diagnose(records, ages, state, diag, tabs):
    """Thermal diagnostics over (sample, age): state (n, n_age, N_STATE) -> diag (n, n_age, N_DIAG).

    tabs (n, core.N_TAB): each record's branch table, as the kernel leaves it (``kernel.integrate``) or
    ``core.build_tables`` makes it (the same function of the record: the same numbers). Failed models
    (NaN state) get NaN diagnostics.
    """
    n = records.shape[0]
    n_mode = state.shape[2] - N_Y
    heat = np.empty((ages.shape[0], 3))   # the radiogenic heat per kg at each age, shared by every model
    heat_per_kg(ages, heat)
    for i in prange(n):
        w = np.empty(core.N_TAB + 2 * N_Y + n_mode + N_F)   # per model: no shared reference counts
        tab = w[:core.N_TAB]
        for k in range(core.N_TAB):
            tab[k] = tabs[i, k]
        y = w[core.N_TAB:core.N_TAB + N_Y]
        mode = w[core.N_TAB + N_Y:core.N_TAB + N_Y + n_mode]
        dy = w[core.N_TAB + N_Y + n_mode:core.N_TAB + 2 * N_Y + n_mode]
        fl = w[core.N_TAB + 2 * N_Y + n_mode:]
        diagnose_one(records[i], ages, heat, state[i], diag[i], tab, y, mode, dy, fl)
