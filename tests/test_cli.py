"""The command line: the registry table, `lunadyn run`, and one-line user errors (exit 2, no traceback)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import fake_pipeline
from lunadyn.runs.cli import main as cli
from lunadyn.runs.compute import pipeline

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "runs" / "examples" / "moon_default.toml"
# The names the physics brief fixes (../shared/registry_names.txt), spec-level settings and `mode` included.
REGISTRY_NAMES = """
radius g_surface T_surface p_cmb r_core rho_core cp_core alpha_core k_core sigma_core latent_core beta_sulfur
sulfur_core sulfur_eutectic K_core_ppm T_cmb0 liquidus liquidus_T0 liquidus_dTdP liquidus_dTdc liquidus_c_ref
T_mantle0 lid0 rho_mantle cp_mantle alpha_mantle k_mantle kappa_mantle E_visc eta_ref T_visc_ref a_rh Ra_crit
solidus_offset crust_thickness rho_crust k_crust U_ppb Th_ppb K_ppm f_hpe_crust f_hpe_basal bmo_thickness0 T_bmo0
T_bmo_solidus dT_core_bmo rho_bmo cp_bmo alpha_bmo k_bmo latent_bmo sigma_bmo law rm_crit shell_min f_ohm
bmo_dipolarity_penalty precession_dipolarity_penalty orbit a_start c_friction f_dyn a_precession_end beta_figure
inclination a_cassini_transition start_age output_step rtol max_steps mode
""".split()


def lunadyn(*args, cwd=REPO, timeout=120):
    """Run the command line in a fresh interpreter (as `python -m lunadyn`, i.e. the console script)."""
    return subprocess.run([sys.executable, "-m", "lunadyn", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def assert_user_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lunadyn: error: ")
    assert "Traceback" not in proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


# --- params -----------------------------------------------------------------------------------------


def test_params_json_lists_every_registry_name():
    proc = lunadyn("params", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    names = [r["name"] for r in rows]
    assert not set(REGISTRY_NAMES) - set(names)
    assert len(names) == len(set(names))
    r_core = next(r for r in rows if r["name"] == "r_core")
    assert r_core["unit"] == "m" and r_core["default"] == 350e3 and r_core["prior"] == [300e3, 400e3]


def test_console_script_prints_a_readable_table():
    script = Path(sys.executable).parent / "lunadyn"
    proc = subprocess.run([str(script), "params"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    header, *rows = proc.stdout.splitlines()
    assert header.split()[:7] == ["name", "unit", "default", "min", "max", "prior", "stage"]
    row = next(r for r in rows if r.startswith("eta_ref "))
    assert "Pa s" in row and "1e+19" in row and "log" in row and "thermal" in row
    assert set(REGISTRY_NAMES) <= {r.split()[0] for r in rows}
    assert header.split()[7] == "earth"   # the Earth default [Earth prior], or n/a
    r_core = next(r for r in rows if r.startswith("r_core "))
    assert "3.48e+06 [3.4e+06..3.56e+06]" in r_core
    assert any(r.startswith("body ") and "moon|earth" in r for r in rows)


# --- user errors ------------------------------------------------------------------------------------


def test_missing_scenario(tmp_path):
    assert_user_error(lunadyn("run", tmp_path / "nope.toml"), "file not found", "nope.toml")


def test_toml_syntax_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("r_core = 350e3\nk_core = = 1\n")
    assert_user_error(lunadyn("run", bad), "invalid TOML", "bad.toml", "line 2")


def test_unknown_parameter(tmp_path):
    bad = tmp_path / "moon.toml"
    bad.write_text("r_cor = 350e3\n")
    assert_user_error(lunadyn("run", bad), "unknown parameter 'r_cor'", "did you mean 'r_core'?")


def test_out_of_bounds_set():
    assert_user_error(lunadyn("run", EXAMPLE, "--set", "eta_ref=1e30"), "eta_ref = 1e+30 Pa s in --set",
                      "out of bounds")


def test_bad_set_syntax_and_bad_category():
    assert_user_error(lunadyn("run", EXAMPLE, "--set", "r_core"), "--set expects NAME=VALUE")
    assert_user_error(lunadyn("run", EXAMPLE, "--set", "law=fast"), "law in --set", "ml, cia, mac, ca06")


def test_scenario_is_a_directory(tmp_path):
    assert_user_error(lunadyn("run", tmp_path), "is a directory")


def test_usage_errors_are_one_line():
    assert_user_error(lunadyn(), "required")
    assert_user_error(lunadyn("frobnicate"), "invalid choice")
    assert_user_error(lunadyn("run", EXAMPLE, "--bogus"), "unrecognized arguments: --bogus")


def test_foreign_output_directory_is_refused_and_untouched(tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("\\chapter{Moon}\n")
    assert_user_error(lunadyn("run", EXAMPLE, "-o", out, "--no-plot"), "not a lunadyn store")
    assert [p.name for p in out.iterdir()] == ["chapter1.tex"]
    assert (out / "chapter1.tex").read_text() == "\\chapter{Moon}\n"
    assert not (tmp_path / "thesis.png").exists()


# --- run, with a stand-in for the pipeline (the plumbing, not the physics) ---------------------------


@pytest.fixture
def fake_compute(monkeypatch):
    calls = []

    def compute(records, settings):
        calls.append((records.copy(), dict(settings)))
        return fake_pipeline.fake_compute(records, settings)

    monkeypatch.setattr(pipeline, "compute", compute)
    return calls


def test_run_writes_store_figure_and_json_summary(tmp_path, fake_compute, capsys):
    out = tmp_path / "moon.zarr"
    assert cli.main(["run", str(EXAMPLE), "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == 32 and summary["status_text"] == "ok (regime 2 entered)"
    assert summary["q_surface_today_mW_m2"] == pytest.approx(13.8, rel=1e-5)
    assert summary["T_cmb_today_K"] == pytest.approx(fake_pipeline.T_CMB_TODAY)
    assert summary["r_inner_core_today_km"] == pytest.approx(176.0)
    assert summary["age_inner_core_nucleation_Ga"] == pytest.approx(3.43)
    assert summary["age_bmo_solidified_Ga"] == pytest.approx(2.53)
    assert summary["store"] == str(out) and summary["figure"] == str(tmp_path / "moon.png")
    assert (tmp_path / "moon.png").stat().st_size > 10_000
    ds = xr.open_zarr(out)
    assert ds.sizes == {"sample": 1, "age": 451, "chunk": 1, "unit_array": len(json.loads(ds.attrs["unit_arrays"]))}
    assert ds["T_cmb"].dims == ("sample", "age") and ds["T_cmb"].attrs["units"] == "K"
    assert ds["T_cmb"].dtype == np.float64 and ds["Q_surface"].dtype == np.float32
    assert bool(ds["done"][0]) and int(ds["status"][0]) == 32
    spec = json.loads(ds.attrs["spec"])
    assert spec["kind"] == "run" and spec["settings"]["output_step"] == 0.01
    assert spec["parameters"]["r_core"] == 350e3 and ds.attrs["title"] == "Default Moon"
    (records, settings), = fake_compute
    assert records.shape == (1,) and settings["rtol"] == 1e-6


def test_run_human_summary_and_default_paths(tmp_path, fake_compute, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", str(EXAMPLE)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("lunadyn run: Default Moon")
    assert "surface heat flow today" in text and "13.80 mW/m2" in text
    assert "inner core nucleated" in text and "3.430 Ga" in text
    assert "moon_default.zarr" in text and "moon_default.png" in text
    assert (tmp_path / "moon_default.zarr").is_dir() and (tmp_path / "moon_default.png").is_file()


def test_rerun_resumes_a_complete_store_without_computing(tmp_path, fake_compute, capsys):
    out = tmp_path / "moon.zarr"
    assert cli.main(["run", str(EXAMPLE), "-o", str(out), "--no-plot"]) == 0
    assert cli.main(["run", str(EXAMPLE), "-o", str(out), "--no-plot"]) == 0
    assert len(fake_compute) == 1
    assert not (tmp_path / "moon.png").exists()


def test_rerun_with_another_spec_is_refused_unless_overwrite(tmp_path, fake_compute, capsys):
    out = tmp_path / "moon.zarr"
    assert cli.main(["run", str(EXAMPLE), "-o", str(out), "--no-plot"]) == 0
    capsys.readouterr()
    assert cli.main(["run", str(EXAMPLE), "-o", str(out), "--no-plot", "--set", "k_core=20"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different spec" in err[0] and "parameters.k_core" in err[0]
    assert cli.main(["run", str(EXAMPLE), "-o", str(out), "--no-plot", "--set", "k_core=20", "--overwrite"]) == 0
    assert json.loads(xr.open_zarr(out).attrs["spec"])["parameters"]["k_core"] == 20.0
    assert "# k_core = 20.0" in xr.open_zarr(out).attrs["spec_toml"]


# --- run, end to end with the real kernel -------------------------------------------------------------


@pytest.mark.timeout(1800)  # a cold compile of the integrator takes minutes
def test_lunadyn_run_end_to_end(tmp_path):
    out = tmp_path / "moon_default.zarr"
    proc = lunadyn("run", EXAMPLE, "-o", out, "--json", timeout=1800)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["status"] & 0xF == 0, summary["status_text"]
    assert summary["q_surface_today_mW_m2"] > 0
    assert Path(summary["figure"]).is_file()
    ds = xr.open_zarr(out)
    assert np.isfinite(ds["T_cmb"].values).all() and bool(ds["done"].values.all())
