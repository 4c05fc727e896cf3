"""Sweeps at scale (issue 13): a bounded task queue on dask, reduced sweeps, stores of few files."""
import os
from functools import partial

import pytest

from lunadyn.cluster.dask_backend import DaskBackend
from lunadyn.testing import probe_unit


@pytest.fixture(scope="module")
def local_cluster(warm):
    """A LocalCluster of 2 single-threaded workers, with a second client to watch its scheduler."""
    from distributed import Client, LocalCluster

    old = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"
    try:
        lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=40)
    finally:
        if old is None:
            os.environ.pop("NUMBA_NUM_THREADS")
        else:
            os.environ["NUMBA_NUM_THREADS"] = old
    with Client(lc) as watcher:
        yield lc, watcher
    lc.close()


def _scheduler_tasks(dask_scheduler):
    return len(dask_scheduler.tasks)


def test_20000_units_through_dask_with_a_bounded_queue(local_cluster):
    """20,000 units of 2 models each: every unit runs once, at most 8 per worker are ever in flight
    (the backend's count and the scheduler's own task table, sampled as results arrive)."""
    lc, watcher = local_cluster
    n_units = 20_000
    seen, scheduler_counts = [], []

    def on_report(rep):
        seen.append(rep["chunk"])
        if len(seen) % 1000 == 0:
            scheduler_counts.append(watcher.run_on_scheduler(_scheduler_tasks))

    be = DaskBackend(scheduler=lc.scheduler_address)
    reports = be.map(partial(probe_unit, n_models=2, output_step=0.5), range(n_units), on_report,
                     collect=False)
    assert reports == []                                    # collect=False: nothing kept in the driver
    assert sorted(seen) == list(range(n_units))             # each unit exactly once
    assert be.submitted == n_units
    assert be.in_flight_limit == 16                         # 8 tasks per worker x 2 workers
    assert 8 <= be.max_in_flight <= 16
    assert len(scheduler_counts) == 20 and max(scheduler_counts) <= 16 + 8  # + released, not yet forgotten


class _CostlyToken:
    """A unit function whose dask token would be costly (a sweep spec's fields, its samples included);
    tokenizing it raises."""

    def __call__(self, i):
        return {"chunk": int(i), "n": 0, "skipped": True}

    def __dask_tokenize__(self):
        raise AssertionError("the unit function was tokenized")


def test_dask_backend_never_tokenizes_the_unit_function():
    """client.map names its expression by tokenizing the function on every refill of the queue; the
    backend gives it a token drawn once instead (map and map_items)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0",
                      silence_logs=40) as lc:
        be = DaskBackend(scheduler=lc.scheduler_address)
        reports = be.map(_CostlyToken(), range(40))
        with be:
            items = be.map_items(_CostlyToken(), range(5))
    assert sorted(r["chunk"] for r in reports) == list(range(40))
    assert [r["chunk"] for r in items] == list(range(5))


def _quick_unit(i):
    import time

    time.sleep(0.01)          # units finish one by one (as_completed alone would hand them over singly)
    return {"chunk": int(i), "n": 1}


def test_dask_backend_reads_reports_a_few_units_at_a_time(monkeypatch):
    """Every unit's report comes back once, through fewer gathers than units (cluster.dask_backend
    READ_EVERY, READ_S): a gather per unit costs the driver ~1 ms of CPU."""
    from distributed import Client, LocalCluster

    calls = []
    real = Client.gather

    def counted(self, futures, *args, **kwargs):      # the real gather, counted
        calls.append(len(futures))
        return real(self, futures, *args, **kwargs)

    monkeypatch.setattr(Client, "gather", counted)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0",
                      silence_logs=40) as lc:
        seen = []
        backend = DaskBackend(scheduler=lc.scheduler_address, tasks_per_worker=8)
        reports = backend.map(_quick_unit, range(200), seen.append)
    assert sorted(r["chunk"] for r in reports) == list(range(200))
    assert sorted(r["chunk"] for r in seen) == list(range(200))
    assert sum(calls) == 200 and len(calls) <= 200 // 2


# --- reduced sweeps -------------------------------------------------------------------------------

import numpy as np  # noqa: E402
import zarr  # noqa: E402

from lunadyn.runs import api  # noqa: E402
from lunadyn.runs.compute import pipeline  # noqa: E402
from lunadyn.runs.inference.compare import compare_store  # noqa: E402
from lunadyn.runs.spec.sweep import load_spec, spec_from_text  # noqa: E402

BASE = """
title = "reduced vs full"
[vary]
sulfur_core = {{}}
r_core = {{ min = 320e3, max = 380e3 }}
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 24
seed = 3
[settings]
output_step = 0.1
chunk_size = 8
[observations]
select = [{select}]
{output}
"""
CHANG_E = '"id=ce5_basalt,ce6_basalt"'
GRID = pipeline.output_ages(4.5, 0.1)
FINE = pipeline.output_ages(4.5, 0.05)
ON_GRID = (float(GRID[5]), float(GRID[25]))           # 4.0 and 2.0 Ga, ages of the 0.1 Ga grid
OFF_GRID = float(FINE[33])                            # 2.85 Ga: on the 0.05 Ga grid only
AT = ", ".join(repr(a) for a in (*ON_GRID, OFF_GRID))
THERMAL = '["age_inner_core_nucleation", "age_bmo_solidified", "n_steps", "book_core_residual", ' \
          '"book_core_scale", "book_layer_residual", "book_layer_scale"]'
REDUCED = f"""[output]
reduced = true
variables = {{variables}}
at_ages = [{AT}]
at_age_variables = ["B_surface", "B_core", "T_cmb", "r_inner_core", "core_regime"]
per_record = true
"""


def _arrays(path):
    g = zarr.open_group(str(path), mode="r")
    return {name: np.asarray(a[...]) for name, a in g.arrays()}


def _bitwise(a, b, what):
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), f"{what}: {int((a != b).sum())} values differ"


@pytest.fixture(scope="module")
def full_and_reduced(tmp_path_factory, warm):
    d = tmp_path_factory.mktemp("reduced")
    out = {}
    for key, select, output in (
            ("full", CHANG_E, ""),
            ("full_all", "", ""),
            ("thermal", CHANG_E, REDUCED.format(variables=THERMAL)),
            ("ends", "", REDUCED.format(variables='["age_dynamo_end_core", "age_dynamo_end_bmo", '
                                                  '"age_dynamo_end_precession"]'))):
        spec = d / f"{key}.toml"
        spec.write_text(BASE.format(select=select, output=output))
        report = api.sweep(spec, d / f"{key}.zarr", backend="serial", progress=False)
        assert report["complete"]
        out[key] = (spec, d / f"{key}.zarr")
    for key in ("full", "full_all"):
        compare_store(out[key][1], select=None if key == "full_all" else ["id=ce5_basalt,ce6_basalt"])
    return out


def test_reduced_sweep_equals_the_full_history_sweep_at_its_ages_and_records(full_and_reduced):
    """Summaries, status, ln L, per-record ln L and misfits, and every output at the named ages of a
    reduced sweep are bitwise those of the full-history sweep (its stored float32/float64 values, and
    `lunadyn compare` on it for the per-record arrays), though only a few ages were evaluated."""
    full = _arrays(full_and_reduced["full"][1])
    red = _arrays(full_and_reduced["thermal"][1])
    spec = load_spec(full_and_reduced["thermal"][0])
    r = pipeline.Reduction.for_spec(spec)
    assert not r.full_grid and r.ages.size < 20 < GRID.size         # few ages evaluated
    assert not any(v.ndim == 2 and v.shape[1] == GRID.size for v in red.values())   # no history
    for name in ("status", "age_inner_core_nucleation", "age_bmo_solidified", "n_steps", "book_core_residual",
                 "book_core_scale", "book_layer_residual", "book_layer_scale", "loglike", "sample"):
        _bitwise(red[name], full[name], name)
    for name in ("loglike_record", "misfit"):                       # as `lunadyn compare` writes them
        _bitwise(red[name], full[name], name)
    assert np.isfinite(red["loglike"]).all() and (red["B_surface_at"][:, 0] > 0).all()   # a field at 4 Ga
    for j, age in enumerate(ON_GRID):
        k = int(np.flatnonzero(GRID == age)[0])
        for name in ("B_surface", "B_core", "T_cmb", "r_inner_core", "core_regime"):
            _bitwise(red[name + "_at"][:, j], full[name][:, k], f"{name} at {age} Ga")


def test_an_age_off_the_output_grid_equals_a_finer_full_run_there(full_and_reduced):
    """The step sequence does not depend on the output ages: a named age off the 0.1 Ga grid is bitwise
    the value of a full history at 0.05 Ga (a different output grid) at that age."""
    red = _arrays(full_and_reduced["thermal"][1])
    spec = load_spec(full_and_reduced["thermal"][0])
    fine = pipeline.compute(spec.records(), {**spec.settings, "output_step": 0.05})
    k = int(np.flatnonzero(fine["age"] == OFF_GRID)[0])
    for name in ("B_surface", "r_inner_core"):
        _bitwise(red[name + "_at"][:, 2], fine["outputs"][name][:, k], name)
    _bitwise(red["T_cmb_at"][:, 2], fine["state"]["T_cmb"][:, k], "T_cmb")


def test_dynamo_end_ages_make_a_reduced_sweep_evaluate_the_whole_grid(full_and_reduced):
    full = _arrays(full_and_reduced["full_all"][1])
    red = _arrays(full_and_reduced["ends"][1])
    assert pipeline.Reduction.for_spec(load_spec(full_and_reduced["ends"][0])).full_grid
    for name in ("status", "age_dynamo_end_core", "age_dynamo_end_bmo", "age_dynamo_end_precession", "loglike",
                 "loglike_record", "misfit"):
        _bitwise(red[name], full[name], name)
    assert (red["age_dynamo_end_core"] > 0).any()


def test_reduced_spec_errors_name_the_field():
    from lunadyn.runs.errors import UserError

    def spec(output):
        return spec_from_text(BASE.format(select=CHANG_E, output="[output]\nreduced = true\n" + output), "r.toml")

    with pytest.raises(UserError, match="B_surface in variables of \\[output\\] of r.toml: a reduced sweep keeps no"):
        spec('variables = ["B_surface"]')
    with pytest.raises(UserError, match="at_ages in \\[output\\] of r.toml: 5 Ga is outside"):
        spec("at_ages = [5.0]")
    with pytest.raises(UserError, match="unknown output 'B_surfce' in at_age_variables"):
        spec('at_ages = [2.0]\nat_age_variables = ["B_surfce"]')
    with pytest.raises(UserError, match="per_record in \\[output\\] of r.toml: only a reduced sweep"):
        spec_from_text(BASE.format(select=CHANG_E, output="[output]\nper_record = true"), "r.toml")
    s = spec("")
    assert s.variables == ["age_inner_core_nucleation", "age_bmo_solidified"] and s.chunk_size == 8
    assert spec_from_text(BASE.format(select=CHANG_E, output=""), "r.toml").hash != s.hash
    # the default unit of a reduced sweep: n/32 to a power of two, within [256, 65536]
    from lunadyn.runs.spec.sweep import reduced_unit
    assert [reduced_unit(n) for n in (48, 10_000, 100_000, 10 ** 6, 10 ** 9)] == [256, 512, 4096, 32768, 65536]


# --- stores of few files: sharded units, resume after SIGKILL, the same bytes from every backend ---

import json  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from lunadyn.testing import assert_stores_equal, serial_reference_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
SHARDED = """
title = "sharded reduced sweep"
[vary]
sulfur_core = {}
eta_ref = {}
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 48
seed = 7
[settings]
output_step = 0.1
chunk_size = 4
inner_chunk_size = 2
[output]
reduced = true
variables = ["age_inner_core_nucleation", "n_steps"]
at_ages = [4.0, 2.807]
[observations]
"""


def _files(path):
    return sum(len(names) for _, _, names in os.walk(path))


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lunadyn", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, warm):
    d = tmp_path_factory.mktemp("sharded")
    spec = d / "sharded.toml"
    spec.write_text(SHARDED)
    serial_reference_store(spec, d / "serial.zarr")
    return d, spec


def test_a_sharded_store_holds_one_file_per_array_and_unit(sharded):
    d, spec = sharded
    s = load_spec(spec)
    g = zarr.open_group(str(d / "serial.zarr"), mode="r")
    assert g["loglike"].shards == (4,) and g["loglike"].chunks == (2,)
    assert g["B_surface_at"].shards == (4, 2) and g["done"].chunks == (1,)
    arrays = [name for name, _ in g.arrays()]
    per_unit = [name for name in arrays if g[name].metadata.dimension_names[0] in ("sample", "chunk")]
    assert "done" in per_unit and "nbytes" in per_unit               # the ledger: one entry per unit
    # one file per array and unit, the metadata files, and the small coordinates (age, named_age, record)
    expected = s.n_chunks * len(per_unit) + (len(arrays) + 1) + 3 + 1      # + zarr.json, consolidated view
    info = json.loads(_cli("info", d / "serial.zarr", "--json").stdout)
    assert info["files"] == _files(d / "serial.zarr") <= expected
    assert info["inner_chunk_size"] == 2 and info["reduced"]
    assert "files" in _cli("info", d / "serial.zarr").stdout


def test_a_sharded_store_resumes_after_sigkill_without_recomputing_a_done_unit(sharded, tmp_path):
    d, spec = sharded
    log, out = tmp_path / "units.log", tmp_path / "killed.zarr"
    proc = subprocess.Popen([sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o", str(out), "--backend",
                             "serial", "--json"], env={**os.environ, "LUNADYN_CHUNK_LOG": str(log)}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while time.time() - t0 < 300 and not (log.exists() and len(log.read_text().splitlines()) >= 4):
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = set(np.flatnonzero(zarr.open_group(str(out), mode="r")["done"][:]).tolist())
    n_units = load_spec(spec).n_chunks
    assert 4 <= len(done_before) < n_units
    before = len(log.read_text().splitlines())
    r = _cli("sweep", spec, "-o", out, "--backend", "serial", "--json", env={"LUNADYN_CHUNK_LOG": str(log)})
    assert r.returncode == 0, r.stderr
    again = [int(line.split()[0]) for line in log.read_text().splitlines()[before:]]
    assert not done_before & set(again) and set(again) | done_before == set(range(n_units))
    assert_stores_equal(out, d / "serial.zarr")


def test_serial_dask_and_mpi_write_the_same_sharded_store(sharded):
    d, spec = sharded
    report = api.sweep(spec, d / "dask.zarr", backend="dask", workers=2, progress=False)
    assert report["complete"]
    assert_stores_equal(d / "dask.zarr", d / "serial.zarr")
    if not MPIEXEC.exists():
        pytest.skip("no mpiexec (the mpi extra)")
    env = {k: v for k, v in os.environ.items() if k != "LUNADYN_CHUNK_LOG"}
    proc = subprocess.run([str(MPIEXEC), "-n", "2", sys.executable, "-m", "lunadyn", "sweep", str(spec), "-o",
                           str(d / "mpi.zarr"), "--backend", "mpi", "--json"], capture_output=True, text=True,
                          cwd=ROOT, env={**env, "NUMBA_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert_stores_equal(d / "mpi.zarr", d / "serial.zarr")


def test_a_large_sweep_makes_its_samples_a_slice_at_a_time_and_writes_the_same_store(tmp_path, warm,
                                                                                       monkeypatch):
    """Beyond LARGE_SWEEP models the samples are made per unit (Sobol fast-forward, mixed radix) and each
    unit writes its own coordinates; the store is bitwise the one the small-sweep path writes."""
    from lunadyn.runs.spec import sweep as sweep_mod

    text = SHARDED.replace('method = "lhs"', 'method = "sobol"').replace("n = 48", "n = 32")
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    api.sweep(spec, tmp_path / "small.zarr", backend="serial", progress=False)
    monkeypatch.setattr(sweep_mod, "LARGE_SWEEP", 10)
    big = load_spec(spec)
    assert big.large
    with pytest.raises(ValueError, match="a slice at a time"):
        big.samples()
    g = zarr.open_group(str(tmp_path / "small.zarr"), mode="r")
    part = big.samples(13, 29)
    np.testing.assert_array_equal(part["eta_ref"], g["eta_ref"][13:29])
    api.sweep(big, tmp_path / "large.zarr", backend="serial", progress=False)
    h = zarr.open_group(str(tmp_path / "large.zarr"), mode="r")
    assert h.attrs["unit_coordinates"] == 1
    for name, a in g.arrays():
        _bitwise(h[name][...], a[...], name)


def test_a_corrupted_shard_is_found_and_only_its_unit_recomputed(sharded, tmp_path):
    """The integrity scan reads a shard chunk by chunk against its checksums (and its index's): one
    flipped byte in one inner chunk of unit 2 marks unit 2, and only it, damaged."""
    import shutil

    from lunadyn.runs.io.store import scan_store

    d, _ = sharded
    copy = tmp_path / "copy.zarr"
    shutil.copytree(d / "serial.zarr", copy)
    assert scan_store(copy, verify=True).ok
    f = copy / "loglike" / "c.2"                      # the store's "." chunk keys
    data = bytearray(f.read_bytes())
    data[3] ^= 0xFF                                   # inside the first inner chunk
    f.write_bytes(bytes(data))
    h = scan_store(copy, verify=True)
    assert h.units == [2] and "loglike: checksum mismatch" in h.damaged[2]


def test_submit_dry_run_prints_the_scaling_estimate(sharded):
    """`lunadyn submit --dry-run`: the script on stdout, the scaling model's estimate (calibrated on a
    unit of this sweep) on stderr; the JSON report carries its figures."""
    d, spec = sharded
    r = _cli("submit", spec, "--scheduler", "slurm", "--mode", "mpi", "--ntasks", "4", "--dry-run",
             "-o", d / "sub.zarr")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("#!") and "estimate:" not in r.stdout
    assert "# estimate: 96 models on 4 cores (mpi) in 24 units of 4 models" in r.stderr
    assert "files" in r.stderr and "a model" in r.stderr
    j = json.loads(_cli("submit", spec, "--scheduler", "slurm", "--mode", "array", "--ntasks", "3", "--dry-run",
                        "--json", "-o", d / "sub.zarr").stdout)
    est = j["estimate"]["at_spec_unit"]
    assert est["units"] == 24 and est["cores"] == 3 and est["files"] > 24 and est["wall_s"] > 0
    assert 0 < j["estimate"]["costs"]["bytes_per_model"] < 1000 and j["estimate"]["costs"]["files_per_unit"] >= 8
    assert not (d / "sub.zarr").exists()                            # a dry run creates nothing
