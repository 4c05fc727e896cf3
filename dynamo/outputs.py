"""Dynamo outputs (docs/physics.md §Dynamo sources, §What every run reports), declared once, in the order of the dynamo stage's arrays.

``dynamo/layout.py`` holds the matching integer indices that Numba code uses.
Fill values for "not applicable": 0 for Phi, u, Rm and B of an inactive source (Phi <= 0: a core being
heated or frozen, a BMO solidified or stably stratified, a solid core for precession); B is also 0 while
a source that convects is not a dynamo (Rm < rm_crit, shell thinner than shell_min, or for precession
a >= a_precession_end, or the source left out of the ``sources`` parameter), while its Phi, u and Rm
are still reported. -1 for end ages that never happened.
NaN only for failed models (thermal status code != 0), and for ``a_orbit`` and the precession
variables at ages where the orbit model is undefined (``constant_q`` beyond 1.548 Ga; status flag 16).
"""
import math

from ..thermal.declare import Output

_UNDEF = "NaN where the orbit is undefined (constant_q beyond 1.548 Ga, status flag 16)"

DYNAMO_OUTPUTS = (
    Output("a_orbit", "m", "lunar semi-major axis a", "dynamo", fill=math.nan, note=_UNDEF),
    Output("Phi_core", "W", "ohmic dissipation of the core dynamo T_c (E_S + E_L + E_G + E_R - E_k), >= 0",
           "dynamo"),
    Output("Phi_bmo", "W", "ohmic dissipation of the basal-magma-ocean dynamo (upper bound)", "dynamo"),
    Output("Phi_precession", "W", "ohmic dissipation of the precession dynamo f_dyn * CMB friction power",
           "dynamo", note=_UNDEF),
    Output("u_core", "m s-1", "convective velocity in the liquid outer core (scaling law)", "dynamo"),
    Output("u_bmo", "m s-1", "convective velocity in the basal magma ocean (scaling law)", "dynamo"),
    Output("u_precession", "m s-1", "core-mantle differential velocity Omega |sin theta_cm| r_c", "dynamo",
           note=_UNDEF),
    Output("Rm_core", "1", "magnetic Reynolds number of the core mu0 sigma_c u L", "dynamo"),
    Output("Rm_bmo", "1", "magnetic Reynolds number of the basal magma ocean mu0 sigma_b u L", "dynamo"),
    Output("Rm_precession", "1", "magnetic Reynolds number of the precession dynamo", "dynamo", note=_UNDEF),
    Output("dynamo_on_core", "1", "1 while the core dynamo operates", "dynamo", dtype="int8"),
    Output("dynamo_on_bmo", "1", "1 while the basal-magma-ocean dynamo operates", "dynamo", dtype="int8"),
    Output("dynamo_on_precession", "1", "1 while the precession dynamo operates", "dynamo", dtype="int8",
           note="0 where the orbit is undefined"),
    Output("B_core", "T", "equatorial surface field of the core dynamo", "dynamo"),
    Output("B_bmo", "T", "equatorial surface field of the basal-magma-ocean dynamo", "dynamo"),
    Output("B_precession", "T", "equatorial surface field of the precession dynamo", "dynamo", note=_UNDEF),
    Output("B_surface", "T", "equatorial surface field: the largest source field (fields do not add)",
           "dynamo", note="ignores an undefined (NaN) precession field"),
)

DYNAMO_SUMMARY_OUTPUTS = (
    Output("age_dynamo_end_core", "Ga", "youngest output age at which the core dynamo operates (-1 never)",
           "dynamo", shape="run", fill=-1.0, dtype="float64"),
    Output("age_dynamo_end_bmo", "Ga", "youngest output age at which the BMO dynamo operates (-1 never)",
           "dynamo", shape="run", fill=-1.0, dtype="float64"),
    Output("age_dynamo_end_precession", "Ga",
           "youngest output age at which the precession dynamo operates (-1 never)", "dynamo", shape="run",
           fill=-1.0, dtype="float64"),
)
