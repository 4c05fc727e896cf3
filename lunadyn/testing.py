"""Helpers for tests of lunadyn stores, lunadyn's own and users': store equality and the serial reference.

    from lunadyn.testing import assert_stores_equal, serial_reference_store
    serial_reference_store("my_sweep.toml", tmp_path / "serial.zarr")
    assert_stores_equal(tmp_path / "mpi.zarr", tmp_path / "serial.zarr")
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from .runs.compute.driver import sweep
from .runs.io.store import provenance

__all__ = ["assert_stores_equal", "serial_reference_store", "PROVENANCE_KEYS"]

PROVENANCE_KEYS = frozenset(provenance())   # group attributes that say what made a store, not what it holds


def assert_stores_equal(a, b, *, complete: bool = True) -> None:
    """Assert that two stores hold the same numbers: every array (data variables, coordinates,
    ``status``, ``done``) bitwise equal (NaN payloads included) with equal dtype, shape and attributes,
    and equal group attributes except provenance (versions, commit, creation time).

    complete: also assert that every chunk of ``a`` is done. Raises AssertionError naming what differs.
    """
    ga, gb = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    names_a = sorted(k for k, _ in ga.arrays())
    names_b = sorted(k for k, _ in gb.arrays())
    if names_a != names_b:
        raise AssertionError(f"arrays differ: only in {a}: {sorted(set(names_a) - set(names_b))}; "
                             f"only in {b}: {sorted(set(names_b) - set(names_a))}")
    attrs_a = {k: v for k, v in ga.attrs.asdict().items() if k not in PROVENANCE_KEYS}
    attrs_b = {k: v for k, v in gb.attrs.asdict().items() if k not in PROVENANCE_KEYS}
    if attrs_a != attrs_b:
        keys = sorted(k for k in set(attrs_a) | set(attrs_b) if attrs_a.get(k) != attrs_b.get(k))
        raise AssertionError(f"group attributes differ: {', '.join(keys)}")
    for name in names_a:
        x, y = ga[name], gb[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            raise AssertionError(f"{name}: {x.dtype}{x.shape} in {a} but {y.dtype}{y.shape} in {b}")
        if x.attrs.asdict() != y.attrs.asdict():
            raise AssertionError(f"{name}: attributes differ")
        xv, yv = x[...], y[...]
        if xv.tobytes() != yv.tobytes():
            same = (xv == yv) | (np.isnan(xv) & np.isnan(yv)) if xv.dtype.kind == "f" else xv == yv
            raise AssertionError(f"{name}: {int((~same).sum())} of {same.size} values differ between {a} and {b}")
    if complete and not bool(np.all(ga["done"][:])):
        raise AssertionError(f"{a} is not complete")


def serial_reference_store(spec, store) -> dict:
    """The reference a backend is compared with: ``spec`` swept by the serial backend in this process."""
    return sweep(spec, Path(store), backend="serial", progress=False)
