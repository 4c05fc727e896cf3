"""Inference (issue 11): evidence and posterior of dynamo hypotheses on the sweep backends.

- A toy likelihood with a known evidence (a correlated Gaussian split into three record groups inside
  the unit box) through the same machinery (runs.inference.infer.run_hypothesis, BatchLikelihood, Runner): every
  stage's ln Z within 3 reported σ and 0.3 of the exact value, the posterior mean and covariance.
- A flat likelihood (sources = [], every model at B_floor) ends with a finite ln Z, the floor's.
- Synthetic recovery: records drawn from a BMO model give the bmo hypothesis ln B >= 3 over core and
  precession, with the truth inside its 95 % interval.
- Serial and dask backends, same seed: the same samples and ln Z, bitwise; SIGKILL and rerun: the
  same store as an uninterrupted run.
- Bad specs: one line naming the field.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from lunadyn.runs.inference import evidence as ev
from lunadyn.runs.errors import UserError
from lunadyn.runs.record.observations import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "runs" / "examples" / "moon_default.toml"


# --------------------------------------------------------------------------------------------------
# the toy: L = N1 · N2 · N3, Gaussian factors in u with precisions that add up to a correlated Σ⁻¹


def toy_parts(d, seed=3):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d))
    C = A @ A.T / d * 0.003 + np.eye(d) * 0.001
    mu = 0.5 + rng.uniform(-0.1, 0.1, d)
    Pi = np.linalg.inv(C)
    return mu, C, [Pi * 0.6, Pi * 0.25, Pi * 0.15]


def toy_chunk(mu, parts, U):
    out = np.empty((U.shape[0], len(parts)))
    dd = U - mu
    for g, P in enumerate(parts):
        out[:, g] = -0.5 * np.einsum("ni,ij,nj->n", dd, P, dd) + 0.5 * np.linalg.slogdet(P / (2 * np.pi))[1]
    return out, U[:, :1].copy()


def exact_ln_z(parts, groups):
    """∫ Π N_g du over R^d (the box holds all but ~1e-10 of it): Gaussians multiply in closed form."""
    P = sum(parts[g] for g in groups)
    return sum(0.5 * np.linalg.slogdet(parts[g] / (2 * np.pi))[1] for g in groups) - \
        0.5 * np.linalg.slogdet(P / (2 * np.pi))[1]


@pytest.mark.parametrize("d", [2, 5])
def test_toy_gaussian_evidence_and_posterior(d, tmp_path):
    from lunadyn.runs.inference.infer import BatchLikelihood, Runner, run_hypothesis

    mu, C, parts = toy_parts(d)
    settings = ev.SMCSettings(particles=400, chain_length=10, ess_fraction=0.8, islands=8)
    with Runner("serial") as runner:
        lik = BatchLikelihood(runner, partial(toy_chunk, mu, parts), 250)
        res = run_hypothesis(["rest", "CE-5", "CE-6"], d, lik, settings, (11, 0), tmp_path, label="toy")
    checks = [(res["stage_ends_A"][0]["ln_z"], res["stage_ends_A"][0]["ln_z_err"], [0]),
              (res["ln_z_without_ce6"], res["ln_z_without_ce6_err"], [0, 1]),
              (res["ln_z_without_ce5"], res["ln_z_without_ce5_err"], [0, 2]),
              (res["ln_z"], res["ln_z_err"], [0, 1, 2])]
    for got, err, groups in checks:
        exact = exact_ln_z(parts, groups)
        assert 0.0 < err < 0.3
        assert abs(got - exact) <= 3 * err and abs(got - exact) <= 0.3, (groups, got, err, exact)
    # the predictive checks are differences of those evidences
    assert res["ln_p_ce6"] == pytest.approx(res["ln_z"] - res["ln_z_without_ce6"])
    exact_p5 = exact_ln_z(parts, [0, 1, 2]) - exact_ln_z(parts, [0, 2])
    assert abs(res["ln_p_ce5"] - exact_p5) <= max(3 * res["ln_p_ce5_err"], 0.05)
    W, u = res["weights"], res["u"]
    m = W @ u
    cov = (u - m).T @ ((u - m) * W[:, None])
    assert np.abs(m - mu).max() < 0.1 * np.sqrt(np.diag(C)).min() * 3
    assert np.linalg.norm(cov - C) / np.linalg.norm(C) < 0.15
    assert res["ess"] > 300 and res["converged"]
    assert res["n_evaluations"] > settings.n * settings.islands
    assert not any(tmp_path.glob("toy.[AB].pkl"))
    assert len(res["islands_ln_z"]) == 8        # checkpoints go once the result is kept


def test_flat_toy_likelihood_ends_at_once_with_the_constant():
    settings = ev.SMCSettings(particles=100, chain_length=4, islands=4)

    def flat(U):
        return np.full((U.shape[0], 2), -3.5), np.zeros((U.shape[0], 0))

    states = ev.run(ev.initial_states(flat, 3, [[0], [1]], settings, 0), flat, settings)
    for s in states:
        assert s.finished and s.converged and s.generation == 2
        assert s.ln_z == pytest.approx(-7.0) and s.var_ln_z == pytest.approx(0.0, abs=1e-12)
    r = ev.summary(states, settings)
    assert r["ln_z"] == pytest.approx(-7.0) and r["ln_z_err"] == pytest.approx(0.0, abs=1e-9)


def test_chain_variance_of_independent_draws_is_their_variance():
    x = np.random.default_rng(0).normal(size=(8, 4000))
    assert ev.chain_variance(x) == pytest.approx(1.0, rel=0.1)
    # perfectly correlated chains (each chain constant): the variance is P times larger
    y = np.repeat(np.random.default_rng(1).normal(size=(1, 4000)), 8, axis=0)
    assert ev.chain_variance(y) == pytest.approx(8.0, rel=0.15)


# --------------------------------------------------------------------------------------------------
# lunadyn models


SMALL = """title = "small inference"
base = "{base}"
seed = 5
[free]
r_core = {{}}
bmo_thickness0 = {{ min = 300e3, max = 500e3 }}
[hypotheses]
{hyps}
[sampler]
particles = {m}
chain_length = {p}
islands = 4
[settings]
output_step = {step}
chunk_size = {chunk}
{extra}
"""


def small_spec(tmp_path, name="small.toml", hyps='bmo = { sources = ["bmo"] }', m=80, p=4, step=0.25, chunk=30,
               extra=""):
    path = tmp_path / name
    path.write_text(SMALL.format(base=BASE, hyps=hyps, m=m, p=p, step=step, chunk=chunk, extra=extra))
    return path


def _lunadyn(*args, env=None, check=True):
    return subprocess.run([sys.executable, "-m", "lunadyn", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, check=check)


def test_flat_hypothesis_no_source_gives_the_floor_evidence(tmp_path, warm):
    """sources = []: no field at any age, every model at B_floor: one generation per stage, a finite
    ln Z equal to the likelihood of a field-free Moon."""
    from lunadyn.runs.inference.infer import infer, summarize
    from lunadyn.runs.record.likelihood import log_likelihood
    from lunadyn.runs.record.observations import load_observations
    from lunadyn.runs.compute.pipeline import output_ages

    spec = small_spec(tmp_path, hyps='none = { sources = [] }')
    out = infer(spec, tmp_path / "flat.zarr", backend="serial", progress=False)
    row = out["hypotheses"][0]
    ages = output_ages(4.5, 0.25)
    floor, _ = log_likelihood(ages, np.zeros((1, ages.size)), load_observations())
    assert row["ln_z"] == pytest.approx(float(floor[0]), abs=1e-9)
    assert row["converged"] and row["n_generations"] <= 4
    assert row["predictive_B_site_uT"]["CE-6"]["0.975"] == 0.0
    assert summarize(tmp_path / "flat.zarr")["hypotheses"][0]["ln_z"] == row["ln_z"]


def _store_arrays(path):
    import zarr

    g = zarr.open_group(str(path), mode="r")
    return {k: g[k][...] for k in ("samples", "weight", "loglike", "ln_z", "ln_z_err", "n_evaluations",
                                   "B_surface", "predictive_B_site", "islands_ln_z", "largest_island_share")}


def test_serial_and_dask_backends_give_the_same_samples_and_evidence(tmp_path, warm):
    """Two hypotheses: serial samples them one after the other, dask side by side (one thread each,
    their batches interleaved on the workers); every array is the same, bitwise."""
    from lunadyn.runs.inference.infer import infer

    spec = small_spec(tmp_path, hyps='bmo = { sources = ["bmo"] }\nany = { sources = ["core", "bmo", "precession"] }')
    a = infer(spec, tmp_path / "serial.zarr", backend="serial", progress=False)
    b = infer(spec, tmp_path / "dask.zarr", backend="dask", workers=2, progress=False)
    assert [r["ln_z"] for r in a["hypotheses"]] == [r["ln_z"] for r in b["hypotheses"]]
    sa, sb = _store_arrays(tmp_path / "serial.zarr"), _store_arrays(tmp_path / "dask.zarr")
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


def test_sigkill_part_way_then_rerun_equals_an_uninterrupted_run(tmp_path, warm):
    spec = small_spec(tmp_path, hyps='bmo = { sources = ["bmo"] }\nany = { sources = ["core", "bmo", "precession"] }')
    ref = tmp_path / "ref.zarr"
    _lunadyn("infer", spec, "-o", ref, "--backend", "serial", "--json")
    out = tmp_path / "killed.zarr"
    proc = subprocess.Popen([sys.executable, "-m", "lunadyn", "infer", str(spec), "-o", str(out), "--backend", "serial",
                             "--json"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = out / "_state"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:   # kill once the second hypothesis has a checkpoint
        if any(state.glob("any.A.pkl")) and proc.poll() is None:
            break
        if proc.poll() is not None:
            raise AssertionError(f"inference ended before the kill: {proc.stderr.read()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (state / "bmo.result.pkl").exists() and not (out / "samples").exists()
    rerun = _lunadyn("infer", spec, "-o", out, "--backend", "serial", "--json")
    assert json.loads(rerun.stdout)["best"] in ("bmo", "any")
    ra, rb = _store_arrays(ref), _store_arrays(out)
    for k in ra:
        np.testing.assert_array_equal(ra[k], rb[k], err_msg=k)
    assert not state.exists()


def write_bmo_record(path, run_models):
    """Three value records 4.4-4.0 Ga from a BMO-only model (450 km, sigma_bmo 1e5) and three upper limits
    of 0.1 uT at 3.6-3.0 Ga where that model has no field (site latitude 0, no noise)."""
    from lunadyn.runs.record.likelihood import interp_ages
    from lunadyn.runs.registry import make_records

    truth = {"bmo_thickness0": 450e3, "sigma_bmo": 1e5, "sources": ["bmo"]}
    res = run_models(make_records(1, truth), {"output_step": 0.1})
    ages = np.array([4.4, 4.2, 4.0])
    B = interp_ages(res["age"], res["outputs"]["B_surface"], ages)[0] * 1e6
    assert (B > 1.0).all()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i, (a, b) in enumerate(zip(ages, B)):
            w.writerow([f"syn{i}", "synthetic", "Synthetic", "nearside", "basalt", "0", f"{a:.3f}", "0.01",
                        "gaussian", f"{b:.6g}", "", "", "value", "whole_rock", "synthetic", "", "high", "truth"])
        for i, a in enumerate((3.6, 3.3, 3.0)):
            w.writerow([f"lim{i}", "synthetic", "Synthetic", "nearside", "basalt", "0", f"{a:.3f}", "0.01",
                        "gaussian", "0.1", "", "", "upper_limit", "whole_rock", "synthetic", "", "high", "truth"])
    return truth


def test_synthetic_records_from_a_bmo_model_select_the_bmo_hypothesis(tmp_path, run_models):
    from lunadyn.runs.inference.infer import infer

    truth = write_bmo_record(tmp_path / "syn.csv", run_models)
    spec = tmp_path / "syn.toml"
    spec.write_text(f"""title = "synthetic recovery"
base = "{BASE}"
seed = 1
[free]
bmo_thickness0 = {{ min = 300e3, max = 500e3 }}
[parameters]
sigma_bmo = 1e5
[hypotheses]
bmo = {{ sources = ["bmo"] }}
core = {{ sources = ["core"] }}
precession = {{ sources = ["precession"] }}
[observations]
data = "syn.csv"
select = "all"
[sampler]
particles = 160
chain_length = 5
[settings]
output_step = 0.1
chunk_size = 80
""")
    out = infer(spec, tmp_path / "syn.zarr", backend="serial", progress=False)
    rows = {r["hypothesis"]: r for r in out["hypotheses"]}
    assert out["best"] == "bmo"
    for other in ("core", "precession"):
        assert rows["bmo"]["ln_z"] - rows[other]["ln_z"] >= 3.0
    q = rows["bmo"]["posterior"]["bmo_thickness0"]
    assert q["0.025"] <= truth["bmo_thickness0"] <= q["0.975"]
    assert rows["bmo"]["source_weight"]["CE-6"]["bmo"] == 0.0   # no BMO field left at 2.8 Ga


def test_store_opens_in_xarray_and_arviz(tmp_path, warm):
    import xarray as xr

    from lunadyn.runs.inference.infer import infer, to_arviz

    spec = small_spec(tmp_path, hyps='bmo = { sources = ["bmo"] }\nany = { sources = ["core", "bmo", "precession"] }')
    infer(spec, tmp_path / "s.zarr", backend="serial", progress=False)
    ds = xr.open_zarr(tmp_path / "s.zarr")
    assert ds["samples"].dims == ("hypothesis", "draw", "parameter")
    assert list(ds["hypothesis"].values) == ["bmo", "any"] and list(ds["parameter"].values) == ["r_core", "bmo_thickness0"]
    assert float(ds["weight"].sum("draw")[0]) == pytest.approx(1.0)
    assert ds["ln_bayes_factor"].dims == ("hypothesis", "hypothesis_ref")
    assert float(ds["ln_bayes_factor"].sel(hypothesis="any", hypothesis_ref="bmo")) == pytest.approx(
        float(ds["ln_z"][1] - ds["ln_z"][0]))
    assert ds["predictive_B_site"].dims == ("hypothesis", "site", "quantile")
    assert ds["B_surface_quantiles"].dims == ("hypothesis", "quantile", "age")
    assert np.isfinite(ds["B_surface"].values).all()
    tree = to_arviz(tmp_path / "s.zarr")
    assert set(tree.children) == {"bmo", "any"}
    post = tree["any"]["posterior"]
    assert set(post.data_vars) == {"r_core", "bmo_thickness0"} and post.sizes["chain"] == 1
    idata = to_arviz(tmp_path / "s.zarr", "bmo")
    assert "posterior" in idata.groups()
    # the plots: an envelope figure and a corner plot per hypothesis
    r = _lunadyn("plot", tmp_path / "s.zarr", "-o", tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert (tmp_path / "s.corner.bmo.png").exists() and (tmp_path / "s.corner.any.png").exists()
    assert "corner" in r.stdout
    # a second run of the same spec reads the answer back (nothing recomputed); another spec is refused
    again = _lunadyn("infer", spec, "-o", tmp_path / "s.zarr", "--backend", "serial")
    assert "ln Z" in again.stdout and "hypothesis" in again.stdout
    other = small_spec(tmp_path, "other.toml", m=100)
    bad = _lunadyn("infer", other, "-o", tmp_path / "s.zarr", "--backend", "serial", check=False)
    assert bad.returncode == 2 and "different spec" in bad.stderr and "sampler" in bad.stderr


@pytest.mark.parametrize("edit, message", [
    (("[free]\nr_core = {}", "[free]\nr_cor = {}"), "unknown parameter 'r_cor' in [free]"),
    (('bmo = { sources = ["bmo"] }', 'bmo = { sources = ["bmo"], r_core = 3.5e5 }'),
     "r_core in hypothesis 'bmo' in [hypotheses]"),
    (("[sampler]", "[observations]\nselect = [\"mission=Luna 24\"]\n[sampler]"), "select in [observations]"),
    (("[sampler]", "[sampler]\nwalkers = 8"), "unknown sampler option 'walkers' in [sampler]"),
    (('bmo = { sources = ["bmo"] }', 'bmo = { sources = ["bmo", "magnet"] }'), "sources in hypothesis 'bmo'"),
    (("chunk_size = 30", "chunk_size = 0"), "chunk_size in [settings]"),
])
def test_bad_inference_specs_get_one_line_naming_the_field(tmp_path, edit, message):
    from lunadyn.runs.spec.inference import spec_from_text

    text = small_spec(tmp_path).read_text()
    assert edit[0] in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(edit[0], edit[1]))
    with pytest.raises(UserError) as e:
        spec_from_text(bad.read_text(), str(bad), bad)
    assert message in str(e.value)
    r = _lunadyn("infer", bad, "--backend", "serial", check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_mpi_backend_gives_the_serial_result(tmp_path, warm):
    """mpiexec -n 2 lunadyn infer --backend mpi: rank 0 samples, both ranks compute every batch's chunks
    (shared-counter dispatch); the store equals the serial one bitwise."""
    from lunadyn.runs.inference.infer import infer

    mpiexec = Path(sys.executable).parent / "mpiexec"
    if not mpiexec.exists():
        pytest.skip("no mpiexec (install the mpi extra)")
    spec = small_spec(tmp_path)
    infer(spec, tmp_path / "serial.zarr", backend="serial", progress=False)
    r = subprocess.run([str(mpiexec), "-n", "2", sys.executable, "-m", "lunadyn", "infer", str(spec), "-o",
                        str(tmp_path / "mpi.zarr"), "--backend", "mpi", "--json"], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "NUMBA_NUM_THREADS": "1"}, timeout=600)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["best"] == "bmo"
    sa, sb = _store_arrays(tmp_path / "serial.zarr"), _store_arrays(tmp_path / "mpi.zarr")
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)


def _row(share, islands, err=0.2):
    return {"hypothesis": "h", "ln_z": -20.0, "ln_z_err": err, "ess": 500.0, "converged": True,
            "largest_island_share": share, "islands_ln_z": islands}


def test_an_evidence_one_island_carries_is_called_unresolved():
    """ln Z = log mean of the islands' Z: when one island carries most of it (the others missed mass it
    found) the evidence and its error rest on one population, and the table says so."""
    from lunadyn.runs.inference.evidence import combine_ln_z
    from lunadyn.runs.inference.infer import MAX_ISLAND_SHARE, warnings_for

    lz = np.array([-20.0] + [-60.0] * 7)
    _, err = combine_ln_z(lz, np.zeros(8))
    assert err == pytest.approx(1.0, abs=1e-6)          # the error of a one-island evidence tends to 1
    w = warnings_for([_row(0.97, lz.tolist(), err)])
    assert len(w) == 1 and "unresolved" in w[0] and "97%" in w[0] and "-60.0 to -20.0" in w[0]
    assert warnings_for([_row(0.2, [-20.1, -19.9, -20.0, -20.2])]) == []
    assert warnings_for([_row(1.0, [-20.0])]) == []      # one island: agreement cannot be checked
    assert MAX_ISLAND_SHARE == 0.5
