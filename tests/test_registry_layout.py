"""Every column index and count of the kernel arrays comes from the output declarations by name, and the
mapping is one-to-one and complete (thermal/layout.py, dynamo/layout.py); categorical codes are the
declared choices' indices."""
import pytest

from lunadyn.dynamo import layout as DL
from lunadyn.dynamo.outputs import DYNAMO_OUTPUTS, DYNAMO_SUMMARY_OUTPUTS
from lunadyn.runs.registry import DIAG_NAMES, DYNAMO_NAMES, PARAMS, STATE_NAMES, SUMMARY_NAMES
from lunadyn.thermal import layout as L
from lunadyn.thermal.declare import Output
from lunadyn.thermal.outputs import DIAGNOSTIC_OUTPUTS, STATE_OUTPUTS, SUMMARY_OUTPUTS


@pytest.mark.parametrize("outputs, columns, module", [
    (STATE_OUTPUTS, L.STATE_COLUMNS, L), (DIAGNOSTIC_OUTPUTS, L.DIAGNOSTIC_COLUMNS, L),
    (SUMMARY_OUTPUTS, L.SUMMARY_COLUMNS, L), (DYNAMO_OUTPUTS, DL.DYNAMO_COLUMNS, DL),
    (DYNAMO_SUMMARY_OUTPUTS, DL.DYNAMO_SUMMARY_COLUMNS, DL)])
def test_each_constant_is_the_column_of_its_declared_output(outputs, columns, module):
    names = [o.name for o in outputs]
    offset = L.N_Y if columns is L.STATE_COLUMNS else 0
    for const, name in columns.items():
        index = getattr(module, const) + (offset if const.startswith("M_") else 0)
        assert names[index] == name, const


def test_counts_follow_the_declarations():
    assert (L.N_STATE, L.N_Y + L.N_MODE) == (len(STATE_OUTPUTS), len(STATE_OUTPUTS))
    assert (L.N_DIAG, L.N_SUMMARY) == (len(DIAGNOSTIC_OUTPUTS), len(SUMMARY_OUTPUTS))
    assert (DL.N_DYN, DL.N_DYN_SUMMARY) == (len(DYNAMO_OUTPUTS), len(DYNAMO_SUMMARY_OUTPUTS))
    assert STATE_NAMES == tuple(o.name for o in STATE_OUTPUTS) and len(DIAG_NAMES) == L.N_DIAG
    assert len(DYNAMO_NAMES) == DL.N_DYN and len(SUMMARY_NAMES) == L.N_SUMMARY + DL.N_DYN_SUMMARY


def test_the_check_fails_when_columns_and_declarations_disagree():
    extra = DIAGNOSTIC_OUTPUTS + (Output("new_output", "1", "a declared output without a column", "thermal"),)
    with pytest.raises(ValueError, match="without a constant \\['new_output'\\]"):
        L.check_columns(extra, L.DIAGNOSTIC_COLUMNS)
    renamed = {**L.DIAGNOSTIC_COLUMNS, "D_RI": "inner_core_radius"}
    with pytest.raises(ValueError, match="unknown \\['inner_core_radius'\\]"):
        L.check_columns(DIAGNOSTIC_OUTPUTS, renamed)
    reordered = DIAGNOSTIC_OUTPUTS[1:] + DIAGNOSTIC_OUTPUTS[:1]
    assert L.check_columns(reordered, L.DIAGNOSTIC_COLUMNS)["D_RI"] == len(DIAGNOSTIC_OUTPUTS) - 1


def test_categorical_codes_are_the_declared_choices():
    from lunadyn.dynamo import orbit, scaling
    from lunadyn.thermal import parameters as tp

    assert [scaling.LAW_ML, scaling.LAW_CIA, scaling.LAW_MAC, scaling.LAW_CA06] == \
        [PARAMS["law"].code(c) for c in ("ml", "cia", "mac", "ca06")]
    assert [orbit.ORBIT_CYCLOSTRATIGRAPHY, orbit.ORBIT_DWYER, orbit.ORBIT_CONSTANT_Q] == \
        [PARAMS["orbit"].code(c) for c in ("cyclostratigraphy", "dwyer", "constant_q")]
    assert (tp.LIQUIDUS_BUONO_WALKER, tp.LIQUIDUS_LINEAR) == (PARAMS["liquidus"].code("buono_walker"),
                                                              PARAMS["liquidus"].code("linear"))
    assert (tp.MODE_COUPLED, tp.MODE_CORE_ONLY) == (PARAMS["mode"].code("coupled"), PARAMS["mode"].code("core_only"))
    assert L.CORE_REGIMES[L.REG_EUTECTIC] == "eutectic" and L.LAYER_PHASES[L.LAYER_SOLID] == "solid"
