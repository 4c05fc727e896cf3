"""`lunadyn field`: the dynamo stage re-run on a stored thermal history (third issue, item 5)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from lunadyn.runs import api
from lunadyn.runs.spec.config import load_scenario
from lunadyn.runs.errors import UserError
from lunadyn.runs.compute.field import rerun_field
from lunadyn.runs.registry import DIAG_NAMES, DYNAMO_NAMES, SUMMARY_NAMES

EXAMPLE = "runs/examples/moon_default.toml"


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory, warm):
    path = tmp_path_factory.mktemp("field") / "moon.zarr"
    api.run_scenario(load_scenario(EXAMPLE, ["orbit=dwyer"]), path)
    return path


def test_unchanged_settings_reproduce_the_stored_field_bitwise(stored_run, tmp_path):
    out = tmp_path / "same.zarr"
    report = rerun_field(stored_run, out=out)
    assert report["chunks_written"] == 1
    a, b = xr.open_zarr(stored_run), xr.open_zarr(out)
    for name in DIAG_NAMES + DYNAMO_NAMES + ("status",) + tuple(SUMMARY_NAMES):
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    assert b.attrs["spec_hash"] != a.attrs["spec_hash"]


def test_another_law_changes_the_field_not_the_heat(stored_run, tmp_path):
    out = tmp_path / "ml.zarr"
    rerun_field(stored_run, out=out, law="ml", sets=["sigma_core=1e6"])
    a, b = xr.open_zarr(stored_run), xr.open_zarr(out)
    np.testing.assert_array_equal(a["Q_cmb"].values, b["Q_cmb"].values)
    assert not np.array_equal(a["B_core"].values, b["B_core"].values)
    assert json.loads(b.attrs["fixed_parameters"])["law"] == "ml"


def test_thermal_parameters_and_unknown_names_are_refused(stored_run, tmp_path):
    with pytest.raises(UserError, match="thermal stage"):
        rerun_field(stored_run, out=tmp_path / "x.zarr", sets=["k_core=30"])
    with pytest.raises(UserError, match="did you mean 'sigma_core'"):
        rerun_field(stored_run, out=tmp_path / "x.zarr", sets=["sigma_cor=1e5"])
    assert not (tmp_path / "x.zarr").exists()


def test_cli_field_default_output_name(stored_run):
    r = subprocess.run([sys.executable, "-m", "lunadyn", "field", str(stored_run), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["store"].endswith("moon.field.zarr")


def test_run_summary_names_the_sources_and_the_chang_e_fields(stored_run):
    s = api.summarize(xr.open_zarr(stored_run))
    assert set(s["dynamo_epochs_Ga"]) == {"core", "bmo", "precession"}
    # with the dwyer orbit, precession stirs until the Moon reaches 48 R_E at 2.7 Ga
    assert s["dynamo_epochs_Ga"]["precession"][0][0] == 4.5
    assert abs(s["dynamo_epochs_Ga"]["precession"][-1][1] - 2.71) < 0.02
    ids = {row["id"]: row for row in s["chang_e"]}
    assert set(ids) == {"ce5_basalt", "ce6_basalt"}
    # docs/physics.md §What the default Moon gives: the calibrated v1 Moon misses CE-6 (a few tenths of a uT) and gives nothing at CE-5
    assert 0.0 < ids["ce6_basalt"]["B_surface_site_uT"] < 1.0 and not ids["ce6_basalt"]["within_range"]
    assert ids["ce5_basalt"]["B_surface_site_uT"] == 0.0


SOURCES_SWEEP = """title = "sources"
base = "{base}"
[parameters]
{fixed}
[vary]
bmo_thickness0 = {{ min = 300e3, max = 500e3 }}
sigma_bmo = {{}}
[sampler]
method = "lhs"
n = 12
seed = 4
[settings]
output_step = 0.1
chunk_size = 6
"""


def test_field_set_sources_equals_a_sweep_run_with_those_sources(tmp_path, warm):
    """`lunadyn field --set sources=[...]` on a stored sweep gives the arrays of a sweep run with those
    sources: only B_surface and the left-out sources' fields change; the heat does not."""
    from pathlib import Path

    from lunadyn.runs.spec.sweep import spec_from_text

    base = Path(EXAMPLE).resolve()
    every = spec_from_text(SOURCES_SWEEP.format(base=base, fixed=""), "every")
    only = spec_from_text(SOURCES_SWEEP.format(base=base, fixed='sources = ["bmo", "precession"]'), "only")
    api.sweep(every, tmp_path / "every.zarr", backend="serial", progress=False)
    api.sweep(only, tmp_path / "only.zarr", backend="serial", progress=False)
    r = subprocess.run([sys.executable, "-m", "lunadyn", "field", str(tmp_path / "every.zarr"), "--set",
                        "sources=[bmo,precession]", "-o", str(tmp_path / "refield.zarr"), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["overrides"] == {"sources": ["bmo", "precession"]}
    a, b, c = (xr.open_zarr(tmp_path / n) for n in ("only.zarr", "refield.zarr", "every.zarr"))
    for name in DIAG_NAMES + DYNAMO_NAMES + ("status",) + tuple(SUMMARY_NAMES):
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    assert (b["B_core"].values == 0).all() and (b["dynamo_on_core"].values == 0).all()
    assert (c["B_core"].values > 0).any()             # the default Moon's core dynamo was on somewhere
    np.testing.assert_array_equal(b["Phi_core"].values, c["Phi_core"].values)   # it still convects
    np.testing.assert_array_equal(b["Q_cmb"].values, c["Q_cmb"].values)
    assert json.loads(b.attrs["fixed_parameters"])["sources"] == ["bmo", "precession"]


def test_sources_values_are_validated():
    from lunadyn.runs.spec.config import validate_value

    assert validate_value("sources", ["precession", "core"], "x") == ["core", "precession"]
    assert validate_value("sources", "[bmo, core]", "--set") == ["core", "bmo"]
    assert validate_value("sources", [], "x") == []
    for bad in (["core", "core"], ["magnet"], "core,magnet", 3):
        with pytest.raises(UserError, match="sources in x: expected a list of distinct names"):
            validate_value("sources", bad, "x")
