"""Integer layout of the dynamo stage's arrays (column indices used inside Numba code).

Must match the order of ``dynamo/outputs.py`` (checked by tests/test_dynamo_stage.py).
"""
# out (n, n_age, N_DYN), in the order of DYNAMO_OUTPUTS
(O_A, O_PHI_CORE, O_PHI_BMO, O_PHI_PREC, O_U_CORE, O_U_BMO, O_U_PREC, O_RM_CORE, O_RM_BMO, O_RM_PREC,
 O_ON_CORE, O_ON_BMO, O_ON_PREC, O_B_CORE, O_B_BMO, O_B_PREC, O_B_SURFACE) = range(17)
N_DYN = 17

# summ (n, N_DYN_SUMMARY), in the order of DYNAMO_SUMMARY_OUTPUTS
S_END_CORE, S_END_BMO, S_END_PREC = 0, 1, 2
N_DYN_SUMMARY = 3
