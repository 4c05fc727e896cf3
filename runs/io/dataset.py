"""xarray views of model results: a computed chunk as a Dataset laid out like a store, and the grid view
of a grid sweep. xarray is imported at module level: this module is only imported where datasets are made.
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from ..registry import OUTPUTS, SUMMARIES
from ..spec.config import scenario_spec


def text_attrs(scn) -> dict:
    """Title, description and source file of a scenario, as store attributes (empty ones left out)."""
    attrs = {"title": scn.title, "description": scn.description}
    if scn.path is not None:
        attrs["source"] = str(scn.path)
    return {k: v for k, v in attrs.items() if v}


def result_to_dataset(result: dict, scn=None):
    """A ``compute.pipeline.compute`` result as an xarray.Dataset laid out like a store (dims sample, age).

    scn: the scenario (a ``spec.config.Scenario``) whose title, spec and values go into the attributes.
    """
    n = np.asarray(result["status"]).shape[0]
    data = {"status": (("sample",), np.asarray(result["status"], dtype=np.int32),
                       {"long_name": "model status: thermal code | flags", "units": "1"})}
    for group in ("state", "outputs"):
        for name, arr in result[group].items():
            o = OUTPUTS.get(name)
            data[name] = (("sample", "age"), np.asarray(arr),
                          {"units": o.unit, "long_name": o.long_name} if o else {})
    for name, arr in result["summaries"].items():
        o = SUMMARIES.get(name)
        data[name] = (("sample",), np.asarray(arr), {"units": o.unit, "long_name": o.long_name} if o else {})
    coords = {"sample": np.arange(n), "age": ("age", np.asarray(result["age"]), {"units": "Ga",
                                                                                 "long_name": "age before present"})}
    attrs = {}
    if scn is not None:
        attrs = {**text_attrs(scn), "spec": json.dumps(scenario_spec(scn), sort_keys=True),
                 "fixed_parameters": json.dumps(scn.values, sort_keys=True)}
    return xr.Dataset(data, coords=coords, attrs=attrs)




def grid_view(ds):
    """A grid sweep reshaped to its n-dimensional form: one dimension per varied parameter (plus age).

    The store stays flat along ``sample`` (DESIGN.md); this only re-indexes it (xarray set_index/unstack).
    """
    varied = json.loads(ds.attrs.get("varied_parameters", "[]"))
    if not varied:
        return ds
    return ds.set_index(sample=varied).unstack("sample")
