"""The coupled right-hand side: mantle, basal layer and core at one age (docs/physics.md §Structure and state).

``evaluate`` is a pure function of (age, y, mode, record, table): it fills the time derivatives of the
state (per Ga) and the heat flows of the moment. The integrator, the thermal diagnostics and the scipy
reference all call it, so they can never disagree.
"""
import math

import numpy as np
from numba import njit, prange

from . import basal_layer as bl
from . import core
from . import mantle
from .constants import GA
from .core_only import prescribed_cmb_flow
from .layout import (LAYER_HOT, LAYER_MOLTEN, LAYER_NONE, LAYER_SOLID, M_CORE, M_EREF, M_LAYER,
                            M_LID, M_RREF, M_THOLD, REG_BOTTOM_UP, REG_EUTECTIC, REG_LIQUID, REG_PLATEAU,
                            REG_SOLID, REG_TOP_DOWN, ST_BOUNDS, ST_OK, ST_ROOT, Y_DL, Y_IAQ, Y_IHL, Y_IQ,
                            Y_IQB, Y_TB, Y_TC, Y_TM)
from .radiogenic import (core_potassium_energy, core_potassium_heating_from, heat_per_kg_K, heat_per_kg_Th,
                         heat_per_kg_U, silicate_heating_from)
from .parameters import MODE_CORE_ONLY, MODE_COUPLED

# heat flows of the moment (the ``fl`` array)
(F_RI, F_HB, F_QS, F_QCMB, F_QBOT, F_QADB, F_HRAD, F_HLAYER, F_QR, F_DTC, F_QL, F_QG, F_CFR,
 F_AC, F_AM) = range(15)
N_F = 15


# the record constants cached in the table (core.TAB_REC0 on): silicate volumes (crust, convecting
# mantle, basal layer), silicate mass, core mass M_c, secular capacity C_S, ln eta_ref and ln F of the
# mantle's Rayleigh numbers (mantle.log_rayleigh_factor)
(TAB_VCRUST, TAB_VMANTLE, TAB_VLAYER, TAB_MSIL, TAB_MC, TAB_CS, TAB_LNETA,
 TAB_LNF) = range(core.TAB_REC0, core.TAB_REC0 + core.N_RECORD_CONSTANTS)


@njit(cache=True, _nrt=False)
def record_constants(p, tab):
    """Fill the record-constant slots of ``tab``: V_crust = (4/3) pi (R^3 - (R - d_c)^3), V_mantle =
    (4/3) pi ((R - d_c)^3 - (r_c + H0)^3), V_layer = (4/3) pi ((r_c + H0)^3 - r_c^3), the silicate mass,
    M_c, C_S, ln eta_ref and ln F (docs/physics.md §Mantle, I.2.2). Computed once per record instead of at every evaluation: the
    same expressions, so the same numbers."""
    R = p.radius
    rc = p.r_core
    H0 = layer_thickness0(p)
    d_c = p.crust_thickness
    V_crust = 4.0 / 3.0 * math.pi * (R ** 3 - (R - d_c) ** 3)
    V_mantle = 4.0 / 3.0 * math.pi * ((R - d_c) ** 3 - (rc + H0) ** 3)
    V_layer = 4.0 / 3.0 * math.pi * ((rc + H0) ** 3 - rc ** 3)
    tab[TAB_VCRUST] = V_crust
    tab[TAB_VMANTLE] = V_mantle
    tab[TAB_VLAYER] = V_layer
    tab[TAB_MSIL] = p.rho_crust * V_crust + p.rho_mantle * V_mantle + p.rho_bmo * V_layer
    tab[TAB_MC] = core.core_mass(p)
    tab[TAB_CS] = core.secular_capacity(p)
    tab[TAB_LNETA] = math.log(p.eta_ref)
    tab[TAB_LNF] = mantle.log_rayleigh_factor(p)


@njit(cache=True, _nrt=False)
def prepare_table(p, tab):
    """The record's table (length core.N_TAB) that ``evaluate`` reads: the core's branch table
    (``core.build_branch_table``) and the record constants (``record_constants``)."""
    core.build_branch_table(p, tab)
    record_constants(p, tab)


@njit(cache=True, parallel=True)
def build_tables(records, tabs):
    """``prepare_table`` of every record: tabs (n, core.N_TAB) (what the kernel leaves for the
    diagnostics; ``lunadyn field`` rebuilds them for a stored history)."""
    for i in prange(records.shape[0]):
        tab = np.empty(core.N_TAB)        # per record: no shared reference counts between threads
        prepare_table(records[i], tab)
        for k in range(core.N_TAB):
            tabs[i, k] = tab[k]


@njit(cache=True)
def layer_thickness0(p):
    """H0 in use: the basal layer exists only in the coupled mode."""
    return p.bmo_thickness0 if p.mode == MODE_COUPLED else 0.0


@njit(cache=True, _nrt=False)
def released_core_energy(age, start_age, y, mode, p):
    """X = int (Q_cmb - Q_R) dt since the last regime entry (J), from the integral states."""
    M_c = core.core_mass(p)
    return y[Y_IQ] - core_potassium_energy(start_age, age, p.K_core_ppm, M_c) - mode[M_EREF]


@njit(cache=True, _nrt=False)
def core_freezing(T_c, X, regime, r_ref, p, tab):
    """Inner core of the moment (docs/physics.md §Core regimes).

    Returns (r_i, C_fr, frac_L, held, ok): C_fr = -(4 pi r_i^2 rho_c L_H + Q_G/r_i') dr_i/dT_c is the
    heat capacity added by freezing (J/K), frac_L the latent share of the freezing heat, held whether
    T_c is held (nucleation plateau, eutectic).
    """
    rc = p.r_core
    lat_r2 = 4.0 * math.pi * p.rho_core * p.latent_core
    if regime == REG_LIQUID:
        return 0.0, 0.0, 1.0, False, True
    if regime == REG_TOP_DOWN:
        return r_ref, 0.0, 1.0, False, True
    if regime == REG_SOLID:
        return rc, 0.0, 1.0, False, True
    if regime == REG_EUTECTIC:
        r3 = r_ref ** 3 + 3.0 * X / (lat_r2)
        r_i = min(max(r3, 0.0) ** (1.0 / 3.0), rc)
        return r_i, 0.0, 1.0, True, True
    if regime == REG_PLATEAU:
        r_i, ok = core.nucleus_radius(X, p, tab)
        grav_r2 = core.gravitational_factor_r2(r_i, p)
        return r_i, 0.0, lat_r2 / (lat_r2 + grav_r2), True, ok
    # bottom-up
    r_i, dTdr, ok = core.inner_core_radius(T_c, p, tab)
    grav_r2 = core.gravitational_factor_r2(r_i, p)
    num = r_i * r_i * (lat_r2 + grav_r2)
    if num == 0.0:
        C_fr = 0.0
    elif dTdr < 0.0:
        C_fr = -num / dTdr
    else:
        C_fr = 1e300
    return r_i, C_fr, lat_r2 / (lat_r2 + grav_r2), False, ok


@njit(cache=True, _nrt=False)
def evaluate(age, start_age, y, mode, p, tab, dydt, fl):
    """Right-hand side dy/dtau (per Ga of model time, tau = start_age - age) and heat flows (W).

    docs/physics.md §Mantle, §Core, §Core-only mode, §Basal layer.
    Returns a thermal status code (0 ok, 4 out of physical bounds, 5 root-finding failure).
    """
    return evaluate_heated(age, heat_per_kg_U(age), heat_per_kg_Th(age), heat_per_kg_K(age), start_age, y, mode,
                           p, tab, dydt, fl, True)


@njit(cache=True, _nrt=False)
def evaluate_rates(age, start_age, y, mode, p, tab, dydt, fl):
    """``evaluate`` for the integrator: the same dy/dtau (the same operations, so the same numbers), with
    only the flows the integrator reads filled in ``fl`` (F_RI, F_CFR); the flows that only the
    diagnostics report (Q_s, Q_ad,b, Q_L, Q_G and the rest) are not computed."""
    return evaluate_heated(age, heat_per_kg_U(age), heat_per_kg_Th(age), heat_per_kg_K(age), start_age, y, mode,
                           p, tab, dydt, fl, False)


@njit(cache=True, _nrt=False)
def evaluate_heated(age, h_U, h_Th, h_K, start_age, y, mode, p, tab, dydt, fl, flows):
    """``evaluate`` with the heat per kg of U, Th and K at ``age`` given (``radiogenic.heat_per_kg``): the
    diagnostics, at ages every model of a batch shares, compute those once per age. With ``flows`` False
    only fl[F_RI] and fl[F_CFR] are filled (``evaluate_rates``)."""
    R = p.radius
    rc = p.r_core
    H0 = layer_thickness0(p)
    layer = int(mode[M_LAYER])
    regime = int(mode[M_CORE])
    T_m, D_l, T_c, T_b = y[Y_TM], y[Y_DL], y[Y_TC], y[Y_TB]
    status = ST_OK

    # radiogenic inventory split (fixed volumes: crust, mantle, layer; record constants of ``tab``)
    d_c = p.crust_thickness
    V_crust = tab[TAB_VCRUST]
    V_mantle = tab[TAB_VMANTLE]
    M_sil = tab[TAB_MSIL]
    H = silicate_heating_from(h_U, h_Th, h_K, p.U_ppb, p.Th_ppb, p.K_ppm) * M_sil
    A_c = p.f_hpe_crust * H / V_crust
    A_m = (1.0 - p.f_hpe_crust - p.f_hpe_basal) * H / V_mantle
    H_layer = p.f_hpe_basal * H if H0 > 0.0 else 0.0

    # core
    M_c = tab[TAB_MC]
    C_S = tab[TAB_CS]
    Q_R = M_c * core_potassium_heating_from(h_K, p.K_core_ppm)
    # X enters only the held regimes' inner core (``core_freezing``): two exponentials saved elsewhere
    X = released_core_energy(age, start_age, y, mode, p) if regime == REG_PLATEAU or regime == REG_EUTECTIC else 0.0
    r_i, C_fr, frac_L, held, ok = core_freezing(T_c, X, regime, mode[M_RREF], p, tab)
    if not ok:
        status = ST_ROOT
    if T_c < p.T_surface or T_b < p.T_surface:
        status = ST_BOUNDS
    C_core = C_S + C_fr

    H_b = 0.0
    Q_s = 0.0
    if p.mode == MODE_CORE_ONLY:
        # core-only: prescribed CMB heat flow, mantle frozen
        Q_cmb = prescribed_cmb_flow(age, p)
        Q_bot = Q_cmb
        dTc = 0.0 if held else -(Q_cmb - Q_R) / C_core
        dTm = 0.0
        dDl = 0.0
        dTb = dTc
    else:
        r_top = R - D_l
        r_bot = rc + H0
        D = r_top - r_bot
        if D < mantle.MIN_MANTLE_THICKNESS or T_m <= p.T_surface or D_l < 0.5 * d_c:
            status = ST_BOUNDS
            D = max(D, mantle.MIN_MANTLE_THICKNESS)
        T_bot = T_b if H0 > 0.0 else T_c
        ln_eta_m = mantle.log_viscosity(T_m, tab[TAB_LNETA], p.E_visc, p.T_visc_ref)
        q_u = mantle.upper_boundary_flux(T_m, ln_eta_m, tab[TAB_LNF], p)
        q_b = mantle.lower_boundary_flux(T_m, T_bot, D, ln_eta_m, tab[TAB_LNETA], tab[TAB_LNF], p)
        Q_bot = q_b * 4.0 * math.pi * r_bot * r_bot
        dT_rh = mantle.rheological_scale(T_m, p.a_rh, p.E_visc)
        q_lb = mantle.lid_base_flux(T_m - dT_rh, D_l, A_c, A_m, p)
        if flows:
            Q_s = mantle.surface_flux(q_lb, D_l, A_c, A_m, p) * 4.0 * math.pi * R * R
        dDl = (q_lb - q_u) / (p.rho_mantle * p.cp_mantle * dT_rh)
        if mode[M_LID] > 0.5 and dDl < 0.0:
            dDl = 0.0
        V_m = 4.0 / 3.0 * math.pi * (r_top ** 3 - r_bot ** 3)
        dTm = (-q_u * 4.0 * math.pi * r_top * r_top + Q_bot + A_m * V_m) / (p.rho_mantle * p.cp_mantle * V_m)
        if layer == LAYER_NONE:
            Q_cmb = Q_bot
            dTc = 0.0 if held else -(Q_cmb - Q_R) / C_core
            dTb = dTc
        elif layer == LAYER_SOLID:
            Q_cmb = bl.conductive_cmb_flow(T_c, T_b, p)
            dTc = 0.0 if held else -(Q_cmb - Q_R) / C_core
            dTb = (Q_cmb - Q_bot + H_layer) / (bl.layer_mass(p) * p.cp_bmo)
        else:
            # molten: the core is slaved to the layer, one energy equation for both
            H_b = bl.molten_thickness(T_b, p)
            if held:
                dTb = 0.0
                Q_cmb = Q_bot - H_layer
            else:
                C_tot = C_core + bl.layer_mass(p) * p.cp_bmo + bl.latent_capacity(H_b, layer == LAYER_MOLTEN, p)
                dTb = (-Q_bot + H_layer + Q_R) / C_tot
                Q_cmb = Q_R - C_core * dTb
            dTc = dTb

    dydt[Y_TM] = dTm * GA
    dydt[Y_DL] = dDl * GA
    dydt[Y_TC] = dTc * GA
    dydt[Y_TB] = dTb * GA
    dydt[Y_IQ] = Q_cmb * GA
    dydt[Y_IAQ] = abs(Q_cmb) * GA
    dydt[Y_IQB] = Q_bot * GA
    dydt[Y_IHL] = H_layer * GA

    fl[F_RI] = r_i
    fl[F_CFR] = C_fr
    if not flows:
        return status
    if held:
        Q_L = frac_L * (Q_cmb - Q_R)
        Q_G = (Q_cmb - Q_R) - Q_L
    else:
        Q_L = -C_fr * dTc * frac_L
        Q_G = -C_fr * dTc - Q_L
    fl[F_HB] = H_b
    fl[F_QS] = Q_s
    fl[F_QCMB] = Q_cmb
    fl[F_QBOT] = Q_bot
    fl[F_QADB] = bl.bmo_adiabatic_heat_flow(T_b, H_b, p)
    fl[F_HRAD] = H
    fl[F_HLAYER] = H_layer
    fl[F_QR] = Q_R
    fl[F_DTC] = dTc
    fl[F_QL] = Q_L
    fl[F_QG] = Q_G
    fl[F_AC] = A_c
    fl[F_AM] = A_m
    return status


@njit(cache=True)
def core_energy(T_c, r_i, r_grav, p):
    """E_core = C_S T_c - L_H M_ic - Psi_G(r_grav) (docs/physics.md §Energy books; r_grav the radius reached while S was
    still being rejected: r_i in regimes 1 and the plateau, the frozen entry radius after)."""
    return (core.secular_capacity(p) * T_c - p.latent_core * p.rho_core * 4.0 / 3.0 * math.pi * r_i ** 3
            - core.gravitational_energy(r_grav, p))


@njit(cache=True)
def gravitating_radius(r_i, regime, r_ref):
    """Radius up to which sulfur rejection released gravitational energy (see ``core_energy``)."""
    if regime == REG_BOTTOM_UP or regime == REG_PLATEAU or regime == REG_LIQUID:
        return r_i
    return r_ref
