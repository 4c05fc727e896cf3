"""Integer layout of the kernel arrays (column indices used inside Numba code).

Must match the order of ``thermal/outputs.py`` (checked by tests/test_registry.py).
"""
# continuous state y
Y_TM, Y_DL, Y_TC, Y_TB, Y_IQ, Y_IAQ, Y_IQB, Y_IHL = 0, 1, 2, 3, 4, 5, 6, 7
N_Y = 8
# discrete mode, stored after y in the state output
M_LAYER, M_CORE, M_LID, M_THOLD, M_EREF, M_RREF = 0, 1, 2, 3, 4, 5
N_MODE = 6
N_STATE = N_Y + N_MODE

# basal-layer phases
LAYER_NONE, LAYER_HOT, LAYER_MOLTEN, LAYER_SOLID = 0, 1, 2, 3
# core regimes (+10 marks the off-centre nucleation plateau, regime 1)
REG_LIQUID, REG_BOTTOM_UP, REG_TOP_DOWN, REG_EUTECTIC, REG_SOLID = 0, 1, 2, 3, 4
REG_PLATEAU = 11

# diagnostics columns
(D_RI, D_REGIME, D_HB, D_QS, D_QCMB, D_QAD, D_QBOT, D_QADB, D_HRAD, D_DTC, D_ES, D_EL, D_EG, D_ER, D_EK,
 D_FI, D_SOLEX) = range(17)
N_DIAG = 17

# summaries
(S_AGE_NUC, S_AGE_BMO, S_NSTEPS, S_BOOK_CORE, S_BOOK_CORE_SCALE, S_BOOK_LAYER, S_BOOK_LAYER_SCALE) = range(7)
N_SUMMARY = 7

# status: thermal code (low 4 bits) | flags
ST_OK, ST_UNDERFLOW, ST_MAX_STEPS, ST_NONFINITE, ST_BOUNDS, ST_ROOT = 0, 1, 2, 3, 4, 5
FLAG_ORBIT_UNDEFINED, FLAG_REGIME2, FLAG_REMELT = 16, 32, 64
