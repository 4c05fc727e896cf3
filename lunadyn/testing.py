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
from .runs.io.store import volatile_attrs

__all__ = ["assert_stores_equal", "serial_reference_store", "probe_unit", "noop_unit", "PROVENANCE_KEYS"]

# group attributes that say what made a store (versions, commit, time, the making command), not what it holds
PROVENANCE_KEYS = frozenset(volatile_attrs())


def assert_stores_equal(a, b, *, complete: bool = True) -> None:
    """Assert that two stores hold the same numbers: every array (data variables, coordinates,
    ``status``, ``done``) bitwise equal (NaN payloads included) with equal dtype, shape and attributes,
    and equal group attributes except provenance (versions, commit, creation time, the making command).

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


def probe_unit(i, n_models: int = 3, output_step: float = 0.5) -> dict:
    """A unit of work that computes ``n_models`` default-Moon models and writes nothing (for tests of
    backends at scale: 10^4 units in seconds). Returns a report shaped like ``run_chunk``'s."""
    import os

    from .runs.compute.pipeline import compute
    from .runs.registry import make_records
    from .runs.status import THERMAL_CODE_MASK

    res = compute(make_records(n_models), {"start_age": 4.5, "output_step": output_step})
    ok = int(((res["status"] & THERMAL_CODE_MASK) == 0).sum())
    return {"chunk": int(i), "n": n_models, "skipped": False, "ok": ok, "failed": {}, "pid": os.getpid()}


def noop_unit(i) -> dict:
    """A unit of work that does nothing (what a backend spends per unit: benchmarks/bench_scale.py)."""
    return {"chunk": int(i), "n": 0, "skipped": True}
