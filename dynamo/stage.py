"""The dynamo stage (docs/physics.md §Three stages, §Dynamo sources): element-wise over (sample, age).

For every model and output age: the orbit a(t) and spin n(a); for each source (core, BMO, precession)
its dissipation Phi, shell (r_in, r_out), velocity u, Rm = mu0 sigma u L, on/off and equatorial
surface field; B_surface = the largest source field (two dynamos in one body do not add linearly).

A source is on when Phi > 0, Rm >= rm_crit and L = r_out - r_in >= shell_min (precession also needs
a < a_precession_end) and the ``sources`` parameter (a bitmask: bit 0 core, 1 BMO, 2 precession) lets it
feed the field: a source left out of ``sources`` still convects and takes part in the thermal evolution
(nothing here feeds back on it), but is never on, so its B is 0 and it adds nothing to B_surface. Its
Phi, u and Rm are reported whenever it convects (Phi > 0, else 0); its B is 0 while it is off. Failed
models (thermal status code, status & ST_CODE_MASK, != 0) get NaN outputs and summaries.

Where the orbit model is undefined (``constant_q`` beyond its 1.548 Ga collapse, a published history
outside its source's age range) a_orbit and the
precession variables are NaN (dynamo_on_precession 0), status gets FLAG_ORBIT_UNDEFINED, and the core
and BMO laws, which need a spin, use the spin of the default orbit (``cyclostratigraphy``) at that age
(their dependence on Omega is weak: Omega^(1/10) cia, Omega^(1/4) mac, Omega^(-0.02) ca06, none ml).
"""
import math

import numpy as np
from numba import boolean, float64, int64, njit, prange, types

from .basal_magma_ocean import bmo_dissipation
from .core_crystallization import core_dissipation
from .layout import (N_DYN, N_DYN_SUMMARY, O_A, O_B_CORE, O_B_PREC, O_B_SURFACE, O_ON_CORE, O_ON_PREC, O_PHI_CORE, O_PHI_PREC, O_RM_CORE,
                           O_RM_PREC, O_U_CORE, O_U_PREC, S_END_BMO, S_END_CORE, S_END_PREC)
from .orbit import (ORBIT_CYCLOSTRATIGRAPHY, ORBIT_SPAN, ORBIT_TABLE, mean_motion, nodal_rate,
                          semi_major_axis, semi_major_axis_array)
from .precession import cassini_obliquity, differential_velocity, precession_dissipation
from .scaling import (bmo_dipolarity, core_dipolarity, equatorial_surface_field, law_field,
                            law_velocity, magnetic_reynolds, precession_dipolarity, shell_volume)
from ..thermal.layout import (D_EG, D_EK, D_EL, D_ER, D_ES, D_FI, D_HB, D_QADB, D_QBOT, D_REGIME, D_RI,
                            FLAG_ORBIT_UNDEFINED, REG_SOLID, ST_CODE_MASK, Y_TC)

SOURCE_CORE, SOURCE_BMO, SOURCE_PRECESSION = 1, 2, 4  # bits of the ``sources`` record field


@njit(types.UniTuple(float64, 4)(int64, float64, float64, float64, float64, float64, float64, float64,
                                 float64, float64, float64, float64, boolean), cache=True)
def dynamo_source(law, Phi, r_in, r_out, rho, sigma, omega, u_given, b_dip, R, rm_crit, shell_min, allowed):
    """One dynamo source (docs/physics.md §Scaling laws): with L = r_out - r_in and phi = Phi/V_shell, the law's velocity
    (or ``u_given`` when >= 0: the precession shear dv), Rm = mu0 sigma u L, on = Phi > 0, Rm >= rm_crit,
    L >= shell_min and ``allowed``, and the equatorial surface field (B_rms/b_dip)(r_out/R)^3/sqrt(2)
    while on. Returns (u, Rm, on (0/1), B_eq); all 0 when Phi <= 0 or L <= 0."""
    L = r_out - r_in
    if not (Phi > 0.0) or not (L > 0.0):
        return 0.0, 0.0, 0.0, 0.0
    phi = Phi / shell_volume(r_in, r_out)
    if u_given >= 0.0:
        u = u_given
    else:
        u = law_velocity(law, phi, L, rho, omega)
    Rm = magnetic_reynolds(u, L, sigma)
    if allowed and Rm >= rm_crit and L >= shell_min:
        B = equatorial_surface_field(law_field(law, phi, L, rho, omega), b_dip, r_out, R)
        return u, Rm, 1.0, B
    return u, Rm, 0.0, 0.0


@njit(cache=True)
def _put_source(out, m, k, src, Phi, u, Rm, on, B):
    """Write one source's Phi, u, Rm, on and B (src 0 core, 1 BMO, 2 precession: the layout groups each
    quantity's three sources in that order)."""
    out[m, k, O_PHI_CORE + src] = Phi
    out[m, k, O_U_CORE + src] = u
    out[m, k, O_RM_CORE + src] = Rm
    out[m, k, O_ON_CORE + src] = on
    out[m, k, O_B_CORE + src] = B


ORB_A, ORB_SPIN, ORB_THETA = 0, 1, 2
N_ORB = 3
_N_KEY = 5


@njit(cache=True)
def _orbit_key(rec, key):
    """The record fields the orbit and Cassini state depend on."""
    key[0] = rec.orbit
    key[1] = rec.a_start
    key[2] = rec.beta_figure
    key[3] = rec.inclination
    key[4] = rec.a_cassini_transition


@njit(cache=True)
def orbit_history(rec, ages, table, orbit_table, orbit_span):
    """a, spin n(a) and Cassini obliquity theta at every output age (table (n_age, N_ORB)); orbit_table,
    orbit_span: the published histories (dynamo.orbit.ORBIT_TABLE, ORBIT_SPAN).

    Where the orbit model is undefined a and theta are NaN and the spin is that of the default orbit
    (see the module docstring). Bracketed root finds: computed once per distinct orbit, not per model.
    """
    start_age = ages[0]
    for k in range(ages.shape[0]):
        a = semi_major_axis(rec.orbit, ages[k], start_age, rec.a_start, orbit_table, orbit_span)
        table[k, ORB_A] = a
        if a > 0.0:
            spin = mean_motion(a)
            table[k, ORB_THETA] = cassini_obliquity(a, spin, nodal_rate(a), rec.beta_figure, rec.inclination,
                                                    rec.a_cassini_transition)[0]
        else:
            table[k, ORB_A] = math.nan
            spin = mean_motion(semi_major_axis(ORBIT_CYCLOSTRATIGRAPHY, ages[k], start_age, rec.a_start,
                                               orbit_table, orbit_span))
            table[k, ORB_THETA] = math.nan
        table[k, ORB_SPIN] = spin


def dynamo_stage(records, ages, state, diag, status, out, summ):
    """The dynamo stage over a chunk
    (docs/physics.md §Dynamo sources, §What every run reports): ``dynamo_stage_kernel`` with the package's
    published orbit histories (dynamo.orbit.ORBIT_TABLE, ORBIT_SPAN). Arguments as the kernel's."""
    dynamo_stage_kernel(records, ages, state, diag, status, out, summ, ORBIT_TABLE, ORBIT_SPAN)


@njit(cache=True, parallel=True)
def dynamo_stage_kernel(records, ages, state, diag, status, out, summ, orbit_table, orbit_span):
    """The dynamo stage over a chunk
    (docs/physics.md §Dynamo sources, §What every run reports): records (n,) RECORD_DTYPE, ages (n_age,) Ga with
    ages[0] = start_age, state (n, n_age, N_STATE), diag (n, n_age, N_DIAG) (thermal/layout.py columns),
    status (n,) int32 (FLAG_ORBIT_UNDEFINED is OR-ed in place), out (n, n_age, N_DYN) in DYNAMO_OUTPUTS
    order, summ (n, N_DYN_SUMMARY) in DYNAMO_SUMMARY_OUTPUTS order; orbit_table, orbit_span: the published
    orbit histories (dynamo.orbit.ORBIT_TABLE, ORBIT_SPAN).

    The orbit history (a, spin, Cassini obliquity) depends on five record fields only; it is computed
    once per distinct set in the chunk (usually one), then read by every model.
    """
    n = records.shape[0]
    n_age = ages.shape[0]
    # distinct orbits of the chunk (linear search: a sweep varies them rarely)
    keys = np.empty((n, _N_KEY))
    which = np.empty(n, dtype=np.int64)
    key = np.empty(_N_KEY)
    n_keys = 0
    for m in range(n):
        _orbit_key(records[m], key)
        found = -1
        for q in range(n_keys):
            same = True
            for j in range(_N_KEY):
                if keys[q, j] != key[j]:
                    same = False
                    break
            if same:
                found = q
                break
        if found < 0:
            keys[n_keys, :] = key
            found = n_keys
            n_keys += 1
        which[m] = found
    first = np.empty(n_keys, dtype=np.int64)
    for m in range(n - 1, -1, -1):
        first[which[m]] = m
    tables = np.empty((n_keys, n_age, N_ORB))
    for q in prange(n_keys):
        orbit_history(records[first[q]], ages, tables[q], orbit_table, orbit_span)
    for m in prange(n):
        rec = records[m]
        failed = (status[m] & ST_CODE_MASK) != 0
        law = rec.law
        R = rec.radius
        r_c = rec.r_core
        rho_c = rec.rho_core
        end_core = -1.0
        end_bmo = -1.0
        end_prec = -1.0
        undefined = False
        use_core = (rec.sources & SOURCE_CORE) != 0
        use_bmo = (rec.sources & SOURCE_BMO) != 0
        use_prec = (rec.sources & SOURCE_PRECESSION) != 0
        q = which[m]
        for k in range(n_age):
            age = ages[k]
            a = tables[q, k, ORB_A]
            orbit_ok = a > 0.0
            if not orbit_ok:
                undefined = True
            if failed:
                for j in range(N_DYN):
                    out[m, k, j] = math.nan
                continue
            spin = tables[q, k, ORB_SPIN]
            r_i = min(max(diag[m, k, D_RI], 0.0), r_c)
            chi = r_i / r_c
            liquid = r_i < r_c and int(diag[m, k, D_REGIME]) % 10 != REG_SOLID

            # core: thermal and compositional convection, shell (r_i, r_c)
            Phi_core = 0.0
            if liquid:
                Phi_core = core_dissipation(state[m, k, Y_TC], diag[m, k, D_ES], diag[m, k, D_EL],
                                            diag[m, k, D_EG], diag[m, k, D_ER], diag[m, k, D_EK])
            u, Rm, on, B = dynamo_source(law, Phi_core, r_i, r_c, rho_c, rec.sigma_core, spin, -1.0,
                                         core_dipolarity(chi, diag[m, k, D_FI]), R, rec.rm_crit,
                                         rec.shell_min, use_core)
            _put_source(out, m, k, 0, Phi_core, u, Rm, on, B)
            B_surface = B
            if on > 0.0 and (end_core < 0.0 or age < end_core):
                end_core = age

            # basal magma ocean, shell (r_c, r_c + H_b)
            H_b = diag[m, k, D_HB]
            Phi_bmo = bmo_dissipation(rec.f_ohm, rec.alpha_bmo, rec.cp_bmo, H_b, r_c, rho_c, rec.rho_bmo,
                                      diag[m, k, D_QBOT], diag[m, k, D_QADB])
            u, Rm, on, B = dynamo_source(law, Phi_bmo, r_c, r_c + max(H_b, 0.0), rec.rho_bmo, rec.sigma_bmo,
                                         spin, -1.0, bmo_dipolarity(rec.bmo_dipolarity_penalty), R,
                                         rec.rm_crit, rec.shell_min, use_bmo)
            _put_source(out, m, k, 1, Phi_bmo, u, Rm, on, B)
            B_surface = max(B_surface, B)
            if on > 0.0 and (end_bmo < 0.0 or age < end_bmo):
                end_bmo = age

            # precession: CMB friction in the liquid core, shell (r_i, r_c), u = dv
            out[m, k, O_A] = a
            if orbit_ok:
                theta_cm = tables[q, k, ORB_THETA] - rec.inclination
                Phi_prec = 0.0
                dv = 0.0
                if liquid:
                    Phi_prec = precession_dissipation(rec.f_dyn, rec.c_friction, rho_c, r_c, spin, theta_cm)
                    dv = differential_velocity(spin, theta_cm, r_c)
                u, Rm, on, B = dynamo_source(law, Phi_prec, r_i, r_c, rho_c, rec.sigma_core, spin, dv,
                                             precession_dipolarity(chi, rec.precession_dipolarity_penalty), R,
                                             rec.rm_crit, rec.shell_min, use_prec and a < rec.a_precession_end)
                _put_source(out, m, k, 2, Phi_prec, u, Rm, on, B)
                B_surface = max(B_surface, B)
                if on > 0.0 and (end_prec < 0.0 or age < end_prec):
                    end_prec = age
            else:
                out[m, k, O_PHI_PREC] = math.nan
                out[m, k, O_U_PREC] = math.nan
                out[m, k, O_RM_PREC] = math.nan
                out[m, k, O_ON_PREC] = 0.0
                out[m, k, O_B_PREC] = math.nan
            out[m, k, O_B_SURFACE] = B_surface

        if undefined:
            status[m] = status[m] | FLAG_ORBIT_UNDEFINED
        if failed:
            for j in range(N_DYN_SUMMARY):
                summ[m, j] = math.nan
        else:
            summ[m, S_END_CORE] = end_core
            summ[m, S_END_BMO] = end_bmo
            summ[m, S_END_PREC] = end_prec


def run_dynamo_stage(records, ages, state, diag, status):
    """Allocate the outputs and run ``dynamo_stage`` (Python convenience; status is modified in place).

    Returns (out (n, n_age, N_DYN) float64, summ (n, N_DYN_SUMMARY) float64).
    """
    if status.dtype != np.int32:
        raise TypeError(f"status: expected an int32 array (modified in place), got {status.dtype}")
    n, n_age = state.shape[0], ages.shape[0]
    out = np.empty((n, n_age, N_DYN), dtype=np.float64)
    summ = np.empty((n, N_DYN_SUMMARY), dtype=np.float64)
    dynamo_stage(records, np.ascontiguousarray(ages, dtype=np.float64),
                 np.ascontiguousarray(state, dtype=np.float64), np.ascontiguousarray(diag, dtype=np.float64),
                 status, out, summ)
    return out, summ


def orbit_undefined(records, ages) -> np.ndarray:
    """True for each model whose orbit model is undefined at some of ``ages`` (where the dynamo stage
    over ``ages`` sets FLAG_ORBIT_UNDEFINED: a semi-major axis that is not > 0), with ages[0] the start
    age. A reduced sweep evaluates the stage at a few ages and takes the flag over the whole output
    grid from here; the orbit depends on (orbit, a_start) only, so each distinct pair is evaluated once."""
    ages = np.asarray(ages, dtype=np.float64)
    keys = np.stack([np.asarray(records["orbit"], dtype=np.float64), np.asarray(records["a_start"], dtype=np.float64)],
                    axis=1)
    uniq, which = np.unique(keys, axis=0, return_inverse=True)
    bad = np.empty(uniq.shape[0], dtype=bool)
    for q, (orbit, a_start) in enumerate(uniq):
        a = semi_major_axis_array(int(orbit), ages, ages[0], a_start)
        bad[q] = not bool(np.all(a > 0.0))
    return bad[np.asarray(which).reshape(-1)]
