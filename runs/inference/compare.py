"""Score the models of a store against the measured record (``lunadyn compare``), and the posterior of
a sweep (DESIGN.md "Data flow": ... ──> runs.compare / runs.fit ──> plots).

``compare_store`` reads the combined field ``B_surface`` of every model in chunks along ``sample``,
evaluates the likelihood of runs.likelihood, and writes into the store

- ``loglike (sample,)`` float64: ln L of each model (−inf for a failed model, NaN for one not computed),
- ``loglike_record (sample, record)`` float32: each record's ln L (age-averaged),
- ``misfit (sample, record)`` float32: signed misfit in σ at the record's nominal age (0 = satisfied),
- ``record (record,)``: the ids of the records in use,

with attributes naming the selection, the record file and its sha256 and the likelihood settings (on
the arrays and on the group), then re-consolidates the metadata. The store's own layout (``variables``,
spec hash) is untouched, so a sweep can still be resumed after a comparison.

Posterior of a sweep (``sweep_posterior``; below an ESS of 100 it is reported as unresolved — no
intervals, no source weights, one line naming ``lunadyn infer`` — since importance weights of a prior
sweep cannot resolve a likelihood this peaked): the sweep's samples are draws from its sampling
distribution (a grid, LHS or Sobol over the prior ranges: uniform, or log-uniform on log-scaled axes),
so with that distribution as the prior the posterior weights are importance weights
w_i ∝ exp(ln L_i − max ln L). It reports the effective sample size (Σw)²/Σw², weighted marginals
(quantiles, mean, sd, and the mass per value for a grid axis or a categorical) of every varied
parameter (a 1-D coordinate along ``sample`` other than ``sample``), the posterior mode, and the
posterior weight of each dynamo source at 2.8 Ga (the mass of models in which that source has the
largest field there, data/README.md).

A sweep spec with an ``[observations]`` section computes ``loglike`` inside each chunk with
``loglike_for_outputs`` (``sweep_variables`` declares the array), so a very large sweep need not keep
full field histories; ``compare_store`` then reuses that ``loglike`` when the store has no
``B_surface`` and the stored selection and record file hash match the requested ones.
"""
from __future__ import annotations

import json
import math
import warnings
from datetime import datetime, timezone

import numpy as np

from ..errors import UserError
from ..status import THERMAL_CODE_MASK
from ..record.likelihood import (SOURCE_VARIABLES, SOURCES, LikelihoodSettings, log_likelihood, make_plan,
                             source_at_ages, source_weights, explaining_source, interp_ages)
from ..record.observations import CHANG_E_IDS, CE6_AGE_GA, Observations
from ..record.scoring import (as_observations, as_settings, observation_attrs)
from ..io.store import COMPRESSORS, check_store_intact, open_store
from ..record.likelihood import record_site_factors
from ..io.store import consolidate

READ_ROWS = 16384  # samples read at once (rounded to whole store chunks)
QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)


def importance_weights(loglike) -> np.ndarray:
    """Normalised weights exp(ln L − max ln L) / Σ (NaN and −inf get 0)."""
    ll = np.asarray(loglike, dtype=float)
    ok = np.isfinite(ll)
    w = np.zeros(ll.shape)
    if ok.any():
        w[ok] = np.exp(ll[ok] - ll[ok].max())
        w /= w.sum()
    return w


def effective_sample_size(weights) -> float:
    w = np.asarray(weights, dtype=float)
    s2 = float((w * w).sum())
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


def weighted_quantiles(x, w, q) -> np.ndarray:
    """Quantiles of a weighted sample (mid-point rule on the sorted cumulative weights)."""
    x, w = np.asarray(x, dtype=float), np.asarray(w, dtype=float)
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:
        return np.full(len(q), np.nan)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    c = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, c, x)


def _store_chunks(g, n: int):
    cs = int(g.attrs.get("chunk_size", n))
    step = max(cs, (READ_ROWS // cs) * cs)
    for lo in range(0, n, step):
        yield lo, min(n, lo + step)


def read_rows(g, names, idx) -> dict:
    """Rows ``idx`` (sorted unique sample indices) of (sample, age) arrays."""
    idx = np.asarray(idx, dtype=np.int64)
    return {name: np.asarray(g[name].get_orthogonal_selection((idx, slice(None))), dtype=float)
            for name in names}


def varied_parameters(g) -> dict:
    """Varied parameter -> (values along sample, category names or None)."""
    out = {}
    for name in json.loads(g.attrs.get("varied_parameters", "[]")):
        if name not in g:
            continue
        a = g[name]
        meanings = a.attrs.get("flag_meanings")
        if meanings and "flag_masks" in a.attrs:   # a set parameter: bitmask values, names joined by '+'
            masks = a[:]
            names = meanings.split()
            uniq = sorted({int(m) for m in masks})
            label = {m: "+".join(n for i, n in enumerate(names) if m >> i & 1) or "none" for m in uniq}
            codes = np.array([uniq.index(int(m)) for m in masks])
            out[name] = (codes, [label[m] for m in uniq])
            continue
        out[name] = (a[:], meanings.split() if meanings else None)
    return out


def _param_value(values, names, i):
    v = values[i]
    if names is not None:
        return names[int(v)]
    return float(v) if np.asarray(v).dtype.kind == "f" else int(v)


def _clean(x):
    """JSON-safe float (inf/NaN -> None)."""
    x = float(x)
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------------------------------
# the posterior of a sweep


def marginals(params: dict, weights) -> dict:
    """Weighted marginal of each varied parameter (see module docstring)."""
    out = {}
    for name, (values, cats) in params.items():
        x = np.asarray(values, dtype=float)
        entry = {}
        uniq = np.unique(x)
        if cats is not None or uniq.size <= 64:
            mass = {(cats[int(u)] if cats is not None else float(u)): float(weights[x == u].sum()) for u in uniq}
            entry["mass"] = {str(k): v for k, v in mass.items()}
        if cats is None:
            q = weighted_quantiles(x, weights, QUANTILES)
            mean = float((weights * x).sum())
            entry.update({"mean": mean, "sd": float(math.sqrt(max((weights * (x - mean) ** 2).sum(), 0.0))),
                          "quantiles": {f"{p:g}": float(v) for p, v in zip(QUANTILES, q)}})
        out[name] = entry
    return out


def _sources_at(g, ages, idx_or_none, age: float, n: int, weights=None):
    """Source codes at ``age`` of every model (or of those with weight), read chunk by chunk."""
    if not all(v in g for v in SOURCE_VARIABLES):
        return None
    codes = np.zeros(n, dtype=np.int8)
    t = np.array([min(max(age, float(ages.min())), float(ages.max()))])
    for lo, hi in _store_chunks(g, n):
        if weights is not None and not (weights[lo:hi] > 0).any():
            continue
        Bs = [g[v][lo:hi] for v in SOURCE_VARIABLES]
        codes[lo:hi] = source_at_ages(ages, *Bs, t)[:, 0]
    return codes


def sweep_posterior(g, loglike, age_sources: float = CE6_AGE_GA, min_weight: float = 1e-12) -> dict:
    """Posterior over a sweep's samples from its ``loglike`` (module docstring)."""
    ll = np.asarray(loglike, dtype=float)
    w = importance_weights(ll)
    n = ll.size
    params = varied_parameters(g)
    ages = g["age"][:]
    significant = np.where(w > min_weight * (w.max() if w.size else 0.0), w, 0.0)
    codes = _sources_at(g, ages, None, age_sources, n, significant)
    mode = int(np.nanargmax(np.where(np.isfinite(ll), ll, -np.inf))) if np.isfinite(ll).any() else None
    ess = effective_sample_size(w)
    resolved = ess >= MIN_ESS
    return {
        "n_models": int(n),
        "n_scored": int(np.isfinite(ll).sum()),
        "ess": ess,
        "min_ess": MIN_ESS,
        "resolved": bool(resolved),
        "message": None if resolved else UNRESOLVED.format(ess=ess, n=int(np.isfinite(ll).sum()), min=MIN_ESS),
        "mode": None if mode is None else {"sample": mode, "loglike": _clean(ll[mode]),
                                           "parameters": {k: _param_value(v, c, mode) for k, (v, c) in params.items()}},
        "marginals": marginals(params, w) if resolved else None,
        "source_weights_age_Ga": age_sources,
        "source_weights": None if codes is None or not resolved else source_weights(codes, significant),
    }


MIN_ESS = 100.0  # below it the sweep posterior is not reported as if resolved
UNRESOLVED = ("the sweep cannot resolve the posterior (ESS {ess:.1f} of {n} scored models, below {min:g}): "
              "no intervals or source weights are given; `lunadyn infer SPEC.toml` samples the posterior "
              "and the evidence of each dynamo hypothesis")


# --------------------------------------------------------------------------------------------------
# compare a store


def _write(g, name, data, dims, attrs, chunks):
    data = np.asarray(data)
    if name in g and tuple(g[name].shape) == data.shape and g[name].dtype == data.dtype:
        arr = g[name]
        arr[...] = data
        arr.attrs.update(attrs)
        return
    kw = {} if data.dtype.kind in "OUT" else {"fill_value": np.nan if data.dtype.kind == "f" else 0}
    arr = g.create_array(name, shape=data.shape, chunks=chunks, dtype=data.dtype if data.dtype.kind not in "OU" else str,
                         dimension_names=dims, attributes=attrs, overwrite=True, compressors=COMPRESSORS, **kw)
    arr[...] = data


def _stored_loglike_matches(g, obs: Observations, settings: LikelihoodSettings) -> bool:
    a = g["loglike"].attrs if "loglike" in g else {}
    attrs = {**dict(g.attrs), **dict(a)}
    want = observation_attrs(obs, settings)
    return all(attrs.get(k) == want[k] for k in ("observations_sha256", "observations_records"))


def score_store(path, obs: Observations, settings: LikelihoodSettings, misfit: bool = True) -> dict:
    """ln L of every model of a store (not written): loglike (n,), loglike_record, misfit (n, n_rec)."""
    g = open_store(path)
    n = int(g.attrs["n_samples"])
    status = g["status"][:]
    ages = g["age"][:]
    if "B_surface" not in g:
        if "loglike" in g and _stored_loglike_matches(g, obs, settings):
            return {"loglike": g["loglike"][:], "loglike_record": None, "misfit": None, "reused": True}
        raise UserError(f"{path} keeps no B_surface (and no loglike computed with this record selection); "
                        "re-run the sweep keeping B_surface or with an [observations] section")
    plan = make_plan(ages, obs, settings)
    ll = np.full(n, np.nan)
    per = np.full((n, len(obs)), np.nan, dtype=np.float32)
    mis = np.full((n, len(obs)), np.nan, dtype=np.float32)
    for lo, hi in _store_chunks(g, n):
        B = g["B_surface"][lo:hi]
        l, p, m = log_likelihood(ages, B, obs, plan=plan, misfit=True)
        ll[lo:hi], per[lo:hi], mis[lo:hi] = l, p, m
    not_run = status < 0
    failed = ~not_run & ((status & THERMAL_CODE_MASK) != 0)
    ll[failed] = -np.inf
    per[failed] = -np.inf
    ll[not_run] = np.nan
    per[not_run] = np.nan
    mis[not_run | failed] = np.nan
    return {"loglike": ll, "loglike_record": per, "misfit": mis if misfit else None, "reused": False,
            "n_failed": int(failed.sum()), "n_not_run": int(not_run.sum())}


def best_models(g, loglike, obs: Observations, k: int = 5) -> list[dict]:
    """The k best models: parameters, ln L, and per record the site field and the explaining source."""
    ll = np.where(np.isfinite(loglike), loglike, -np.inf)
    order = np.argsort(-ll, kind="stable")[:k]
    order = [int(i) for i in order if np.isfinite(ll[i])]
    if not order:
        return []
    params = varied_parameters(g)
    ages = g["age"][:]
    idx = np.array(sorted(order))
    have = [v for v in SOURCE_VARIABLES + ("B_surface",) if v in g]
    rows = read_rows(g, have, idx)
    where = {int(i): j for j, i in enumerate(idx)}
    src = (explaining_source(ages, rows["B_core"], rows["B_bmo"], rows["B_precession"], obs)
           if all(v in rows for v in SOURCE_VARIABLES) else None)
    t = np.clip(obs.array("age_ga"), 0.0, float(ages.max()))
    factor = record_site_factors(obs, LikelihoodSettings())
    Bsite = interp_ages(ages, rows["B_surface"], t) * factor * 1e6 if "B_surface" in rows else None
    out = []
    for i in order:
        j = where[i]
        recs = {}
        for r, rec in enumerate(obs.records):
            recs[rec.id] = {"source": SOURCES[int(src[j, r])] if src is not None else None,
                            "B_site_uT": _clean(Bsite[j, r]) if Bsite is not None else None}
        out.append({"sample": i, "loglike": _clean(ll[i]),
                    "parameters": {name: _param_value(v, c, i) for name, (v, c) in params.items()},
                    "records": recs})
    return out


def compare_store(path, data=None, select=None, settings=None, *, best: int = 5, write: bool = True,
                  obs: Observations | None = None) -> dict:
    """Score every model of a lunadyn store, write the results into it, and summarise (module docstring).

    Returns a JSON-ready dict: store, counts, the selection and record file (with sha256), the
    likelihood settings, the best models (with, per record, the site field and the explaining source;
    CE-6 and CE-5 first in the text output), and the sweep posterior.
    """
    check_store_intact(path)      # a damaged store is refused: one line, the units and the repair command
    obs = as_observations(data, select, obs)
    settings = as_settings(settings)
    scores = score_store(path, obs, settings)
    g = open_store(path, mode="r+" if write else "r")
    n = int(g.attrs["n_samples"])
    attrs = observation_attrs(obs, settings)
    if write and not scores["reused"]:
        cs = (min(int(g.attrs.get("chunk_size", n)), n),)
        common = {**attrs, "coordinates": " ".join(sorted(varied_parameters(g)))}
        _write(g, "record", np.array(obs.ids, dtype=str), ("record",),
               {"long_name": "paleointensity record id (runs/data/lunar_paleointensity.csv)", "units": "1",
                "kinds": ",".join(r.kind for r in obs.records)}, (len(obs),))
        _write(g, "loglike", scores["loglike"], ("sample",),
               {"long_name": "log-likelihood of the model given the selected paleointensity records",
                "units": "1", "comment": "data/README.md likelihood; -inf = failed model, NaN = not computed",
                **common}, cs)
        _write(g, "loglike_record", scores["loglike_record"], ("sample", "record"),
               {"long_name": "log-likelihood of each record (age-averaged)", "units": "1", **common},
               cs + (len(obs),))
        _write(g, "misfit", scores["misfit"], ("sample", "record"),
               {"long_name": "signed misfit at the record's nominal age (0 = satisfied; > 0 model too strong)",
                "units": "sigma_lnB", **common}, cs + (len(obs),))
        g.attrs.update({**attrs, "compared_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "comparison_variables": json.dumps(["loglike", "loglike_record", "misfit", "record"])})
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore")
            consolidate(path)
    ll = scores["loglike"]
    summary = {
        "store": str(path),
        "n_samples": n,
        "n_scored": int(np.isfinite(ll).sum()),
        "n_failed": scores.get("n_failed", 0),
        "n_not_run": scores.get("n_not_run", 0),
        "selection": obs.description,
        "data_file": attrs["observations_file"],
        "data_sha256": obs.sha256,
        "records": obs.ids,
        "likelihood_settings": settings.to_dict(),
        "written": bool(write and not scores["reused"]),
        "best": best_models(g, ll, obs, best),
        "posterior": sweep_posterior(g, ll),
    }
    return summary


# --------------------------------------------------------------------------------------------------
# text output


def _fmt_params(p: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items())


def source_lines(best: list[dict], obs_ids: list[str]) -> list[str]:
    lines = []
    if not best:
        return lines
    top = best[0]["records"]
    if top and next(iter(top.values()))["source"] is not None:
        first = [i for i in CHANG_E_IDS if i in obs_ids] + [i for i in obs_ids if i not in CHANG_E_IDS]
        lines.append("  which source explains each record in the best model (source, model field at the site):")
        for rid in first:
            r = top[rid]
            b = "-" if r["B_site_uT"] is None else f"{r['B_site_uT']:.3g} uT"
            lines.append(f"    {CHANG_E_IDS.get(rid, rid):18s} {r['source']:10s} {b}")
    return lines


def format_posterior(post: dict, indent: str = "  ") -> list[str]:
    if not post.get("resolved", True):
        return [f"{indent}posterior over the sweep: {post['message']}"]
    lines = [f"{indent}posterior over the sweep (importance weights from loglike): ESS {post['ess']:.1f} "
             f"of {post['n_scored']} scored"]
    if post.get("mode"):
        lines.append(f"{indent}  mode: sample {post['mode']['sample']} ({_fmt_params(post['mode']['parameters'])})")
    for name, m in post["marginals"].items():
        if "quantiles" in m:
            q = m["quantiles"]
            lines.append(f"{indent}  {name}: median {q['0.5']:.4g}, 95% [{q['0.025']:.4g}, {q['0.975']:.4g}]")
        else:
            lines.append(f"{indent}  {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in m["mass"].items()))
    if post.get("source_weights") is not None:
        lines.append(f"{indent}  dynamo source at {post['source_weights_age_Ga']:g} Ga: " +
                     ", ".join(f"{k} {v:.2f}" for k, v in post["source_weights"].items()))
    return lines


def format_compare(summary: dict) -> str:
    """The human-readable report of ``lunadyn compare``."""
    lines = [f"lunadyn compare: {summary['store']}: {summary['n_scored']} of {summary['n_samples']} models scored"
             + (f" ({summary['n_failed']} failed)" if summary["n_failed"] else "")
             + (f" ({summary['n_not_run']} not computed)" if summary["n_not_run"] else ""),
             f"  records: {summary['selection']} (sha256 {summary['data_sha256'][:12]})"]
    if summary["written"]:
        lines.append("  wrote loglike (sample), loglike_record and misfit (sample, record) into the store")
    ce = [i for i in CHANG_E_IDS if i in summary["records"]]
    if summary["best"]:
        lines.append(f"  best {len(summary['best'])} model(s):")
        for b in summary["best"]:
            extra = "".join(f"  {CHANG_E_IDS[i]}: {b['records'][i]['source']}" for i in ce
                            if b["records"][i]["source"] is not None)
            lines.append(f"    sample {b['sample']:>7d}  lnL {b['loglike']:10.2f}  {_fmt_params(b['parameters'])}{extra}")
        lines += source_lines(summary["best"], summary["records"])
    if summary["n_samples"] > 1:
        lines += format_posterior(summary["posterior"])
    return "\n".join(lines)
