"""Thermal outputs (docs/physics.md §What every run reports), declared once: state columns, diagnostics, per-run summaries.

The column order here is the order of the kernel's arrays; ``thermal/layout.py`` derives the integer
indices that Numba code uses from these declarations by name (and checks the mapping is complete).
Fill values for "not applicable": -1 for ages that never happened, 0 for thicknesses, heat flows and
entropy terms of an absent layer or inactive source. NaN only marks a failed model.
"""
from .declare import Output

# names of the codes of the basal-layer phase and the core regime (thermal/layout.py: code = index)
LAYER_PHASES = ("none", "molten above T_b0", "molten", "solid")
CORE_REGIMES = ("liquid", "bottom-up", "top-down", "eutectic", "solid")


def _coded(names) -> str:
    return ", ".join(f"{k} {name}" for k, name in enumerate(names))


# State written by the kernel at every output age (float64 in stores): y and the discrete mode.
STATE_OUTPUTS = (
    Output("T_mantle", "K", "mantle potential temperature T_m", "state", dtype="float64"),
    Output("lid_thickness", "m", "stagnant-lid thickness D_l (includes the crust)", "state", dtype="float64"),
    Output("T_cmb", "K", "core temperature at the core-mantle boundary T_c", "state", dtype="float64"),
    Output("T_basal", "K", "mean basal-layer temperature T_b (= T_cmb without a basal layer)", "state",
           dtype="float64"),
    Output("int_Q_cmb", "J", "integral of Q_cmb since start_age", "state", dtype="float64"),
    Output("int_abs_Q_cmb", "J", "integral of |Q_cmb| since start_age", "state", dtype="float64"),
    Output("int_Q_basal_top", "J", "integral of Q_bot since start_age", "state", dtype="float64"),
    Output("int_H_layer", "J", "integral of the basal layer's radiogenic heating since start_age", "state",
           dtype="float64"),
    Output("mode_layer", "1", "basal-layer phase: " + _coded(LAYER_PHASES), "state",
           dtype="float64"),
    Output("mode_core", "1", "core regime: " + _coded(CORE_REGIMES) + "; "
           "+10 while an off-centre nucleus grows at a T_c plateau", "state", dtype="float64"),
    Output("mode_lid", "1", "1 while the lid rests on the crust (dD_l/dt clamped at >= 0)", "state",
           dtype="float64"),
    Output("mode_T_hold", "K", "T_cmb held during a nucleation plateau or the eutectic regime", "state",
           dtype="float64"),
    Output("mode_E_ref", "J", "int_Q_cmb minus the core's integrated radiogenic heat at the last regime entry",
           "state", dtype="float64"),
    Output("mode_r_ref", "m", "inner-core radius frozen at the last regime entry", "state", dtype="float64"),
)

DIAGNOSTIC_OUTPUTS = (
    Output("r_inner_core", "m", "inner-core radius r_i", "thermal"),
    Output("core_regime", "1", "core regime " + _coded(CORE_REGIMES), "thermal",
           dtype="int8"),
    Output("bmo_thickness", "m", "molten basal-layer (BMO) thickness H_b", "thermal"),
    Output("Q_surface", "W", "surface heat flow (0 in core_only mode)", "thermal"),
    Output("Q_cmb", "W", "core-mantle boundary heat flow (positive out of the core)", "thermal"),
    Output("Q_adiabatic", "W", "heat flow down the core adiabat at the CMB", "thermal"),
    Output("Q_basal_top", "W", "heat flow into the convecting mantle at its base Q_bot", "thermal"),
    Output("Q_adiabatic_bmo", "W", "heat flow down the BMO adiabat at its top (0 when not molten)", "thermal"),
    Output("H_radiogenic", "W", "radiogenic heat production of the silicate Moon H(t)", "thermal"),
    Output("dTcmb_dt", "K s-1", "rate of change of the CMB temperature", "thermal"),
    Output("E_secular", "W K-1", "entropy term of secular cooling E_S", "thermal"),
    Output("E_latent", "W K-1", "entropy term of latent heat E_L", "thermal"),
    Output("E_gravitational", "W K-1", "entropy term of gravitational energy release E_G", "thermal"),
    Output("E_radiogenic", "W K-1", "entropy term of core radiogenic heating E_R", "thermal"),
    Output("E_conduction", "W K-1", "entropy sink of conduction down the adiabat E_k", "thermal"),
    Output("f_inner", "1", "fraction of buoyancy released at the inner-core boundary f_i", "thermal"),
    Output("solidus_excess", "K", "T_mantle above the (offset) Katz 2003 solidus at the lid base", "thermal"),
)

SUMMARY_OUTPUTS = (
    Output("age_inner_core_nucleation", "Ga", "age at which the inner core nucleated (-1 never)", "summary",
           shape="run", fill=-1.0, dtype="float64"),
    Output("age_bmo_solidified", "Ga", "age at which the basal magma ocean solidified (-1 never)", "summary",
           shape="run", fill=-1.0, dtype="float64"),
    Output("n_steps", "1", "accepted Runge-Kutta steps", "summary", shape="run", fill=0.0, dtype="float64"),
    Output("book_core_residual", "J", "core energy book: int Q_cmb + dE_core - int Q_R", "summary",
           shape="run", dtype="float64"),
    Output("book_core_scale", "J", "core energy book scale: int |Q_cmb| + C_S * 1000 K", "summary",
           shape="run", dtype="float64"),
    Output("book_layer_residual", "J", "basal-layer book: dE_layer - int Q_cmb + int Q_bot - int H_layer",
           "summary", shape="run", dtype="float64"),
    Output("book_layer_scale", "J", "basal-layer book scale: int |Q_cmb| + int |Q_bot| + M c_b * 1000 K",
           "summary", shape="run", dtype="float64"),
)
