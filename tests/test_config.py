"""Scenario files: every mistake is one line naming the field (or file) and what was expected."""
from pathlib import Path

import numpy as np
import pytest

from lunadyn.runs.spec.config import defaults, load_scenario, parse_set, scenario_from_text, scenario_records
from lunadyn.runs.errors import UserError
from lunadyn.runs.registry import PARAMS, SPEC

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "runs" / "examples" / "moon_default.toml"


def write(tmp_path, text, name="moon.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def error_of(tmp_path, text, overrides=()):
    with pytest.raises(UserError) as info:
        load_scenario(write(tmp_path, text), overrides)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# --- reading ------------------------------------------------------------------------------------


def test_example_is_the_default_moon():
    scn = load_scenario(EXAMPLE)
    values, settings = defaults()
    assert scn.values == values
    assert scn.settings == settings == {"start_age": 4.5, "output_step": 0.01, "rtol": 1e-6, "max_steps": 20000}
    assert scn.title == "Default Moon" and scn.description


def test_defaults_are_filled_for_every_parameter(tmp_path):
    scn = load_scenario(write(tmp_path, 'title = "x"\nr_core = 380e3\n'))
    assert set(scn.values) == set(PARAMS)
    assert set(scn.settings) == set(SPEC)
    assert scn.values["r_core"] == 380e3
    assert scn.values["k_core"] == PARAMS["k_core"].default
    assert scn.values["qcmb_ages"] == [0.0]  # arrays in config form are lists


def test_integers_are_accepted_for_floats(tmp_path):
    scn = load_scenario(write(tmp_path, "k_core = 30\n"))
    assert scn.values["k_core"] == 30.0 and isinstance(scn.values["k_core"], float)


def test_records_are_built_with_codes_and_padded_arrays(tmp_path):
    text = ('law = "ml"\nmode = "core_only"\nqcmb_n = 2\nqcmb_ages = [4.5, 0.0]\n'
            "qcmb_values = [3e10, 1e9]\n")
    scn = load_scenario(write(tmp_path, text))
    rec = scenario_records(scn, n=3)
    assert rec.shape == (3,)
    assert (rec["law"] == PARAMS["law"].choices.index("ml")).all()
    assert rec["qcmb_ages"].shape == (3, 32)
    np.testing.assert_array_equal(rec["qcmb_ages"][0, :3], [4.5, 0.0, 0.0])
    np.testing.assert_array_equal(rec["qcmb_values"][1, :2], [3e10, 1e9])
    assert rec["r_core"][0] == 350e3


# --- --set ------------------------------------------------------------------------------------


def test_parse_set_reads_toml_values_and_bare_strings():
    got = parse_set(["r_core=3.8e5", "law=ml", 'orbit="dwyer"', "qcmb_ages=[1, 0.5]", "max_steps = 500",
                     "flag=true"])
    assert got == {"r_core": 3.8e5, "law": "ml", "orbit": "dwyer", "qcmb_ages": [1, 0.5], "max_steps": 500,
                   "flag": True}


def test_parse_set_later_items_win():
    assert parse_set(["k_core=10", "k_core=20"]) == {"k_core": 20}


def test_parse_set_needs_an_equals_sign():
    with pytest.raises(UserError, match="--set expects NAME=VALUE, got 'r_core'"):
        parse_set(["r_core"])


def test_overrides_win_over_the_file(tmp_path):
    scn = load_scenario(write(tmp_path, "r_core = 380e3\nrtol = 1e-7\n"), ["r_core=320e3", "law=mac", "rtol=1e-8"])
    assert scn.values["r_core"] == 320e3 and scn.values["law"] == "mac" and scn.settings["rtol"] == 1e-8
    assert scn.overrides == {"r_core": 320e3, "law": "mac", "rtol": 1e-8}


def test_unknown_override_names_set_and_suggests(tmp_path):
    msg = error_of(tmp_path, "", ["k_cor=30"])
    assert msg == "unknown parameter 'k_cor' in --set: did you mean 'k_core'?"


# --- errors ------------------------------------------------------------------------------------


def test_toml_syntax_error_gives_file_and_line(tmp_path):
    msg = error_of(tmp_path, "r_core = 350e3\nk_core = = 3\n")
    assert msg.startswith("invalid TOML in ") and "moon.toml" in msg and "line 2" in msg


def test_unknown_parameter_suggests_the_closest_name(tmp_path):
    msg = error_of(tmp_path, "r_cor = 350e3\n")
    assert msg.startswith("unknown parameter 'r_cor' in ") and msg.endswith("moon.toml: did you mean 'r_core'?")


def test_unknown_parameter_without_a_close_name(tmp_path):
    assert "unknown parameter 'zzzzzz'" in error_of(tmp_path, "zzzzzz = 1\n")


def test_a_table_is_not_a_scenario_key(tmp_path):
    assert "unexpected table [sweep]" in error_of(tmp_path, "[sweep]\nn = 3\n")


@pytest.mark.parametrize("text, expected", [
    ("r_core = true", "r_core in {f}: expected a number in m, got true"),
    ('r_core = "big"', "r_core in {f}: expected a number in m, got 'big'"),
    ('law = "fast"', "law in {f}: expected one of ml, cia, mac, ca06, got 'fast'"),
    ("law = 1", "law in {f}: expected one of ml, cia, mac, ca06, got 1"),
    ("max_steps = 1.5", "max_steps in {f}: expected an integer, got 1.5"),
    ("max_steps = true", "max_steps in {f}: expected an integer, got true"),
    ("qcmb_n = 2.0", "qcmb_n in {f}: expected an integer, got 2.0"),
    ("qcmb_ages = 1.0", "qcmb_ages in {f}: expected a list of numbers (Ga, at most 32), got 1.0"),
    ('qcmb_ages = [1.0, "a"]', "qcmb_ages in {f}: expected a list of numbers (Ga, at most 32), got [1.0, 'a']"),
    ("qcmb_ages = [true]", "qcmb_ages in {f}: expected a list of numbers (Ga, at most 32), got [true]"),
    ("qcmb_ages = [" + ", ".join(["1.0"] * 33) + "]", "qcmb_ages in {f}: expected at most 32 numbers, got 33"),
    ("title = 3", "title in {f}: expected a string, got 3"),
    ("r_core = nan", "r_core in {f}: expected a finite number, got nan"),
])
def test_wrong_types_name_the_field(tmp_path, text, expected):
    f = str(tmp_path / "moon.toml")
    assert error_of(tmp_path, text + "\n") == expected.format(f=f)


@pytest.mark.parametrize("text, expected", [
    # widened prior 300-400 km -> (250, 450] km; the physical lower end (0) is open
    ("r_core = 1e3", "r_core = 1000 m in {f} is out of bounds: expected 250000 < r_core <= 450000 m"),
    ("r_core = 450e3", None),
    ("r_core = 450.001e3", "r_core = 450001 m in {f} is out of bounds: expected 250000 < r_core <= 450000 m"),
    ("radius = 0.0", "radius = 0 m in {f} is out of bounds: expected radius > 0 m"),
    # a closed lower end (lower_open = False) admits it
    ("K_core_ppm = 0.0", None),
    ("K_core_ppm = -1.0", "K_core_ppm = -1 ppm in {f} is out of bounds: expected 0 <= K_core_ppm <= 75 ppm"),
    ("qcmb_ages = [1.0, 11.0]", "qcmb_ages[1] = 11 Ga in {f} is out of bounds: expected 0 <= qcmb_ages[1] <= 10 Ga"),
    ("rtol = 0.5", "rtol = 0.5 in {f} is out of bounds: expected 1e-12 <= rtol <= 0.01"),
    ("max_steps = 5", "max_steps = 5 in {f} is out of bounds: expected 10 <= max_steps <= 10000000"),
    ("start_age = 5.0", "start_age = 5 Ga in {f} is out of bounds: expected 0 < start_age <= 4.6 Ga"),
])
def test_bounds_give_the_interval_and_unit(tmp_path, text, expected):
    f = str(tmp_path / "moon.toml")
    if expected is None:
        load_scenario(write(tmp_path, text + "\n"))
    else:
        assert error_of(tmp_path, text + "\n") == expected.format(f=f)


def test_heat_fractions_cannot_exceed_one(tmp_path):
    msg = error_of(tmp_path, "f_hpe_crust = 0.5\nf_hpe_basal = 0.6\n")
    assert msg.startswith("f_hpe_crust + f_hpe_basal = 1.1") and "at most 1" in msg


def test_basal_heat_needs_a_basal_layer(tmp_path):
    msg = error_of(tmp_path, "bmo_thickness0 = 0.0\n")
    assert msg.startswith("f_hpe_basal = 0.075") and "bmo_thickness0 = 0" in msg
    load_scenario(write(tmp_path, "bmo_thickness0 = 0.0\nf_hpe_basal = 0.0\n"))


def test_lid_must_include_the_crust(tmp_path):
    msg = error_of(tmp_path, "lid0 = 30e3\n")
    assert msg.startswith("lid0 = 30000 m") and "crust_thickness = 40000 m" in msg


def test_lid_must_not_reach_the_basal_layer(tmp_path):
    # radius - r_core - bmo_thickness0 - 10 km = 1737.1 - 450 - 700 - 10 = 577.1 km
    msg = error_of(tmp_path, "r_core = 450e3\nbmo_thickness0 = 700e3\nlid0 = 580e3\n")
    assert msg.startswith("lid0 = 580000 m") and "577100 m" in msg


def test_start_age_must_be_a_multiple_of_output_step(tmp_path):
    msg = error_of(tmp_path, "output_step = 0.07\n")
    assert msg.startswith("start_age = 4.5 Ga") and "output_step = 0.07 Ga" in msg
    scn = load_scenario(write(tmp_path, "start_age = 4.2\noutput_step = 0.1\n"))  # 4.2/0.1 = 41.99999...
    assert scn.settings["start_age"] == 4.2


def test_core_only_knots_must_match_qcmb_n(tmp_path):
    msg = error_of(tmp_path, 'mode = "core_only"\nqcmb_n = 2\nqcmb_ages = [4.5, 0.0]\n')
    assert msg.startswith("qcmb_values in ") and "has 1 value(s) but qcmb_n = 2" in msg
    # coupled mode ignores the table
    load_scenario(write(tmp_path, "qcmb_n = 2\n"))


def test_consistency_error_mentions_overrides(tmp_path):
    msg = error_of(tmp_path, "", ["lid0=1e4"])
    assert "with overrides" in msg


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing.toml", "file not found: "),
    (lambda d: d, "is a directory, expected a TOML file"),
])
def test_missing_or_unreadable_files(tmp_path, make, expected):
    with pytest.raises(UserError, match=expected):
        load_scenario(make(tmp_path))


def test_non_utf8_file(tmp_path):
    p = tmp_path / "bin.toml"
    p.write_bytes(b"r_core = \xff\n")
    with pytest.raises(UserError, match="is not UTF-8 text"):
        load_scenario(p)


def test_python_overrides_are_validated():
    scn = scenario_from_text("", "defaults", {"law": "ml", "k_core": 20})
    assert scn.values["law"] == "ml" and scn.values["k_core"] == 20.0
    with pytest.raises(UserError, match="unknown parameter 'lawz' in overrides: did you mean 'law'"):
        scenario_from_text("", "defaults", {"lawz": "ml"})
