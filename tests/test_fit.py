"""Scoring stores and fitting parameters: synthetic recovery of sulfur_core and f_hpe_basal.

The synthetic record: 12 ``value`` records between 4.2 and 1.0 Ga drawn from a known model with
σ_lnB = 0.3 (fixed noise seed). The scenario is the default Moon with the ``ml`` scaling law, truth
sulfur_core = 0.08 and f_hpe_basal = 0.44. Why there: under ``ml`` this Moon has a field at every
age from 4.2 to 1.0 Ga — the basal-magma-ocean dynamo until ~1.75 Ga, then the core dynamo (driven by
inner-core growth) until ~0.85 Ga. The BMO field and the time it stops (Rm falls below 40) are set
by the heat-producing elements in the layer (f_hpe_basal); the core dynamo's strength after it
is set by the core's sulfur, which fixes when the inner core nucleates and how much light element it
releases (the BMO field does not depend on sulfur at all). So six records lie in the BMO era
(4.2–2.2 Ga) and six in the core era (1.6–1.0 Ga): each parameter is seen by half of the record.
Under ``cia`` (the default law) the field has gaps over this span, and with uniform spacing only
three records would see the core.
"""
import csv
import json
import math

import numpy as np
import pytest

from lunadyn.runs.errors import UserError
from lunadyn.runs.record.observations import COLUMNS

TRUTH = {"sulfur_core": 0.08, "f_hpe_basal": 0.44}
PRIOR = {"sulfur_core": (0.01, 0.15), "f_hpe_basal": (0.0, 0.5)}
SIGMA = 0.3
NOISE_SEED = 2
REC_AGES = np.r_[np.linspace(4.2, 2.2, 6), np.linspace(1.6, 1.0, 6)]
REC_LATS = np.array([0.0, 20.0, -35.0, 10.0, 43.0, -5.0, 26.0, -41.6, 3.0, 0.0, 15.0, -20.0])
SCENARIO = """title = "synthetic recovery"
law = "ml"
sulfur_core = 0.08
f_hpe_basal = 0.44
"""
LIKE = {"sigma_whole_rock": SIGMA}
FREE = ["sulfur_core", "f_hpe_basal"]


def write_synthetic(path, run_models):
    from lunadyn.runs.record.likelihood import interp_ages, site_factor
    from lunadyn.runs.registry import make_records

    res = run_models(make_records(1, {**TRUTH, "law": "ml"}), {"output_step": 0.05})
    B = interp_ages(res["age"], res["outputs"]["B_surface"], REC_AGES)[0] * 1e6
    assert (B > 0.05).all(), "the truth model must have a field at every record age"
    b = B * site_factor(REC_LATS) * np.exp(SIGMA * np.random.default_rng(NOISE_SEED).standard_normal(REC_AGES.size))
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i, (a, lat, bb) in enumerate(zip(REC_AGES, REC_LATS, b)):
            w.writerow([f"syn{i:02d}", "synthetic", "Synthetic", "nearside", "basalt", f"{lat:g}", f"{a:.4f}",
                        "0.005", "gaussian", f"{bb:.6g}", "", "", "value", "whole_rock", "synthetic", "",
                        "high", "drawn from the truth model"])
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, run_models):
    d = tmp_path_factory.mktemp("synthetic")
    scn = d / "truth.toml"
    scn.write_text(SCENARIO)
    return {"dir": d, "data": write_synthetic(d / "synthetic.csv", run_models), "scenario": scn}


@pytest.fixture(scope="module")
def mcmc(synthetic):
    from lunadyn.runs.inference.fit import fit

    return fit(synthetic["scenario"], FREE, method="mcmc", walkers=16, steps=400, seed=0,
               out=synthetic["dir"] / "mcmc.fit.zarr", data=synthetic["data"], select=["all"], settings=LIKE)


@pytest.fixture(scope="module")
def optimum(synthetic):
    from lunadyn.runs.inference.fit import fit

    return fit(synthetic["scenario"], FREE, method="optimize", seed=0, out=synthetic["dir"] / "opt.fit.zarr",
               data=synthetic["data"], select=["all"], settings=LIKE)


# --------------------------------------------------------------------------------------------------
# recovery


def test_optimisation_recovers_the_truth(optimum, mcmc):
    """Differential evolution lands inside the MCMC 95 % interval, within 10 % of each prior range."""
    for name in FREE:
        lo, hi = PRIOR[name]
        assert abs(optimum["optimum"][name] - TRUTH[name]) < 0.1 * (hi - lo), (name, optimum["optimum"])
        q = mcmc["posterior"][name]
        assert q["q025"] <= optimum["optimum"][name] <= q["q975"]
    assert optimum["n_compute_calls"] <= optimum["de_iterations"] + 4  # one batched call per generation


def test_mcmc_recovers_the_truth_in_a_narrow_interval(mcmc):
    """The truth lies inside each 95 % interval, and the interval is narrower than 30 % of the prior range."""
    for name in FREE:
        lo, hi = PRIOR[name]
        q = mcmc["posterior"][name]
        assert q["q025"] <= TRUTH[name] <= q["q975"], (name, q)
        assert q["q975"] - q["q025"] < 0.3 * (hi - lo), (name, q)
    assert 0.2 < mcmc["acceptance_fraction"] < 0.9
    assert all(t is not None and t > 0 for t in mcmc["autocorr_time"].values())
    # vectorised: the stretch move proposes each half of the ensemble in one batched call per step
    assert mcmc["n_compute_calls"] <= 2 * 400 + mcmc["de_iterations"] + 6
    # the truth model's field at 2.8 Ga is its basal magma ocean
    assert mcmc["source_weights"]["bmo"] > 0.99


def test_mcmc_store_holds_chain_diagnostics_and_provenance(mcmc, synthetic):
    import xarray as xr

    ds = xr.open_zarr(mcmc["store"])
    assert ds["chain"].dims == ("walker", "step", "parameter") and ds["chain"].shape == (16, 400, 2)
    assert ds["log_prob"].shape == (16, 400) and ds["acceptance_fraction"].shape == (16,)
    assert list(ds["parameter"].values) == FREE and ds["autocorr_time"].dims == ("parameter",)
    med = ds["median"].values
    assert med[0] == pytest.approx(mcmc["posterior"]["sulfur_core"]["median"])
    assert ds["B_surface"].dims == ("draw", "age")
    a = ds.attrs
    assert a["method"] == "mcmc" and json.loads(a["free"]) == FREE and a["scenario_text"] == SCENARIO
    assert a["observations_sha256"] == mcmc["data_sha256"] and a["observations_selection"] == "all records"
    assert json.loads(a["likelihood_settings"])["sigma_whole_rock"] == SIGMA
    assert json.loads(a["model_settings"])["output_step"] == 0.05


def test_a_wrong_parameter_set_scores_lower(synthetic):
    from lunadyn.runs.spec.config import load_scenario
    from lunadyn.runs.inference.fit import FitProblem
    from lunadyn.runs.record.likelihood import LikelihoodSettings
    from lunadyn.runs.record.observations import load_observations

    p = FitProblem(load_scenario(synthetic["scenario"]), FREE, load_observations(synthetic["data"], ["all"]),
                   LikelihoodSettings(**LIKE))
    ll = p.loglike(np.array([[0.08, 0.44], [0.14, 0.44], [0.08, 0.2], [0.03, 0.3]]))
    assert ll[0] > ll[1:].max() + 5
    assert p.loglike(np.array([[0.2, 0.44]]))[0] == -np.inf  # outside the prior


# --------------------------------------------------------------------------------------------------
# sweep stores: compare and posterior


def make_sweep_store(path, run_models, S, F, law="ml", chunk=27):
    """A grid sweep over (sulfur_core, f_hpe_basal) written chunk by chunk like `lunadyn sweep`."""
    from lunadyn.runs.registry import make_records
    from lunadyn.runs.io.store import create_store, write_chunk

    SS, FF = np.meshgrid(S, F, indexing="ij")
    res = run_models(make_records(SS.size, {"sulfur_core": SS.ravel(), "f_hpe_basal": FF.ravel(), "law": law}),
                     {"output_step": 0.05})
    names = ("B_core", "B_bmo", "B_precession", "B_surface")
    g = create_store(path, spec={"kind": "sweep", "grid": [list(S), list(F)], "law": law}, spec_text="",
                     n_samples=SS.size, chunk_size=chunk, ages=res["age"],
                     variables={n: ("float32", "age") for n in names},
                     coords={"sulfur_core": SS.ravel(), "f_hpe_basal": FF.ravel()})
    for i in range(-(-SS.size // chunk)):
        lo, hi = i * chunk, min(SS.size, (i + 1) * chunk)
        write_chunk(g, i, {n: res["outputs"][n][lo:hi] for n in names}, res["status"][lo:hi])
    return res


def test_sweep_posterior_mode_is_near_the_truth(synthetic, run_models):
    import xarray as xr

    from lunadyn.runs.inference.compare import compare_store, format_compare
    from lunadyn.runs.record.scoring import loglike_for_outputs
    from lunadyn.runs.record.observations import load_observations
    from lunadyn.runs.io.store import open_store

    S, F = np.linspace(0.01, 0.15, 9), np.linspace(0.0, 0.5, 9)
    path = synthetic["dir"] / "grid.zarr"
    res = make_sweep_store(path, run_models, S, F)
    summary = compare_store(path, data=synthetic["data"], select=["all"], settings=LIKE)
    mode = summary["posterior"]["mode"]["parameters"]
    assert abs(mode["sulfur_core"] - TRUTH["sulfur_core"]) <= (S[1] - S[0]) * 1.01
    assert abs(mode["f_hpe_basal"] - TRUTH["f_hpe_basal"]) <= (F[1] - F[0]) * 1.01
    assert summary["best"][0]["parameters"] == mode
    assert 1.0 <= summary["posterior"]["ess"] <= 81
    # an ESS below 100 is not a resolved posterior: no intervals, no source weights, one line naming infer
    post = summary["posterior"]
    assert post["resolved"] is False and post["marginals"] is None and post["source_weights"] is None
    text = format_compare(summary)
    assert "median" not in text and "95%" not in text and "dynamo source at" not in text
    assert "cannot resolve the posterior" in text and "lunadyn infer" in text
    # written into the store, with the selection and the record file's hash; still a lunadyn store
    ds = xr.open_zarr(path)
    assert ds["loglike"].dims == ("sample",) and ds["loglike_record"].dims == ("sample", "record")
    assert ds["misfit"].shape == (81, 12) and list(ds["record"].values)[:2] == ["syn00", "syn01"]
    assert ds.attrs["observations_sha256"] == summary["data_sha256"]
    assert ds["loglike"].attrs["observations_selection"] == "all records"
    assert int(np.argmax(ds["loglike"].values)) == summary["best"][0]["sample"]
    open_store(path)
    # the same numbers as a sweep chunk computes them in-line
    obs = load_observations(synthetic["data"], ["all"])
    inline = loglike_for_outputs(res["age"], {"B_surface": res["outputs"]["B_surface"].astype(np.float32)}, obs,
                                 LIKE, status=res["status"])
    np.testing.assert_allclose(inline["loglike"], ds["loglike"].values, rtol=1e-10)


def test_compare_shipped_record_reports_chang_e_sources(tmp_path, run_models, capsys):
    from lunadyn.runs.cli.main import _Parser
    from lunadyn.runs.cli.compare import add_commands

    path = tmp_path / "small.zarr"
    make_sweep_store(path, run_models, np.array([0.05, 0.1]), np.array([0.1, 0.45]), law="cia", chunk=3)
    parser = _Parser(prog="lunadyn")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["compare", str(path), "--best", "2", "--json"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["best"]) == 2 and out["records"][:2] == ["ce6_basalt", "ce5_basalt"]
    assert out["best"][0]["records"]["ce6_basalt"]["source"] in ("none", "core", "bmo", "precession")
    args = parser.parse_args(["compare", str(path)])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "CE-6" in text and "CE-5" in text and "(default)" in text


# --------------------------------------------------------------------------------------------------
# user errors and settings


@pytest.mark.parametrize("free, fragment", [
    (["radius"], "no prior range"),
    (["sulfur"], "did you mean 'sulfur_core'"),
    (["law"], "no prior range"),
    (["k_core", "k_core"], "more than once"),
    ([], "at least one free parameter"),
])
def test_free_parameters_must_have_a_prior(free, fragment):
    from lunadyn.runs.inference.fit import check_free

    with pytest.raises(UserError, match=fragment):
        check_free(free)


def test_bad_walkers_and_foreign_output_are_refused(synthetic, tmp_path):
    from lunadyn.runs.inference.fit import fit

    with pytest.raises(UserError, match="even number of walkers"):
        fit(synthetic["scenario"], FREE, method="mcmc", walkers=3)
    (tmp_path / "notafit").mkdir()
    (tmp_path / "notafit" / "keep.txt").write_text("x")
    with pytest.raises(UserError, match="not a lunadyn fit store"):
        fit(synthetic["scenario"], ["f_hpe_basal"], method="optimize", maxiter=2, out=tmp_path / "notafit")
    assert (tmp_path / "notafit" / "keep.txt").exists()


def test_fit_output_step_defaults_to_0p05_unless_the_scenario_sets_it(tmp_path):
    from lunadyn.runs.spec.config import load_scenario
    from lunadyn.runs.inference.fit import fit_settings

    a = tmp_path / "a.toml"
    a.write_text('law = "ml"\n')
    assert fit_settings(load_scenario(a))["output_step"] == 0.05
    b = tmp_path / "b.toml"
    b.write_text("output_step = 0.1\n")
    assert fit_settings(load_scenario(b))["output_step"] == 0.1


def test_fit_command_log_scaled_parameter(tmp_path, warm, capsys):
    """A log-scaled parameter (f_dyn) is fitted in log10 with a log-uniform prior."""
    from lunadyn.runs.cli.main import _Parser
    from lunadyn.runs.cli.compare import add_commands

    scn = tmp_path / "moon.toml"
    scn.write_text('law = "cia"\n')
    parser = _Parser(prog="lunadyn")
    add_commands(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "fdyn.fit.zarr"
    args = parser.parse_args(["fit", str(scn), "--free", "f_dyn", "--method", "mcmc", "--walkers", "4",
                              "--steps", "30", "-o", str(out), "--json"])
    assert args.func(args) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["scale"] == ["log"] and 1e-5 <= res["optimum"]["f_dyn"] <= 1e-2
    q = res["posterior"]["f_dyn"]
    assert 1e-5 <= q["q025"] <= q["median"] <= q["q975"] <= 1e-2
    assert set(res["source_weights"]) == {"none", "core", "bmo", "precession"}
    assert math.isclose(sum(res["source_weights"].values()), 1.0)


def test_observations_section_of_a_sweep_spec(synthetic):
    """A sweep spec's [observations]: record file, selection and likelihood settings, all in the hash."""
    from lunadyn.runs.record.scoring import parse_observations_section, sweep_variables
    from lunadyn.runs.spec.hashing import spec_hash

    obs, s, spec = parse_observations_section({"data": str(synthetic["data"]), "select": ["id=syn00,syn01"],
                                               "sigma_whole_rock": 0.3})
    assert obs.ids == ["syn00", "syn01"] and s.sigma_whole_rock == 0.3
    assert spec["data_sha256"] == obs.sha256 and spec["likelihood"]["sigma_whole_rock"] == 0.3
    _, _, other = parse_observations_section({"data": str(synthetic["data"]), "select": ["id=syn00,syn01"]})
    assert spec_hash(spec) != spec_hash(other)
    assert sweep_variables()["loglike"][:2] == ("float64", "run")
    with pytest.raises(UserError, match="unknown likelihood setting 'sigma'"):
        parse_observations_section({"sigma": 1})
    with pytest.raises(UserError, match="select in \\[observations\\]"):
        parse_observations_section({"select": 3})


def test_compare_needs_the_field_or_a_matching_loglike(tmp_path, run_models):
    from lunadyn.runs.inference.compare import compare_store
    from lunadyn.runs.registry import make_records
    from lunadyn.runs.io.store import create_store, write_chunk

    res = run_models(make_records(2), {"output_step": 0.5})
    g = create_store(tmp_path / "nofield.zarr", spec={"kind": "sweep", "nofield": 1}, spec_text="", n_samples=2,
                     chunk_size=2, ages=res["age"], variables={"T_cmb": ("float64", "age")})
    write_chunk(g, 0, {"T_cmb": res["state"]["T_cmb"]}, res["status"])
    with pytest.raises(UserError, match="keeps no B_surface"):
        compare_store(tmp_path / "nofield.zarr")
    with pytest.raises(UserError, match="no store"):
        compare_store(tmp_path / "missing.zarr")
