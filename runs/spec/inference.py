"""Inference specs (``lunadyn infer SPEC.toml``; ``runs.inference.infer`` runs them): a TOML file in, a validated, hashable problem out.

    title = "..."                        # optional text (and description)
    base = "moon_default.toml"           # optional base scenario (relative to this file)
    seed = 1                             # the sampler's seed (default 0)
    [parameters]                         # fixed values on top of the base, for every hypothesis
    [free]                               # the free parameters and their priors
    sulfur_core = {}                     #   the registry's prior range and scale
    eta_ref = { min = 1e18, max = 1e21, scale = "log" }   # uniform in the parameter or in its log10
    [hypotheses]                         # named sets of fixed parameters; default: core, bmo, precession, any
    bmo = { sources = ["bmo"] }
    bmo_ml = { sources = ["bmo"], law = "ml" }
    [observations]                       # the record selection and likelihood settings, as in sweep specs
    [sampler]                            # method = "smc" (waste-free adaptive tempering, runs.evidence)
    particles = 800                      #   M: chains per generation = models per batch
    chain_length = 10                    #   P: states per chain (M·P particles per generation)
    ess_fraction = 0.8                   #   ESS kept by each tempering step
    max_generations = 500
    islands = 8                          #   independent populations in lockstep (their spread: the error)
    [settings]                           # start_age, output_step (default 0.05 Ga), rtol, max_steps, chunk_size
    [cluster]                            # where it runs (as in sweep specs; not part of the hash)

The hash (``InferenceSpec.hash``) covers everything that changes the numbers (parameters, priors,
hypotheses, observations, sampler, settings, seed), never where or how it runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..record.scoring import parse_observations_section
from ..registry import ALL_PARAMS, PARAMS, SPEC
from .config import (check_consistency, check_range, check_sections, closest, defaults, load_scenario, parse_toml, read_text,
                     validate_table, validate_value)
from .hashing import spec_hash

SECTIONS = ("title", "description", "base", "seed", "parameters", "free", "hypotheses", "observations",
            "sampler", "settings", "cluster")
SAMPLER_KEYS = ("method", "particles", "chain_length", "ess_fraction", "max_generations", "islands")
METHODS = ("smc",)
DEFAULT_HYPOTHESES = {"core": {"sources": ["core"]}, "bmo": {"sources": ["bmo"]},
                      "precession": {"sources": ["precession"]},
                      "any": {"sources": ["core", "bmo", "precession"]}}
DEFAULT_OUTPUT_STEP = 0.05   # Ga, as runs.fit: resolves every record once its age is averaged
DEFAULT_CHUNK = 125          # models per chunk (one task); a batch of M = 1000 is 8 tasks


@dataclass
class Prior:
    """A uniform prior on [lo, hi] of the parameter (scale linear) or of its log10 (scale log)."""

    name: str
    lo: float
    hi: float
    scale: str

    @property
    def fit_lo(self) -> float:
        return float(np.log10(self.lo)) if self.scale == "log" else self.lo

    @property
    def fit_hi(self) -> float:
        return float(np.log10(self.hi)) if self.scale == "log" else self.hi

    def physical(self, u):
        """The parameter at unit-cube coordinate u (uniform in [0, 1] -> the prior)."""
        x = self.fit_lo + np.asarray(u, dtype=float) * (self.fit_hi - self.fit_lo)
        return 10.0 ** x if self.scale == "log" else x

    def unit(self, x):
        x = np.asarray(x, dtype=float)
        f = np.log10(x) if self.scale == "log" else x
        return (f - self.fit_lo) / (self.fit_hi - self.fit_lo)

    def to_dict(self) -> dict:
        return {"name": self.name, "min": self.lo, "max": self.hi, "scale": self.scale}


@dataclass
class InferenceSpec:
    values: dict                   # every model parameter (config form): base + [parameters]
    priors: list                   # Prior, one per free parameter (in the file's order)
    hypotheses: dict               # name -> fixed values (config form), validated
    settings: dict                 # start_age, output_step, rtol, max_steps
    chunk_size: int
    sampler: dict                  # method, particles, chain_length, ess_fraction, max_generations
    seed: int
    observations: dict             # the [observations] part of the hash
    obs: object = field(repr=False, default=None)
    likelihood: object = field(repr=False, default=None)
    text: str = ""
    path: Path | None = None
    title: str = ""
    cluster: dict | None = None

    @property
    def free(self) -> list[str]:
        return [p.name for p in self.priors]

    @property
    def canonical(self) -> dict:
        return {"kind": "inference", "parameters": self.values, "free": [p.to_dict() for p in self.priors],
                "hypotheses": self.hypotheses, "settings": self.settings, "chunk_size": self.chunk_size,
                "sampler": self.sampler, "seed": self.seed, "observations": self.observations}

    @property
    def hash(self) -> str:
        return spec_hash(self.canonical)

    def hypothesis_values(self, name: str) -> dict:
        return {**self.values, **self.hypotheses[name]}


def _prior(name, spec, where) -> Prior:
    if name not in PARAMS:
        raise UserError(f"unknown parameter '{name}' in [free] of {where}{closest(name, PARAMS)}")
    p = PARAMS[name]
    if p.kind != "float":
        raise UserError(f"{name} in [free] of {where}: only number parameters can be free ({name} is a {p.kind}); "
                        "fix it in [parameters] or in a hypothesis")
    if not isinstance(spec, dict):
        raise UserError(f"{name} in [free] of {where}: expected a table {{}} or {{ min = ..., max = ..., "
                        "scale = 'linear'|'log' }}")
    unknown = sorted(set(spec) - {"min", "max", "scale"})
    if unknown:
        raise UserError(f"{name} in [free] of {where}: unknown key '{unknown[0]}'"
                        f"{closest(unknown[0], ['min', 'max', 'scale'])} (expected min, max, scale)")
    if ("min" in spec) != ("max" in spec):
        raise UserError(f"{name} in [free] of {where}: give both min and max (or neither, for the registry prior)")
    if "min" in spec:
        lo = validate_value(name, spec["min"], f"[free] of {where} (min)")
        hi = validate_value(name, spec["max"], f"[free] of {where} (max)")
    elif p.prior is not None:
        lo, hi = p.prior
    else:
        raise UserError(f"{name} in [free] of {where}: it has no registry prior range; give min and max")
    scale = spec.get("scale", p.scale)
    check_range(name, lo, hi, scale, f"[free] of {where}")
    return Prior(name, float(lo), float(hi), scale)


def _int(value, key, where, low=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise UserError(f"{key} in [sampler] of {where}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _sampler(table, where) -> dict:
    if not isinstance(table, dict):
        raise UserError(f"[sampler] in {where}: expected a table")
    for key in table:
        if key not in SAMPLER_KEYS:
            raise UserError(f"unknown sampler option '{key}' in [sampler] of {where}{closest(key, SAMPLER_KEYS)} "
                            f"(expected {', '.join(SAMPLER_KEYS)})")
    method = table.get("method", "smc")
    if method not in METHODS:
        raise UserError(f"method in [sampler] of {where}: expected one of {', '.join(METHODS)}, got {method!r}")
    out = {"method": method,
           "particles": _int(table.get("particles", 800), "particles", where, 10),
           "chain_length": _int(table.get("chain_length", 10), "chain_length", where, 2),
           "max_generations": _int(table.get("max_generations", 500), "max_generations", where, 1),
           "islands": _int(table.get("islands", 8), "islands", where, 1)}
    if out["particles"] % out["islands"] or out["particles"] // out["islands"] < 5:
        raise UserError(f"particles in [sampler] of {where}: expected a multiple of islands ({out['islands']}) "
                        f"with at least 5 chains per island, got {out['particles']}")
    ess = table.get("ess_fraction", 0.8)
    if not isinstance(ess, (int, float)) or isinstance(ess, bool) or not 0.0 < ess < 1.0:
        raise UserError(f"ess_fraction in [sampler] of {where}: expected a number in (0, 1), got {ess!r}")
    out["ess_fraction"] = float(ess)
    return out


def _hypotheses(table, free, where) -> dict:
    if table is None:
        return {k: dict(v) for k, v in DEFAULT_HYPOTHESES.items()}
    if not isinstance(table, dict) or not table:
        raise UserError(f"[hypotheses] in {where}: expected a table of named hypotheses, e.g. "
                        "bmo = {{ sources = [\"bmo\"] }}")
    out = {}
    for name, fixed in table.items():
        label = f"hypothesis '{name}' in [hypotheses] of {where}"
        if not isinstance(fixed, dict):
            raise UserError(f"{label}: expected a table of fixed parameters, e.g. {{ sources = [\"bmo\"] }}")
        for key in fixed:
            if key in free:
                raise UserError(f"{key} in {label}: it is also a free parameter ([free]); a hypothesis fixes "
                                "parameters that are not free")
            if key in SPEC:
                raise UserError(f"{key} in {label}: settings go in [settings], the same for every hypothesis")
            if key not in PARAMS:
                raise UserError(f"unknown parameter '{key}' in {label}{closest(key, ALL_PARAMS)}")
        values, _, _ = validate_table(fixed, label)
        out[str(name)] = values
    return out


def spec_from_text(text: str, where: str = "<spec>", path: Path | None = None) -> InferenceSpec:
    """Parse and validate an inference spec (errors name the section and field, in one line)."""
    table = parse_toml(text, where)
    check_sections(table, SECTIONS, where, "an inference spec")
    values, settings = defaults()
    settings["output_step"] = DEFAULT_OUTPUT_STEP
    title = table.get("title", "")
    if "base" in table:
        base = table["base"]
        if not isinstance(base, str):
            raise UserError(f"base in {where}: expected the path of a scenario file, got {base!r}")
        bpath = Path(base) if path is None or Path(base).is_absolute() else path.parent / base
        scn = load_scenario(bpath)
        values = dict(scn.values)
        # the base's start_age, rtol, max_steps; the output step is 0.05 Ga unless [settings] says otherwise
        settings.update({k: v for k, v in scn.settings.items() if k != "output_step"})
        title = title or scn.title
    for section in ("parameters", "free", "sampler", "settings", "observations"):
        if section in table and not isinstance(table[section], dict):
            raise UserError(f"[{section}] in {where}: expected a table")
    p_values, p_settings, _ = validate_table(table.get("parameters", {}), f"[parameters] of {where}")
    if p_settings:
        raise UserError(f"{sorted(p_settings)[0]} in [parameters] of {where}: settings go in [settings]")
    values.update(p_values)
    free_table = table.get("free", {})
    if not free_table:
        raise UserError(f"[free] in {where}: expected at least one free parameter, e.g. sulfur_core = {{}}")
    priors = [_prior(name, spec, where) for name, spec in free_table.items()]
    free = [p.name for p in priors]
    hyps = _hypotheses(table.get("hypotheses"), free, where)
    st = dict(table.get("settings", {}))
    chunk = st.pop("chunk_size", DEFAULT_CHUNK)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise UserError(f"chunk_size in [settings] of {where}: expected a positive integer, got {chunk!r}")
    for key, v in st.items():
        if key not in SPEC:
            raise UserError(f"unknown setting '{key}' in [settings] of {where}"
                            f"{closest(key, list(SPEC) + ['chunk_size'])}")
        settings[key] = validate_value(key, v, f"[settings] of {where}")
    sampler = _sampler(table.get("sampler", {}), where)
    seed = table.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"seed in {where}: expected a non-negative integer, got {seed!r}")
    obs_table = dict(table.get("observations", {}))
    if isinstance(obs_table.get("data"), str) and path is not None and not Path(obs_table["data"]).is_absolute():
        obs_table["data"] = str(path.parent / obs_table["data"])
    try:
        obs, lik, obs_spec = parse_observations_section(obs_table, f"[observations] of {where}")
    except UserError as e:
        msg = str(e)
        if "leaves no record" in msg or msg.startswith("--select"):
            raise UserError(f"select in [observations] of {where}: {msg}") from None
        raise
    # every hypothesis must be a valid scenario with the free parameters anywhere in their prior box
    for name in hyps:
        vals = {**values, **hyps[name]}
        check_consistency(vals, settings, f"hypothesis '{name}' of {where}")
    cluster = table.get("cluster")
    return InferenceSpec(values=values, priors=priors, hypotheses=hyps, settings=settings, chunk_size=chunk,
                         sampler=sampler, seed=seed, observations=obs_spec, obs=obs, likelihood=lik, text=text,
                         path=path, title=title, cluster=cluster)


def load_spec(path) -> InferenceSpec:
    p = Path(path)
    return spec_from_text(read_text(p), str(path), path=p)
