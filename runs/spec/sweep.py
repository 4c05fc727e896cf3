"""Sweep specs: a TOML file in, a validated, hashable description of every model of the sweep out.

    title = "..."                      # optional text
    base = "moon_default.toml"         # optional base scenario (relative to this file)
    body = "earth"                     # optional: whose defaults, bounds and priors (default: the base's,
                                       #   else the Moon; thermal/declare.py "Bodies"; not in the hash)
    [parameters]                       # fixed values on top of the base (NAME = VALUE)
    [vary]                             # varied parameters
    r_core = {}                        #   the registry's prior range and scale
    eta_ref = { min = 1e18, max = 1e21, scale = "log" }
    sigma_bmo = { min = 1e3, max = 1e5, n = 3 }   # n: grid points of this axis (grid sampler)
    law = ["cia", "ml"]                #   explicit values: an outer product with the sampled ones
    [sampler]  method = "grid" | "lhs" | "sobol", n, seed
    [settings] start_age, output_step, rtol, max_steps, chunk_size
    [output]   variables = [...] (default: all), keep_state = true
    [observations]                     # the comparison issue: selection and likelihood settings

The spec hash (DESIGN.md "The store") is the sha256 of the canonical JSON of ``SweepSpec.canonical``:
parameters, samplers, chunk size, output ages and variables and the observations; never where or how it
runs (store path, backend, workers).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import sampling
from .rules import broken_rules
from .config import (check_consistency, defaults, parse_toml, read_text, validate_body, validate_table,
                     validate_value)
from ..errors import UserError
from ..registry import ALL_PARAMS, OUTPUTS, PARAMS, SPEC, STATE_NAMES, SUMMARIES, make_records
from .hashing import spec_hash
from .config import load_scenario
from ..record.scoring import parse_observations_section

SECTIONS = ("title", "description", "base", "body", "parameters", "vary", "sampler", "settings", "output",
            "observations", "cluster")   # [cluster]: where it runs, not part of the hash
DEFAULT_CHUNK = 256
_SAMPLES: dict = {}   # spec hash -> samples, per process


@dataclass
class SweepSpec:
    """A validated sweep: base values, axes, sampler, settings, outputs; samples made on demand."""

    values: dict                     # every model parameter, config form (the base of every sample)
    axes: list                       # sampling.Axis
    method: str
    n: int
    seed: int
    settings: dict                   # start_age, output_step, rtol, max_steps
    chunk_size: int
    variables: list                  # kept variables (age and run shaped)
    keep_state: bool
    observations: dict | None
    text: str = ""
    path: Path | None = None
    title: str = ""
    store: Path | None = None        # where it is computed (not part of the hash)
    obs: object = field(default=None, repr=False)        # runs.observations.Observations ([observations])
    likelihood: object = field(default=None, repr=False)  # runs.likelihood.LikelihoodSettings
    _samples: dict | None = field(default=None, repr=False)
    body: str = "moon"               # whose defaults, bounds and priors (changes no number: not hashed)

    # -- derived -------------------------------------------------------------------------------
    @property
    def varied(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def n_samples(self) -> int:
        return sampling.sample_count(self.axes, self.method, self.n)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_samples // self.chunk_size)

    def samples(self) -> dict:
        """Varied values along sample (computed once per process; deterministic from the spec)."""
        if self._samples is None:
            key = self.hash
            if key not in _SAMPLES:
                _SAMPLES[key] = sampling.sample(self.axes, self.method, self.n, self.seed)
            self._samples = _SAMPLES[key]
        return self._samples

    def __getstate__(self):
        # sent to every dask task and MPI rank: the samples are remade there (cached per process)
        state = dict(self.__dict__)
        state["_samples"] = None
        return state

    def records(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Kernel records of samples [lo, hi)."""
        hi = self.n_samples if hi is None else hi
        vals = dict(self.values)
        for name, col in self.samples().items():
            vals[name] = col[lo:hi]
        return make_records(hi - lo, vals)

    def chunk_bounds(self, i: int) -> tuple[int, int]:
        return i * self.chunk_size, min(self.n_samples, (i + 1) * self.chunk_size)

    @property
    def fixed(self) -> dict:
        return {k: v for k, v in self.values.items() if k not in self.varied}

    @property
    def canonical(self) -> dict:
        """What the hash covers (DESIGN.md): everything that changes the numbers in the store."""
        return {
            "kind": "sweep",
            "parameters": self.values,
            "vary": [{"name": a.name, "min": a.lo, "max": a.hi, "scale": a.scale, "n": a.n,
                      "values": list(a.values) if a.values is not None else None} for a in self.axes],
            "sampler": {"method": self.method, "n": self.n, "seed": self.seed},
            "settings": self.settings,
            "chunk_size": self.chunk_size,
            "output": {"variables": self.variables, "keep_state": self.keep_state},
            "observations": self.observations,
        }

    @property
    def hash(self) -> str:
        return spec_hash(self.canonical)


def _closest(name, names):
    close = difflib.get_close_matches(name, list(names), n=1)
    return f": did you mean '{close[0]}'?" if close else ""


def _axis(name, spec, where, body="moon") -> sampling.Axis:
    if name not in PARAMS:
        raise UserError(f"unknown parameter '{name}' in [vary] of {where}{_closest(name, ALL_PARAMS)}")
    p = PARAMS[name]
    if p.kind == "array":
        raise UserError(f"{name} in [vary] of {where}: array parameters cannot be varied")
    if isinstance(spec, list):
        if not spec:
            raise UserError(f"{name} in [vary] of {where}: expected at least one value")
        vals = tuple(validate_value(name, v, f"[vary] of {where}", body) for v in spec)
        return sampling.Axis(name, values=vals)
    if p.kind in ("category", "int", "set"):
        raise UserError(f"{name} in [vary] of {where}: a {p.kind} parameter is varied by a list of values, "
                        f"e.g. {name} = {list(p.choices[:2]) if p.choices else [1, 2]}")
    if not isinstance(spec, dict):
        raise UserError(f"{name} in [vary] of {where}: expected a list of values or a table "
                        "{{ min = ..., max = ..., scale = 'linear'|'log', n = ... }}")
    unknown = set(spec) - {"min", "max", "scale", "n"}
    if unknown:
        key = sorted(unknown)[0]
        raise UserError(f"{name} in [vary] of {where}: unknown key '{key}'{_closest(key, ['min', 'max', 'scale', 'n'])}")
    if ("min" in spec) != ("max" in spec):
        raise UserError(f"{name} in [vary] of {where}: give both min and max (or neither, for the prior range)")
    if "min" in spec:
        lo = validate_value(name, spec["min"], f"[vary] of {where} (min)", body)
        hi = validate_value(name, spec["max"], f"[vary] of {where} (max)", body)
    elif p.prior_for(body) is not None:
        lo, hi = p.prior_for(body)
    else:
        raise UserError(f"{name} in [vary] of {where}: it has no prior range; give min and max")
    if not lo < hi:
        raise UserError(f"{name} in [vary] of {where}: expected min < max, got {lo:g} >= {hi:g}")
    scale = spec.get("scale", p.scale)
    if scale not in ("linear", "log"):
        raise UserError(f"{name} in [vary] of {where}: scale must be 'linear' or 'log', got {scale!r}")
    if scale == "log" and lo <= 0:
        raise UserError(f"{name} in [vary] of {where}: a log scale needs min > 0, got {lo:g}")
    n = spec.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise UserError(f"{name} in [vary] of {where}: n must be a positive integer, got {n!r}")
    return sampling.Axis(name, lo=float(lo), hi=float(hi), scale=scale, n=n)


def _check_samples(spec: SweepSpec, where: str) -> None:
    """The cross-parameter rules (``spec.rules``) for every sample, vectorised over the varied columns."""
    check_consistency(spec.values, spec.settings, where, spec.body)
    s = spec.samples()
    if not s:
        return
    n = spec.n_samples

    for rule, bad in broken_rules(spec.values, s, n):
        k = int(np.argmax(bad))
        shown = ", ".join(f"{name} = {s[name][k]:g}" if not isinstance(s[name][k], str) else
                          f"{name} = {s[name][k]}" for name in spec.varied)
        raise UserError(f"sample {k} of {where} ({shown}): {rule.name}; {int(bad.sum())} of {n} samples are invalid")


def spec_from_text(text: str, where: str = "<spec>", path: Path | None = None) -> SweepSpec:
    """Parse and validate a sweep spec (errors name the section and field)."""
    table = parse_toml(text, where)
    for key in table:
        if key not in SECTIONS:
            raise UserError(f"unknown key '{key}' in {where}{_closest(key, SECTIONS)} "
                            f"(a sweep spec has {', '.join(SECTIONS)})")
    body = validate_body(table["body"], where) if "body" in table else None
    values, settings = defaults(body or "moon")
    title = table.get("title", "")
    if "base" in table:
        base = table["base"]
        if not isinstance(base, str):
            raise UserError(f"base in {where}: expected the path of a scenario file, got {base!r}")
        bpath = Path(base) if path is None or Path(base).is_absolute() else path.parent / base
        scn = load_scenario(bpath, {"body": body} if body else ())
        values, settings = dict(scn.values), dict(scn.settings)
        title = title or scn.title
        body = scn.body
    body = body or "moon"
    for section in ("parameters", "vary", "sampler", "settings", "output"):
        if section in table and not isinstance(table[section], dict):
            raise UserError(f"[{section}] in {where}: expected a table")
    p_values, p_settings, p_text = validate_table(table.get("parameters", {}), f"[parameters] of {where}", body)
    if p_text:
        raise UserError(f"{sorted(p_text)[0]} in [parameters] of {where}: expected a model parameter "
                        "(the body is a top-level key of the spec: body = \"earth\")")
    if p_settings:
        raise UserError(f"{sorted(p_settings)[0]} in [parameters] of {where}: spec-level settings go in [settings]")
    values.update(p_values)
    # settings
    st = dict(table.get("settings", {}))
    chunk = st.pop("chunk_size", DEFAULT_CHUNK)
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise UserError(f"chunk_size in [settings] of {where}: expected a positive integer, got {chunk!r}")
    for key, v in st.items():
        if key not in SPEC:
            raise UserError(f"unknown setting '{key}' in [settings] of {where}"
                            f"{_closest(key, list(SPEC) + ['chunk_size'])}")
        settings[key] = validate_value(key, v, f"[settings] of {where}", body)
    # vary
    axes = [_axis(name, v, where, body) for name, v in table.get("vary", {}).items()]
    # sampler
    smp = dict(table.get("sampler", {}))
    unknown = set(smp) - {"method", "n", "seed"}
    if unknown:
        key = sorted(unknown)[0]
        raise UserError(f"unknown key '{key}' in [sampler] of {where}{_closest(key, ['method', 'n', 'seed'])}")
    method = smp.get("method", "lhs" if any(a.is_range for a in axes) else "grid")
    if method not in sampling.METHODS:
        raise UserError(f"method in [sampler] of {where}: expected one of {', '.join(sampling.METHODS)}, got {method!r}")
    n = smp.get("n", 5 if method == "grid" else 64)
    sampling.check_size(method, n, f"[sampler] of {where}")
    seed = smp.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"seed in [sampler] of {where}: expected a non-negative integer, got {seed!r}")
    # outputs
    out = dict(table.get("output", {}))
    unknown = set(out) - {"variables", "keep_state"}
    if unknown:
        key = sorted(unknown)[0]
        raise UserError(f"unknown key '{key}' in [output] of {where}{_closest(key, ['variables', 'keep_state'])}")
    keep_state = out.get("keep_state", True)
    if not isinstance(keep_state, bool):
        raise UserError(f"keep_state in [output] of {where}: expected true or false, got {keep_state!r}")
    asked = out.get("variables")
    derived = [name for name in OUTPUTS if name not in STATE_NAMES]
    if asked is None:
        kept = derived
    else:
        if not isinstance(asked, list) or not all(isinstance(v, str) for v in asked):
            raise UserError(f"variables in [output] of {where}: expected a list of output names")
        for v in asked:
            if v not in OUTPUTS or v in STATE_NAMES:
                raise UserError(f"unknown output '{v}' in [output] of {where}{_closest(v, derived)} "
                                "(state variables are kept by keep_state)")
        kept = [name for name in derived if name in asked]
    variables = (list(STATE_NAMES) if keep_state else []) + kept + list(SUMMARIES)
    obs_table = table.get("observations")
    obs = lik = obs_spec = None
    if obs_table is not None:
        if not isinstance(obs_table, dict):
            raise UserError(f"[observations] in {where}: expected a table")
        if isinstance(obs_table.get("data"), str) and path is not None and not Path(obs_table["data"]).is_absolute():
            obs_table = {**obs_table, "data": str(path.parent / obs_table["data"])}
        obs, lik, obs_spec = parse_observations_section(obs_table, f"[observations] of {where}")
    spec = SweepSpec(values=values, axes=axes, method=method, n=n, seed=seed, settings=settings,
                     chunk_size=chunk, variables=variables, keep_state=keep_state, observations=obs_spec,
                     text=text, path=path, title=title, obs=obs, likelihood=lik, body=body)
    _check_samples(spec, where)
    return spec


def load_spec(path) -> SweepSpec:
    """Read and validate a sweep spec file."""
    p = Path(path)
    return spec_from_text(read_text(p), str(path), path=p)
