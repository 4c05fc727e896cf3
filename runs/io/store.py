"""The zarr v3 store of a run or a sweep (DESIGN.md "The store"), read with ``xarray.open_zarr``.

Layout of one store (one zarr group):

- coordinates ``sample`` (int64) and ``age`` (float64, Ga, decreasing), and one 1-D coordinate along
  ``sample`` per varied parameter (categoricals as int8 codes with CF ``flag_values``/``flag_meanings``);
- data variables ``(sample, age)`` and per-run summaries ``(sample,)`` in their declared dtype, with CF
  ``units`` and ``long_name`` from the registry, chunked along ``sample`` only (``chunk_size`` samples,
  the whole age axis), zstd-compressed; unwritten chunks read as the fill value (NaN for floats, the
  dtype's minimum for integers);
- ``status (sample,)`` int32 (-1 = not computed) and the ledger ``done (chunk,)``, one zarr chunk per
  sweep chunk, so writers of different chunks never touch the same zarr chunk;
- group attributes: the ``lunadyn_store`` marker (format version), the validated spec as canonical JSON
  (``spec``), its TOML text (``spec_toml``), ``spec_hash``, ``fixed_parameters`` (JSON) and provenance
  (lunadyn version, git commit, dependency versions, creation time UTC). Attributes are strings and
  numbers only, so a dataset exports to netCDF unchanged.

A directory that is not a lunadyn store is never modified: ``create_store`` refuses it even with
``overwrite=True``. An empty directory counts as nothing there.
"""
from __future__ import annotations

import json
import platform
import shutil
import subprocess
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import BloscCodec

from .. import status as st
from ..errors import UserError
from ..record.scoring import sweep_variables
from ..spec.hashing import canonical_json, spec_differences, spec_hash
from ..registry import ALL_PARAMS, OUTPUTS, SUMMARIES

MARKER = "lunadyn_store"
FORMAT_VERSION = 1
RESERVED = ("sample", "age", "status", "done")

# --------------------------------------------------------------------------------------------------
# provenance


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def git_commit() -> str:
    """The commit of the repository this package runs from (``+dirty`` if modified), or ``unknown``."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return "unknown"
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def provenance() -> dict:
    """What made a store: versions, commit and time (flat, netCDF-safe attributes)."""
    out = {"lunadyn_version": _version("lunadyn"),
           "git_commit": git_commit(),
           "python_version": platform.python_version()}
    for dist in ("numpy", "numba", "zarr", "xarray", "dask"):
        out[f"{dist}_version"] = _version(dist)
    out["created_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return out


# --------------------------------------------------------------------------------------------------
# opening


def _read_group(path: Path):
    """The zarr group at path (read-only), or None if it is not one."""
    try:
        return zarr.open_group(str(path), mode="r")
    except Exception:  # zarr raises several types for "not a group here"
        return None


def is_store(path) -> bool:
    """True if path holds a lunadyn store."""
    p = Path(path)
    if not p.is_dir():
        return False
    g = _read_group(p)
    return g is not None and MARKER in g.attrs


def open_store(path, mode: str = "r") -> zarr.Group:
    """The zarr group of a lunadyn store; UserError if missing, not zarr, or not a lunadyn store."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"no store at {p}")
    if not p.is_dir():
        raise UserError(f"{p} is a file, not a zarr store")
    g = _read_group(p)
    if g is None:
        raise UserError(f"{p} is not a zarr store (no readable group metadata)")
    if MARKER not in g.attrs:
        raise UserError(f"{p} is a zarr group but not a lunadyn store (no '{MARKER}' attribute)")
    if not isinstance(g.attrs[MARKER], int) or g.attrs[MARKER] > FORMAT_VERSION:
        raise UserError(f"{p} has store format {g.attrs[MARKER]}; this lunadyn reads up to {FORMAT_VERSION}")
    missing = [name for name in RESERVED if not (p / name / "zarr.json").is_file()]  # not the consolidated view
    if missing:
        raise UserError(f"{p} is a damaged lunadyn store: missing {', '.join(missing)}")
    return g if mode == "r" else zarr.open_group(str(p), mode=mode)


def open_dataset(path):
    """The store as an ``xarray.Dataset`` (lazy; checked to be a lunadyn store first)."""
    import xarray as xr

    open_store(path)
    return xr.open_zarr(str(path))


# --------------------------------------------------------------------------------------------------
# creation

# Blosc-zstd with byte shuffle: ~16 % smaller than zarr's default zstd on model histories, as fast.
COMPRESSORS = (BloscCodec(cname="zstd", clevel=5, shuffle="shuffle"),)


def variable_layout(names=None, scored: bool = False) -> dict:
    """The store-variable layout ``run``, ``sweep`` and ``field`` create: name -> (dtype, 'age' | 'run').

    names: the outputs and summaries kept (default every declared one, in declaration order); names that
    are not declared outputs (e.g. a scored store's ``loglike``) are left out. scored: add the
    ``loglike`` variable a sweep with ``[observations]`` writes per chunk.
    """
    declared = {name: (o.dtype, o.shape) for name, o in {**OUTPUTS, **SUMMARIES}.items()}
    out = {name: declared[name] for name in (declared if names is None else names) if name in declared}
    if scored:
        out.update(sweep_variables())
    return out


def fill_value(dtype):
    """Fill of unwritten chunks: NaN for floats, the minimum for signed integers, max for unsigned."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.nan
    if dtype.kind == "i":
        return int(np.iinfo(dtype).min)
    if dtype.kind == "u":
        return int(np.iinfo(dtype).max)
    if dtype.kind == "b":
        return False
    raise ValueError(f"no fill value for dtype {dtype}")


def _variable_attrs(name: str) -> dict:
    decl = OUTPUTS.get(name) or SUMMARIES.get(name)
    if decl is None:
        raise ValueError(f"variable {name!r} is not declared in the output registry; pass attrs explicitly")
    attrs = {"units": decl.unit, "long_name": decl.long_name}
    if decl.note:
        attrs["comment"] = decl.note
    return attrs


def _coord_values(name: str, values, n: int):
    """A varied parameter's values along sample and its attributes."""
    p = ALL_PARAMS.get(name)
    attrs = {"units": p.unit, "long_name": p.description} if p else {}
    values = list(values) if not isinstance(values, np.ndarray) else values
    if p is not None and p.kind == "category":
        codes = np.array([p.code(v) if isinstance(v, str) else int(v) for v in values], dtype=np.int8)
        attrs.update(flag_values=list(range(len(p.choices))), flag_meanings=" ".join(p.choices))
        values = codes
    elif p is not None and p.kind == "set":   # bitmasks (CF flag_masks: bit i = choices[i])
        masks = np.array([int(v) if isinstance(v, (int, np.integer)) else p.mask(v) for v in values], dtype=np.int8)
        attrs.update(flag_masks=[1 << i for i in range(len(p.choices))], flag_meanings=" ".join(p.choices))
        values = masks
    values = np.asarray(values)
    if values.shape != (n,):
        raise ValueError(f"coordinate {name!r} must have shape ({n},), got {values.shape}")
    if values.dtype.kind not in "iufb":
        raise ValueError(f"coordinate {name!r} must be numeric (or a categorical's names)")
    return values, attrs


def _layout(n_samples, chunk_size, ages, variables, coords) -> dict:
    return {"n_samples": int(n_samples), "chunk_size": int(chunk_size),
            "ages": [float(a) for a in np.asarray(ages, dtype=np.float64)],
            "variables": sorted(variables), "coords": sorted(coords)}


def _existing_layout(g) -> dict:
    return {"n_samples": int(g.attrs["n_samples"]), "chunk_size": int(g.attrs["chunk_size"]),
            "ages": [float(a) for a in g["age"][:]],
            "variables": sorted(json.loads(g.attrs["variables"])),
            "coords": sorted(json.loads(g.attrs["varied_parameters"]))}


def _check_target(path: Path, digest: str, spec: dict, layout: dict, overwrite: bool):
    """Decide what to do with an existing path: None (create), a group (resume), or refuse."""
    if not path.exists():
        return None
    if path.is_dir() and not any(path.iterdir()):
        return None
    if not is_store(path):
        raise UserError(f"{path} exists and is not a lunadyn store; refusing to modify it (choose another -o)")
    g = open_store(path)
    if g.attrs.get("spec_hash") == digest and _existing_layout(g) == layout:
        if overwrite:
            shutil.rmtree(path)
            return None
        return g
    if overwrite:
        shutil.rmtree(path)
        return None
    if g.attrs.get("spec_hash") != digest:
        what = spec_differences(json.loads(g.attrs["spec"]), json.loads(canonical_json(spec)))
    else:
        old = _existing_layout(g)
        what = ", ".join(k for k in layout if layout[k] != old[k])
    raise UserError(f"{path} holds a store of a different spec (differs in: {what}); "
                    "use --overwrite to replace it or choose another -o")


def create_store(path, *, spec: dict, spec_text: str, n_samples: int, chunk_size: int, ages,
                 variables: dict, coords: dict | None = None, fixed: dict | None = None,
                 attrs: dict | None = None, overwrite: bool = False) -> zarr.Group:
    """Create (or resume) the store of a spec and return its zarr group.

    variables: name -> (dtype, 'age' | 'run') or (dtype, 'age' | 'run', attrs); attrs default to the
    registry's units and long_name. coords: varied parameter -> values along sample. fixed: fixed
    parameter values (config form). attrs: extra group attributes (e.g. title, description).

    An existing store with the same spec hash and layout is returned as it is (resume); a different one
    is refused naming what differs, unless ``overwrite``. Anything else at ``path`` is refused.
    """
    path = Path(path)
    coords, fixed = dict(coords or {}), dict(fixed or {})
    n_samples, chunk_size = int(n_samples), int(chunk_size)
    if n_samples < 1 or chunk_size < 1:
        raise ValueError("n_samples and chunk_size must be >= 1")
    ages = np.asarray(ages, dtype=np.float64)
    bad = [v for v in list(variables) + list(coords) if v in RESERVED]
    if bad:
        raise ValueError(f"reserved names cannot be variables or coords: {bad}")
    digest = spec_hash(spec)
    layout = _layout(n_samples, chunk_size, ages, variables, coords)
    existing = _check_target(path, digest, spec, layout, overwrite)
    if existing is not None:
        return zarr.open_group(str(path), mode="r+")

    n_chunks = -(-n_samples // chunk_size)
    zchunk = min(chunk_size, n_samples)
    n_age = ages.size
    g = zarr.open_group(str(path), mode="w-", zarr_format=3)

    def array(name, shape, chunks, dtype, dims, attributes, fill=None):
        return g.create_array(name, shape=shape, chunks=chunks, dtype=dtype, dimension_names=dims,
                              fill_value=fill_value(dtype) if fill is None else fill, attributes=attributes,
                              compressors=COMPRESSORS)

    array("sample", (n_samples,), (zchunk,), "int64", ("sample",),
          {"long_name": "model index in the sweep", "units": "1"}, fill=-1)[:] = np.arange(n_samples)
    array("age", (n_age,), (n_age,), "float64", ("age",),
          {"long_name": "age before present", "units": "Ga"})[:] = ages
    coord_attr = " ".join(sorted(coords))
    for name, values in coords.items():
        values, cattrs = _coord_values(name, values, n_samples)
        array(name, (n_samples,), (zchunk,), values.dtype, ("sample",), cattrs)[:] = values
    for name, spec_v in variables.items():
        dtype, where = spec_v[0], spec_v[1]
        vattrs = dict(spec_v[2]) if len(spec_v) > 2 else _variable_attrs(name)
        if coord_attr:
            vattrs["coordinates"] = coord_attr
        if where == "age":
            array(name, (n_samples, n_age), (zchunk, n_age), dtype, ("sample", "age"), vattrs)
        elif where == "run":
            array(name, (n_samples,), (zchunk,), dtype, ("sample",), vattrs)
        else:
            raise ValueError(f"variable {name!r}: shape must be 'age' or 'run', got {where!r}")
    array("status", (n_samples,), (zchunk,), "int32", ("sample",),
          {"long_name": "model status: thermal code | flags", "units": "1", "comment": st.LEGEND}, fill=-1)
    array("done", (n_chunks,), (1,), "bool", ("chunk",),
          {"long_name": "chunk computed and written (data before the flag)", "units": "1"}, fill=False)

    g.attrs.update({
        MARKER: FORMAT_VERSION,
        "Conventions": "CF-1.10",
        **(attrs or {}),
        "spec": canonical_json(spec),
        "spec_toml": spec_text,
        "spec_hash": digest,
        "fixed_parameters": canonical_json(fixed),
        "varied_parameters": canonical_json(sorted(coords)),
        "variables": canonical_json(sorted(variables)),
        "n_samples": n_samples,
        "chunk_size": chunk_size,
        "n_chunks": n_chunks,
        **provenance(),
    })
    consolidate(path)
    return zarr.open_group(str(path), mode="r+")


def consolidate(path) -> None:
    """Write consolidated metadata so xarray opens the store with one read (zarr's v3 extension)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        zarr.consolidate_metadata(str(path))


# --------------------------------------------------------------------------------------------------
# writing and reading chunks


def chunk_bounds(g, i: int) -> tuple[int, int]:
    """Sample range [lo, hi) of sweep chunk i."""
    n, cs, nc = int(g.attrs["n_samples"]), int(g.attrs["chunk_size"]), int(g.attrs["n_chunks"])
    if not 0 <= i < nc:
        raise IndexError(f"chunk {i} out of range 0..{nc - 1}")
    return i * cs, min(n, (i + 1) * cs)


def write_chunk(path_or_group, i: int, arrays: dict, status) -> None:
    """Region-write chunk i of every given variable and its status, then set ``done[i]``.

    arrays: name -> array whose first axis is the chunk's samples. The data are written before the
    flag, so a chunk marked done is complete whatever happens after.
    """
    g = path_or_group if isinstance(path_or_group, zarr.Group) else open_store(path_or_group, mode="r+")
    lo, hi = chunk_bounds(g, i)
    jobs = []
    for name, data in arrays.items():
        if name in RESERVED or name not in g:
            raise ValueError(f"{name!r} is not a data variable of this store")
        arr = g[name]
        data = np.asarray(data)
        if data.shape != (hi - lo,) + tuple(arr.shape[1:]):
            raise ValueError(f"{name}: chunk {i} needs shape {(hi - lo,) + tuple(arr.shape[1:])}, got {data.shape}")
        jobs.append((arr, data.astype(arr.dtype, copy=False)))
    jobs.append((g["status"], np.asarray(status, dtype=np.int32).reshape(hi - lo)))

    # the writes go to different arrays (different files): issue them together from a few threads
    # (zarr's public sync API hands each to its event loop, which runs them concurrently; one after the
    # other is ~40 % slower here); all of them finish before the done flag is set
    with ThreadPoolExecutor(max_workers=min(8, len(jobs))) as pool:
        for fut in [pool.submit(arr.__setitem__, slice(lo, hi), data) for arr, data in jobs]:
            fut.result()
    g["done"][i] = True


def chunks_to_do(path_or_group) -> list[int]:
    """Indices of the chunks not yet done (for resuming)."""
    g = path_or_group if isinstance(path_or_group, zarr.Group) else open_store(path_or_group)
    return [int(i) for i in np.flatnonzero(~g["done"][:])]


def _size_on_disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def store_info(path) -> dict:
    """Progress and contents of a store (``lunadyn info``): chunks, status counts, variables, size."""
    g = open_store(path)
    done = g["done"][:]
    status = g["status"][:]
    codes, counts = np.unique(status, return_counts=True)
    failed = int(np.sum((status >= 0) & ((status & st.THERMAL_CODE_MASK) != 0)))
    variables = {}
    for name in json.loads(g.attrs["variables"]):
        a = g[name]
        variables[name] = {"dims": list(a.metadata.dimension_names), "dtype": str(a.dtype),
                           "units": a.attrs.get("units", ""), "long_name": a.attrs.get("long_name", "")}
    return {
        "path": str(path),
        "title": g.attrs.get("title", ""),
        "kind": json.loads(g.attrs["spec"]).get("kind", ""),
        "spec_hash": g.attrs["spec_hash"],
        "created_utc": g.attrs.get("created_utc", ""),
        "lunadyn_version": g.attrs.get("lunadyn_version", ""),
        "git_commit": g.attrs.get("git_commit", ""),
        "n_samples": int(g.attrs["n_samples"]),
        "n_age": int(g["age"].shape[0]),
        "chunk_size": int(g.attrs["chunk_size"]),
        "chunks_done": int(done.sum()),
        "chunks_total": int(done.size),
        "complete": bool(done.all()),
        "status_counts": {str(int(c)): int(k) for c, k in zip(codes, counts)},
        "status_meaning": {str(int(c)): st.describe(int(c)) for c in codes},
        "n_failed": failed,
        "varied_parameters": json.loads(g.attrs["varied_parameters"]),
        "variables": variables,
        "size_bytes": _size_on_disk(Path(path)),
    }
