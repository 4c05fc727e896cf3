"""What a sweep spec's ``[observations]`` section means, and the chunk pipeline's scoring of a chunk.

The record layer's glue between the measured record (``observations``) and the likelihood
(``likelihood``): parsing ``[observations]`` into (Observations, LikelihoodSettings, spec dict),
the attributes a scored store carries, the ``loglike`` variable a scored sweep declares, and
``loglike_for_outputs`` which ``compute.pipeline.run_chunk`` calls per chunk.
"""
from __future__ import annotations

import json

import numpy as np

from ..errors import UserError
from ..status import THERMAL_CODE_MASK
from .likelihood import LikelihoodSettings, log_likelihood, site_factor
from .observations import CHANG_E_IDS, Observations, load_observations, read_records


# --------------------------------------------------------------------------------------------------


def as_settings(settings) -> LikelihoodSettings:
    """LikelihoodSettings from None, a dict (validated) or an instance."""
    if settings is None:
        return LikelihoodSettings()
    if isinstance(settings, LikelihoodSettings):
        return settings
    return LikelihoodSettings.from_dict(settings)


def as_observations(data=None, select=None, obs=None) -> Observations:
    return obs if obs is not None else load_observations(data, select)


def observation_attrs(obs: Observations, settings: LikelihoodSettings) -> dict:
    """Store attributes describing a comparison (flat, netCDF-safe)."""
    return {**obs.provenance(), "likelihood_settings": json.dumps(settings.to_dict(), sort_keys=True)}


def observations_spec(obs: Observations, settings: LikelihoodSettings) -> dict:
    """What a sweep spec's [observations] section contributes to the spec hash (DESIGN.md "The store"):
    the selection, the likelihood settings and the record file's hash."""
    return {"selection": {k: list(v) for k, v in obs.selection.items()}, "records": obs.ids,
            "data_sha256": obs.sha256, "likelihood": settings.to_dict()}


def parse_observations_section(table: dict | None, where: str = "[observations]"):
    """A sweep spec's ``[observations]`` table -> (Observations, LikelihoodSettings, spec dict).

    Keys: ``data`` (path of a record file; default the shipped record), ``select`` (a list of
    ``KEY=VALUE`` strings, or ``"all"``), and any LikelihoodSettings field.
    """
    table = dict(table or {})
    data = table.pop("data", None)
    select = table.pop("select", None)
    if data is not None and not isinstance(data, str):
        raise UserError(f"data in {where}: expected a file path string, got {data!r}")
    if select is not None and not (isinstance(select, str) or
                                   (isinstance(select, list) and all(isinstance(s, str) for s in select))):
        raise UserError(f"select in {where}: expected a list of \"KEY=VALUE\" strings or \"all\", got {select!r}")
    settings = LikelihoodSettings.from_dict(table, where)
    obs = load_observations(data, select)
    return obs, settings, observations_spec(obs, settings)


RECORD_DIM = "record"


def sweep_variables(per_record: bool = False) -> dict:
    """The store variables a sweep with [observations] writes per chunk (io.store.create_store form):
    ``loglike``, and with per_record (a reduced sweep) ``loglike_record`` and ``misfit`` along ``record``
    (the arrays ``lunadyn compare`` writes, with the same meaning)."""
    out = {"loglike": ("float64", "run", {"units": "1", "long_name": "log-likelihood of the model given "
                                          "the selected paleointensity records (data/README.md)"})}
    if per_record:
        out["loglike_record"] = ("float32", RECORD_DIM, {"units": "1", "long_name": "log-likelihood of each "
                                                         "record (age-averaged)"})
        out["misfit"] = ("float32", RECORD_DIM, {"units": "1", "long_name": "signed misfit in sigma at the "
                                                 "record's nominal age (0 = satisfied)"})
    return out


def loglike_for_outputs(ages, outputs: dict, obs: Observations, settings=None, status=None,
                        per_record: bool = True, plan=None, misfit: bool = False) -> dict:
    """ln L of the models of one chunk from ``compute.pipeline.compute`` outputs (needs ``B_surface``).

    status: the models' status codes; a failed model (thermal code != 0) gets −inf.
    plan: a likelihood plan for ``ages`` (a reduced sweep's, ``likelihood.restrict_plan``).
    Returns {'loglike': (n,)} and, with per_record, 'loglike_record' (n, n_records); with misfit also
    'misfit' (n, n_records) float32.
    """
    if "B_surface" not in outputs:
        raise ValueError("the outputs hold no B_surface (the dynamo stage did not run)")
    got = log_likelihood(ages, outputs["B_surface"], obs, as_settings(settings), plan=plan, misfit=misfit)
    ll, per = got[0], got[1]
    if status is not None:
        failed = (np.asarray(status) & THERMAL_CODE_MASK) != 0
        ll = np.where(failed, -np.inf, ll)
        per = np.where(failed[:, None], -np.inf, per)
    out = {"loglike": ll, "loglike_record": per} if per_record else {"loglike": ll}
    if misfit:
        out["misfit"] = got[2]
    return out


def chang_e_boxes(data=None) -> list[dict]:
    """The CE-5 and CE-6 records, oldest last: age, age error, site range (µT), the equatorial-equivalent
    range (the site range over the axial-dipole factor √(1 + 3 sin²λ),
    docs/physics.md §Surface and site field) and the latitude."""
    records, _, _, _ = read_records(data)
    boxes = []
    for r in records:
        if r.id in CHANG_E_IDS:
            k = float(site_factor(r.site_lat_deg))
            lo, hi = r.b_low_ut, r.b_high_ut
            boxes.append({"id": r.id, "label": CHANG_E_IDS[r.id], "age": r.age_ga,
                          "age_err": r.age_err_ga if np.isfinite(r.age_err_ga) else 0.0,
                          "site_ut": (lo, hi), "eq_ut": (lo / k, hi / k), "lat": r.site_lat_deg})
    return sorted(boxes, key=lambda b: b["age"])
