"""Integer layout of the dynamo stage's arrays (column indices used inside Numba code), derived from the
output declarations of ``dynamo/outputs.py`` by name and checked one-to-one (``thermal.layout.check_columns``)."""
from ..thermal.layout import check_columns
from .outputs import DYNAMO_OUTPUTS, DYNAMO_SUMMARY_OUTPUTS

# out (n, n_age, N_DYN), in the order of DYNAMO_OUTPUTS
DYNAMO_COLUMNS = {
    "O_A": "a_orbit", "O_PHI_CORE": "Phi_core", "O_PHI_BMO": "Phi_bmo", "O_PHI_PREC": "Phi_precession",
    "O_U_CORE": "u_core", "O_U_BMO": "u_bmo", "O_U_PREC": "u_precession", "O_RM_CORE": "Rm_core",
    "O_RM_BMO": "Rm_bmo", "O_RM_PREC": "Rm_precession", "O_ON_CORE": "dynamo_on_core",
    "O_ON_BMO": "dynamo_on_bmo", "O_ON_PREC": "dynamo_on_precession", "O_B_CORE": "B_core",
    "O_B_BMO": "B_bmo", "O_B_PREC": "B_precession", "O_B_SURFACE": "B_surface",
}
_O = check_columns(DYNAMO_OUTPUTS, DYNAMO_COLUMNS)
(O_A, O_PHI_CORE, O_PHI_BMO, O_PHI_PREC, O_U_CORE, O_U_BMO, O_U_PREC, O_RM_CORE, O_RM_BMO, O_RM_PREC,
 O_ON_CORE, O_ON_BMO, O_ON_PREC, O_B_CORE, O_B_BMO, O_B_PREC, O_B_SURFACE) = (_O[k] for k in DYNAMO_COLUMNS)
N_DYN = len(DYNAMO_OUTPUTS)

# summ (n, N_DYN_SUMMARY), in the order of DYNAMO_SUMMARY_OUTPUTS
DYNAMO_SUMMARY_COLUMNS = {"S_END_CORE": "age_dynamo_end_core", "S_END_BMO": "age_dynamo_end_bmo",
                          "S_END_PREC": "age_dynamo_end_precession"}
_U = check_columns(DYNAMO_SUMMARY_OUTPUTS, DYNAMO_SUMMARY_COLUMNS)
S_END_CORE, S_END_BMO, S_END_PREC = (_U[k] for k in DYNAMO_SUMMARY_COLUMNS)
N_DYN_SUMMARY = len(DYNAMO_SUMMARY_OUTPUTS)
