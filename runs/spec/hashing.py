"""The spec hash (DESIGN.md "The store"): sha256 of the canonical JSON of a validated spec.

It identifies a store: a spec with the same hash resumes it, another one is refused naming what differs.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, (np.ndarray, tuple, set)):
        return list(obj.tolist() if isinstance(obj, np.ndarray) else obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot put {type(obj).__name__} into a spec")


def canonical_json(obj) -> str:
    """Canonical JSON: sorted keys, no whitespace; numpy scalars and arrays as plain JSON."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def spec_hash(spec: dict) -> str:
    """sha256 (hex) of the canonical JSON of a validated spec."""
    return hashlib.sha256(canonical_json(spec).encode()).hexdigest()


def spec_differences(old: dict, new: dict, limit: int = 8) -> str:
    """Which spec keys differ, e.g. ``parameters.r_core, settings.rtol`` (one level into tables)."""
    names = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b and (key in old) == (key in new):
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            names += [f"{key}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k) or (k in a) != (k in b)]
        else:
            names.append(key)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
