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
    orbit = {}                         #   a categorical sampled with the ranges, uniform over its choices
    orbit = { choices = ["dwyer", "cyclostratigraphy"] }   #   ... or over the choices listed
    [sampler]  method = "grid" | "lhs" | "sobol", n, seed
    [settings] start_age, output_step, rtol, max_steps, chunk_size, inner_chunk_size
    [output]   variables = [...] (default: all), keep_state = true
    [output]   reduced = true              # a reduced sweep: per-model results only (below)
               variables = [...]           #   summaries kept (default REDUCED_DEFAULT)
               at_ages = [2.03, 2.807]     #   named ages (Ga) ...
               at_age_variables = [...]    #   ... at which these outputs are kept (default B_surface)
               per_record = true           #   with [observations]: loglike_record and misfit too

chunk_size is the unit of work: the models one task computes and writes, and the ``done`` ledger's
granularity (default 256; a reduced sweep: n/32 rounded up to a power of two, 256..65,536).
inner_chunk_size < chunk_size shards the store (zarr v3): each unit writes one shard per array, read in
inner chunks of that many samples (default: no sharding).

A reduced sweep never stores a (sample, age) history. It keeps ``status``, the summaries named in
``variables``, ``loglike`` (with [observations]; ``loglike_record`` and ``misfit`` with per_record) and
``NAME_at (sample, named_age)`` for each of ``at_age_variables`` at the named ages. Stages 1-3 are
evaluated only at the ages needed (runs.compute.pipeline.Reduction): the output ages the likelihood
reads, the named ages, and every output age only when a dynamo end age is kept.
    [observations]                     # the comparison issue: selection and likelihood settings

The spec hash (DESIGN.md "The store") is the sha256 of the canonical JSON of ``SweepSpec.canonical``:
parameters, samplers, chunk size, output ages and variables and the observations; never where or how it
runs (store path, backend, workers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import sampling
from .rules import broken_rules
from .config import (check_consistency, defaults, exact, parse_toml, read_text, validate_body, validate_table,
                     validate_value)
from ..errors import UserError
from ..registry import ALL_PARAMS, OUTPUTS, PARAMS, SPEC, STATE_NAMES, SUMMARIES, at_name, make_records
from .hashing import spec_hash
from .config import check_range, check_sections, closest, load_scenario
from ..record.scoring import parse_observations_section

SECTIONS = ("title", "description", "base", "body", "parameters", "vary", "sampler", "settings", "output",
            "observations", "cluster")   # [cluster]: where it runs, not part of the hash
DEFAULT_CHUNK = 256
LARGE_SWEEP = 1 << 22      # beyond: samples a slice at a time, coordinates written by each unit
CHECK_SAMPLES = 1 << 20    # a large sweep checks its rules on the box's corners and this many samples
REDUCED_CHUNK_RANGE = (256, 65536)   # default unit of a reduced sweep: n/32 to a power of two, clipped
# summaries a reduced sweep keeps by default: the per-model results that need no history
REDUCED_DEFAULT = ("age_inner_core_nucleation", "age_bmo_solidified")
# summaries that are read off the whole output grid (a reduced sweep keeping one evaluates every age)
GRID_SUMMARIES = ("age_dynamo_end_core", "age_dynamo_end_bmo", "age_dynamo_end_precession")
OUTPUT_KEYS = ("variables", "keep_state", "reduced", "at_ages", "at_age_variables", "per_record")
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
    variables: list                  # kept variables (age and run shaped; reduced: run shaped only)
    keep_state: bool
    observations: dict | None
    reduced: bool = False            # a reduced sweep (module docstring)
    at_ages: tuple = ()              # named ages (Ga, as given)
    at_age_variables: tuple = ()     # outputs kept at the named ages (reduced)
    per_record: bool = False         # reduced with [observations]: loglike_record and misfit
    inner_chunk_size: int | None = None   # samples per zarr chunk inside a unit's shard (None: no shards)
    text: str = ""
    path: Path | None = None
    title: str = ""
    store: Path | None = None        # where it is computed (not part of the hash)
    obs: object = field(default=None, repr=False)        # runs.observations.Observations ([observations])
    likelihood: object = field(default=None, repr=False)  # runs.likelihood.LikelihoodSettings
    _samples: dict | None = field(default=None, repr=False)
    body: str = "moon"               # whose defaults, bounds and priors (changes no number: not hashed)
    inputs: list = field(default_factory=list)   # files it reads (spec, base, record): never written

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

    @property
    def large(self) -> bool:
        """More than LARGE_SWEEP models: samples are made a slice at a time (``sampling.sample_slice``)
        and each unit writes its own coordinates (io.store ``unit_coordinates``)."""
        return self.n_samples > LARGE_SWEEP

    def samples(self, lo: int = 0, hi: int | None = None) -> dict:
        """Varied values of samples [lo, hi) (default all; deterministic from the spec). A sweep that is
        not ``large`` makes them all once per process; a large one makes the slice asked for."""
        if self.large:
            if hi is None and lo == 0:
                raise ValueError(f"a sweep of {self.n_samples} models makes its samples a slice at a time")
            return sampling.sample_slice(self.axes, self.method, self.n, self.seed, lo,
                                         self.n_samples if hi is None else hi)
        if self._samples is None:
            key = self.hash
            if key not in _SAMPLES:
                _SAMPLES[key] = sampling.sample(self.axes, self.method, self.n, self.seed)
            self._samples = _SAMPLES[key]
        if lo == 0 and hi is None:
            return self._samples
        return {name: col[lo:hi] for name, col in self._samples.items()}

    def __getstate__(self):
        # sent to every dask task and MPI rank: the samples are remade there (cached per process)
        state = dict(self.__dict__)
        state["_samples"] = None
        return state

    def records(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Kernel records of samples [lo, hi)."""
        hi = self.n_samples if hi is None else hi
        vals = dict(self.values)
        vals.update(self.samples(lo, hi))
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
                      "values": list(a.values) if a.values is not None else None,
                      # only for sampled categoricals, so the hashes of older specs stay the same
                      **({"choices": list(a.choices)} if a.choices is not None else {})} for a in self.axes],
            "sampler": {"method": self.method, "n": self.n, "seed": self.seed},
            "settings": self.settings,
            "chunk_size": self.chunk_size,
            "output": self._output_canonical(),
            "observations": self.observations,
        }

    def _output_canonical(self) -> dict:
        out = {"variables": self.variables, "keep_state": self.keep_state}
        if self.reduced:         # (a full-history spec hashes as before: its stores stay resumable)
            out.update(reduced=True, at_ages=[float(a) for a in self.at_ages],
                       at_age_variables=list(self.at_age_variables), per_record=self.per_record)
        if self.inner_chunk_size is not None:
            out["inner_chunk_size"] = self.inner_chunk_size
        return out

    @property
    def stored_variables(self) -> list:
        """The names of the data variables the store holds besides status (run_chunk writes them)."""
        names = list(self.variables)
        if self.obs is not None:
            names.append("loglike")
            if self.per_record:
                names += ["loglike_record", "misfit"]
        names += [at_name(v) for v in self.at_age_variables]
        return names

    @property
    def hash(self) -> str:
        return spec_hash(self.canonical)


def _axis(name, spec, where, body="moon") -> sampling.Axis:
    if name not in PARAMS:
        raise UserError(f"unknown parameter '{name}' in [vary] of {where}{closest(name, ALL_PARAMS)}")
    p = PARAMS[name]
    if p.kind == "array":
        raise UserError(f"{name} in [vary] of {where}: array parameters cannot be varied")
    if isinstance(spec, list):
        if not spec:
            raise UserError(f"{name} in [vary] of {where}: expected at least one value")
        vals = tuple(validate_value(name, v, f"[vary] of {where}", body) for v in spec)
        return sampling.Axis(name, values=vals)
    if p.kind == "category" and isinstance(spec, dict):
        # sampled jointly with the ranges, uniform over the choices (all of them unless restricted)
        unknown = set(spec) - {"choices"}
        if unknown:
            key = sorted(unknown)[0]
            raise UserError(f"{name} in [vary] of {where}: unknown key '{key}' (a sampled categorical takes "
                            f"{{}} for all its choices or {{ choices = [...] }})")
        chosen = spec.get("choices", list(p.choices))
        if not isinstance(chosen, list) or not chosen:
            raise UserError(f"choices of {name} in [vary] of {where}: expected a non-empty list, e.g. "
                            f"{list(p.choices[:2])}")
        vals = tuple(validate_value(name, v, f"[vary] of {where} (choices)", body) for v in chosen)
        if len(set(vals)) != len(vals):
            raise UserError(f"choices of {name} in [vary] of {where}: each choice at most once, got {chosen}")
        return sampling.Axis(name, choices=vals)
    if p.kind in ("category", "int", "set"):
        raise UserError(f"{name} in [vary] of {where}: a {p.kind} parameter is varied by a list of values, "
                        f"e.g. {name} = {list(p.choices[:2]) if p.choices else [1, 2]}"
                        + (f", or sampled with {name} = {{}}" if p.kind == "category" else ""))
    if not isinstance(spec, dict):
        raise UserError(f"{name} in [vary] of {where}: expected a list of values or a table "
                        "{ min = ..., max = ..., scale = 'linear'|'log', n = ... }")
    unknown = set(spec) - {"min", "max", "scale", "n"}
    if unknown:
        key = sorted(unknown)[0]
        raise UserError(f"{name} in [vary] of {where}: unknown key '{key}'{closest(key, ['min', 'max', 'scale', 'n'])}")
    if ("min" in spec) != ("max" in spec):
        raise UserError(f"{name} in [vary] of {where}: give both min and max (or neither, for the prior range)")
    if "min" in spec:
        lo = validate_value(name, spec["min"], f"[vary] of {where} (min)", body)
        hi = validate_value(name, spec["max"], f"[vary] of {where} (max)", body)
    elif p.prior_for(body) is not None:
        lo, hi = p.prior_for(body)
    else:
        raise UserError(f"{name} in [vary] of {where}: it has no prior range; give min and max")
    scale = spec.get("scale", p.scale)
    check_range(name, lo, hi, scale, f"[vary] of {where}")
    n = spec.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise UserError(f"{name} in [vary] of {where}: n must be a positive integer, got {n!r}")
    return sampling.Axis(name, lo=float(lo), hi=float(hi), scale=scale, n=n)


def _check_samples(spec: SweepSpec, where: str) -> None:
    """The cross-parameter rules (``spec.rules``) for every sample, vectorised over the varied columns."""
    check_consistency(spec.values, spec.settings, where, spec.body)
    if spec.large:
        # the rules are monotone in every parameter (sums, differences and thresholds of them,
        # spec/rules.py): the corners of the varied box hold the extremes; the first samples as well
        corners = _box_corners(spec)
        for s, n in ((corners, len(next(iter(corners.values())))), (spec.samples(0, CHECK_SAMPLES), CHECK_SAMPLES)):
            for rule, bad in broken_rules(spec.values, s, n):
                raise UserError(f"{where}: {rule.name} for some samples (e.g. "
                                + ", ".join(f"{k} = {s[k][int(np.argmax(bad))]}" for k in s) + ")")
        return
    s = spec.samples()
    if not s:
        return
    n = spec.n_samples

    for rule, bad in broken_rules(spec.values, s, n):
        k = int(np.argmax(bad))
        shown = ", ".join(f"{name} = {s[name][k]:g}" if not isinstance(s[name][k], str) else
                          f"{name} = {s[name][k]}" for name in spec.varied)
        raise UserError(f"sample {k} of {where} ({shown}): {rule.name}; {int(bad.sum())} of {n} samples are invalid")


def _bytes(n: float) -> str:
    for unit, k in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n / 1e3:.1f} kB"


def available_memory() -> int:
    """Bytes of memory available to this process (psutil, a dependency of dask.distributed)."""
    import psutil
    return int(psutil.virtual_memory().available)


def _check_memory(spec: SweepSpec, where: str) -> None:
    """Refuse a sampler size or chunk size whose arrays would not fit in memory, naming the size that fits.

    The samples (every varied column along sample, and the checks and casts made on them: about
    ``8 * (3 * n_varied + 8)`` bytes per model) live in the driver; a chunk's state, diagnostics and
    dynamo outputs (about ``8 * 2 * n_outputs * n_age`` bytes per model) in every worker. Half the
    available memory is the limit.
    """
    limit = available_memory() / 2
    per_model = 8 * (3 * len(spec.axes) + 8)
    n = spec.n_samples
    need = n * per_model
    if spec.large:          # samples are made a slice at a time; LHS keeps its block of n points
        need = 8 * 2 * spec.n * sum(a.is_range for a in spec.axes) if spec.method == "lhs" else 0
    if need > limit:
        scale = limit / need
        if spec.method == "grid":
            fits = f"use fewer grid points (at most {max(1, int(n * scale)):,} models in all)"
        else:
            per_n = n // spec.n
            m = max(1, int(spec.n * scale))
            if spec.method == "sobol":
                m = 1 << (m.bit_length() - 1)
            fits = f"use n <= {m}" + (f" ({per_n} models per point: the outer product of the listed values)"
                                      if per_n > 1 else "")
        raise UserError(f"n = {spec.n} in [sampler] of {where}: {n:,} models need about {_bytes(need)} of memory "
                        f"to sample, {_bytes(2 * limit)} is available; {fits}")
    start, step = spec.settings["start_age"], spec.settings["output_step"]
    n_age = int(round(start / step)) + 1
    per_chunk_model = 8 * 2 * (len(OUTPUTS) + len(SUMMARIES)) * n_age
    if spec.reduced:        # computed in batches of bounded memory; a unit keeps its per-model results
        per_chunk_model = 8 * 2 * (len(spec.variables) + 2 + len(spec.at_age_variables) * len(spec.at_ages)
                                   + (2 * len(spec.obs.records) if spec.per_record else 0))
    chunk = min(spec.chunk_size, n)
    if chunk * per_chunk_model > limit:
        fits = max(1, int(limit // per_chunk_model))
        raise UserError(f"chunk_size = {spec.chunk_size} in [settings] of {where}: a chunk of {chunk:,} models needs "
                        f"about {_bytes(chunk * per_chunk_model)} of memory per worker, {_bytes(2 * limit)} is "
                        f"available; use chunk_size <= {fits}")


def _box_corners(spec: SweepSpec) -> dict:
    """Every combination of each varied axis's extremes (explicit values: every value)."""
    import itertools

    choices = [a.values if not a.is_range else a.choices if a.choices is not None else (a.lo, a.hi)
               for a in spec.axes]
    combos = list(itertools.product(*choices))
    out = {}
    for j, a in enumerate(spec.axes):
        col = [c[j] for c in combos]
        out[a.name] = col if isinstance(col[0], str) else np.asarray(col, dtype=float)
    return out


def spec_from_text(text: str, where: str = "<spec>", path: Path | None = None) -> SweepSpec:
    """Parse and validate a sweep spec (errors name the section and field)."""
    table = parse_toml(text, where)
    check_sections(table, SECTIONS, where, "a sweep spec")
    body = validate_body(table["body"], where) if "body" in table else None
    values, settings = defaults(body or "moon")
    title = table.get("title", "")
    inputs = [path] if path is not None else []
    if "base" in table:
        base = table["base"]
        if not isinstance(base, str):
            raise UserError(f"base in {where}: expected the path of a scenario file, got {base!r}")
        bpath = Path(base) if path is None or Path(base).is_absolute() else path.parent / base
        scn = load_scenario(bpath, {"body": body} if body else ())
        inputs.append(bpath)
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
    chunk = st.pop("chunk_size", None)
    inner = st.pop("inner_chunk_size", None)
    for key, v in (("chunk_size", chunk), ("inner_chunk_size", inner)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise UserError(f"{key} in [settings] of {where}: expected a positive integer, got {v!r}")
    for key, v in st.items():
        if key not in SPEC:
            raise UserError(f"unknown setting '{key}' in [settings] of {where}"
                            f"{closest(key, list(SPEC) + ['chunk_size', 'inner_chunk_size'])}")
        settings[key] = validate_value(key, v, f"[settings] of {where}", body)
    # vary
    if not table.get("vary"):
        raise UserError(f"[vary] of {where} is {'empty' if 'vary' in table else 'missing'}: a sweep varies at least "
                        "one parameter, e.g. [vary] r_core = {} (its prior range); one model is `lunadyn run`")
    axes = [_axis(name, v, where, body) for name, v in table["vary"].items()]
    # sampler
    smp = dict(table.get("sampler", {}))
    unknown = set(smp) - {"method", "n", "seed"}
    if unknown:
        key = sorted(unknown)[0]
        raise UserError(f"unknown key '{key}' in [sampler] of {where}{closest(key, ['method', 'n', 'seed'])}")
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
    unknown = set(out) - set(OUTPUT_KEYS)
    if unknown:
        key = sorted(unknown)[0]
        raise UserError(f"unknown key '{key}' in [output] of {where}{closest(key, OUTPUT_KEYS)}")
    reduced = out.get("reduced", False)
    if not isinstance(reduced, bool):
        raise UserError(f"reduced in [output] of {where}: expected true or false, got {reduced!r}")
    if reduced:
        variables, at_ages, at_vars, per_record = _reduced_output(out, where, settings)
        keep_state = False
    else:
        for key in ("at_ages", "at_age_variables", "per_record"):
            if key in out:
                raise UserError(f"{key} in [output] of {where}: only a reduced sweep takes it (reduced = true)")
        at_ages, at_vars, per_record = (), (), False
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
                    raise UserError(f"unknown output '{v}' in [output] of {where}{closest(v, derived)} "
                                    "(state variables are kept by keep_state)")
            kept = [name for name in derived if name in asked]
        variables = (list(STATE_NAMES) if keep_state else []) + kept + list(SUMMARIES)
    if chunk is None:
        chunk = DEFAULT_CHUNK if not reduced else reduced_unit(sampling.sample_count(axes, method, n))
    if inner is not None and chunk % inner:
        raise UserError(f"inner_chunk_size in [settings] of {where}: expected a divisor of chunk_size = {chunk}, "
                        f"got {inner}")
    if inner is not None and inner >= chunk:
        inner = None                      # one inner chunk per unit: no sharding
    obs_table = table.get("observations")
    obs = lik = obs_spec = None
    if obs_table is not None:
        if not isinstance(obs_table, dict):
            raise UserError(f"[observations] in {where}: expected a table")
        if isinstance(obs_table.get("data"), str) and path is not None and not Path(obs_table["data"]).is_absolute():
            obs_table = {**obs_table, "data": str(path.parent / obs_table["data"])}
        obs, lik, obs_spec = parse_observations_section(obs_table, f"[observations] of {where}")
    if obs is not None and getattr(obs, "path", None):
        inputs.append(Path(obs.path))
    if per_record and obs is None:
        raise UserError(f"per_record in [output] of {where}: needs an [observations] section")
    spec = SweepSpec(values=values, axes=axes, method=method, n=n, seed=seed, settings=settings,
                     chunk_size=chunk, variables=variables, keep_state=keep_state, observations=obs_spec,
                     text=text, path=path, title=title, obs=obs, likelihood=lik, body=body, inputs=inputs,
                     reduced=reduced, at_ages=at_ages, at_age_variables=at_vars, per_record=per_record,
                     inner_chunk_size=inner)
    _check_memory(spec, where)
    _check_samples(spec, where)
    return spec


def reduced_unit(n_samples: int) -> int:
    """Default unit of work of a reduced sweep: n/32 rounded up to a power of two, within
    REDUCED_CHUNK_RANGE (a function of the size only: it is part of the spec hash). 32 units or more
    keep a few workers busy to the end; 2^16 models bound a unit's time (~10 s) and memory."""
    lo, hi = REDUCED_CHUNK_RANGE
    k = max(1, -(-n_samples // 32))
    return int(min(hi, max(lo, 1 << (k - 1).bit_length())))


def _name_list(out, key, where, allowed, hint=""):
    v = out[key]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise UserError(f"{key} in [output] of {where}: expected a list of output names")
    for x in v:
        if x not in allowed:
            raise UserError(f"unknown {hint}'{x}' in {key} of [output] of {where}{closest(x, allowed)}")
    return v


def _reduced_output(out, where, settings):
    """(variables, at_ages, at_age_variables, per_record) of a reduced sweep's [output] table."""
    if out.get("keep_state", False) is not False:
        raise UserError(f"keep_state in [output] of {where}: a reduced sweep keeps no history (reduced = true); "
                        "remove keep_state or set reduced = false")
    if "variables" in out:
        asked = out["variables"]
        if isinstance(asked, list):
            for x in asked:
                if x in OUTPUTS:
                    raise UserError(f"{x} in variables of [output] of {where}: a reduced sweep keeps no "
                                    f"(sample, age) history; keep it at named ages: at_ages = [...], "
                                    f"at_age_variables = [\"{x}\"]")
        names = _name_list(out, "variables", where, list(SUMMARIES), "summary ")
        variables = [name for name in SUMMARIES if name in names]
    else:
        variables = list(REDUCED_DEFAULT)
    at_ages = out.get("at_ages", [])
    if not isinstance(at_ages, list) or not all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                                for a in at_ages):
        raise UserError(f"at_ages in [output] of {where}: expected a list of ages in Ga, e.g. [2.03, 2.807]")
    start = float(settings["start_age"])
    for a in at_ages:
        if not 0.0 <= a <= start:
            raise UserError(f"at_ages in [output] of {where}: {a:g} Ga is outside [0, start_age = {start:g}] Ga")
    if len(set(at_ages)) != len(at_ages):
        raise UserError(f"at_ages in [output] of {where}: an age is named twice")
    if "at_age_variables" in out:
        at_vars = _name_list(out, "at_age_variables", where, list(OUTPUTS), "output ")
        if at_vars and not at_ages:
            raise UserError(f"at_age_variables in [output] of {where}: name the ages too (at_ages = [...])")
    else:
        at_vars = ["B_surface"] if at_ages else []
    per_record = out.get("per_record", False)
    if not isinstance(per_record, bool):
        raise UserError(f"per_record in [output] of {where}: expected true or false, got {per_record!r}")
    return variables, tuple(float(a) for a in at_ages), tuple(at_vars), per_record


def load_spec(path) -> SweepSpec:
    """Read and validate a sweep spec file."""
    p = Path(path)
    return spec_from_text(read_text(p), str(path), path=p)
