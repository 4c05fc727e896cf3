"""The assembled registry: every parameter and output of lunadyn, and the record dtype kernels read.

Parameters are declared beside their physics (thermal/parameters.py, dynamo/parameters.py); outputs
likewise (thermal/outputs.py, dynamo/outputs.py). This module only gathers them.
"""
from __future__ import annotations

import numpy as np

from ..thermal.parameters import BODY, SPEC_PARAMETERS, THERMAL_PARAMETERS
from ..thermal.outputs import DIAGNOSTIC_OUTPUTS, STATE_OUTPUTS, SUMMARY_OUTPUTS
from ..dynamo.parameters import DYNAMO_PARAMETERS
from ..dynamo.outputs import DYNAMO_OUTPUTS, DYNAMO_SUMMARY_OUTPUTS


MODEL_PARAMETERS = THERMAL_PARAMETERS + DYNAMO_PARAMETERS
PARAMS = {p.name: p for p in MODEL_PARAMETERS}
SPEC = {p.name: p for p in SPEC_PARAMETERS}
ALL_PARAMS = {**PARAMS, **SPEC}

OUTPUTS = {o.name: o for o in STATE_OUTPUTS + DIAGNOSTIC_OUTPUTS + DYNAMO_OUTPUTS}
SUMMARIES = {o.name: o for o in SUMMARY_OUTPUTS + DYNAMO_SUMMARY_OUTPUTS}
STATE_NAMES = tuple(o.name for o in STATE_OUTPUTS)
DIAG_NAMES = tuple(o.name for o in DIAGNOSTIC_OUTPUTS)
DYNAMO_NAMES = tuple(o.name for o in DYNAMO_OUTPUTS)
SUMMARY_NAMES = tuple(o.name for o in SUMMARY_OUTPUTS + DYNAMO_SUMMARY_OUTPUTS)

# a reduced sweep keeps an output at named ages as NAME_at (sample, named_age)
NAMED_AGE_DIM = "named_age"
AT_SUFFIX = "_at"


def at_name(name: str) -> str:
    """The store variable of output ``name`` kept at a reduced sweep's named ages."""
    return name + AT_SUFFIX


def at_source(variable: str) -> str | None:
    """The output a NAME_at variable holds at the named ages, or None."""
    if variable.endswith(AT_SUFFIX) and variable[:-len(AT_SUFFIX)] in OUTPUTS:
        return variable[:-len(AT_SUFFIX)]
    return None


def _field(p):
    if p.kind in ("category", "int", "set"):
        return (p.name, np.int64)
    if p.kind == "array":
        return (p.name, np.float64, (p.size,))
    return (p.name, np.float64)


RECORD_DTYPE = np.dtype([_field(p) for p in MODEL_PARAMETERS], align=False)


def make_records(n: int, values: dict | None = None) -> np.ndarray:
    """n records filled with registry defaults, overridden by ``values`` (config-form, already validated).

    ``values[name]`` may be a scalar (all records) or a sequence of length n (one per record; for array
    parameters a sequence of sequences).
    """
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    values = values or {}
    for p in MODEL_PARAMETERS:
        v = values.get(p.name, p.default)
        if p.kind == "array":
            arr = np.asarray(v, dtype=np.float64)
            if arr.ndim == 1:
                rec[p.name][:, : arr.size] = arr
            else:
                rec[p.name][:, : arr.shape[1]] = arr
        elif p.kind == "category":
            if isinstance(v, str):
                rec[p.name] = p.code(v)
            else:
                rec[p.name] = [p.code(x) for x in v]
        elif p.kind == "set":
            rec[p.name] = set_masks(p, v, n)
        else:
            rec[p.name] = v
    return rec


def set_masks(p, v, n: int):
    """Bitmasks of a ``set`` parameter: one value for all records (a sequence of names, or a mask) or one
    per record (a sequence of n name sequences, or of n masks)."""
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, np.ndarray) and v.dtype.kind in "iu":
        return v.astype(np.int64)
    v = list(v)
    if all(isinstance(x, str) for x in v):
        return p.mask(v)
    if len(v) != n:
        raise ValueError(f"{p.name}: expected one set or {n}, got {len(v)}")
    return np.array([int(x) if isinstance(x, (int, np.integer)) else p.mask(x) for x in v], dtype=np.int64)


def params_table() -> list[dict]:
    """The parameter table as plain dicts (``lunadyn params --json``): Moon default, bounds and prior, and
    the Earth's (thermal/declare.py "Bodies"; ``earth_default`` "n/a": the Moon's values are used)."""
    def finite(x):
        return None if x in (-np.inf, np.inf) else x

    def listed(v):
        return list(v) if isinstance(v, tuple) else v

    rows = []
    for p in MODEL_PARAMETERS + SPEC_PARAMETERS + (BODY,):
        lo, hi = p.bounds
        elo, ehi = p.bounds_for("earth")
        eprior = p.prior_for("earth")
        rows.append({
            "name": p.name,
            "unit": p.unit,
            "default": listed(p.default),
            "earth_default": listed(p.earth),
            "earth_min": finite(elo),
            "earth_max": finite(ehi),
            "earth_prior": list(eprior) if eprior else None,
            "min": None if lo == -np.inf else lo,
            "max": None if hi == np.inf else hi,
            "prior": list(p.prior) if p.prior else None,
            "scale": p.scale,
            "stage": p.stage,
            "kind": p.kind,
            "choices": list(p.choices) if p.choices else None,
            "description": p.description,
            "reference": p.reference,
        })
    return rows
