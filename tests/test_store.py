"""The zarr store: chunked region writes, a ledger, CF attributes, and never touching foreign data."""
import hashlib
import json
import warnings

import numpy as np
import pytest
import xarray as xr

from lunadyn.runs.io import store
from lunadyn.runs.errors import UserError
from lunadyn.runs.registry import OUTPUTS, SUMMARIES

AGES = np.round(np.linspace(1.0, 0.0, 11), 12)
SPEC = {"kind": "sweep", "parameters": {"k_core": 40.0, "law": "cia"}, "settings": {"rtol": 1e-6}}
VARIABLES = {"T_cmb": ("float64", "age"), "Q_cmb": ("float32", "age"), "core_regime": ("int8", "age"),
             "age_inner_core_nucleation": ("float64", "run")}


def make(path, spec=SPEC, n=10, chunk=4, overwrite=False, **kw):
    coords = kw.pop("coords", {"r_core": np.linspace(300e3, 400e3, n)})
    return store.create_store(path, spec=spec, spec_text="k_core = 40.0\n", n_samples=n, chunk_size=chunk,
                              ages=AGES, variables=VARIABLES, coords=coords, fixed={"k_core": 40.0},
                              overwrite=overwrite, **kw)


def chunk_arrays(lo, hi, value):
    m = hi - lo
    return {"T_cmb": np.full((m, AGES.size), value), "Q_cmb": np.full((m, AGES.size), value * 1e9),
            "core_regime": np.ones((m, AGES.size), dtype=np.int8),
            "age_inner_core_nucleation": np.arange(lo, hi, dtype=float)}


def snapshot(path):
    """Every file under path with its bytes (to check nothing was modified)."""
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else None) for p in sorted(path.rglob("*"))}


def test_spec_hash_is_sha256_of_canonical_json():
    canon = json.dumps(SPEC, sort_keys=True, separators=(",", ":"))
    assert store.spec_hash(SPEC) == hashlib.sha256(canon.encode()).hexdigest()
    reordered = {"settings": {"rtol": 1e-6}, "parameters": {"law": "cia", "k_core": 40.0}, "kind": "sweep"}
    assert store.spec_hash(reordered) == store.spec_hash(SPEC)
    assert store.spec_hash({**SPEC, "kind": "run"}) != store.spec_hash(SPEC)
    assert store.spec_hash({"a": np.float64(1.5), "b": np.arange(2)}) == store.spec_hash({"a": 1.5, "b": [0, 1]})


def test_create_write_and_reopen_with_xarray(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    store.write_chunk(path, 1, chunk_arrays(4, 8, 1500.0), status=np.zeros(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consolidated metadata: no "not consolidated" warning
        ds = xr.open_zarr(path)
    assert ds["T_cmb"].dims == ("sample", "age")
    assert ds["age_inner_core_nucleation"].dims == ("sample",)
    assert ds["T_cmb"].attrs["units"] == "K" and ds["T_cmb"].attrs["long_name"] == OUTPUTS["T_cmb"].long_name
    assert ds["age_inner_core_nucleation"].attrs["units"] == SUMMARIES["age_inner_core_nucleation"].unit
    assert ds["age"].attrs["units"] == "Ga" and (np.diff(ds["age"].values) < 0).all()
    assert ds["sample"].dtype == np.int64 and list(ds["sample"].values) == list(range(10))
    # declared dtypes: state float64, diagnostics float32, regime int8
    assert ds["T_cmb"].dtype == np.float64 and ds["Q_cmb"].dtype == np.float32 and ds["core_regime"].dtype == np.int8
    # the varied parameter is a coordinate along sample with its unit
    assert "r_core" in ds.coords and ds["r_core"].dims == ("sample",) and ds["r_core"].attrs["units"] == "m"
    # chunked along sample only, whole age axis
    assert ds["T_cmb"].encoding["chunks"] == (4, AGES.size)
    # written chunk has data; unwritten chunks read as fill values
    t = ds["T_cmb"].values
    assert (t[4:8] == 1500.0).all() and np.isnan(t[:4]).all() and np.isnan(t[8:]).all()
    assert (ds["core_regime"].values[:4] == -128).all() and (ds["core_regime"].values[4:8] == 1).all()
    assert list(ds["status"].values) == [-1] * 4 + [0] * 4 + [-1] * 2
    assert list(ds["done"].values) == [False, True, False]
    assert ds["done"].dims == ("chunk",)
    # group attributes
    assert ds.attrs["lunadyn_store"] == store.FORMAT_VERSION
    assert ds.attrs["spec_hash"] == store.spec_hash(SPEC)
    assert json.loads(ds.attrs["spec"]) == SPEC
    assert ds.attrs["spec_toml"] == "k_core = 40.0\n"
    assert json.loads(ds.attrs["fixed_parameters"]) == {"k_core": 40.0}
    for key in ("lunadyn_version", "git_commit", "numpy_version", "numba_version", "zarr_version",
                "xarray_version", "dask_version", "python_version", "created_utc"):
        assert ds.attrs[key]


def test_last_chunk_may_be_short_and_all_chunks_complete_the_ledger(tmp_path):
    path = tmp_path / "s.zarr"
    g = make(path)
    assert store.chunks_to_do(g) == [0, 1, 2]
    for i, (lo, hi) in enumerate([(0, 4), (4, 8), (8, 10)]):
        assert store.chunk_bounds(g, i) == (lo, hi)
        store.write_chunk(g, i, chunk_arrays(lo, hi, 1000.0 + i), status=np.full(hi - lo, 32))
    assert store.chunks_to_do(path) == []
    info = store.store_info(path)
    assert info["chunks_done"] == info["chunks_total"] == 3 and info["complete"]
    assert info["status_counts"] == {"32": 10} and info["n_failed"] == 0
    assert info["status_meaning"]["32"] == "ok (regime 2 entered)"
    assert set(info["variables"]) == set(VARIABLES) and info["variables"]["T_cmb"]["units"] == "K"
    assert info["size_bytes"] > 0
    ds = xr.open_zarr(path)
    np.testing.assert_array_equal(ds["age_inner_core_nucleation"].values, np.arange(10.0))


def test_write_chunk_checks_shapes_and_names(tmp_path):
    g = make(tmp_path / "s.zarr")
    with pytest.raises(ValueError, match="needs shape"):
        store.write_chunk(g, 0, {"T_cmb": np.zeros((3, AGES.size))}, status=np.zeros(4))
    with pytest.raises(ValueError, match="not a data variable"):
        store.write_chunk(g, 0, {"nope": np.zeros(4)}, status=np.zeros(4))
    with pytest.raises(IndexError):
        store.write_chunk(g, 3, {}, status=np.zeros(4))
    assert not g["done"][:].any()


def test_categorical_coordinate_is_coded_with_cf_flags(tmp_path):
    make(tmp_path / "s.zarr", coords={"law": ["ml", "cia"] * 5})
    ds = xr.open_zarr(tmp_path / "s.zarr")
    assert "law" in ds.coords and list(ds["law"].values[:2]) == [0, 1]
    assert ds["law"].attrs["flag_meanings"] == "ml cia mac ca06"


def test_same_spec_resumes_without_touching_data(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    store.write_chunk(path, 0, chunk_arrays(0, 4, 7.0), status=np.zeros(4))
    before = snapshot(path)
    g = make(path)
    assert snapshot(path) == before
    assert store.chunks_to_do(g) == [1, 2]


def test_different_spec_is_refused_naming_what_differs(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    before = snapshot(path)
    other = {"kind": "sweep", "parameters": {"k_core": 30.0, "law": "cia"}, "settings": {"rtol": 1e-7}}
    with pytest.raises(UserError) as info:
        make(path, spec=other)
    msg = str(info.value)
    assert "different spec" in msg and "parameters.k_core" in msg and "settings.rtol" in msg
    assert "law" not in msg and "\n" not in msg
    assert snapshot(path) == before


def test_different_layout_with_the_same_spec_is_refused(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    with pytest.raises(UserError, match="n_samples"):
        make(path, n=12)


def test_overwrite_replaces_a_lunadyn_store(tmp_path):
    path = tmp_path / "s.zarr"
    make(path)
    store.write_chunk(path, 0, chunk_arrays(0, 4, 7.0), status=np.zeros(4))
    other = {**SPEC, "settings": {"rtol": 1e-8}}
    make(path, spec=other, n=6, overwrite=True)
    ds = xr.open_zarr(path)
    assert ds.sizes["sample"] == 6 and not ds["done"].values.any()
    assert ds.attrs["spec_hash"] == store.spec_hash(other)


def test_foreign_directory_is_never_modified(tmp_path):
    path = tmp_path / "results"
    path.mkdir()
    (path / "notes.txt").write_text("my thesis\n")
    before = snapshot(path)
    for overwrite in (False, True):
        with pytest.raises(UserError, match="is not a lunadyn store; refusing to modify it"):
            make(path, overwrite=overwrite)
        assert snapshot(path) == before


def test_foreign_zarr_group_is_never_modified(tmp_path):
    import zarr

    path = tmp_path / "other.zarr"
    zarr.open_group(str(path), mode="w").attrs["owner"] = "someone else"
    before = snapshot(path)
    with pytest.raises(UserError, match="not a lunadyn store"):
        make(path, overwrite=True)
    assert snapshot(path) == before
    with pytest.raises(UserError, match="zarr group but not a lunadyn store"):
        store.open_store(path)


def test_a_file_is_never_overwritten(tmp_path):
    path = tmp_path / "s.zarr"
    path.write_text("precious")
    with pytest.raises(UserError):
        make(path, overwrite=True)
    assert path.read_text() == "precious"


def test_empty_directory_is_used(tmp_path):
    make(tmp_path)
    assert store.is_store(tmp_path)


def test_open_store_errors(tmp_path):
    with pytest.raises(UserError, match="no store at"):
        store.open_store(tmp_path / "missing.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(UserError, match="is not a zarr store"):
        store.open_store(tmp_path / "plain")
    corrupt = tmp_path / "corrupt.zarr"
    corrupt.mkdir()
    (corrupt / "zarr.json").write_text("{not json")
    with pytest.raises(UserError, match="is not a zarr store"):
        store.open_store(corrupt)
    with pytest.raises(UserError, match="no store at"):
        store.store_info(tmp_path / "missing.zarr")


def test_damaged_store_is_reported(tmp_path):
    import shutil

    path = tmp_path / "s.zarr"
    make(path)
    shutil.rmtree(path / "done")
    with pytest.raises(UserError, match="damaged lunadyn store: missing done"):
        store.open_store(path)
