"""``lunadyn field``: re-run stages 2-3 (thermal diagnostics, dynamo) on a stored thermal history.

Nothing in v1 feeds the field back into the heat budget (docs/physics.md §Three stages), so another scaling law,
electrical conductivity, orbit model or prefactor needs no re-integration: the stored state (kept in
its store dtype) goes through ``runs.pipeline.after_kernel`` again, chunk by chunk, into a new store.
With unchanged settings the new store's fields equal the stored ones bitwise.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import pipeline
from ..io import store
from ..io.paths import check_output
from ..spec.config import parse_set, validate_value
from ..errors import UserError
from ..registry import PARAMS, STATE_NAMES, make_records
from ...thermal.layout import FLAG_ORBIT_UNDEFINED
from ..spec.config import _unknown


def records_from_store(g, lo: int = 0, hi: int | None = None, overrides: dict | None = None) -> np.ndarray:
    """Kernel records of samples [lo, hi) of a store: fixed parameters, varied coordinates, overrides."""
    n = int(g.attrs["n_samples"])
    hi = n if hi is None else hi
    values = json.loads(g.attrs["fixed_parameters"])
    for name in json.loads(g.attrs["varied_parameters"]):
        if name not in PARAMS:
            continue
        col = g[name][lo:hi]
        p = PARAMS[name]
        values[name] = ([p.choices[int(c)] for c in col] if p.kind == "category" else
                        np.asarray(col, np.int64) if p.kind == "set" else np.asarray(col, float))
    values.update(overrides or {})
    return make_records(hi - lo, values)


def field_overrides(law: str | None, sets) -> dict:
    """Validated dynamo-stage overrides from ``--law`` and ``--set NAME=VALUE``."""
    raw = parse_set(sets or [])
    if law is not None:
        raw["law"] = law
    out = {}
    for name, value in raw.items():
        if name not in PARAMS:
            raise _unknown(name, "--set")
        if PARAMS[name].stage != "dynamo":
            raise UserError(f"{name} is read by the thermal stage: re-integrate (lunadyn run or sweep) to change it; "
                            "lunadyn field takes dynamo-stage parameters only (see `lunadyn params`)")
        out[name] = validate_value(name, value, "--set")
    return out


def default_output(path) -> Path:
    """<stem>.field.zarr beside the source store."""
    p = Path(path)
    return p.with_name(p.name[:-5] + ".field.zarr" if p.name.endswith(".zarr") else p.name + ".field.zarr")


def rerun_field(source, out=None, law: str | None = None, sets=(), overwrite: bool = False) -> dict:
    """Re-run the dynamo stage of every computed chunk of ``source`` into a new store; returns a report.

    The source must be intact (``check_store_intact``, every chunk read against its checksum: field reads
    nearly all of them anyway) and is never written: an output that is, contains or lies inside it is
    refused before anything is created.
    """
    store.check_store_intact(source, verify=True)
    src = store.open_store(source)
    variables = json.loads(src.attrs["variables"])
    missing = [n for n in STATE_NAMES if n not in variables]
    if missing:
        raise UserError(f"{source} keeps no thermal state (keep_state = false): lunadyn field needs it "
                        "to re-run the dynamo stage; re-run the sweep with keep_state = true")
    overrides = field_overrides(law, sets)
    out = Path(out) if out else default_output(source)
    check_output(out, [source], "-o")
    made_by = ["lunadyn", "field", str(Path(source).resolve())]
    if law is not None:
        made_by += ["--law", law]
    made_by += [item for s_ in (sets or ()) for item in ("--set", str(s_))]
    spec = {"kind": "field", "source_hash": src.attrs["spec_hash"], "source_spec": json.loads(src.attrs["spec"]),
            "overrides": overrides}
    varied = [v for v in json.loads(src.attrs["varied_parameters"]) if v not in overrides]
    fixed = {**json.loads(src.attrs["fixed_parameters"]), **overrides}
    n = int(src.attrs["n_samples"])
    coords = {}
    for name in varied:
        col = src[name][:]
        p = PARAMS.get(name)
        coords[name] = [p.choices[int(c)] for c in col] if p is not None and p.kind == "category" else col
    dst = store.create_store(out, spec=spec, spec_text=src.attrs["spec_toml"], n_samples=n,
                             chunk_size=int(src.attrs["chunk_size"]), ages=src["age"][:],
                             variables=store.variable_layout(variables), coords=coords,
                             fixed=fixed, attrs={"title": src.attrs.get("title", ""), "field_of": str(source),
                                                      "made_by": json.dumps(made_by)},
                             overwrite=overwrite)
    ages = src["age"][:]
    done = src["done"][:]
    n_chunks = 0
    for i in np.flatnonzero(done):
        if dst["done"][i]:
            continue
        lo, hi = store.chunk_bounds(src, int(i))
        recs = records_from_store(src, lo, hi, overrides)
        state = np.stack([np.asarray(src[name][lo:hi], dtype=np.float64) for name in STATE_NAMES], axis=2)
        status = (np.asarray(src["status"][lo:hi]) & ~FLAG_ORBIT_UNDEFINED).astype(np.int32)
        outputs, dsumm = pipeline.after_kernel(recs, ages, state, status)
        arrays = {}
        for name in variables:
            if name in outputs:
                arrays[name] = outputs[name]
            elif name in dsumm:
                arrays[name] = dsumm[name]
            else:  # state and thermal summaries are copied as stored
                arrays[name] = src[name][lo:hi]
        store.write_chunk(dst, int(i), arrays, status)
        n_chunks += 1
    return {"store": str(out), "source": str(source), "overrides": overrides, "chunks_written": n_chunks,
            "chunks_total": int(done.size), "chunks_done_in_source": int(done.sum())}
