"""Sweeps (fourth issue): specs, samplers, serial and dask backends, resume and crash safety."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from lunadyn.runs import api
from lunadyn.runs.spec import sampling
from lunadyn.runs.errors import UserError
from lunadyn.runs.spec.sweep import spec_from_text
from lunadyn.testing import assert_stores_equal as assert_same_store  # every array bitwise, attributes but provenance

ROOT = Path(__file__).resolve().parents[1]
SMALL = """
title = "test sweep"
[vary]
sulfur_core = {}
r_core = { min = 320e3, max = 380e3 }
eta_ref = {}
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 48
seed = 3
[settings]
output_step = 0.1
chunk_size = 8
"""


def write_spec(tmp_path, text=SMALL, name="spec.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def cli(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "lunadyn", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=ROOT, **kw)


@pytest.fixture(scope="module")
def serial_store(tmp_path_factory, warm):
    d = tmp_path_factory.mktemp("serial")
    spec = write_spec(d)
    report = api.sweep(spec, d / "serial.zarr", backend="serial", progress=False)
    assert report["complete"] and report["models_ok"] == 96
    return d / "serial.zarr", spec


# --- specs and samplers -------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_samplers_give_sizes_bounds_and_scales(method):
    axes = [sampling.Axis("eta_ref", 1e18, 1e21, "log"), sampling.Axis("r_core", 300e3, 400e3, "linear"),
            sampling.Axis("law", values=("cia", "ml", "mac"))]
    s = sampling.sample(axes, method, 256, seed=5)
    assert len(s["law"]) == len(s["eta_ref"]) == 3 * 256
    assert np.all((s["eta_ref"] >= 1e18) & (s["eta_ref"] <= 1e21))
    assert np.all((s["r_core"] >= 300e3) & (s["r_core"] <= 400e3))
    # log scale: uniform in log10 (each decade holds about a third); linear: uniform
    dec = np.histogram(np.log10(s["eta_ref"][:256]), bins=[18, 19, 20, 21])[0]
    assert np.all(np.abs(dec - 256 / 3) < 10)
    assert abs(np.mean(s["r_core"][:256]) - 350e3) < 3e3
    # the categorical is an outer product with the sampled block
    assert s["law"][:256] == ["cia"] * 256 and s["law"][256:512] == ["ml"] * 256
    np.testing.assert_array_equal(s["eta_ref"][:256], s["eta_ref"][256:512])
    again = sampling.sample(axes, method, 256, seed=5)
    np.testing.assert_array_equal(again["eta_ref"], s["eta_ref"])
    other = sampling.sample(axes, method, 256, seed=6)
    assert not np.array_equal(other["eta_ref"], s["eta_ref"])


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_a_sampled_categorical_is_uniform_over_its_choices_and_joint_with_the_ranges(method):
    """``law = {}`` draws the law with the ranges (no outer product): n models, each choice ~n/k times,
    independent of the range values; the grid sampler takes every choice."""
    axes = [sampling.Axis("r_core", 300e3, 400e3), sampling.Axis("law", choices=("ml", "cia", "mac", "ca06"))]
    s = sampling.sample(axes, method, 1024, seed=2)
    assert len(s["law"]) == len(s["r_core"]) == 1024 == sampling.sample_count(axes, method, 1024)
    counts = {c: s["law"].count(c) for c in ("ml", "cia", "mac", "ca06")}
    assert all(abs(v - 256) <= 20 for v in counts.values()), counts
    for c in counts:   # the core radius spans its range within each law
        r = np.asarray(s["r_core"])[np.asarray(s["law"]) == c]
        assert r.min() < 310e3 and r.max() > 390e3
    g = sampling.sample(axes, "grid", 3, seed=0)
    assert len(g["law"]) == 12 == sampling.sample_count(axes, "grid", 3)
    spec = spec_from_text(SMALL.replace('law = ["cia", "ml"]', 'law = {}\norbit = { choices = ["dwyer", "constant_q"] }'),
                          "s.toml")
    assert spec.n_samples == 48 and set(spec.samples()["law"]) == {"ml", "cia", "mac", "ca06"}
    assert set(spec.samples()["orbit"]) == {"dwyer", "constant_q"}
    assert spec.hash != spec_from_text(SMALL.replace('law = ["cia", "ml"]', 'law = {}'), "s.toml").hash
    rec = spec.records(0, 48)
    assert sorted(set(rec["orbit"].tolist())) == [1, 2]


def test_grid_sampler_is_an_outer_product_with_per_axis_sizes():
    axes = [sampling.Axis("sigma_bmo", 1e2, 1e5, "log", n=4), sampling.Axis("r_core", 300e3, 400e3),
            sampling.Axis("law", values=("cia", "ml"))]
    s = sampling.sample(axes, "grid", 3, seed=0)
    assert len(s["r_core"]) == 2 * 4 * 3 == sampling.sample_count(axes, "grid", 3)
    np.testing.assert_allclose(sorted(set(s["sigma_bmo"])), [1e2, 1e3, 1e4, 1e5])
    np.testing.assert_allclose(sorted(set(s["r_core"])), [300e3, 350e3, 400e3])


def test_sobol_sizes_must_be_powers_of_two():
    with pytest.raises(UserError, match="sobol needs a power of two.*n = 512 or n = 1024"):
        spec_from_text(SMALL.replace('"lhs"', '"sobol"').replace("n = 48", "n = 1000"), "s.toml")


@pytest.mark.parametrize("edit,message", [
    (("[vary]", "[vry]"), "unknown key 'vry' in s.toml: did you mean 'vary'"),
    (("\nr_core = {", "\nr_cor = {"), "unknown parameter 'r_cor' in \\[vary\\] of s.toml: did you mean 'r_core'"),
    (('"lhs"', '"random"'), "method in \\[sampler\\] of s.toml: expected one of grid, lhs, sobol"),
    (("min = 320e3, max = 380e3", "min = 380e3, max = 320e3"), "r_core in \\[vary\\] of s.toml: expected min < max"),
    (("min = 320e3, max = 380e3", "min = 20e3, max = 380e3"), "r_core = 20000 m in \\[vary\\] of s.toml \\(min\\) is out of bounds"),
    (('law = ["cia", "ml"]', 'law = { choices = "cia" }'), "choices of law in \\[vary\\] of s.toml: expected a non-empty list"),
    (('law = ["cia", "ml"]', 'law = { choices = ["cia", "mll"] }'), "law .*\\[vary\\] of s.toml \\(choices\\)"),
    (('law = ["cia", "ml"]', 'law = { min = 1 }'), "law in \\[vary\\] of s.toml: unknown key 'min'"),
    (('law = ["cia", "ml"]', 'k_core = [10.0, 20.0]\nmax_steps = {}'), "unknown parameter 'max_steps' in \\[vary\\]"),
    (("chunk_size = 8", "chunk_size = 0"), "chunk_size in \\[settings\\] of s.toml: expected a positive integer"),
    (("chunk_size = 8", "chunk_size = 8\n[output]\nvariables = [\"B_surfce\"]"),
     "unknown output 'B_surfce' in \\[output\\] of s.toml: did you mean 'B_surface'"),
    (('law = ["cia", "ml"]', 'bmo_thickness0 = [0.0, 1e5]'), "sample 0 of s.toml .*f_hpe_basal > 0 needs bmo_thickness0 > 0"),
])
def test_spec_errors_name_the_field(edit, message):
    with pytest.raises(UserError, match=message):
        spec_from_text(SMALL.replace(*edit), "s.toml")


def test_spec_hash_covers_the_numbers_not_the_place(tmp_path):
    a = spec_from_text(SMALL, "a.toml")
    b = spec_from_text(SMALL + "\n", "elsewhere/b.toml")
    c = spec_from_text(SMALL.replace("seed = 3", "seed = 4"), "a.toml")
    d = spec_from_text(SMALL.replace("output_step = 0.1", "output_step = 0.05"), "a.toml")
    assert a.hash == b.hash and a.hash != c.hash and a.hash != d.hash


# --- backends -------------------------------------------------------------------------------------

def test_store_layout_opens_in_xarray(serial_store):
    path, _ = serial_store
    ds = xr.open_zarr(path)
    assert ds["B_surface"].dims == ("sample", "age") and ds.sizes["sample"] == 96
    for name in ("sulfur_core", "r_core", "eta_ref", "law"):
        assert name in ds.coords and ds[name].dims == ("sample",)
    assert ds["B_surface"].attrs["units"] == "T" and ds["B_surface"].dtype == np.float32
    assert ds["T_cmb"].dtype == np.float64 and bool(ds["done"].all())
    assert json.loads(ds.attrs["fixed_parameters"])["k_core"] == 40.0
    info = json.loads(cli("info", path, "--json").stdout)
    assert info["chunks_done"] == info["chunks_total"] == 12 and info["n_failed"] == 0


def test_dask_local_cluster_store_equals_serial_bitwise(serial_store, tmp_path):
    path, spec = serial_store
    report = api.sweep(spec, tmp_path / "dask.zarr", backend="dask", workers=2, progress=False)
    assert report["complete"]
    assert_same_store(path, tmp_path / "dask.zarr")


def test_grid_sweep_reshapes_to_its_dimensions(tmp_path, warm):
    text = """
[vary]
r_core = { min = 320e3, max = 380e3 }
law = ["cia", "ml"]
[sampler]
method = "grid"
n = 3
[settings]
output_step = 0.5
chunk_size = 4
"""
    api.sweep(write_spec(tmp_path, text), tmp_path / "g.zarr", backend="serial", progress=False)
    g = api.grid_view(xr.open_zarr(tmp_path / "g.zarr"))
    assert g["B_surface"].sizes == {"law": 2, "r_core": 3, "age": 10}
    np.testing.assert_allclose(g["r_core"].values, [320e3, 350e3, 380e3])


def _wait_for_lines(log, k, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if log.exists() and len(log.read_text().splitlines()) >= k:
            return log.read_text().splitlines()
        if proc.poll() is not None:
            raise AssertionError(f"sweep ended before the kill: {proc.stderr.read()}")
        time.sleep(0.01)
    raise AssertionError("timed out waiting for chunks")


def _done(path):
    import zarr
    return np.asarray(zarr.open_group(str(path), mode="r")["done"][:])


def test_sigkill_mid_sweep_then_rerun_equals_an_uninterrupted_run(serial_store, tmp_path):
    """Killed with SIGKILL part-way, the rerun completes the store bitwise equal to an uninterrupted
    run, and no chunk marked done before the kill is computed again (counted from the chunk log)."""
    path, spec = serial_store
    log = tmp_path / "chunks.log"
    out = tmp_path / "killed.zarr"
    env = {"LUNADYN_CHUNK_LOG": str(log)}
    proc = subprocess.Popen([sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(out), "--backend",
                             "serial", "--json"], env={**os.environ, **env}, cwd=ROOT, stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    _wait_for_lines(log, 4, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = set(np.flatnonzero(_done(out)).tolist())
    assert 4 <= len(done_before) < 12
    lines_before = len(log.read_text().splitlines())
    r = cli("sweep", spec, "-o", out, "--backend", "serial", "--json", env=env)
    assert r.returncode == 0, r.stderr
    again = [int(line.split()[0]) for line in log.read_text().splitlines()[lines_before:]]
    assert not done_before & set(again)
    assert set(again) | done_before == set(range(12))
    assert_same_store(path, out)


def test_killing_a_dask_worker_mid_sweep_loses_nothing(serial_store, tmp_path):
    """A dask worker killed with SIGKILL mid-sweep: its chunk is retried elsewhere, the sweep completes
    bitwise equal to the serial run, and no chunk done before the kill is computed again."""
    path, spec = serial_store
    log = tmp_path / "chunks.log"
    out = tmp_path / "dask_killed.zarr"
    proc = subprocess.Popen([sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(out), "--workers", "2",
                             "--json"], env={**os.environ, "LUNADYN_CHUNK_LOG": str(log)}, cwd=ROOT,
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = _wait_for_lines(log, 3, proc)
    victim = int(lines[-1].split()[1])
    done_before = set(np.flatnonzero(_done(out)).tolist())
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["complete"]
    computed = [int(line.split()[0]) for line in log.read_text().splitlines()]
    assert len(computed) - len(set(computed)) <= 1          # at most the victim's chunk in flight is redone
    assert all(computed.count(i) == 1 for i in done_before)
    assert_same_store(path, out)


def test_other_spec_refused_overwrite_replaces_foreign_directory_untouched(serial_store, tmp_path):
    path, spec = serial_store
    other = write_spec(tmp_path, SMALL.replace("seed = 3", "seed = 9"), "other.toml")
    r = cli("sweep", other, "-o", path, "--backend", "serial")
    assert r.returncode == 2 and "seed" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    target = tmp_path / "target.zarr"
    api.sweep(spec, target, backend="serial", progress=False)
    with pytest.raises(UserError, match="seed"):
        api.sweep(other, target, backend="serial", progress=False)
    assert api.sweep(other, target, backend="serial", progress=False, overwrite=True)["complete"]
    assert xr.open_zarr(target).attrs["spec_hash"] == spec_from_text(other.read_text(), "x").hash
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "moon.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    before = {p.name: p.read_bytes() for p in foreign.iterdir()}
    for extra in ([], ["--overwrite"]):
        r = cli("sweep", spec, "-o", foreign, "--backend", "serial", *extra)
        assert r.returncode == 2 and "lunadyn store" in r.stderr, r.stderr
    assert {p.name: p.read_bytes() for p in foreign.iterdir()} == before


def test_ctrl_c_stops_cleanly_and_the_rerun_resumes(serial_store, tmp_path):
    path, spec = serial_store
    log = tmp_path / "chunks.log"
    out = tmp_path / "int.zarr"
    proc = subprocess.Popen([sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(out), "--backend",
                             "serial"], env={**os.environ, "LUNADYN_CHUNK_LOG": str(log)}, cwd=ROOT,
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    _wait_for_lines(log, 3, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "resume" in stderr and "Traceback" not in stderr
    assert 3 <= _done(out).sum() < 12
    assert cli("sweep", spec, "-o", out, "--backend", "serial").returncode == 0
    assert_same_store(path, out)
