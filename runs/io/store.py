"""The zarr v3 store of a run or a sweep (DESIGN.md "The store"), read with ``xarray.open_zarr``.

Layout of one store (one zarr group):

- coordinates ``sample`` (int64) and ``age`` (float64, Ga, decreasing), and one 1-D coordinate along
  ``sample`` per varied parameter (categoricals as int8 codes with CF ``flag_values``/``flag_meanings``);
- data variables ``(sample, age)`` and per-run summaries ``(sample,)`` in their declared dtype, with CF
  ``units`` and ``long_name`` from the registry, chunked along ``sample`` only (``chunk_size`` samples,
  the whole age axis), blosc-compressed (lz4 for histories, zstd for per-model values) and then
  checksummed (zarr's ``crc32c`` codec), so a
  corrupted or truncated chunk fails on read; unwritten chunks read as the fill value (NaN for floats,
  the dtype's minimum for integers);
- ``status (sample,)`` int32 (-1 = not computed) and the ledger: ``done (chunk,)`` and ``nbytes (chunk,
  unit_array)``, the size of each chunk file of a unit as written, one zarr chunk per sweep chunk, so
  writers of different chunks never touch the same zarr chunk. A *unit* is one sweep chunk: its chunk
  of every array along ``sample`` (the ``unit_arrays`` attribute);
- a sharded store (``inner_chunk_size`` attribute) keeps each unit's part of an array in one zarr v3
  shard (one file per array and unit, written whole by the unit's task), read in inner chunks of that
  many samples; a store with ``unit_coordinates`` (sweeps of more than 2^22 models) has ``sample`` and
  the varied coordinates written by each unit with its data instead of at creation;
- a reduced sweep's (sample, dim) variables: ``NAME_at (sample, named_age)`` and ``loglike_record``,
  ``misfit (sample, record)``, with the ``named_age`` and ``record`` coordinates written at creation
  (``dims`` attribute);
- group attributes: the ``lunadyn_store`` marker (format version), the validated spec as canonical JSON
  (``spec``), its TOML text (``spec_toml``), ``spec_hash``, ``fixed_parameters`` (JSON), ``made_by`` (the
  command that makes it, for repair messages) and provenance (lunadyn version, git commit, dependency
  versions, creation time UTC). Attributes are strings and numbers only, so a dataset exports to netCDF.

Life of a store:

- *creation* builds the whole layout in a sibling directory ``.NAME.lunadyn-new-HOST-PID-TOKEN`` (its
  first file is the group metadata with the marker and spec hash) and renames it into place: ``path``
  holds nothing or a complete store whatever interrupts the creation (SIGKILL, Ctrl-C, a full disk).
  Leftover sibling directories of dead processes are removed by the next creation. ``--overwrite``
  builds the new store, moves the old one aside, renames the new one in and removes the old one.
- *writing* a unit writes its data (each chunk file atomically), then ``nbytes[i]``, then ``done[i]``.
- *checking* (``scan_store``): every done unit's chunk files present and of the size written (fast),
  or read fully against their crc32c (``verify``). Readers call ``check_store_intact`` first and refuse
  a damaged store in one line naming the units and the repair command.
- *resuming* the same spec first verifies the store and clears the ``done`` flags of damaged units
  (a ledger entry that cannot be read is rebuilt from the chunks present), so the rerun recomputes
  exactly those units, bitwise as before.

A directory that is not a lunadyn store is never modified: ``create_store`` refuses it even with
``overwrite=True``. An empty directory counts as nothing there.
"""
from __future__ import annotations

import asyncio
import errno
import functools
import glob
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import uuid
import warnings
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import google_crc32c
import numpy as np
import zarr
from zarr.codecs import BloscCodec, Crc32cCodec
from zarr.core.sync import sync as zarr_sync

from .. import status as st
from ..errors import StorageError, StoreDamaged, UserError, storage_reason
from ..record.scoring import sweep_variables
from ..registry import ALL_PARAMS, NAMED_AGE_DIM, OUTPUTS, SUMMARIES, at_name
from ..spec.hashing import canonical_json, spec_differences, spec_hash
from . import chunkfile

MARKER = "lunadyn_store"
FORMAT_VERSION = 2          # 2: crc32c on every chunk, the nbytes ledger, atomic creation
RESERVED = ("sample", "age", "status", "done", "nbytes")
RESERVED_V1 = ("sample", "age", "status", "done")
VOLATILE_ATTRS = ("made_by",)   # with provenance(): attributes that differ between equal stores of one spec

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


@functools.lru_cache(maxsize=1)
def _static_provenance() -> tuple:
    """Versions and commit: looked up once per process (a git call and six metadata reads)."""
    out = {"lunadyn_version": _version("lunadyn"),
           "git_commit": git_commit(),
           "python_version": platform.python_version()}
    for dist in ("numpy", "numba", "zarr", "xarray", "dask"):
        out[f"{dist}_version"] = _version(dist)
    return tuple(out.items())


def provenance() -> dict:
    """What made a store: versions, commit and time (flat, netCDF-safe attributes)."""
    out = dict(_static_provenance())
    out["created_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return out


def volatile_attrs() -> set:
    """Group attributes two stores of one spec may differ in: provenance and the making command."""
    return set(provenance()) | set(VOLATILE_ATTRS)


# --------------------------------------------------------------------------------------------------
# identification and opening

SAMPLE_LONG_NAME = "model index in the sweep"
DONE_LONG_NAME = "chunk computed and written (data before the flag)"


def _read_json(path: Path):
    """The JSON object in a file, or None if missing or unreadable."""
    try:
        obj = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _known_member_names() -> set:
    return set(RESERVED) | set(OUTPUTS) | set(SUMMARIES) | set(ALL_PARAMS) | {
        "loglike", "loglike_record", "misfit", "record"}


def _has_lunadyn_signature(path: Path) -> bool:
    """True if the store's ledger or sample coordinate carry lunadyn's attributes (group metadata aside)."""
    for name, long_name in (("done", DONE_LONG_NAME), ("sample", SAMPLE_LONG_NAME)):
        meta = _read_json(path / name / "zarr.json")
        if meta and meta.get("attributes", {}).get("long_name") == long_name:
            return True
    return False


def identify(path) -> str:
    """What is at ``path``: 'absent', 'file', 'empty', 'store', 'half-created', 'damaged' or 'foreign'.

    'half-created': a zarr group without attributes whose members are all lunadyn's (left by the
    creation of lunadyn <= 0.1, which wrote the attributes last; it holds no computed data).
    'damaged': the group metadata is unreadable but the ledger or sample coordinate is lunadyn's.
    """
    p = Path(path)
    if not p.exists():
        return "absent"
    if not p.is_dir():
        return "file"
    try:
        entries = list(p.iterdir())
    except OSError:
        return "foreign"
    if not entries:
        return "empty"
    meta = _read_json(p / "zarr.json")
    if meta is not None and meta.get("node_type") == "group":
        attrs = meta.get("attributes") or {}
        if MARKER in attrs:
            return "store"
        known = _known_member_names()
        members = [e for e in entries if e.name != "zarr.json"]
        if not attrs and all(e.is_dir() and e.name in known for e in members) and (
                not members or _has_lunadyn_signature(p) or (p / "age").is_dir()):
            return "half-created"
        return "foreign"
    return "damaged" if _has_lunadyn_signature(p) else "foreign"


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
        if identify(p) == "damaged":
            raise StoreDamaged(f"{p} is a damaged lunadyn store: its group metadata (zarr.json) is unreadable, so "
                               "its spec cannot be checked; recompute it with --overwrite")
        raise UserError(f"{p} is not a zarr store (no readable group metadata)")
    if MARKER not in g.attrs:
        if identify(p) == "half-created":
            raise UserError(f"{p} is a lunadyn store whose creation was interrupted (no attributes, no data): "
                            "rerun the command that makes it")
        raise UserError(f"{p} is a zarr group but not a lunadyn store (no '{MARKER}' attribute)")
    if not isinstance(g.attrs[MARKER], int) or g.attrs[MARKER] > FORMAT_VERSION:
        raise UserError(f"{p} has store format {g.attrs[MARKER]}; this lunadyn reads up to {FORMAT_VERSION}")
    reserved = RESERVED if g.attrs[MARKER] >= 2 else RESERVED_V1
    missing = [name for name in reserved if not (p / name / "zarr.json").is_file()]  # not the consolidated view
    if missing:
        raise StoreDamaged(f"{p} is a damaged lunadyn store: missing {', '.join(missing)}; "
                           f"repair: {repair_command(p, dict(g.attrs))}")
    return g if mode == "r" else zarr.open_group(str(p), mode=mode)


def open_dataset(path):
    """The store as an ``xarray.Dataset`` (lazy; checked to be an intact lunadyn store first)."""
    import xarray as xr

    check_store_intact(path)
    return xr.open_zarr(str(path))


def repair_command(path, attrs: dict | None = None) -> str:
    """The command that completes or repairs the store at ``path`` (from its ``made_by`` attribute)."""
    attrs = attrs if attrs is not None else (_read_json(Path(path) / "zarr.json") or {}).get("attributes", {})
    try:
        argv = json.loads(attrs.get("made_by", "null"))
    except (TypeError, ValueError):
        argv = None
    kind = ""
    try:
        kind = json.loads(attrs.get("spec", "{}")).get("kind", "")
    except (TypeError, ValueError, AttributeError):
        pass
    if not argv:
        argv = {"sweep": ["lunadyn", "sweep", "SPEC.toml"], "run": ["lunadyn", "run", "SCENARIO.toml"],
                "field": ["lunadyn", "field", "SOURCE.zarr"]}.get(kind, ["lunadyn", kind or "sweep", "..."])
    return f"`{shlex.join([*argv, '-o', str(path)])}`"


# --------------------------------------------------------------------------------------------------
# creation (DESIGN.md "The store"; issue 15): built in a sibling directory and renamed into place

# Blosc-zstd with byte shuffle (~16 % smaller than zarr's default zstd on model histories, as fast), then
# a crc32c checksum of the compressed bytes: a corrupted or truncated chunk fails on read. Level 1: writing
# is what a worker does besides computing, and at level 3 (zstd's own default) the compression was most
# of it. Measured interleaved on this machine (issue 13): a 2,000-model unit of the 100k benchmark sweep
# (four B histories at 0.05 Ga and ten summaries) writes in 16.5 ms (21.5 ms CPU) against 28.3 ms (38.5
# ms CPU) at level 3, for 3.5 % more bytes on the B histories; a full-history store at 0.01 Ga takes
# 43,912 bytes a model against 41,945 (+4.7 %), with 10-20 % less write time a unit. Level 5 was the
# release before last's (31 ms of CPU against level 3's 17 ms on 64 history arrays, for 1.6 % fewer bytes).
COMPRESSORS = (BloscCodec(cname="zstd", clevel=1, shuffle="shuffle"), Crc32cCodec())
# Histories along (sample, age) -- 99 % of a full-history store's bytes -- take Blosc-lz4 at level 9 with
# the same shuffle and checksum: as small on model histories and 2.5x faster to write. Measured on one
# 256-model unit of the backend benchmark (48 history arrays at 0.05 Ga, this machine): 7.1 ms against
# zstd-1's 18.2 ms a unit, 9,584 against 9,579 bytes a model. Per-model scalars (summaries, status,
# per-record predictions: a reduced sweep's whole store) stay zstd-1: lz4 made them 24 % larger (74
# against 60 bytes a model for 16 scalars) and they cost little to compress.
HISTORY_COMPRESSORS = (BloscCodec(cname="lz4", clevel=9, shuffle="shuffle"), Crc32cCodec())
WRITE_EMPTY = {"write_empty_chunks": True}   # a chunk equal to the fill value is still a file (presence = written)
# chunk keys "c.<i>.0" beside the array's zarr.json rather than "c/<i>/0": with "/" every unit of work
# makes one new directory per 2-D array (2,024 mkdirs and as many failed first opens in a 40-unit serial
# sweep of the backend benchmark). On this machine's ext4 at rest that was only ~2 ms of a ~45-ms unit
# write; on a parallel file system each directory is a metadata-server operation, and a full-history
# unit now makes half as many. zarr v3's default encoding with the "." separator; a store written with
# "/" still reads and resumes (the encoding is in each array's metadata).
CHUNK_KEYS = {"name": "default", "separator": "."}
STALE_FOREIGN_S = 24 * 3600   # a sibling build/trash directory of another host is removed after a day


def variable_layout(names=None, scored: bool = False, per_record: bool = False, at_age_variables=()) -> dict:
    """The store-variable layout ``run``, ``sweep`` and ``field`` create: name -> (dtype, shape[, attrs]),
    shape 'age' (sample, age), 'run' (sample,) or the name of another dimension (sample, dim).

    names: the outputs and summaries kept (default every declared one, in declaration order); names that
    are not declared outputs (e.g. a scored store's ``loglike``) are left out. scored: add the
    ``loglike`` variable a sweep with ``[observations]`` writes per chunk (with per_record also
    ``loglike_record`` and ``misfit`` along ``record``). at_age_variables: outputs a reduced sweep keeps
    at its named ages, as NAME_at (sample, named_age) in the output's dtype.
    """
    declared = {name: (o.dtype, o.shape) for name, o in {**OUTPUTS, **SUMMARIES}.items()}
    out = {name: declared[name] for name in (declared if names is None else names) if name in declared}
    if scored:
        out.update(sweep_variables(per_record))
    for name in at_age_variables:
        o = OUTPUTS[name]
        attrs = {"units": o.unit, "long_name": f"{o.long_name}, at the named ages"}
        if o.note:
            attrs["comment"] = o.note
        out[at_name(name)] = (o.dtype, NAMED_AGE_DIM, attrs)
    return out


# attributes of the coordinate of a (sample, dim) variable's other dimension
DIM_ATTRS = {NAMED_AGE_DIM: {"long_name": "named age before present (a reduced sweep's at_ages)", "units": "Ga"},
             "record": {"long_name": "paleointensity record id (the selection in use)", "units": "1"}}


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
    """A varied parameter's values along sample and its attributes (values None: its dtype as an
    empty array, for a store whose units write their own coordinates)."""
    p = ALL_PARAMS.get(name)
    attrs = {"units": p.unit, "long_name": p.description} if p else {}
    if values is None:
        is_cat = p is not None and p.kind == "category"
        if is_cat:
            attrs.update(flag_values=list(range(len(p.choices))), flag_meanings=" ".join(p.choices))
        return np.empty(0, dtype=np.int8 if is_cat else np.float64), attrs
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


def _layout(n_samples, chunk_size, ages, variables, coords, dims=None, inner_chunk=None) -> dict:
    out = {"n_samples": int(n_samples), "chunk_size": int(chunk_size),
           "ages": [float(a) for a in np.asarray(ages, dtype=np.float64)],
           "variables": sorted(variables), "coords": sorted(coords)}
    if dims:
        out["dims"] = sorted(dims)
    if inner_chunk:
        out["inner_chunk_size"] = int(inner_chunk)
    return out


def _existing_layout(g, ages_if_unreadable) -> dict:
    try:
        ages = [float(a) for a in g["age"][:]]
    except Exception:          # a damaged age chunk: the spec hash fixes the ages; repaired on resume
        ages = [float(a) for a in ages_if_unreadable]
    out = {"n_samples": int(g.attrs["n_samples"]), "chunk_size": int(g.attrs["chunk_size"]), "ages": ages,
           "variables": sorted(json.loads(g.attrs["variables"])),
           "coords": sorted(json.loads(g.attrs["varied_parameters"]))}
    if "dims" in g.attrs:
        out["dims"] = sorted(json.loads(g.attrs["dims"]))
    if "inner_chunk_size" in g.attrs:
        out["inner_chunk_size"] = int(g.attrs["inner_chunk_size"])
    return out


class _Recipe:
    """Everything that determines a store's layout and creation-written arrays (to build or rebuild it)."""

    def __init__(self, *, spec, spec_text, n_samples, chunk_size, ages, variables, coords, fixed, attrs,
                 dims=None, inner_chunk=None, unit_coordinates=False):
        self.spec, self.spec_text = spec, spec_text
        self.n_samples, self.chunk_size = int(n_samples), int(chunk_size)
        if self.n_samples < 1 or self.chunk_size < 1:
            raise ValueError("n_samples and chunk_size must be >= 1")
        self.dims = {k: list(v) for k, v in (dims or {}).items()}
        if inner_chunk is not None:
            inner_chunk = int(inner_chunk)
            if inner_chunk < 1 or self.chunk_size % inner_chunk:
                raise ValueError(f"inner_chunk {inner_chunk} must divide chunk_size {self.chunk_size}")
            if inner_chunk >= min(self.chunk_size, self.n_samples):
                inner_chunk = None
        self.inner_chunk = inner_chunk
        self.unit_coordinates = bool(unit_coordinates)
        self.ages = np.asarray(ages, dtype=np.float64)
        self.variables, self.coords = dict(variables), dict(coords or {})
        self.fixed, self.attrs = dict(fixed or {}), dict(attrs or {})
        bad = [v for v in list(self.variables) + list(self.coords) if v in RESERVED]
        if bad:
            raise ValueError(f"reserved names cannot be variables or coords: {bad}")
        self.digest = spec_hash(spec)
        self.layout = _layout(self.n_samples, self.chunk_size, self.ages, self.variables, self.coords, self.dims,
                              self.inner_chunk)
        self.n_chunks = -(-self.n_samples // self.chunk_size)
        self.unit_arrays = sorted(["sample", "status", *self.variables, *self.coords])


# --- the fault-injection hook of the crash tests (issue 15) -----------------------------------------

_FAULT_COUNT = [0]


def fault_point(step: str) -> None:
    """With LUNADYN_FAULT_AFTER_STEP=k in the environment, signal this process after creation step k.

    LUNADYN_FAULT_SIGNAL names the signal (KILL, the default, or INT for a Ctrl-C). Steps are counted
    per process across every store created. With LUNADYN_FAULT_TRACE=FILE, each step's name is
    appended to FILE (how the tests count the steps).
    """
    trace = os.environ.get("LUNADYN_FAULT_TRACE")
    if trace:
        with open(trace, "a", encoding="utf-8") as f:
            f.write(step + "\n")
    k = os.environ.get("LUNADYN_FAULT_AFTER_STEP")
    if not k:
        return
    _FAULT_COUNT[0] += 1
    if _FAULT_COUNT[0] == int(k):
        name = os.environ.get("LUNADYN_FAULT_SIGNAL", "KILL").upper().removeprefix("SIG")
        os.kill(os.getpid(), getattr(signal, f"SIG{name}"))
        time.sleep(5)        # SIGINT: Python raises KeyboardInterrupt in this sleep


# --- sibling directories: the build ('new'), the replaced store ('old'), repair skeletons ('repair') ---

def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"


def _sibling(path: Path, kind: str) -> Path:
    return path.parent / f".{path.name}.lunadyn-{kind}-{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    """True if a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_siblings(path: Path) -> None:
    """Remove build/trash directories of ``path`` left by killed processes (this host: the pid is gone;
    another host: older than STALE_FOREIGN_S)."""
    prefix = f".{path.name}.lunadyn-"
    try:
        candidates = list(path.parent.glob(glob.escape(prefix) + "*"))
    except OSError:
        return
    for p in candidates:
        kind, _, tail = p.name[len(prefix):].partition("-")
        if kind not in ("new", "old", "repair"):
            continue
        try:
            host, pid, _token = tail.rsplit("-", 2)
            pid = int(pid)
        except ValueError:
            continue
        if host == _host():
            stale = pid != os.getpid() and not pid_alive(pid)
        else:
            try:
                stale = time.time() - p.stat().st_mtime > STALE_FOREIGN_S
            except OSError:
                continue
        if stale:
            shutil.rmtree(p, ignore_errors=True)


def _build(root: Path, r: _Recipe, faults: bool = True) -> None:
    """Write a complete new store at ``root`` (which must not exist): every array, the coordinates, the
    attributes and the consolidated metadata. The group's identity and spec hash are its first file."""
    step = fault_point if faults else (lambda name: None)
    root.mkdir()
    step("build directory made")
    zchunk = min(r.chunk_size, r.n_samples)
    n_age = r.ages.size
    coord_attr = " ".join(sorted(r.coords))
    g = zarr.open_group(str(root), mode="w-", zarr_format=3, attributes={
        MARKER: FORMAT_VERSION,
        "Conventions": "CF-1.10",
        **r.attrs,
        "spec": canonical_json(r.spec),
        "spec_toml": r.spec_text,
        "spec_hash": r.digest,
        "fixed_parameters": canonical_json(r.fixed),
        "varied_parameters": canonical_json(sorted(r.coords)),
        "variables": canonical_json(sorted(r.variables)),
        "unit_arrays": canonical_json(r.unit_arrays),
        "n_samples": r.n_samples,
        "chunk_size": r.chunk_size,
        "n_chunks": r.n_chunks,
        **({"dims": canonical_json(sorted(r.dims))} if r.dims else {}),
        **({"inner_chunk_size": r.inner_chunk} if r.inner_chunk else {}),
        **({"unit_coordinates": 1} if r.unit_coordinates else {}),
        **provenance(),
    })
    step("group identity and attributes written")

    def array(name, shape, chunks, dtype, dims, attributes, fill=None):
        kw = {}
        if r.inner_chunk is not None and dims[0] == "sample":
            kw["shards"] = chunks                          # one shard per unit of work ...
            chunks = (r.inner_chunk,) + tuple(chunks[1:])  # ... read in inner chunks
        a = g.create_array(name, shape=shape, chunks=chunks, dtype=dtype, dimension_names=dims,
                           fill_value=fill_value(dtype) if fill is None else fill, attributes=attributes,
                           compressors=HISTORY_COMPRESSORS if dims[1:2] == ("age",) else COMPRESSORS,
                           chunk_key_encoding=CHUNK_KEYS, **kw)
        return a.with_config(WRITE_EMPTY)

    a = array("sample", (r.n_samples,), (zchunk,), "int64", ("sample",),
              {"long_name": SAMPLE_LONG_NAME, "units": "1"}, fill=-1)
    if not r.unit_coordinates:
        a[:] = np.arange(r.n_samples)
    step("array sample")
    array("age", (n_age,), (n_age,), "float64", ("age",),
          {"long_name": "age before present", "units": "Ga"})[:] = r.ages
    step("array age")
    for dim, values in r.dims.items():
        values = np.asarray(values)
        if values.dtype.kind in "US":
            d = g.create_array(dim, shape=values.shape, chunks=values.shape, dtype=str, dimension_names=(dim,),
                               attributes=DIM_ATTRS.get(dim, {}))
            d[:] = values
        else:
            array(dim, values.shape, values.shape, "float64", (dim,), DIM_ATTRS.get(dim, {}))[:] = values
        step(f"dimension {dim}")
    for name, values in r.coords.items():
        values, cattrs = _coord_values(name, None if r.unit_coordinates else values, r.n_samples)
        a = array(name, (r.n_samples,), (zchunk,), values.dtype, ("sample",), cattrs)
        if not r.unit_coordinates:
            a[:] = values
        step(f"coordinate {name}")
    for name, spec_v in r.variables.items():
        dtype, where = spec_v[0], spec_v[1]
        vattrs = dict(spec_v[2]) if len(spec_v) > 2 else _variable_attrs(name)
        if coord_attr:
            vattrs["coordinates"] = coord_attr
        if where == "age":
            array(name, (r.n_samples, n_age), (zchunk, n_age), dtype, ("sample", "age"), vattrs)
        elif where == "run":
            array(name, (r.n_samples,), (zchunk,), dtype, ("sample",), vattrs)
        elif where in r.dims:
            k = len(r.dims[where])
            array(name, (r.n_samples, k), (zchunk, k), dtype, ("sample", where), vattrs)
        else:
            raise ValueError(f"variable {name!r}: shape must be 'age', 'run' or one of dims, got {where!r}")
        step(f"array {name}")
    array("status", (r.n_samples,), (zchunk,), "int32", ("sample",),
          {"long_name": "model status: thermal code | flags", "units": "1", "comment": st.LEGEND}, fill=-1)
    step("array status")
    array("nbytes", (r.n_chunks, len(r.unit_arrays)), (1, len(r.unit_arrays)), "int64", ("chunk", "unit_array"),
          {"long_name": "bytes of each unit array's chunk file as written (the fast integrity check)",
           "units": "byte", "comment": "columns: the unit_arrays attribute; -1 = not written"}, fill=-1)
    step("array nbytes")
    array("done", (r.n_chunks,), (1,), "bool", ("chunk",), {"long_name": DONE_LONG_NAME, "units": "1"}, fill=False)
    step("array done")
    consolidate(root)
    step("metadata consolidated")


def _advice(reason: str) -> str:
    return {"no space left on device": "free some space", "disk quota exceeded": "free some quota",
            "read-only file system": "make the file system writable",
            "file too large": "raise the file-size limit"}.get(reason, "fix the permissions")


def _new_store(path: Path, r: _Recipe) -> bool:
    """Build the store beside ``path`` and rename it into place; False if another process got there first."""
    tmp = _sibling(path, "new")
    try:
        _build(tmp, r)
        try:
            os.rename(tmp, path)          # atomic; replaces an empty directory
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                shutil.rmtree(tmp, ignore_errors=True)
                return False              # a concurrent start created it: join that one
            raise
        fault_point("renamed into place")
        return True
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = storage_reason(e) if isinstance(e, Exception) else None
        if reason:
            raise StorageError(f"{reason} creating {path}: nothing was created (the partial copy was removed); "
                               f"{_advice(reason)} and rerun the same command") from None
        raise


def _replace_store(path: Path, r: _Recipe) -> None:
    """--overwrite: build the new store, move the old one aside, rename the new one in, remove the old."""
    tmp = _sibling(path, "new")
    old = _sibling(path, "old")
    try:
        _build(tmp, r)
        os.rename(path, old)
        fault_point("old store moved aside")
        os.rename(tmp, path)
        fault_point("renamed into place")
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not path.exists():
            os.rename(old, path)       # put the old store back: nothing lost
        elif old.exists():
            shutil.rmtree(old, ignore_errors=True)   # the new store is in place: the old one goes
        reason = storage_reason(e) if isinstance(e, Exception) else None
        if reason:
            raise StorageError(f"{reason} replacing {path}: the old store is unchanged; {_advice(reason)} and "
                               "rerun the same command") from None
        raise
    shutil.rmtree(old, ignore_errors=True)
    fault_point("old store removed")


def _resume_target(path: Path, r: _Recipe, overwrite: bool):
    """An existing store: 'resume' (same spec and layout), 'replace' (overwrite), or refuse."""
    meta = _read_json(path / "zarr.json") or {}
    attrs = meta.get("attributes") or {}
    fmt = attrs.get(MARKER)
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        if overwrite:
            return "replace"
        raise UserError(f"{path} has store format {fmt}; this lunadyn reads up to {FORMAT_VERSION}")
    if attrs.get("spec_hash") == r.digest:
        g = zarr.open_group(str(path), mode="r", use_consolidated=False)
        if _existing_layout(g, r.ages) == r.layout:
            if overwrite:
                return "replace"
            if fmt < 2:
                raise UserError(f"{path} was made by an older lunadyn (store format {fmt}, without checksums): "
                                "finish it with that version, or recompute it with --overwrite")
            return "resume"
        if overwrite:
            return "replace"
        old = _existing_layout(g, r.ages)
        what = ", ".join(k for k in r.layout if r.layout[k] != old[k])
    else:
        if overwrite:
            return "replace"
        try:
            what = spec_differences(json.loads(attrs["spec"]), json.loads(canonical_json(r.spec)))
        except (KeyError, TypeError, ValueError):
            what = "spec_hash"
    raise UserError(f"{path} holds a store of a different spec (differs in: {what}); "
                    "use --overwrite to replace it or choose another -o")


def prepare(path, *, spec: dict, spec_text: str, n_samples: int, chunk_size: int, ages, variables: dict,
            coords: dict | None = None, fixed: dict | None = None, attrs: dict | None = None,
            overwrite: bool = False, units=None, dims: dict | None = None, inner_chunk: int | None = None,
            unit_coordinates: bool = False) -> tuple[zarr.Group, dict]:
    """Create, resume (repairing damage first) or replace the store of a spec; returns (group, repairs).

    repairs: what ``repair_for_resume`` did on a resumed store ({} if nothing), for the caller to report.
    ``units`` limits the resume check to those units (a job-array task checks its own slice).
    dims, inner_chunk, unit_coordinates: see ``create_store``.
    """
    path = Path(path)
    r = _Recipe(spec=spec, spec_text=spec_text, n_samples=n_samples, chunk_size=chunk_size, ages=ages,
                variables=variables, coords=coords, fixed=fixed, attrs=attrs, dims=dims, inner_chunk=inner_chunk,
                unit_coordinates=unit_coordinates)
    _remove_stale_siblings(path)
    for _attempt in range(3):
        kind = identify(path)
        if kind == "file":
            raise UserError(f"{path} exists and is a file, not a lunadyn store; refusing to modify it (choose another -o)")
        if kind == "foreign":
            raise UserError(f"{path} exists and is not a lunadyn store; refusing to modify it (choose another -o)")
        if kind in ("absent", "empty"):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise UserError(f"cannot create {path}: a parent of it is a file, not a directory") from None
            except OSError as e:
                reason = storage_reason(e)
                if reason:
                    raise StorageError(f"{reason} creating {path.parent}: nothing was created; "
                                       f"{_advice(reason)} and rerun the same command") from None
                raise
            if _new_store(path, r):
                return zarr.open_group(str(path), mode="r+"), {}
            continue                      # lost a creation race: look again (join the winner's store)
        if kind == "half-created":        # an interrupted creation of lunadyn <= 0.1: no data in it
            _replace_store(path, r)
            return zarr.open_group(str(path), mode="r+"), {}
        if kind == "damaged":
            if not overwrite:
                raise StoreDamaged(f"{path} is a damaged lunadyn store: its group metadata (zarr.json) is unreadable, "
                                   "so its spec cannot be checked; recompute it with --overwrite")
            _replace_store(path, r)
            return zarr.open_group(str(path), mode="r+"), {}
        action = _resume_target(path, r, overwrite)
        if action == "replace":
            _replace_store(path, r)
            return zarr.open_group(str(path), mode="r+"), {}
        repairs = repair_for_resume(path, r, units)
        return zarr.open_group(str(path), mode="r+"), repairs
    raise UserError(f"{path} keeps changing while it is being created: is another lunadyn replacing it?")


def create_store(path, *, spec: dict, spec_text: str, n_samples: int, chunk_size: int, ages,
                 variables: dict, coords: dict | None = None, fixed: dict | None = None,
                 attrs: dict | None = None, overwrite: bool = False, dims: dict | None = None,
                 inner_chunk: int | None = None, unit_coordinates: bool = False) -> zarr.Group:
    """Create (or resume) the store of a spec and return its zarr group.

    variables: name -> (dtype, shape) or (dtype, shape, attrs), shape 'age', 'run' or a name of
    ``dims``; attrs default to the registry's units and long_name. coords: varied parameter -> values
    along sample. fixed: fixed parameter values (config form). attrs: extra group attributes (e.g.
    title, description, made_by). dims: other dimensions of (sample, dim) variables -> their coordinate
    values (numbers or strings), e.g. a reduced sweep's ``named_age`` and ``record``. inner_chunk: shard
    every array along ``sample`` (zarr v3 sharding): one shard of ``chunk_size`` samples per unit (one
    file per array and unit, written whole by the one task that computes the unit), read in inner chunks
    of ``inner_chunk`` samples; chunk_size must be a multiple of it. None: one zarr chunk per unit.
    unit_coordinates: ``sample`` and the coordinates are not written here (coords maps each name to None)
    but by each unit with its data (``write_chunk``): creating a store of 10^9 models writes nothing
    along ``sample``; the coordinates of a unit not yet done read as their fill value.

    A new store is built in a sibling directory and renamed into place, so ``path`` holds either
    nothing or a complete store, whatever interrupts the creation. An existing store with the same spec
    hash and layout is resumed after its damaged units are cleared for recomputation; a different one is
    refused naming what differs, unless ``overwrite``. Anything else at ``path`` is refused.
    """
    return prepare(path, spec=spec, spec_text=spec_text, n_samples=n_samples, chunk_size=chunk_size, ages=ages,
                   variables=variables, coords=coords, fixed=fixed, attrs=attrs, overwrite=overwrite, dims=dims,
                   inner_chunk=inner_chunk, unit_coordinates=unit_coordinates)[0]


def consolidate(path) -> None:
    """Write consolidated metadata so xarray opens the store with one read (zarr's v3 extension)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        zarr.consolidate_metadata(str(path))


# --------------------------------------------------------------------------------------------------
# integrity (issue 12): the ledger says which units are done; every done unit's chunk files must be
# present, of the size written (fast check) and match their crc32c (verify)


def _crc_ok(data: bytes) -> bool:
    """The crc32c codec's check: the last 4 bytes are the crc32c of the rest (as zarr writes it)."""
    if len(data) < 5:
        return False
    return np.uint32(google_crc32c.value(data[:-4])).tobytes() == data[-4:]


def shard_chunks(metadata) -> int:
    """Inner chunks per shard of a sharded array (zarr v3 ShardingCodec), 0 for an unsharded one."""
    from zarr.codecs import ShardingCodec

    codecs = getattr(metadata, "codecs", ())
    if not codecs or not isinstance(codecs[0], ShardingCodec):
        return 0
    outer = metadata.chunk_grid.chunk_shape
    inner = codecs[0].chunk_shape
    return int(np.prod([-(-o // i) for o, i in zip(outer, inner)]))


def _shard_ok(data: bytes, n_inner: int) -> bool:
    """A shard file as zarr writes it (index at the end: n_inner (offset, nbytes) uint64 pairs, then its
    crc32c): the index's checksum and every inner chunk's (each chunk ends in its own crc32c)."""
    index_size = 16 * n_inner + 4
    if len(data) < index_size or not _crc_ok(data[-index_size:]):
        return False
    index = np.frombuffer(data[-index_size:-4], dtype="<u8").reshape(n_inner, 2)
    empty = np.iinfo(np.uint64).max
    for offset, nbytes in index:
        if offset == empty and nbytes == empty:
            continue
        if offset + nbytes > len(data) - index_size or not _crc_ok(data[int(offset):int(offset + nbytes)]):
            return False
    return True


def _check_file(p: Path, size: int | None, verify: bool, n_inner: int = 0) -> str | None:
    """None if the chunk file is sound, else what is wrong with it. n_inner: the file is a shard of that
    many inner chunks (``shard_chunks``), checked chunk by chunk."""
    try:
        st_ = os.stat(p)
    except FileNotFoundError:
        return "missing"
    except OSError as e:
        return f"unreadable ({e.strerror})"
    if size is not None and size >= 0 and st_.st_size != size:
        return f"{st_.st_size} bytes, {size} written"
    if st_.st_size < 5:
        return "truncated"
    if verify:
        try:
            data = p.read_bytes()
        except OSError as e:
            return f"unreadable ({e.strerror})"
        if not (_shard_ok(data, n_inner) if n_inner else _crc_ok(data)):
            return "checksum mismatch"
    return None


class Health:
    """What ``scan_store`` found: damaged units, unreadable ledger entries, damaged metadata."""

    def __init__(self, path, n_units):
        self.path = str(path)
        self.n_units = n_units
        self.done = np.zeros(n_units, dtype=bool)
        self.ledger_unreadable: list[int] = []        # units whose done/nbytes entry cannot be read
        self.damaged: dict[int, list[str]] = {}       # done unit -> ["T_cmb: missing", ...]
        self.creation: dict[str, list[int]] = {}      # creation-written array -> damaged chunk indices
        self.metadata: list[str] = []                 # arrays whose zarr.json is missing or unreadable
        self.files_checked = 0
        self.files_damaged = 0
        self.verified = False

    @property
    def ok(self) -> bool:
        return not (self.ledger_unreadable or self.damaged or self.creation or self.metadata)

    @property
    def units(self) -> list[int]:
        """Every unit that needs recomputing or a ledger rebuild."""
        out = set(self.damaged) | set(self.ledger_unreadable)
        for name, idx in self.creation.items():
            if name != "age":
                out |= set(idx)
        return sorted(out)

    def as_dict(self) -> dict:
        return {"intact": self.ok, "verified": self.verified, "files_checked": self.files_checked,
                "files_damaged": self.files_damaged, "damaged_units": self.units,
                "damage": {str(u): why for u, why in sorted(self.damaged.items())},
                "ledger_unreadable_units": self.ledger_unreadable,
                "damaged_creation_chunks": self.creation, "damaged_metadata": self.metadata}

    def summary(self, limit: int = 12) -> str:
        """One phrase: 'units 3, 7 (T_cmb: checksum mismatch; ...)' etc."""
        parts = []
        if self.metadata:
            parts.append(f"metadata of {', '.join(self.metadata)} missing or unreadable")
        units = self.units
        if units:
            shown = ", ".join(map(str, units[:limit])) + (f" and {len(units) - limit} more" if len(units) > limit else "")
            why = []
            for u in units[:3]:
                if u in self.damaged:
                    why.append(f"unit {u}: {'; '.join(self.damaged[u][:2])}")
                elif u in self.ledger_unreadable:
                    why.append(f"unit {u}: ledger entry unreadable")
            parts.append(f"{len(units)} damaged unit(s) {shown}" + (f" ({'; '.join(why)})" if why else ""))
        if "age" in self.creation:
            parts.append("the age coordinate is damaged")
        return "; ".join(parts) or "intact"


def _read_rows(g, name: str, n: int, row_shape: tuple, fill):
    """An array along its first axis, and the rows that could not be read (checksum, truncation)."""
    try:
        return np.asarray(g[name][...]), []
    except KeyError:
        return np.full((n, *row_shape), fill), list(range(n))
    except Exception:
        pass
    a = g[name]
    out = np.full((n, *row_shape), fill)
    bad = []
    for i in range(n):
        try:
            out[i] = a[i]
        except Exception:
            bad.append(i)
    return out, bad


def scan_store(path, verify: bool = False, units=None) -> Health:
    """Check a store's integrity (module docstring): the ledger, every done unit's chunk files (present,
    of the size written; with ``verify`` also read fully and checked against their crc32c), the
    creation-written chunks (sample, coordinates, age) and every array's metadata.

    ``units``: the units to check (default all). Raises UserError only if ``path`` is not a lunadyn store.
    """
    p = Path(path)
    meta = _read_json(p / "zarr.json")
    if meta is None or MARKER not in (meta.get("attributes") or {}):
        open_store(p)           # raises the right one-line error
    attrs = meta["attributes"]
    n_units = int(attrs["n_chunks"])
    h = Health(p, n_units)
    h.verified = bool(verify)
    units = range(n_units) if units is None else sorted(set(int(u) for u in units))
    fmt = int(attrs[MARKER])
    coords = json.loads(attrs.get("varied_parameters", "[]"))
    if fmt >= 2:
        unit_arrays = json.loads(attrs["unit_arrays"])
    else:
        unit_arrays = sorted(["sample", "status", *json.loads(attrs["variables"]), *coords])
    creation = [] if attrs.get("unit_coordinates") else ["sample", *coords]   # else: written by each unit
    ledger = ["done", "nbytes"] if fmt >= 2 else ["done"]
    # array metadata (each zarr.json, not the consolidated copy)
    metas = {}
    for name in [*unit_arrays, "age", *ledger]:
        m = _read_json(p / name / "zarr.json")
        if m is None or m.get("node_type") != "array":
            h.metadata.append(name)
        else:
            metas[name] = m
    g = zarr.open_group(str(p), mode="r", use_consolidated=False)
    # the ledger
    if "done" in h.metadata:
        done, bad_done = np.zeros(n_units, bool), list(range(n_units))
    else:
        done, bad_done = _read_rows(g, "done", n_units, (), False)
    if fmt >= 2 and "nbytes" not in h.metadata:
        nbytes, bad_nb = _read_rows(g, "nbytes", n_units, (len(unit_arrays),), -1)
    else:
        nbytes, bad_nb = np.full((n_units, len(unit_arrays)), -1), (list(range(n_units)) if fmt >= 2 else [])
    unreadable = set(bad_done) | (set(bad_nb) & set(np.flatnonzero(done).tolist()) if fmt >= 2 else set())
    if fmt >= 2 and "nbytes" in h.metadata:
        unreadable |= set(np.flatnonzero(done).tolist())
    h.done = np.asarray(done, dtype=bool).copy()
    h.done[list(unreadable)] = False
    unit_set = set(units)
    h.ledger_unreadable = sorted(unreadable & unit_set)
    # chunk keys ("c.<i>" or "c.<i>.0"; "c/<i>/0" in a store of an earlier release: from each array's metadata)
    encoders = {}
    for name in unit_arrays:
        if name in metas:
            am = zarr.open_array(str(p / name), mode="r").metadata
            encoders[name] = (am, len(am.shape))
    # creation-written chunks of every checked unit, and every chunk of a done unit
    for i in units:
        done_i = bool(h.done[i])
        for j, name in enumerate(unit_arrays):
            if name not in encoders:
                continue
            if not done_i and name not in creation:
                continue
            am, nd = encoders[name]
            f = p / name / am.encode_chunk_key((i,) + (0,) * (nd - 1))
            size = int(nbytes[i, j]) if done_i else None
            why = _check_file(f, size, verify, shard_chunks(am))
            h.files_checked += 1
            if why is None:
                continue
            h.files_damaged += 1
            if name in creation:
                h.creation.setdefault(name, []).append(i)
            if done_i:
                h.damaged.setdefault(i, []).append(f"{name}: {why}")
    if "age" in metas:
        am = zarr.open_array(str(p / "age"), mode="r").metadata
        why = _check_file(p / "age" / am.encode_chunk_key((0,)), None, verify)
        h.files_checked += 1
        if why is not None:
            h.files_damaged += 1
            h.creation["age"] = [0]
    return h


def check_store_intact(path, verify: bool = False) -> None:
    """Every reader's first call: StoreDamaged (one line: the damaged units and the repair command) unless
    the store's done units are all present and of the size written (``verify``: and checksum-sound)."""
    h = scan_store(path, verify=verify)
    if h.ok:
        return
    attrs = (_read_json(Path(path) / "zarr.json") or {}).get("attributes", {})
    what = "the ledger is rebuilt from the chunks present and " if h.ledger_unreadable else ""
    raise StoreDamaged(f"{path} is damaged: {h.summary()}; repair: {repair_command(path, attrs)} "
                       f"({what}only the damaged units are recomputed)", h.units)


@contextmanager
def reading(path):
    """Around a reader: a chunk that fails its checksum mid-read becomes StoreDamaged naming the units."""
    try:
        yield
    except StoreDamaged:
        raise
    except Exception as e:
        if "checksum" not in str(e).lower() and "blosc" not in str(e).lower():
            raise
        h = scan_store(path, verify=True)
        if h.ok:
            raise
        attrs = (_read_json(Path(path) / "zarr.json") or {}).get("attributes", {})
        raise StoreDamaged(f"{path} is damaged: {h.summary()}; repair: {repair_command(path, attrs)} "
                           "(only the damaged units are recomputed)", h.units) from None


def _atomic_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.partial")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def repair_for_resume(path, r: _Recipe, units=None) -> dict:
    """Before resuming: verify the store (every chunk of the checked units read against its checksum)
    and make what is damaged recomputable.

    - missing or unreadable array metadata and damaged creation-written chunks (sample, coordinates,
      age) are restored from a freshly built copy of the layout (they depend on the spec only);
    - a ledger entry that cannot be read is rebuilt from the chunks present: a unit whose every chunk
      file is present and sound is done, any other is not;
    - a done unit with a missing, truncated or corrupt chunk gets its ``done`` flag cleared, so the
      sweep recomputes exactly it.

    Returns {'units': [...], 'ledger_rebuilt': [...], 'restored': [...]} (empty if the store was sound).
    """
    p = Path(path)
    h = scan_store(p, verify=True, units=units)
    if h.ok:
        return {}
    out = {"units": [], "ledger_rebuilt": [], "restored": []}
    try:
        if h.metadata or h.creation:
            skel = _sibling(p, "repair")
            try:
                _build(skel, r, faults=False)
                for name in h.metadata:
                    _atomic_copy(skel / name / "zarr.json", p / name / "zarr.json")
                    out["restored"].append(f"{name}/zarr.json")
                for name, idx in h.creation.items():
                    a = zarr.open_array(str(skel / name), mode="r").metadata
                    nd = len(a.shape)
                    for i in idx:
                        key = a.encode_chunk_key((i,) + (0,) * (nd - 1))
                        _atomic_copy(skel / name / key, p / name / key)
                        out["restored"].append(f"{name}/{key}")
            finally:
                shutil.rmtree(skel, ignore_errors=True)
            h = scan_store(p, verify=True, units=units)
        g = zarr.open_group(str(p), mode="r+", use_consolidated=False)
        done_a = g["done"].with_config(WRITE_EMPTY)
        nb_a = g["nbytes"].with_config(WRITE_EMPTY)
        unit_arrays = json.loads(g.attrs["unit_arrays"])
        for i in h.ledger_unreadable:
            sizes = _unit_sizes(p, g, unit_arrays, i, verify=True)
            if sizes is not None and i not in h.damaged:
                nb_a[i, :] = sizes
                done_a[i] = True
            else:
                nb_a[i, :] = -1
                done_a[i] = False
                out["units"].append(i)
            out["ledger_rebuilt"].append(i)
        for i in sorted(h.damaged):
            done_a[i] = False
            nb_a[i, :] = -1
            out["units"].append(i)
    except OSError as e:
        reason = storage_reason(e)
        if reason:
            raise StorageError(f"{reason} repairing {p}: nothing is marked done that is not; {_advice(reason)} "
                               "and rerun the same command") from None
        raise
    out["units"] = sorted(set(out["units"]))
    return out


def _unit_sizes(p: Path, g, unit_arrays, i: int, verify: bool = False):
    """Sizes of unit i's chunk files in unit_arrays order, or None if one is missing (or unsound)."""
    sizes = []
    for name in unit_arrays:
        a = g[name]
        f = p / name / a.metadata.encode_chunk_key((i,) + (0,) * (len(a.shape) - 1))
        if _check_file(f, None, verify, shard_chunks(a.metadata)) is not None:
            return None
        sizes.append(f.stat().st_size)
    return sizes


# --------------------------------------------------------------------------------------------------
# writing and reading chunks


def chunk_bounds(g, i: int) -> tuple[int, int]:
    """Sample range [lo, hi) of sweep chunk i."""
    n, cs, nc = int(g.attrs["n_samples"]), int(g.attrs["chunk_size"]), int(g.attrs["n_chunks"])
    if not 0 <= i < nc:
        raise IndexError(f"chunk {i} out of range 0..{nc - 1}")
    return i * cs, min(n, (i + 1) * cs)


# The group of the store a process writes units to, and its arrays, opened once per process and kept while
# the store's root metadata file is the same (inode, mtime, size): zarr reads the group's metadata on every
# open and builds each array from it on every ``g[name]``, which cost ~90 ms a unit for a 67-array store
# (measured on 256-model units at 0.05 Ga: 0.21 s of writing against 0.08 s of computing). One store is
# kept; a recreated or edited store (--overwrite, a repair) has a new root file and is opened again.
_UNIT_STORE: list = [None]     # [(key, group, arrays, names)]: replaced whole, so threads never see half of it


def _root_signature(p: Path):
    try:
        st = (p / "zarr.json").stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def open_unit_store(path) -> zarr.Group:
    """``open_store(path, "r+")`` for a process that writes units, kept per process (see _UNIT_STORE)."""
    p = Path(path).absolute()
    key = (str(p), _root_signature(p), os.getpid())
    kept = _UNIT_STORE[0]
    if key[1] is not None and kept is not None and kept[0] == key:
        return kept[1]
    g = open_store(p, mode="r+")
    _UNIT_STORE[0] = (key, g, {}, frozenset(g.array_keys()))
    return g


def _kept(g: zarr.Group):
    kept = _UNIT_STORE[0]
    return kept if kept is not None and kept[1] is g else None


def unit_array(g: zarr.Group, name: str):
    """Array ``name`` of g, for writing (chunks equal to the fill value still written); kept per process
    when g is the unit store of ``open_unit_store``."""
    kept = _kept(g)
    if kept is None:
        return g[name].with_config(WRITE_EMPTY)
    arrays = kept[2]
    if name not in arrays:
        arrays[name] = g[name].with_config(WRITE_EMPTY)
    return arrays[name]


def _has_array(g: zarr.Group, name: str) -> bool:
    kept = _kept(g)
    return name in kept[3] if kept is not None else name in g


async def _write_all(jobs, sl) -> None:
    """Every (array, data) of a unit written at ``sl``, concurrently, on zarr's event loop."""
    await asyncio.gather(*[arr.async_array.setitem(sl, data) for arr, data in jobs])


def write_chunk(path_or_group, i: int, arrays: dict, status, coordinates: dict | None = None) -> None:
    """Region-write chunk i of every given variable and its status, then its sizes, then ``done[i]``.

    arrays: name -> array whose first axis is the chunk's samples. coordinates: the varied values of the
    chunk's samples (written, with ``sample``, when the store has ``unit_coordinates``). The data are written before the
    flag (each chunk file atomically: io.chunkfile, or zarr's LocalStore), so a unit marked done is complete whatever
    happens after; the sizes of its chunk files, recorded in ``nbytes[i]`` just before the flag, let
    ``scan_store`` find a truncated or deleted one without reading it.
    """
    g = path_or_group if isinstance(path_or_group, zarr.Group) else open_store(path_or_group, mode="r+")
    lo, hi = chunk_bounds(g, i)
    jobs = []
    bad = [name for name in arrays if name in RESERVED or not _has_array(g, name)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a data variable of this store")
    arrays = dict(arrays)
    if g.attrs.get("unit_coordinates"):          # the unit writes its own coordinates (create_store)
        arrays["sample"] = np.arange(lo, hi, dtype=np.int64)
        for name, values in (coordinates or {}).items():
            arrays[name] = _coord_values(name, values, hi - lo)[0]
    for name, data in arrays.items():
        arr = unit_array(g, name)
        data = np.asarray(data)
        if data.shape != (hi - lo,) + tuple(arr.shape[1:]):
            raise ValueError(f"{name}: chunk {i} needs shape {(hi - lo,) + tuple(arr.shape[1:])}, got {data.shape}")
        jobs.append((arr, data.astype(arr.dtype, copy=False)))
    jobs.append((unit_array(g, "status"), np.asarray(status, dtype=np.int32).reshape(hi - lo)))

    # every array's whole chunk i encoded and written in this thread with zarr's own codecs (chunkfile:
    # 31 ms against zarr's 67 ms for a 58-array unit of 256 full histories); the arrays it cannot write
    # so go through zarr, all in one gather of their coroutines on zarr's event loop. All of them finish
    # before the sizes and the done flag are written.
    root = Path(str(g.store.root)) if hasattr(g.store, "root") else None
    rest = [(arr, data) for arr, data in jobs if not chunkfile.write_whole_chunk(root, arr, i, lo, data)]
    if rest:
        zarr_sync(_write_all(rest, slice(lo, hi)))
    if _has_array(g, "nbytes"):
        unit_arrays = json.loads(g.attrs["unit_arrays"])
        if root is not None:
            # chunk keys from the arrays just written (one encoder per rank; every array of a store
            # shares the default chunk-key encoding), without opening the other arrays again
            ndim = {"sample": 1, "status": 1, **{name: len(arr.shape) for arr, name in
                                                   zip([a for a, _ in jobs], [*arrays, "status"])}}
            enc = {len(arr.shape): arr.metadata.encode_chunk_key for arr, _ in jobs}
            sizes = []
            for name in unit_arrays:
                nd = ndim.get(name, 1)
                f = root / name / enc[nd]((i,) + (0,) * (nd - 1))
                try:
                    sizes.append(f.stat().st_size)
                except FileNotFoundError:
                    sizes = None
                    break
            if sizes is None:
                missing = sorted(set(unit_arrays) - set(arrays) - {"sample", "status"}
                                 - set(json.loads(g.attrs.get("varied_parameters", "[]"))))
                raise ValueError(f"chunk {i}: not every variable of the store was written "
                                 f"(missing: {', '.join(missing) or 'a chunk file vanished'}); it stays not done")
            _put_row(g, root, "nbytes", i, np.asarray([sizes], dtype=np.int64))
    _put_row(g, root, "done", i, np.ones(1, dtype=bool))


def _put_row(g, root, name: str, i: int, row: np.ndarray) -> None:
    """Row i of a ledger array whose chunks are one row (``nbytes``, ``done``): chunkfile, else zarr."""
    arr = unit_array(g, name)
    row = row.astype(arr.dtype, copy=False)
    if not chunkfile.write_whole_chunk(root, arr, i, i, row):
        arr[i:i + 1] = row


def chunks_to_do(path_or_group) -> list[int]:
    """Indices of the chunks not yet done (for resuming)."""
    g = path_or_group if isinstance(path_or_group, zarr.Group) else open_store(path_or_group)
    return [int(i) for i in np.flatnonzero(~g["done"][:])]


def file_census(path, g=None) -> dict:
    """Files and bytes of a store, and those of its per-unit arrays (along ``sample``, and the ledger):
    {'files', 'bytes', 'unit_files', 'unit_bytes'} (the scaling model's f_unit and b_model)."""
    path = Path(path)
    g = g if g is not None else zarr.open_group(str(path), mode="r", use_consolidated=False)
    unit_arrays = {name for name, a in g.arrays()
                   if a.metadata.dimension_names and a.metadata.dimension_names[0] in ("sample", "chunk")}
    files = size = unit_files = unit_size = 0
    for root, _, names in os.walk(path):
        rel = Path(root).relative_to(path).parts
        # a chunk file of a per-unit array: <array>/c.<i>... (this release's "." keys) or <array>/c/<i>...
        in_c = len(rel) >= 2 and rel[0] in unit_arrays and rel[1] == "c"
        beside = len(rel) == 1 and rel[0] in unit_arrays
        for name in names:
            try:
                b = os.stat(os.path.join(root, name)).st_size
            except OSError:           # a concurrent writer's temporary file
                continue
            files, size = files + 1, size + b
            if in_c or (beside and name.startswith("c.")):
                unit_files, unit_size = unit_files + 1, unit_size + b
    return {"files": files, "bytes": size, "unit_files": unit_files, "unit_bytes": unit_size}


def store_info(path, verify: bool = False) -> dict:
    """Progress, integrity and contents of a store (``lunadyn info``): units done, damaged units (by
    index; ``verify`` reads every chunk against its checksum), status counts, variables, size.

    Never refuses a damaged lunadyn store: it is the command that reports the damage.
    """
    p = Path(path)
    h = scan_store(p, verify=verify)      # UserError if not a lunadyn store at all
    g = zarr.open_group(str(p), mode="r", use_consolidated=False)
    census = file_census(p, g)
    n = int(g.attrs["n_samples"])
    if "status" in h.metadata:
        status = np.full(n, -1, dtype=np.int32)
    else:
        status, _ = _read_rows(g, "status", n, (), -1)
        status = np.asarray(status, dtype=np.int64)
    counted = status.copy()
    cs = int(g.attrs["chunk_size"])
    for i in h.units:                       # a damaged unit's models count as not computed
        counted[i * cs:(i + 1) * cs] = -1
    counted[~np.repeat(h.done, cs)[:n]] = -1
    codes, counts = np.unique(counted, return_counts=True)
    failed = int(np.sum((counted >= 0) & ((counted & st.THERMAL_CODE_MASK) != 0)))
    variables = {}
    for name in json.loads(g.attrs["variables"]):
        if name in h.metadata:
            variables[name] = {"dims": [], "dtype": "?", "units": "", "long_name": "(metadata unreadable)"}
            continue
        a = g[name]
        variables[name] = {"dims": list(a.metadata.dimension_names), "dtype": str(a.dtype),
                           "units": a.attrs.get("units", ""), "long_name": a.attrs.get("long_name", "")}
    done_ok = h.done.copy()
    done_ok[h.units] = False
    return {
        "path": str(path),
        "title": g.attrs.get("title", ""),
        "kind": json.loads(g.attrs["spec"]).get("kind", ""),
        "spec_hash": g.attrs["spec_hash"],
        "format": int(g.attrs[MARKER]),
        "created_utc": g.attrs.get("created_utc", ""),
        "lunadyn_version": g.attrs.get("lunadyn_version", ""),
        "git_commit": g.attrs.get("git_commit", ""),
        "n_samples": n,
        "n_age": int(g["age"].shape[0]) if "age" not in h.metadata else 0,
        "chunk_size": cs,
        "chunks_done": int(done_ok.sum()),
        "chunks_total": int(h.n_units),
        "complete": bool(done_ok.all()),
        "status_counts": {str(int(c)): int(k) for c, k in zip(codes, counts)},
        "status_meaning": {str(int(c)): st.describe(int(c)) for c in codes},
        "n_failed": failed,
        "varied_parameters": json.loads(g.attrs["varied_parameters"]),
        "variables": variables,
        "size_bytes": census["bytes"],
        "files": census["files"],
        "reduced": bool(json.loads(g.attrs["spec"]).get("output", {}).get("reduced", False)),
        "inner_chunk_size": int(g.attrs["inner_chunk_size"]) if "inner_chunk_size" in g.attrs else None,
        "integrity": h.as_dict(),
        "repair_command": None if h.ok else repair_command(p, dict(g.attrs)),
    }
