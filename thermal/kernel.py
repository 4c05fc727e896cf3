"""The thermal kernel: batched adaptive Runge-Kutta integration of the v1 model
(docs/physics.md §Three stages, §Numerics and events).

Dormand-Prince 5(4) with error control on every state (per-state absolute tolerances rtol x (1000 K,
100 km, 1000 K, 1000 K, 1e26 J x 4)), its free 4th-order dense output for the output ages, and events
located on the dense output: the step is redone up to the event, its length refined until the event
function sits on its threshold, and the crossing component snapped onto it before the mode changes.
Time runs as tau = start_age - age (Ga). One batched entry point (``integrate``), ``prange`` over models,
one scratch buffer per model (no allocation per step), bitwise deterministic (no fastmath, no cross-model state).

Compilation (issue 13, measured with perf): every compiled call increfs and decrefs each array argument
with atomic instructions (Numba's runtime, NRT); over the ~400 right-hand sides of one model that cost
17 % of the kernel (116 -> 96 us a model). The functions of the integration that allocate nothing are
therefore compiled with ``_nrt=False`` (their array arguments are borrowed from ``integrate``, which owns
them), and the short functions of T* that the root finds call hundreds of times a model
(``core.freezing_temperature`` and what it calls) are inlined (``inline='always'``, a further 8 %).
Neither changes a single operation: the results are bitwise those of the plain ``@njit(cache=True)``.

The Runge-Kutta tableau and dense-output matrix are Dormand & Prince (1980) / Shampine (1986), the
coefficients of scipy.integrate.RK45; hand-written here because the integrator must run inside Numba.
"""
import math

import numpy as np
from numba import njit, prange

from . import basal_layer as bl
from . import core
from .constants import GA
from .layout import (FLAG_REGIME2, FLAG_REMELT, ST_CODE_MASK, LAYER_HOT, LAYER_MOLTEN, LAYER_NONE, LAYER_SOLID,
                            M_CORE, M_EREF, M_LAYER, M_LID, M_RREF, M_THOLD, N_MODE, N_STATE, N_SUMMARY, N_Y,
                            REG_BOTTOM_UP, REG_EUTECTIC, REG_LIQUID, REG_PLATEAU, REG_SOLID, REG_TOP_DOWN,
                            S_AGE_BMO, S_AGE_NUC, S_BOOK_CORE, S_BOOK_CORE_SCALE, S_BOOK_LAYER,
                            S_BOOK_LAYER_SCALE, S_NSTEPS, ST_BOOKS, ST_BOUNDS, ST_MAX_STEPS, ST_NONFINITE, ST_OK,
                            ST_UNDERFLOW, Y_DL, Y_IAQ, Y_IHL, Y_IQ, Y_IQB, Y_TB, Y_TC, Y_TM)
from .model import (F_CFR, F_RI, N_F, core_energy, core_freezing, evaluate_heated, evaluate_rates,
                           gravitating_radius, layer_thickness0, prepare_table, released_core_energy)
from .radiogenic import core_potassium_energy, heat_per_kg_K, heat_per_kg_Th, heat_per_kg_U
from .parameters import MODE_COUPLED

RK_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0])
RK_A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1 / 5, 0.0, 0.0, 0.0, 0.0],
    [3 / 40, 9 / 40, 0.0, 0.0, 0.0],
    [44 / 45, -56 / 15, 32 / 9, 0.0, 0.0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0.0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]])
RK_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
RK_E = np.array([-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40])
RK_P = np.array([
    [1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
    [0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
    [0.0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
    [0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
    [0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423]])
ATOL_SCALE = np.array([1000.0, 100e3, 1000.0, 1000.0, 1e26, 1e26, 1e26, 1e26])

# events: each g crosses from > 0 to <= 0 (or leaves 0, where the mode was entered, for < 0: see ``crosses``)
(EV_LAYER_COOL, EV_LAYER_WARM, EV_LAYER_SOLID, EV_NUCLEATION, EV_TOPDOWN_LIQUID, EV_TOPDOWN,
 EV_BRANCH_END, EV_REMELT_IC, EV_PLATEAU_END, EV_SOLID, EV_HELD_MELT, EV_LID) = range(12)
N_EV = 12
# The books' verdict (docs/physics.md §The books as a verdict): a model whose core or basal-layer book is
# off by more than BOOK_TOLERANCE_RTOL x rtol + BOOK_TOLERANCE_FLOOR of its scale fails with ST_BOOKS
# (3.01e-4 at the default rtol = 1e-6). Measured over the whole prior (runs/examples/prior_wide_sweep.toml):
# the worst status-0 book is 107 rtol at rtol = 1e-6 (47-154 rtol for rtol = 1e-4 ... 1e-8; a floor of
# ~1e-6 below that); the smallest broken book found before the reheated-nucleus rule was 2.4e-3.
BOOK_TOLERANCE_RTOL = 300.0
BOOK_TOLERANCE_FLOOR = 1e-6
H_AFTER_NUCLEATION = 1e-7   # Ga (1e-4 Myr): restart small where T_c - T_nuc behaves like a square root
H_FIRST = 1e-3              # Ga
MAX_REFINE = 6     # secant refinements of a step redone up to an event
MAX_BRACKET = 60   # then bracketed ones, if the secant has not landed

# scratch layout of one model's work row
W_K = 0
W_Y0 = W_K + 7 * N_Y
W_Y1 = W_Y0 + N_Y
W_YT = W_Y1 + N_Y
W_DY = W_YT + N_Y
W_FL = W_DY + N_Y
W_G0 = W_FL + N_F
W_G1 = W_G0 + N_EV
W_GT = W_G1 + N_EV
W_TAB = W_GT + N_EV
W_MODE = W_TAB + core.N_TAB
W_YS = W_MODE + N_MODE
W_Q = W_YS + N_Y
N_WORK = W_Q + 4 * N_Y


@njit(cache=True, _nrt=False)
def event_functions(age, start_age, y, mode, p, tab, g, r_i_known):
    """Event functions of the current mode (g > 0 before, <= 0 at or after the event), in kelvin;
    +inf for events that cannot happen in the current mode.

    Energy thresholds are divided by C_S so that every g reads in kelvin of the core. ``r_i_known``: the
    inner-core radius of this (y, mode) when an evaluation at it already holds one (``fl[F_RI]``, the same
    function of T_c: the same number), else negative -- regime 1 then solves for it.
    """
    for k in range(N_EV):
        g[k] = math.inf
    layer = int(mode[M_LAYER])
    regime = int(mode[M_CORE])
    T_c, T_b = y[Y_TC], y[Y_TB]
    if layer == LAYER_HOT:
        g[EV_LAYER_COOL] = T_b - p.T_bmo0
    elif layer == LAYER_MOLTEN:
        g[EV_LAYER_WARM] = p.T_bmo0 - T_b
        g[EV_LAYER_SOLID] = T_b - p.T_bmo_solidus
    if regime == REG_LIQUID:
        g[EV_NUCLEATION] = T_c - tab[core.TAB_TMAX]
        g[EV_TOPDOWN_LIQUID] = T_c - tab[core.TAB_TLCMB0]
    elif regime == REG_BOTTOM_UP:
        r_i = r_i_known if r_i_known >= 0.0 else core.inner_core_radius(T_c, p, tab)[0]
        g[EV_TOPDOWN] = T_c - core.liquidus(p.p_cmb, core.outer_core_sulfur(r_i, p), p)[0]
        g[EV_BRANCH_END] = T_c - tab[core.TAB_TEND]
        # warming back to the start of the branch: r_i = 0 (centre nucleus) or r_pe (off-centre nucleus)
        g[EV_REMELT_IC] = tab[core.TAB_TPE] - T_c
    elif regime == REG_PLATEAU or regime == REG_EUTECTIC:
        X = released_core_energy(age, start_age, y, mode, p)
        C_S = core.secular_capacity(p)
        if regime == REG_PLATEAU:
            X_end = tab[core.TAB_XSTAR]
        else:
            X_end = p.latent_core * p.rho_core * 4.0 / 3.0 * math.pi * (p.r_core ** 3 - mode[M_RREF] ** 3)
        g[EV_SOLID if regime == REG_EUTECTIC else EV_PLATEAU_END] = (X_end - X) / C_S
        # warming melts what froze at the held T_c: the nucleus down to r_i = 0, the eutectic solid to r_eu
        g[EV_HELD_MELT] = X / C_S
    if p.mode == MODE_COUPLED and mode[M_LID] < 0.5:
        g[EV_LID] = (y[Y_DL] - p.crust_thickness) * 1e-3


@njit(cache=True, _nrt=False)
def rk_step(tau0, y0, h, mode, p, tab, start_age, K, yt, y1, dy, fl):
    """One Dormand-Prince 5(4) step from (tau0, y0) with K[0] = f(tau0, y0) given.

    Fills K[1..6], y1; returns (status, error norm) (RMS of the error over atol + rtol max(|y0|,|y1|)
    is done by the caller, which knows rtol: here the raw error vector is left in ``dy``).
    """
    status = 0
    # the last stage (c = 1) and the step's end are at one age, start_age - (tau0 + h): the heat per kg of
    # U, Th and K (four exponentials of the age alone) is computed once for both, as ``evaluate_rates``
    # computes it (the same numbers; 1.0 x h is h)
    age1 = start_age - (tau0 + h)
    h_U, h_Th, h_K = heat_per_kg_U(age1), heat_per_kg_Th(age1), heat_per_kg_K(age1)
    for s in range(1, 6):
        for j in range(N_Y):
            acc = 0.0
            for m in range(s):
                acc += RK_A[s, m] * K[m, j]
            yt[j] = y0[j] + h * acc
        if s < 5:
            st = evaluate_rates(start_age - (tau0 + RK_C[s] * h), start_age, yt, mode, p, tab, K[s], fl)
        else:
            st = evaluate_heated(age1, h_U, h_Th, h_K, start_age, yt, mode, p, tab, K[s], fl, False)
        if st != 0:
            status = st
    for j in range(N_Y):
        acc = 0.0
        for m in range(6):
            acc += RK_B[m] * K[m, j]
        y1[j] = y0[j] + h * acc
    st = evaluate_heated(age1, h_U, h_Th, h_K, start_age, y1, mode, p, tab, K[6], fl, False)
    if st != 0:
        status = st
    for j in range(N_Y):
        acc = 0.0
        for m in range(7):
            acc += RK_E[m] * K[m, j]
        dy[j] = h * acc
    return status


@njit(cache=True, _nrt=False)
def error_norm(err, y0, y1, rtol, w_tc):
    """RMS of err_i / (atol_i + rtol max(|y0_i|, |y1_i|)), atol_i = rtol x ATOL_SCALE_i
    (docs/physics.md §Numerics and events).

    The T_c error is weighted by w_tc = C_core/C_S >= 1 (the core's heat capacity with freezing over that
    without), so that the step controls the core's energy error C_core dT_c rather than dT_c alone: near the
    peak of an off-centre T* a millikelvin of T_c holds ~1e23 J of nucleus
    (docs/physics.md §Reheated off-centre nucleus).
    """
    s = 0.0
    for j in range(N_Y):
        sc = rtol * ATOL_SCALE[j] + rtol * max(abs(y0[j]), abs(y1[j]))
        e = err[j] / sc
        if j == Y_TC:
            e *= w_tc
        s += e * e
    return math.sqrt(s / N_Y)


@njit(cache=True, _nrt=False)
def dense_coeffs(K, Q):
    """Q = K^T P (N_Y x 4): the step's dense-output polynomial, formed once per step."""
    for j in range(N_Y):
        for c in range(4):
            acc = 0.0
            for m in range(7):
                acc += K[m, j] * RK_P[m, c]
            Q[j, c] = acc


@njit(cache=True, _nrt=False)
def dense(theta, h, y0, Q, out):
    """Dense output y(tau0 + theta h) = y0 + h sum_c Q_c theta^(c+1) (Q from ``dense_coeffs``)."""
    for j in range(N_Y):
        out[j] = y0[j] + h * theta * (Q[j, 0] + theta * (Q[j, 1] + theta * (Q[j, 2] + theta * Q[j, 3])))


@njit(cache=True, _nrt=False)
def locate_event(ev, tau0, h, y0, Q, mode, p, tab, start_age, g0, yt, gt):
    """theta in (0, 1] where event ``ev`` crosses on the dense output (Illinois regula falsi)."""
    a, fa = 0.0, g0[ev]
    b = 1.0
    dense(b, h, y0, Q, yt)
    event_functions(start_age - (tau0 + b * h), start_age, yt, mode, p, tab, gt, -1.0)
    fb = gt[ev]
    if fb > 0.0:
        return 1.0
    side = 0
    for _ in range(100):
        if b - a < 1e-10:
            break
        c = (a * fb - b * fa) / (fb - fa)
        if not (a < c < b):
            c = 0.5 * (a + b)
        dense(c, h, y0, Q, yt)
        event_functions(start_age - (tau0 + c * h), start_age, yt, mode, p, tab, gt, -1.0)
        fc = gt[ev]
        if fc > 0.0:
            a, fa = c, fc
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            b, fb = c, fc
            if side == 1:
                fa *= 0.5
            side = 1
    return b


@njit(cache=True, _nrt=False)
def crosses(g0, g1):
    """Whether an event function crossed its threshold during a step (g0 at its start, g1 at its end).

    From > 0 to <= 0; or from exactly 0 to < 0: a mode entered on the threshold of its reverse event
    (every event snaps its component onto the threshold) that reverses at once -- a nucleus that starts
    to melt as soon as it formed, a run starting at T_b0 whose layer cools after a first warming step.
    """
    return (g0 > 0.0 and g1 <= 0.0) or (g0 == 0.0 and g1 < 0.0)


@njit(cache=True, _nrt=False)
def rebase_released_energy(age, start_age, y, mode, p, X_target, side):
    """Set mode[M_EREF] so that the released energy X of the state is X_target, rounding to the side
    ``side`` (+1: X >= X_target, -1: X <= X_target), so that a held regime never starts beyond the
    threshold of the event that leaves it (a roundoff of the integral states, ~1e-12 K of the core, would
    otherwise hide the crossing)."""
    mode[M_EREF] += released_core_energy(age, start_age, y, mode, p) - X_target
    for _ in range(64):
        d = released_core_energy(age, start_age, y, mode, p) - X_target
        if d * side >= 0.0:
            break
        mode[M_EREF] = np.nextafter(mode[M_EREF], -math.inf if side > 0 else math.inf)


@njit(cache=True, _nrt=False)
def refine_bracketed(tau, y0, lo, glo, hi, ghi, h_last, ev, g_tol, mode, p, tab, start_age, K, yt, y1, dy,
                     fl, gt):
    """Step length that lands event ``ev`` on its threshold, by Illinois regula falsi on the bracket
    [lo, hi] (g(lo) >= 0 >= g(hi)) of redone steps from y0, when the secant refinement has not landed
    (g non-smooth in the step length: the end of an inner core near the centre behaves like a power 2/3).

    Leaves y1 at the returned length: the landed one, else the end of the bracket past the threshold (the
    books judge what that costs). ``h_last`` is the length y1 holds on entry.
    """
    side = 0
    h_y1 = h_last
    for _ in range(MAX_BRACKET):
        if hi - lo <= 1e-15 * (tau + hi):
            break
        hn = (lo * ghi - hi * glo) / (ghi - glo) if ghi != glo else 0.5 * (lo + hi)
        if not (lo < hn < hi):
            hn = 0.5 * (lo + hi)
        rk_step(tau, y0, hn, mode, p, tab, start_age, K, yt, y1, dy, fl)
        event_functions(start_age - (tau + hn), start_age, y1, mode, p, tab, gt, fl[F_RI])
        g = gt[ev]
        h_y1 = hn
        if abs(g) <= g_tol:
            return hn
        if g > 0.0:
            lo, glo = hn, g
            if side == 1:
                ghi *= 0.5
            side = 1
        else:
            hi, ghi = hn, g
            if side == -1:
                glo *= 0.5
            side = -1
    if h_y1 != hi:
        rk_step(tau, y0, hi, mode, p, tab, start_age, K, yt, y1, dy, fl)
    return hi


@njit(cache=True, _nrt=False)
def initial_mode(start_age, y, mode, p, tab, dy, fl):
    """Discrete mode at start_age (docs/physics.md §Structure and state, §Molten basal layer): layer branch by the sign of the net heating."""
    for k in range(N_MODE):
        mode[k] = 0.0
    H0 = layer_thickness0(p)
    if p.mode == MODE_COUPLED and y[Y_DL] <= p.crust_thickness:
        mode[M_LID] = 1.0
    T_c = y[Y_TC]
    status = ST_OK
    if T_c >= tab[core.TAB_TMAX]:
        mode[M_CORE] = REG_TOP_DOWN if T_c <= tab[core.TAB_TLCMB0] else REG_LIQUID
    else:
        r_i, dTdr, ok = core.inner_core_radius(T_c, p, tab)
        if T_c < core.liquidus(p.p_cmb, core.outer_core_sulfur(r_i, p), p)[0]:
            mode[M_CORE] = REG_TOP_DOWN
            mode[M_RREF] = r_i
        elif T_c <= tab[core.TAB_TEND]:
            status = ST_BOUNDS   # a core starting below its eutectic temperature is not a v1 start
        elif T_c > tab[core.TAB_TPE]:
            # an off-centre nucleus smaller than r_pe (T_c within ~1e-6 K of the peak of T*): it sits on the
            # plateau, holding the energy that froze it, L_H M_ic + Psi_G (docs/physics.md §Reheated off-centre nucleus)
            mode[M_CORE] = REG_PLATEAU
            mode[M_THOLD] = T_c
            rebase_released_energy(start_age, start_age, y, mode, p, core.freezing_energy(r_i, p), 1.0)
        else:
            mode[M_CORE] = REG_BOTTOM_UP
    if H0 > 0.0:
        if y[Y_TB] <= p.T_bmo_solidus:
            mode[M_LAYER] = LAYER_SOLID
        else:
            mode[M_LAYER] = LAYER_HOT
            evaluate_rates(start_age, start_age, y, mode, p, tab, dy, fl)
            if dy[Y_TB] <= 0.0:
                mode[M_LAYER] = LAYER_MOLTEN
    return status


@njit(cache=True, _nrt=False)
def apply_event(ev, age, start_age, y, mode, p, tab, summ):
    """Snap the crossing component onto its threshold and change the mode. Returns (status, flags)."""
    dT = p.dT_core_bmo
    slaved = mode[M_LAYER] == LAYER_HOT or mode[M_LAYER] == LAYER_MOLTEN
    status, flags = ST_OK, 0
    if ev == EV_LAYER_COOL or ev == EV_LAYER_WARM:
        y[Y_TB] = p.T_bmo0
        y[Y_TC] = p.T_bmo0 + dT
        mode[M_LAYER] = LAYER_MOLTEN if ev == EV_LAYER_COOL else LAYER_HOT
    elif ev == EV_LAYER_SOLID:
        y[Y_TB] = p.T_bmo_solidus
        if mode[M_CORE] != REG_PLATEAU and mode[M_CORE] != REG_EUTECTIC:
            y[Y_TC] = p.T_bmo_solidus + dT
        mode[M_LAYER] = LAYER_SOLID
        summ[S_AGE_BMO] = age
    elif ev == EV_LID:
        y[Y_DL] = p.crust_thickness
        mode[M_LID] = 1.0
    else:
        T_new = y[Y_TC]
        X = released_core_energy(age, start_age, y, mode, p)
        if ev == EV_NUCLEATION:
            T_new = tab[core.TAB_TMAX]
            summ[S_AGE_NUC] = age
            if tab[core.TAB_RSTAR] > 0.0:
                mode[M_CORE] = REG_PLATEAU
                mode[M_THOLD] = T_new
                rebase_released_energy(age, start_age, y, mode, p, 0.0, 1.0)
            else:
                mode[M_CORE] = REG_BOTTOM_UP
        elif ev == EV_REMELT_IC:
            if tab[core.TAB_RSTAR] > 0.0:
                # the off-centre nucleus is back at r_pe: it melts on the plateau, X from F(r_pe) down to 0
                T_new = tab[core.TAB_TPE]
                mode[M_CORE] = REG_PLATEAU
                mode[M_THOLD] = T_new
                rebase_released_energy(age, start_age, y, mode, p, tab[core.TAB_XSTAR], -1.0)
            else:
                T_new = tab[core.TAB_TMAX]
                mode[M_CORE] = REG_LIQUID
        elif ev == EV_HELD_MELT:
            if mode[M_CORE] == REG_PLATEAU:
                # the nucleus has melted: liquid again, at the peak of T* (a snap of T_max - T_c < 1e-6 K)
                T_new = tab[core.TAB_TMAX]
                mode[M_CORE] = REG_LIQUID
            else:
                # the eutectic solid has melted back to r_eu: bottom-up growth resumes from the branch end
                T_new = tab[core.TAB_TEND]
                mode[M_CORE] = REG_BOTTOM_UP
        elif ev == EV_TOPDOWN_LIQUID:
            T_new = tab[core.TAB_TLCMB0]
            mode[M_CORE] = REG_TOP_DOWN
            mode[M_RREF] = 0.0
            flags = FLAG_REGIME2
        elif ev == EV_TOPDOWN:
            mode[M_RREF] = core.inner_core_radius(T_new, p, tab)[0]
            mode[M_CORE] = REG_TOP_DOWN
            flags = FLAG_REGIME2
        elif ev == EV_PLATEAU_END:
            T_new = core.freezing_temperature(tab[core.TAB_RPE], p)[0]
            mode[M_CORE] = REG_BOTTOM_UP
        elif ev == EV_SOLID:
            mode[M_CORE] = REG_SOLID
        elif ev == EV_BRANCH_END:
            T_new = tab[core.TAB_TEND]
            mode[M_RREF] = tab[core.TAB_REND]
            kind = int(tab[core.TAB_ENDKIND])
            if kind == core.END_EUTECTIC:
                if slaved:
                    status = ST_BOUNDS   # v1: the eutectic regime under a molten basal layer is not supported
                mode[M_CORE] = REG_EUTECTIC
                mode[M_THOLD] = T_new
                rebase_released_energy(age, start_age, y, mode, p, 0.0, 1.0)
            elif kind == core.END_MINIMUM:
                mode[M_CORE] = REG_TOP_DOWN
                flags = FLAG_REGIME2
            else:
                mode[M_CORE] = REG_SOLID
        y[Y_TC] = T_new
        if slaved:
            y[Y_TB] = T_new - dT
    return status, flags


@njit(cache=True, _nrt=False)
def core_book_energy(age, start_age, y, mode, p, tab):
    """E_core of the state (docs/physics.md §Energy books)."""
    X = released_core_energy(age, start_age, y, mode, p)
    r_i = core_freezing(y[Y_TC], X, int(mode[M_CORE]), mode[M_RREF], p, tab)[0]
    return core_energy(y[Y_TC], r_i, gravitating_radius(r_i, int(mode[M_CORE]), mode[M_RREF]), p)


@njit(cache=True, _nrt=False)
def layer_book_energy(y, mode, p):
    """E_layer of the state (docs/physics.md §Energy books); 0 without a basal layer."""
    if layer_thickness0(p) <= 0.0:
        return 0.0
    H_b = bl.molten_thickness(y[Y_TB], p) if mode[M_LAYER] != LAYER_SOLID else 0.0
    return bl.layer_energy(y[Y_TB], H_b, p)


@njit(cache=True)
def book_tolerance(rtol):
    """The books' verdict tolerance, relative to their scales: BOOK_TOLERANCE_RTOL rtol + BOOK_TOLERANCE_FLOOR."""
    return BOOK_TOLERANCE_RTOL * rtol + BOOK_TOLERANCE_FLOOR


@njit(cache=True)
def books_verdict(book_core, core_scale, book_layer, layer_scale, rtol):
    """ST_OK if both books close to ``book_tolerance(rtol)`` of their scales, else ST_BOOKS.

    |int Q_cmb dt + dE_core - int Q_R dt| <= tol (int |Q_cmb| dt + C_S 1000 K), and likewise for the basal
    layer (docs/physics.md §The books as a verdict); a book that is not finite does not close.
    """
    tol = book_tolerance(rtol)
    if not (abs(book_core) <= tol * core_scale and abs(book_layer) <= tol * layer_scale):
        return ST_BOOKS
    return ST_OK


@njit(cache=True, _nrt=False)
def initial_state(p, y):
    """y at start_age: T_m = T_mantle0, D_l = lid0; with a basal layer T_b = T_bmo0 and T_c = T_b + dT_cb,
    else T_c = T_cmb0; integral states 0."""
    y[Y_TM] = p.T_mantle0
    y[Y_DL] = p.lid0
    if layer_thickness0(p) > 0.0:
        y[Y_TB] = p.T_bmo0
        y[Y_TC] = p.T_bmo0 + p.dT_core_bmo
    else:
        y[Y_TC] = p.T_cmb0
        y[Y_TB] = p.T_cmb0
    y[Y_IQ] = 0.0
    y[Y_IAQ] = 0.0
    y[Y_IQB] = 0.0
    y[Y_IHL] = 0.0


@njit(cache=True, _nrt=False)
def _store(out, i, k, y, mode, H0):
    """state[i, k] = (y, mode), with T_basal reported equal to T_cmb when there is no basal layer."""
    for j in range(N_Y):
        out[i, k, j] = y[j]
    if H0 <= 0.0:
        out[i, k, Y_TB] = y[Y_TC]
    for j in range(N_MODE):
        out[i, k, N_Y + j] = mode[j]


@njit(cache=True, _nrt=False)
def integrate_one(p, ages, rtol, max_steps, out, i, summ, w):
    """Integrate one record from ages[0] to 0; fill out[i] (n_age, N_STATE) and summ (N_SUMMARY).

    ``w`` is this model's own scratch (N_WORK floats). Returns the status (thermal code | flags); on
    failure the caller fills NaN.
    """
    start_age = ages[0]
    tau_end = start_age
    K = w[W_K:W_K + 7 * N_Y].reshape((7, N_Y))
    y0 = w[W_Y0:W_Y0 + N_Y]
    y1 = w[W_Y1:W_Y1 + N_Y]
    yt = w[W_YT:W_YT + N_Y]
    ys = w[W_YS:W_YS + N_Y]
    dy = w[W_DY:W_DY + N_Y]
    fl = w[W_FL:W_FL + N_F]
    g0 = w[W_G0:W_G0 + N_EV]
    g1 = w[W_G1:W_G1 + N_EV]
    gt = w[W_GT:W_GT + N_EV]
    tab = w[W_TAB:W_TAB + core.N_TAB]
    mode = w[W_MODE:W_MODE + N_MODE]
    Q = w[W_Q:W_Q + 4 * N_Y].reshape((N_Y, 4))
    H0 = layer_thickness0(p)
    C_S = core.secular_capacity(p)

    for k in range(N_SUMMARY):
        summ[k] = 0.0
    summ[S_AGE_NUC] = -1.0
    summ[S_AGE_BMO] = -1.0
    prepare_table(p, tab)
    initial_state(p, y0)
    status = initial_mode(start_age, y0, mode, p, tab, dy, fl)
    flags = 0
    if mode[M_CORE] == REG_TOP_DOWN:
        flags |= FLAG_REGIME2
    if status != ST_OK:
        return status
    E_core0 = core_book_energy(start_age, start_age, y0, mode, p, tab)
    E_layer0 = layer_book_energy(y0, mode, p)

    n_age = ages.shape[0]
    _store(out, i, 0, y0, mode, H0)
    k_out = 1
    tau = 0.0
    h = H_FIRST
    n_steps = 0
    n_tries = 0
    status = evaluate_rates(start_age, start_age, y0, mode, p, tab, K[0], fl)
    event_functions(start_age, start_age, y0, mode, p, tab, g0, fl[F_RI])
    while tau < tau_end and status == ST_OK:
        if n_tries >= max_steps:
            status = ST_MAX_STEPS
            break
        n_tries += 1
        if tau + h > tau_end or tau_end - (tau + h) < 1e-12 * tau_end:
            h = tau_end - tau
        st = rk_step(tau, y0, h, mode, p, tab, start_age, K, yt, y1, dy, fl)
        # fl holds the last stage's evaluation, at y1: its freezing capacity weights the T_c error
        err = error_norm(dy, y0, y1, rtol, 1.0 + fl[F_CFR] / C_S)
        if not (err == err) or st != ST_OK:
            # a stage left the physical domain or gave NaN: retry smaller
            err = 1e10
        if err > 1.0:
            h *= max(0.2, 0.9 * err ** -0.2)
            if h < 1e-14 * start_age:
                status = ST_UNDERFLOW if st == ST_OK else st
                break
            continue
        # accepted: look for events
        event_functions(start_age - (tau + h), start_age, y1, mode, p, tab, g1, fl[F_RI])
        ev = -1
        theta_ev = 2.0
        for e in range(N_EV):
            if crosses(g0[e], g1[e]):
                if ev < 0 and theta_ev > 1.5:
                    dense_coeffs(K, Q)
                th = locate_event(e, tau, h, y0, Q, mode, p, tab, start_age, g0, yt, gt)
                if th < theta_ev:
                    theta_ev = th
                    ev = e
        h_acc = h
        if ev >= 0:
            # redo the step up to the event; refine its length until g sits on the threshold
            ha, ga = theta_ev * h, 0.0
            hb, gb = h, g1[ev]
            lo, glo = 0.0, g0[ev]    # the bracket: g(lo) >= 0 > ... >= g(hi)
            hi, ghi = h, g1[ev]
            g_tol = 1e-2 * rtol
            landed = False
            for it in range(MAX_REFINE):
                st = rk_step(tau, y0, ha, mode, p, tab, start_age, K, yt, y1, dy, fl)
                event_functions(start_age - (tau + ha), start_age, y1, mode, p, tab, gt, fl[F_RI])
                ga = gt[ev]
                if ga > 0.0:
                    lo, glo = ha, ga
                else:
                    hi, ghi = ha, ga
                if abs(ga) <= g_tol:
                    landed = True
                    break
                if it == MAX_REFINE - 1:
                    break
                hn = ha - ga * (hb - ha) / (gb - ga) if gb != ga else ha
                hb, gb = ha, ga
                if not (0.0 < hn <= h):
                    break
                ha = hn
            if not landed:
                ha = refine_bracketed(tau, y0, lo, glo, hi, ghi, ha, ev, g_tol, mode, p, tab, start_age, K, yt,
                                      y1, dy, fl, gt)
            h_acc = ha
        n_steps += 1
        tau_new = tau + h_acc
        if tau_end - tau_new < 1e-12 * tau_end:
            tau_new = tau_end
        # g1 holds the event functions at (start_age - (tau + h), y1, mode): they are g0 of the next step
        # when the step was not shortened or snapped and the mode does not change (checked below)
        g1_is_next = ev < 0 and tau_new == tau + h
        lid = mode[M_LID]
        # output ages inside this step
        formed = False
        while k_out < n_age:
            tau_k = start_age - ages[k_out]
            if tau_k > tau_new + 1e-12 * tau_end:
                break
            th = (tau_k - tau) / h_acc
            if th >= 1.0 - 1e-13:
                _store(out, i, k_out, y1, mode, H0)
            else:
                if not formed:
                    dense_coeffs(K, Q)
                    formed = True
                dense(th, h_acc, y0, Q, ys)
                _store(out, i, k_out, ys, mode, H0)
            k_out += 1
        # finiteness and bounds
        for j in range(N_Y):
            if not math.isfinite(y1[j]):
                status = ST_NONFINITE
        if status != ST_OK:
            break
        age_new = start_age - tau_new
        if ev >= 0:
            st, fg = apply_event(ev, age_new, start_age, y1, mode, p, tab, summ)
            flags |= fg
            if st != ST_OK:
                status = st
                break
        if mode[M_LID] > 0.5 and y1[Y_DL] > p.crust_thickness * (1.0 + 1e-12):
            mode[M_LID] = 0.0
        if mode[M_LAYER] == LAYER_SOLID and y1[Y_TB] > p.T_bmo_solidus + 1e-9:
            flags |= FLAG_REMELT
        for j in range(N_Y):
            y0[j] = y1[j]
        tau = tau_new
        if ev >= 0:
            status = evaluate_rates(age_new, start_age, y0, mode, p, tab, K[0], fl)
            if ev == EV_NUCLEATION:
                h = H_AFTER_NUCLEATION
            else:
                h = min(h, max(h_acc, H_AFTER_NUCLEATION))
        else:
            for j in range(N_Y):
                K[0, j] = K[6, j]
            fac = 10.0 if err == 0.0 else min(10.0, 0.9 * err ** -0.2)
            h = h_acc * fac
        if g1_is_next and mode[M_LID] == lid:
            for e in range(N_EV):       # the same function of the same arguments: bitwise the same values
                g0[e] = g1[e]
        else:
            event_functions(age_new, start_age, y0, mode, p, tab, g0, fl[F_RI])
    if status != ST_OK:
        return status
    summ[S_NSTEPS] = n_steps
    # the books (docs/physics.md §Energy books)
    E_core1 = core_book_energy(0.0, start_age, y0, mode, p, tab)
    M_c = core.core_mass(p)
    QR_int = core_potassium_energy(start_age, 0.0, p.K_core_ppm, M_c)
    summ[S_BOOK_CORE] = y0[Y_IQ] + (E_core1 - E_core0) - QR_int
    summ[S_BOOK_CORE_SCALE] = y0[Y_IAQ] + core.secular_capacity(p) * 1000.0
    if H0 > 0.0:
        E_layer1 = layer_book_energy(y0, mode, p)
        summ[S_BOOK_LAYER] = (E_layer1 - E_layer0) - y0[Y_IQ] + y0[Y_IQB] - y0[Y_IHL]
        summ[S_BOOK_LAYER_SCALE] = (y0[Y_IAQ] + y0[Y_IQB] + y0[Y_IHL]
                                    + bl.layer_mass(p) * p.cp_bmo * 1000.0)
    else:
        summ[S_BOOK_LAYER] = 0.0
        summ[S_BOOK_LAYER_SCALE] = 1.0
    status = books_verdict(summ[S_BOOK_CORE], summ[S_BOOK_CORE_SCALE], summ[S_BOOK_LAYER],
                           summ[S_BOOK_LAYER_SCALE], rtol)
    return status | flags


@njit(cache=True, parallel=True)
def integrate(records, ages, rtol, max_steps, state, summaries, status, tabs):
    """Batched thermal kernel (DESIGN.md "The kernel contract").

    records (n,) structured; ages (n_age,) Ga decreasing from start_age to 0; state (n, n_age, N_STATE)
    float64; summaries (n, N_SUMMARY) float64; status (n,) int32. A failing model gets its status code
    and NaN outputs; its neighbours are untouched. A model failing its books (ST_BOOKS) keeps its four
    book summaries, so that one can see by how much. tabs (n, core.N_TAB) float64 receives each record's
    branch table (``core.build_branch_table``), which the diagnostics read instead of building it again.
    """
    n = records.shape[0]
    for i in prange(n):
        # each model owns its scratch: slices of one shared buffer would make every thread update the
        # same reference count on each call, which serialises the threads
        w = np.empty(N_WORK)
        st = integrate_one(records[i], ages, rtol, max_steps, state, i, summaries[i], w)
        for k in range(core.N_TAB):
            tabs[i, k] = w[W_TAB + k]
        status[i] = st
        if (st & ST_CODE_MASK) != 0:
            state[i, :, :] = np.nan
            for k in range(N_SUMMARY):
                if not ((st & ST_CODE_MASK) == ST_BOOKS and S_BOOK_CORE <= k <= S_BOOK_LAYER_SCALE):
                    summaries[i, k] = np.nan
