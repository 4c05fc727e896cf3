"""Headline figures of one model (``lunadyn run``'s summary): status, today's heat flow, core, events,
the dynamo epochs of each source and the field at the Chang'e-5 and Chang'e-6 sites against the record.
"""
from __future__ import annotations

import json
import math

import numpy as np

from ...dynamo.scaling import site_factor
from .. import status as st
from ..record.likelihood import SOURCES as _SOURCES
from ..record.scoring import chang_e_boxes
from ..registry import PARAMS


def _num(x):
    """A finite float, or None (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _age(x):
    """An event age in Ga, None if it never happened (fill -1) or the model failed."""
    x = _num(x)
    return None if x is None or x < 0 else x


def summarize(ds, sample: int = 0) -> dict:
    """Headline figures of one model of a dataset: status, today's heat flow, core, events."""
    one = ds.isel(sample=sample)
    today = one.isel(age=int(np.argmin(np.abs(one["age"].values))))
    fixed = json.loads(ds.attrs.get("fixed_parameters", "{}"))
    radius = float(one["radius"]) if "radius" in one.coords else fixed.get("radius", PARAMS["radius"].default)
    status = int(one["status"])
    out = {"status": status, "status_text": st.describe(status)}
    if "Q_surface" in one:
        out["q_surface_today_mW_m2"] = _num(float(today["Q_surface"]) / (4 * math.pi * radius ** 2) * 1e3)
    if "T_cmb" in one:
        out["T_cmb_today_K"] = _num(today["T_cmb"])
    if "r_inner_core" in one:
        out["r_inner_core_today_km"] = _num(float(today["r_inner_core"]) / 1e3)
    if "age_inner_core_nucleation" in one:
        out["age_inner_core_nucleation_Ga"] = _age(one["age_inner_core_nucleation"])
    if "age_bmo_solidified" in one:
        out["age_bmo_solidified_Ga"] = _age(one["age_bmo_solidified"])
    if "B_surface" in one:
        out["dynamo_epochs_Ga"] = dynamo_epochs(one)
        out["chang_e"] = chang_e_fields(one)
    return out


SOURCES = tuple(s for s in _SOURCES if s != "none")   # the three dynamo sources


def dynamo_epochs(one) -> dict:
    """Intervals [start, end] (Ga) during which each source is on, from dynamo_on_* of one model."""
    ages = np.asarray(one["age"].values, dtype=float)
    out = {}
    for src in SOURCES:
        name = f"dynamo_on_{src}"
        if name not in one:
            continue
        on = np.asarray(one[name].values) == 1
        spans, k = [], 0
        while k < on.size:
            if on[k]:
                j = k
                while j + 1 < on.size and on[j + 1]:
                    j += 1
                spans.append([float(ages[k]), float(ages[j])])
                k = j + 1
            else:
                k += 1
        out[src] = spans
    return out


def chang_e_fields(one) -> list[dict]:
    """The model field at the Chang'e-5 and Chang'e-6 sites and ages against the measured ranges.

    Model fields are equatorial surface fields
    (docs/physics.md §Surface and site field) times the site factor sqrt(1 + 3 sin^2 lat);
    each source's field is interpolated linearly in age.
    """
    ages = np.asarray(one["age"].values, dtype=float)
    rows = []
    for box in chang_e_boxes():
        k = site_factor(math.radians(box["lat"]))
        row = {"id": box["id"], "mission": box["label"], "age_Ga": box["age"], "site_lat_deg": box["lat"],
               "measured_uT": list(box["site_ut"])}
        for name in ("B_surface", "B_core", "B_bmo", "B_precession"):
            if name in one:
                b = np.interp(box["age"], ages[::-1], np.asarray(one[name].values, dtype=float)[::-1])
                row[f"{name}_site_uT"] = _num(b * k * 1e6)
        b = row.get("B_surface_site_uT")
        lo, hi = box["site_ut"]
        row["within_range"] = b is not None and lo <= b <= hi
        row["factor_to_range"] = None if not b else _num(lo / b if b < lo else (b / hi if b > hi else 1.0))
        rows.append(row)
    return rows
