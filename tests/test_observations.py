"""The measured record: the shipped file, validation of user files, and the selection of data/README.md."""
import csv
import hashlib

import pytest

from lunadyn.runs.errors import UserError
from lunadyn.runs.record.observations import (COLUMNS, DEFAULT_SELECTION, load_observations, parse_selection, read_records,
                               shipped_path)


def shipped_rows():
    with open(shipped_path(), newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_rows(path, rows, columns=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


# --------------------------------------------------------------------------------------------------
# the shipped record


def test_shipped_record_has_every_published_row_and_its_hash():
    records, path, digest, shipped = read_records()
    assert shipped and len(records) == 21
    assert digest == hashlib.sha256(open(path, "rb").read()).hexdigest()
    ids = [r.id for r in records]
    assert "ce6_basalt" in ids and "ce5_basalt" in ids
    ce6 = records[ids.index("ce6_basalt")]
    assert (ce6.kind, ce6.b_low_ut, ce6.b_high_ut, ce6.site_lat_deg) == ("range", 5.0, 21.0, -41.63)


def test_default_selection_is_confident_whole_rock():
    """data/README.md: confidence high+medium, method_class whole_rock+whole_rock_arm (12 of 21)."""
    obs = load_observations()
    assert obs.selection == DEFAULT_SELECTION
    assert len(obs) == 12 and obs.n_total == 21
    assert all(r.confidence in ("high", "medium") for r in obs.records)
    assert all(r.method_class in ("whole_rock", "whole_rock_arm") for r in obs.records)
    assert "a11_10020" not in obs.ids  # low confidence: off by default
    assert "(default)" in obs.description and "12 of 21" in obs.description


def test_selection_values_of_one_key_are_ored_and_keys_anded():
    obs = load_observations(select=["mission=Chang'e-6", "mission=Chang'e-5"])
    assert obs.ids == ["ce6_basalt", "ce5_basalt"]
    obs = load_observations(select=["mission=Chang'e-6,Chang'e-5", "side=farside"])
    assert obs.ids == ["ce6_basalt"]
    # a key given replaces only its own default: single-crystal nulls with the confidence default
    obs = load_observations(select=["method_class=single_crystal"])
    assert len(obs) == 8 and all(r.kind == "null" for r in obs.records)


def test_select_all_replaces_the_default():
    assert len(load_observations(select=["all"])) == 21
    obs = load_observations(select=["all", "confidence=low"])
    assert obs.ids == ["a11_10020"]


def test_matching_ignores_case_and_apostrophes_and_programme_names_match_missions():
    assert load_observations(select=["mission=CHANGE-6"]).ids == ["ce6_basalt"]
    apollo = load_observations(select=["mission=Apollo"])
    assert len(apollo) == 10 and all(r.mission.startswith("Apollo") for r in apollo.records)


@pytest.mark.parametrize("items, fragment", [
    (["colour=red"], "unknown key 'colour'"),
    (["mission"], "expects KEY=VALUE"),
    (["method_class=paleo"], "unknown method_class 'paleo'"),
    (["confidence=certain"], "unknown confidence 'certain'"),
    (["id=nope"], "no record"),
    (["side=farside", "method_class=single_crystal"], "leaves no record"),
])
def test_bad_selections_are_one_line_errors(items, fragment):
    with pytest.raises(UserError) as e:
        load_observations(select=items)
    msg = str(e.value)
    assert fragment in msg and "\n" not in msg


def test_parse_selection_default_and_all():
    assert parse_selection(None) == (DEFAULT_SELECTION, None)
    assert parse_selection(["all"])[0] == {}


# --------------------------------------------------------------------------------------------------
# malformed files


@pytest.mark.parametrize("rid, column, value, expected", [
    ("a15_15498_glass", "kind", "estimate", "one of value, range"),
    ("a15_15498_glass", "age_dist", "lognormal", "one of gaussian, uniform"),
    ("a15_15498_glass", "method_class", "paleo", "one of whole_rock"),
    ("a15_15498_glass", "confidence", "sure", "one of high, medium, low"),
    ("a15_15498_glass", "b_ut", "five", "a field in uT"),
    ("a15_15498_glass", "age_ga", "", "an age in Ga"),
    ("a15_15498_glass", "age_ga", "-1", "an age in Ga >= 0"),
    ("a15_15498_glass", "site_lat_deg", "95", "within [-90, 90]"),
    ("a15_15498_glass", "b_ut", "", "a field in uT > 0 for kind value"),
    ("ce6_basalt", "b_low_ut", "", "a field in uT > 0 for kind range"),
    ("ce6_basalt", "b_low_ut", "30", "b_low_ut <= b_high_ut"),
    ("a12_vitrophyres", "b_ut", "", "for kind upper_limit"),
    ("a17_76535_2009", "b_ut", "0", "for kind lower_limit"),
])
def test_malformed_rows_name_file_row_and_column(tmp_path, rid, column, value, expected):
    rows = shipped_rows()
    k = [r["id"] for r in rows].index(rid)
    rows[k][column] = value
    path = write_rows(tmp_path / "bad.csv", rows)
    with pytest.raises(UserError) as e:
        load_observations(path)
    msg = str(e.value)
    assert "\n" not in msg
    assert str(path) in msg and f"row {k + 1} " in msg and f"column '{column}'" in msg and expected in msg


def test_duplicate_id_is_an_error(tmp_path):
    rows = shipped_rows()
    rows[3]["id"] = rows[0]["id"]
    with pytest.raises(UserError, match=r"row 4 .*column 'id'.*already used in row 1"):
        load_observations(write_rows(tmp_path / "dup.csv", rows))


def test_missing_column_wrong_cell_count_and_empty_files(tmp_path):
    cols = [c for c in COLUMNS if c != "kind"]
    with pytest.raises(UserError, match="lacks column.*kind"):
        load_observations(write_rows(tmp_path / "nokind.csv", shipped_rows(), cols))
    text = open(shipped_path(), encoding="utf-8").read().splitlines()
    (tmp_path / "short.csv").write_text("\n".join(text[:2] + ["x,y,z"]) + "\n")
    with pytest.raises(UserError, match=r"row 2 \(line 3\) has 3 column"):
        load_observations(tmp_path / "short.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UserError, match="is empty"):
        load_observations(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text(",".join(COLUMNS) + "\n")
    with pytest.raises(UserError, match="no records"):
        load_observations(tmp_path / "header.csv")
    with pytest.raises(UserError, match="data file not found"):
        load_observations(tmp_path / "missing.csv")


def test_user_file_in_the_same_format_is_used_and_hashed(tmp_path):
    rows = [r for r in shipped_rows() if r["id"] in ("ce6_basalt", "ce5_basalt")]
    path = write_rows(tmp_path / "mine.csv", rows)
    obs = load_observations(path)
    assert obs.ids == ["ce6_basalt", "ce5_basalt"] and not obs.shipped
    assert obs.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert obs.provenance()["observations_file"] == str(path)


def test_data_command_lists_the_records_and_the_selection(capsys):
    import json

    from lunadyn.runs.cli.main import _Parser
    from lunadyn.runs.cli.compare import add_commands

    parser = _Parser(prog="lunadyn")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data", "--select", "side=farside", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in out["records"]] == ["ce6_basalt"] and "side=farside" in out["selection"]
    args = parser.parse_args(["data"])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "(default)" in text and "ce6_basalt" in text and "a17_70035_scp" not in text
    with pytest.raises(UserError, match="unknown key"):
        args = parser.parse_args(["data", "--select", "planet=moon"])
        args.func(args)
