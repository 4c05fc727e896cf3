"""Integer layout of the kernel arrays (column indices and codes used inside Numba code).

Every column index and count is derived here from the output declarations (``thermal/outputs.py``) by
name, so the kernels, the diagnostics and the stores cannot disagree on which column holds what;
``check_columns`` (run at import and by tests/test_registry_layout.py) proves the mapping is one-to-one
and complete. Categorical codes are named constants derived from the declared choices.
"""
from .outputs import CORE_REGIMES, DIAGNOSTIC_OUTPUTS, LAYER_PHASES, STATE_OUTPUTS, SUMMARY_OUTPUTS


def check_columns(outputs, columns: dict) -> dict:
    """{constant: index} for ``columns`` = {constant: output name}, checked against ``outputs``.

    Raises ValueError unless every declared output has exactly one constant and every constant names a
    declared output (so adding, removing or reordering a declaration can never shift a column silently).
    """
    names = [o.name for o in outputs]
    unknown = sorted(set(columns.values()) - set(names))
    missing = [n for n in names if n not in columns.values()]
    if unknown or missing or len(set(columns.values())) != len(columns):
        raise ValueError(f"kernel columns disagree with the declarations: unknown {unknown}, without a "
                         f"constant {missing}, {len(columns)} constants for {len(names)} outputs")
    return {const: names.index(name) for const, name in columns.items()}


# continuous state y (then the discrete mode), in the order of STATE_OUTPUTS
STATE_COLUMNS = {
    "Y_TM": "T_mantle", "Y_DL": "lid_thickness", "Y_TC": "T_cmb", "Y_TB": "T_basal", "Y_IQ": "int_Q_cmb",
    "Y_IAQ": "int_abs_Q_cmb", "Y_IQB": "int_Q_basal_top", "Y_IHL": "int_H_layer",
    "M_LAYER": "mode_layer", "M_CORE": "mode_core", "M_LID": "mode_lid", "M_THOLD": "mode_T_hold",
    "M_EREF": "mode_E_ref", "M_RREF": "mode_r_ref",
}
_S = check_columns(STATE_OUTPUTS, STATE_COLUMNS)
Y_TM, Y_DL, Y_TC, Y_TB, Y_IQ, Y_IAQ, Y_IQB, Y_IHL = (_S[k] for k in
                                                    ("Y_TM", "Y_DL", "Y_TC", "Y_TB", "Y_IQ", "Y_IAQ", "Y_IQB", "Y_IHL"))
N_Y = _S["M_LAYER"]                     # the mode follows y in the state output
M_LAYER, M_CORE, M_LID, M_THOLD, M_EREF, M_RREF = (_S[k] - N_Y for k in
                                                   ("M_LAYER", "M_CORE", "M_LID", "M_THOLD", "M_EREF", "M_RREF"))
N_STATE = len(STATE_OUTPUTS)
N_MODE = N_STATE - N_Y

# diagnostics, in the order of DIAGNOSTIC_OUTPUTS
DIAGNOSTIC_COLUMNS = {
    "D_RI": "r_inner_core", "D_REGIME": "core_regime", "D_HB": "bmo_thickness", "D_QS": "Q_surface",
    "D_QCMB": "Q_cmb", "D_QAD": "Q_adiabatic", "D_QBOT": "Q_basal_top", "D_QADB": "Q_adiabatic_bmo",
    "D_HRAD": "H_radiogenic", "D_DTC": "dTcmb_dt", "D_ES": "E_secular", "D_EL": "E_latent",
    "D_EG": "E_gravitational", "D_ER": "E_radiogenic", "D_EK": "E_conduction", "D_FI": "f_inner",
    "D_SOLEX": "solidus_excess",
}
_D = check_columns(DIAGNOSTIC_OUTPUTS, DIAGNOSTIC_COLUMNS)
(D_RI, D_REGIME, D_HB, D_QS, D_QCMB, D_QAD, D_QBOT, D_QADB, D_HRAD, D_DTC, D_ES, D_EL, D_EG, D_ER, D_EK,
 D_FI, D_SOLEX) = (_D[k] for k in DIAGNOSTIC_COLUMNS)
N_DIAG = len(DIAGNOSTIC_OUTPUTS)

# per-run summaries, in the order of SUMMARY_OUTPUTS
SUMMARY_COLUMNS = {
    "S_AGE_NUC": "age_inner_core_nucleation", "S_AGE_BMO": "age_bmo_solidified", "S_NSTEPS": "n_steps",
    "S_BOOK_CORE": "book_core_residual", "S_BOOK_CORE_SCALE": "book_core_scale",
    "S_BOOK_LAYER": "book_layer_residual", "S_BOOK_LAYER_SCALE": "book_layer_scale",
}
_U = check_columns(SUMMARY_OUTPUTS, SUMMARY_COLUMNS)
(S_AGE_NUC, S_AGE_BMO, S_NSTEPS, S_BOOK_CORE, S_BOOK_CORE_SCALE, S_BOOK_LAYER,
 S_BOOK_LAYER_SCALE) = (_U[k] for k in SUMMARY_COLUMNS)
N_SUMMARY = len(SUMMARY_OUTPUTS)

# basal-layer phases (mode_layer) and core regimes (mode_core, core_regime): code = index of the name
LAYER_NONE, LAYER_HOT, LAYER_MOLTEN, LAYER_SOLID = range(len(LAYER_PHASES))
REG_LIQUID, REG_BOTTOM_UP, REG_TOP_DOWN, REG_EUTECTIC, REG_SOLID = range(len(CORE_REGIMES))
REG_PLATEAU_OFFSET = 10                      # mode_core + 10 while an off-centre nucleus grows at a plateau
REG_PLATEAU = REG_BOTTOM_UP + REG_PLATEAU_OFFSET

# status: thermal code (low 4 bits) | flags
ST_CODE_MASK = 0xF  # status & ST_CODE_MASK is the thermal code; the bits above are flags
ST_OK, ST_UNDERFLOW, ST_MAX_STEPS, ST_NONFINITE, ST_BOUNDS, ST_ROOT, ST_BOOKS = 0, 1, 2, 3, 4, 5, 6
FLAG_ORBIT_UNDEFINED, FLAG_REGIME2, FLAG_REMELT = 16, 32, 64
