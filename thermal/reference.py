"""The same model through scipy's ``solve_ivp``: the reference the Numba integrator is checked against.

It calls the very right-hand side (``thermal.model.evaluate``), event functions and event actions
(``thermal.kernel``) the kernel uses, one record at a time, restarting ``solve_ivp`` at each event
(terminal, direction -1, located by scipy on its own dense output). Used by the tests and by
``make bench`` (LSODA throughput); not meant for production runs.
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from . import core, kernel
from .layout import N_MODE, N_STATE, N_SUMMARY, N_Y, S_NSTEPS
from .model import N_F, evaluate, prepare_table


def integrate_reference(rec, ages, rtol=1e-6, method="LSODA", atol_factor=1.0):
    """Integrate one record (a 0-d structured array element) with scipy; returns (state, summ, status).

    state (n_age, N_STATE) at the output ages, like the kernel's; status 0 or a failure code.
    """
    start_age = float(ages[0])
    taus = start_age - np.asarray(ages, dtype=float)
    tab = np.zeros(core.N_TAB)
    prepare_table(rec, tab)
    y = np.zeros(N_Y)
    mode = np.zeros(N_MODE)
    dy = np.zeros(N_Y)
    fl = np.zeros(N_F)
    g = np.zeros(kernel.N_EV)
    summ = np.zeros(N_SUMMARY)
    summ[:2] = -1.0
    kernel.initial_state(rec, y)
    status = kernel.initial_mode(start_age, y, mode, rec, tab, dy, fl)
    out = np.full((len(ages), N_STATE), np.nan)
    if status:
        return out, summ, status
    atol = rtol * kernel.ATOL_SCALE * atol_factor

    def rhs(tau, yy):
        d = np.empty(N_Y)
        evaluate(start_age - tau, start_age, yy, mode, rec, tab, d, fl)
        return d

    def make_event(k):
        def ev(tau, yy):
            kernel.event_functions(start_age - tau, start_age, yy, mode, rec, tab, g, -1.0)
            return g[k]
        ev.terminal = True
        ev.direction = -1
        return ev

    events = [make_event(k) for k in range(kernel.N_EV)]
    tau = 0.0
    out[0, :N_Y] = y
    out[0, N_Y:] = mode
    k_out = 1
    n_steps = 0
    while tau < start_age:
        kernel.event_functions(start_age - tau, start_age, y, mode, rec, tab, g, -1.0)
        active = [events[k] for k in range(kernel.N_EV) if np.isfinite(g[k]) and g[k] >= 0.0]
        t_eval = taus[k_out:]
        sol = solve_ivp(rhs, (tau, start_age), y, method=method, rtol=rtol, atol=atol, events=active or None,
                        dense_output=True)
        n_steps += sol.t.size - 1
        if sol.status == -1:
            return np.full_like(out, np.nan), summ, 1
        t_stop = sol.t[-1]
        while k_out < len(ages) and taus[k_out] <= t_stop * (1 + 1e-14):
            out[k_out, :N_Y] = sol.sol(taus[k_out]) if taus[k_out] < t_stop else sol.y[:, -1]
            out[k_out, N_Y:] = mode
            k_out += 1
        y = sol.y[:, -1].copy()
        tau = t_stop
        if sol.status == 1:
            hit = [i for i, te in enumerate(sol.t_events) if te.size]
            ev = kernel.N_EV
            for i in hit:
                ev = min(ev, events.index(active[i]))
            st, _ = kernel.apply_event(ev, start_age - tau, start_age, y, mode, rec, tab, summ)
            if st:
                return np.full_like(out, np.nan), summ, st
    if not (rec["bmo_thickness0"] > 0 and rec["mode"] == 0):
        out[:, 3] = out[:, 2]
    summ[S_NSTEPS] = n_steps
    return out, summ, 0
