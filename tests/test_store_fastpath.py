"""io.chunkfile: a unit's chunk files written in the calling thread are zarr's own, byte for byte.

Every chunk file of a store written through chunkfile is compared with the same store written through
zarr's region writes alone (chunkfile switched off): full histories with a short last unit, a reduced
sweep's per-record and named-age arrays, the ledger (``nbytes``, ``done``) and a sharded store (which
chunkfile leaves to zarr)."""
from pathlib import Path

import numpy as np
import pytest

from lunadyn.runs import api
from lunadyn.runs.io import chunkfile, store
from lunadyn.runs.spec.sweep import spec_from_text

FULL = """
title = "chunkfile: full histories, a short last unit"
[settings]
output_step = 0.1
chunk_size = 8
[sampler]
method = "lhs"
n = 7
seed = 5
[vary]
r_core = { min = 320e3, max = 380e3 }
f_hpe_basal = {}
orbit = ["cyclostratigraphy", "dwyer"]
[observations]
select = ["id=ce5_basalt,ce6_basalt"]
"""
REDUCED = """
title = "chunkfile: reduced"
[vary]
sulfur_core = {}
bmo_thickness0 = { min = 50e3, max = 500e3 }
[sampler]
method = "lhs"
n = 20
seed = 2
[settings]
chunk_size = 8
[output]
reduced = true
variables = ["age_inner_core_nucleation"]
at_ages = [2.03, 2.807]
at_age_variables = ["B_surface"]
[observations]
select = ["id=ce5_basalt,ce6_basalt"]
"""


def _chunk_files(root: Path) -> dict:
    """Every file of the store but the metadata (zarr.json carries provenance and times): relative path -> bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "zarr.json"}


def _through_zarr_only(monkeypatch):
    monkeypatch.setattr(chunkfile, "write_whole_chunk", lambda *a, **k: False)


@pytest.mark.parametrize("text", [FULL, REDUCED], ids=["full", "reduced"])
def test_chunk_files_are_zarrs_bytes(tmp_path, monkeypatch, text):
    spec = spec_from_text(text, "t")
    fast = tmp_path / "fast.zarr"
    api.sweep(spec, fast, backend="serial", progress=False)
    with monkeypatch.context() as m:
        _through_zarr_only(m)
        api.sweep(spec_from_text(text, "t"), tmp_path / "zarr.zarr", backend="serial", progress=False)
    a, b = _chunk_files(fast), _chunk_files(tmp_path / "zarr.zarr")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    # chunkfile wrote them: every data array and the ledger of every unit, the short last one included
    n_units = spec.n_chunks
    assert spec.n_samples % spec.chunk_size != 0
    for name in ("status", "done", "nbytes", "loglike"):
        assert sum(k.startswith(f"{name}/c.") for k in a) == n_units, name
    assert store.scan_store(fast, verify=True).ok


def test_fast_path_is_taken_and_leaves_sharded_arrays_to_zarr(tmp_path, monkeypatch):
    calls = []
    real = chunkfile.write_whole_chunk

    def spy(root, arr, i, lo, data):
        done = real(root, arr, i, lo, data)
        calls.append((arr.path, done))
        return done

    monkeypatch.setattr(chunkfile, "write_whole_chunk", spy)
    api.sweep(spec_from_text(FULL, "t"), tmp_path / "a.zarr", backend="serial", progress=False)
    assert calls and all(done for _, done in calls)
    # a sharded array (what a large sweep's store uses): chunkfile declines, zarr writes the shard
    g = store.open_store(tmp_path / "a.zarr", mode="r+")
    import zarr
    sh = zarr.create_array(store=str(tmp_path / "sh.zarr"), shape=(16, 3), chunks=(4, 3), shards=(8, 3),
                           dtype="float32", fill_value=np.nan)
    assert chunkfile.write_whole_chunk(Path(tmp_path / "sh.zarr"), sh, 0, 0, np.zeros((8, 3), "float32")) is False
    assert g["done"][:].all()


def test_a_store_of_the_earlier_slash_keys_reads_verifies_and_resumes(tmp_path, monkeypatch):
    """Stores written before the "." chunk keys (``c/<i>/0``, a directory per unit) stay usable: their
    files are counted, checked and resumed into, and hold the same values as a "."-keyed store."""
    import json

    import zarr

    spec = spec_from_text(FULL, "t")
    new = tmp_path / "dot.zarr"
    api.sweep(spec, new, backend="serial", progress=False)
    old = tmp_path / "slash.zarr"
    with monkeypatch.context() as m:
        m.setattr(store, "CHUNK_KEYS", {"name": "default", "separator": "/"})
        api.sweep(spec_from_text(FULL, "t"), old, backend="serial", progress=False)
    assert (old / "B_surface" / "c" / "0" / "0").is_file() and (new / "B_surface" / "c.0.0").is_file()
    assert store.scan_store(old, verify=True).ok
    a, b = store.file_census(old), store.file_census(new)
    n_unit_arrays = len(json.loads(zarr.open_group(str(new), mode="r").attrs["unit_arrays"]))
    assert a["files"] == b["files"] and a["unit_files"] == b["unit_files"] >= spec.n_chunks * n_unit_arrays
    ga, gb = zarr.open_group(str(old), mode="r"), zarr.open_group(str(new), mode="r")
    for name, arr in gb.arrays():
        assert np.array_equal(ga[name][...], arr[...], equal_nan=True), name
    # unit 0 lost: its flag cleared and a chunk file removed; the rerun computes it alone, into c/0/...
    zarr.open_group(str(old), mode="r+")["done"][0] = False
    (old / "loglike" / "c" / "0").unlink()
    rep = api.sweep(spec_from_text(FULL, "t"), old, backend="serial", progress=False)
    assert rep["complete"] and rep["models_computed_now"] == spec.chunk_size
    assert store.scan_store(old, verify=True).ok
    assert np.array_equal(zarr.open_group(str(old), mode="r")["loglike"][...], gb["loglike"][...], equal_nan=True)
