"""A stand-in for ``runs.pipeline.compute`` with the same return layout, for tests of the plumbing
(config -> store -> CLI summary -> figure) that must not depend on the Numba kernel."""
import numpy as np

from lunadyn.runs.compute.pipeline import output_ages
from lunadyn.runs.registry import OUTPUTS, STATE_NAMES, SUMMARIES

# today's figures the fake reports (a 13.8 mW/m2 surface heat flow on the default radius)
Q_SURFACE_TODAY = 13.8e-3 * 4 * np.pi * 1737.1e3 ** 2
T_CMB_TODAY = 1650.0
R_INNER_TODAY = 176e3
AGE_NUCLEATION = 3.43
AGE_BMO = 2.53


def fake_compute(records, settings):
    """Smooth made-up histories for every declared output, layout as pipeline.compute."""
    ages = output_ages(settings["start_age"], settings["output_step"])
    n, na = records.shape[0], ages.size
    frac = np.broadcast_to(ages / ages[0], (n, na))  # 1 at the start, 0 today

    def series(name, today, start):
        return (today + (start - today) * frac).astype(OUTPUTS[name].dtype)

    state = {name: np.zeros((n, na)) for name in STATE_NAMES}
    state["T_mantle"] = series("T_mantle", 1500.0, 1700.0)
    state["T_cmb"] = series("T_cmb", T_CMB_TODAY, 1900.0)
    state["T_basal"] = series("T_basal", 1600.0, 1900.0)
    outputs = {name: np.zeros((n, na), dtype=o.dtype) for name, o in OUTPUTS.items() if name not in state}
    outputs["Q_surface"] = series("Q_surface", Q_SURFACE_TODAY, 3e12)
    outputs["Q_cmb"] = series("Q_cmb", 2e9, 5e10)
    outputs["r_inner_core"] = np.where(ages <= AGE_NUCLEATION, R_INNER_TODAY, 0.0).astype("float32") * np.ones((n, 1),
                                                                                                      "float32")
    outputs["core_regime"] = np.where(ages <= AGE_NUCLEATION, 2, 0).astype("int8") * np.ones((n, 1), "int8")
    for name in ("B_core", "B_bmo", "B_precession", "B_surface"):
        if name in outputs:
            outputs[name] = series(name, 0.0, 2e-6)
    summaries = {name: np.zeros(n) for name in SUMMARIES}
    summaries["age_inner_core_nucleation"][:] = AGE_NUCLEATION
    summaries["age_bmo_solidified"][:] = AGE_BMO
    return {"age": ages, "status": np.full(n, 32, dtype=np.int32), "state": state, "outputs": outputs,
            "summaries": summaries}
