"""``lunadyn infer``: posterior samples and the evidence of each dynamo hypothesis, on the sweep backends.

For every hypothesis of an inference spec (runs.spec.inference: a base scenario, free parameters with
priors, named sets of fixed parameters such as ``sources``) the waste-free tempering SMC of
runs.inference.evidence samples the posterior of the free parameters and estimates ln Z ± err. The likelihood
(data/README.md, runs.likelihood) is split into three groups of records — the rest, CE-5, CE-6 — tempered
in that order (path A: rest → CE-5 → CE-6), so ln Z(all but CE-6) is the evidence at the end of the
CE-5 stage; a second path B forks at the end of the "rest" stage and tempers CE-6 only, giving ln Z(all
but CE-5). Hence the predictive checks ln p(CE-6 | rest, H) = ln Z(all) − ln Z(all but CE-6) and
ln p(CE-5 | rest, H) = ln Z(all) − ln Z(all but CE-5) (shared stages cancel in their errors).

Every batch of models (the N = M·P prior draws, then one batch of M per Metropolis step) is split into
chunks of ``chunk_size`` parameter vectors and mapped over a backend — serial, dask (a LocalCluster or a
scheduler address) or MPI (``mpiexec -n N lunadyn infer ... --backend mpi``) — whose workers compute
each chunk with ``runs.compute.pipeline.compute`` and return only ln L per group and four numbers per model
(the predicted fields at the CE-5 and CE-6 sites and the source that makes them): parameter vectors in,
likelihoods out, no model array through the scheduler. On dask the hypotheses are sampled side by side
(one driver thread each; their batches interleave on the workers, their results are the serial ones).

After every generation the sampler's state is checkpointed (``STORE/_state``); an interrupted run
resumes from the last finished generation with the same random state, so it ends with the same result,
bitwise, as an uninterrupted one. At the end ``field_draws`` posterior draws per hypothesis are
recomputed through the same backend; each chunk writes its field histories into the store itself.

The inference store (zarr v3, ``xarray.open_zarr`` reads it; ``to_arviz`` gives ArviZ DataTrees):
dimensions hypothesis, hypothesis_ref, parameter, draw, quantile, site, source, field_draw, age;
``samples (hypothesis, draw, parameter)`` and ``weight``/``loglike (hypothesis, draw)`` (the final
weighted population), ``ln_z``, ``ln_z_err``, ``n_evaluations``, ``ess`` (chain-aware), ``ess_kish``,
``n_generations``, ``converged``, ``wall_time_s``, ``largest_island_share`` (an evidence is unresolved
when one island carries half of it or more: ``MAX_ISLAND_SHARE``), ``islands_ln_z (hypothesis, island)``, ``ln_z_without_ce6``/``_ce5`` (+ ``_err``),
``ln_p_ce6_given_rest``/``ln_p_ce5_given_rest`` (+ ``_err``) ``(hypothesis,)``; ``ln_bayes_factor`` and
its error ``(hypothesis, hypothesis_ref)`` (ln Z_h − ln Z_ref); ``posterior_quantiles (hypothesis,
parameter, quantile)``; the posterior predictive field at the CE-5/CE-6 sites and ages
``predictive_B_site (hypothesis, site, quantile)`` (µT at the site) and the posterior mass of the source
that makes it ``source_weight (hypothesis, site, source)``; the field histories of the draws
``B_surface``, ``B_core``, ``B_bmo``, ``B_precession (hypothesis, field_draw, age)`` and their envelope
``B_surface_quantiles (hypothesis, quantile, age)``.
"""
from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from functools import partial
from pathlib import Path

import numpy as np

from ...cluster.backends import get_backend
from ..compute.pipeline import compute as compute_models
from ..compute.pipeline import output_ages, warmup
from ..errors import UserError
from ..io.store import consolidate, is_store, provenance
from ..record.likelihood import interp_ages, log_likelihood, make_plan, site_factor, source_at_ages
from ..record.scoring import chang_e_boxes, observation_attrs
from ..registry import PARAMS, make_records
from ..spec.hashing import canonical_json, spec_differences
from ..spec.inference import InferenceSpec, load_spec
from ..spec.rules import satisfied
from ..status import THERMAL_CODE_MASK
from . import evidence as ev
from .compare import weighted_quantiles

MARKER = "lunadyn_inference"
QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)
SITES = (("ce5_basalt", "CE-5"), ("ce6_basalt", "CE-6"))
SOURCE_NAMES = ("none", "core", "bmo", "precession")
GROUPS = ("rest", "CE-5", "CE-6")
FIELD_DRAWS = 200
FIELD_VARIABLES = ("B_surface", "B_core", "B_bmo", "B_precession")
LOW_ESS = 100.0
HIGH_ERR = 0.5
# an evidence is resolved when no island carries half of it: with R islands of one run agreeing to their
# single-run errors the largest share is ~1.5/R-3/R; a share near 1 means the islands disagree (one of
# them found posterior mass the others missed) and ln Z, with its error, rests on a single population
MAX_ISLAND_SHARE = 0.5


# --------------------------------------------------------------------------------------------------
# the problem computed in the workers


class InferenceProblem:
    """What a worker needs to turn unit-cube points into ln L per record group (small, picklable)."""

    def __init__(self, spec):
        self.values = {h: spec.hypothesis_values(h) for h in spec.hypotheses}
        self.hypotheses = list(spec.hypotheses)
        self.priors = list(spec.priors)
        self.settings = dict(spec.settings)
        self.obs = spec.obs
        self.lsettings = spec.likelihood
        ids = spec.obs.ids
        rest = [i for i, r in enumerate(ids) if r not in dict(SITES)]
        self.groups = {"rest": rest}
        for rid, label in SITES:
            if rid in ids:
                self.groups[label] = [ids.index(rid)]
        self.groups = {k: v for k, v in self.groups.items() if v}
        boxes = {b["id"]: b for b in chang_e_boxes()}
        self.sites = [(label, boxes[rid]["age"], boxes[rid]["lat"]) for rid, label in SITES if rid in boxes]
        # the likelihood's quadrature plan for the output grid, made once here (it travels with the
        # problem, so a worker that unpickles a fresh copy per task does not rebuild it: ~50 ms a task)
        self._plan = make_plan(output_ages(self.settings["start_age"], self.settings["output_step"]), self.obs,
                               self.lsettings)

    @property
    def ndim(self) -> int:
        return len(self.priors)

    @property
    def group_names(self) -> list[str]:
        return list(self.groups)

    def physical(self, U) -> np.ndarray:
        U = np.atleast_2d(U)
        return np.stack([p.physical(U[:, j]) for j, p in enumerate(self.priors)], axis=1)

    def consistent(self, h: str, X) -> np.ndarray:
        """True for each model (free values X) that keeps the cross-parameter rules (spec.rules, vectorised;
        the hypothesis' fixed values, the body and the output grid were checked with the spec)."""
        return satisfied(self.values[h], {p.name: X[:, j] for j, p in enumerate(self.priors)}, X.shape[0])

    def compute(self, h: str, X):
        """runs.compute.pipeline.compute of the models with physical free values X (m, k)."""
        values = dict(self.values[h])
        for j, p in enumerate(self.priors):
            values[p.name] = X[:, j]
        return compute_models(make_records(X.shape[0], values), self.settings, keep=set(FIELD_VARIABLES))

    def loglike_chunk(self, h: str, U):
        """(ll (n, G) per record group, blobs (n, 4): site fields (µT) and source codes at CE-5, CE-6)."""
        U = np.asarray(U, dtype=float)
        n = U.shape[0]
        ll = np.full((n, len(self.groups)), -np.inf)
        blobs = np.full((n, 2 * len(SITES)), np.nan)
        X = self.physical(U)
        ok = self.consistent(h, X)
        if not ok.any():
            return ll, blobs
        res = self.compute(h, X[ok])
        ages, out = res["age"], res["outputs"]
        _, per = log_likelihood(ages, out["B_surface"], self.obs, plan=self._plan)
        failed = (res["status"] & THERMAL_CODE_MASK) != 0
        g = np.stack([per[:, idx].sum(axis=1) for idx in self.groups.values()], axis=1)
        g[failed] = -np.inf
        ll[ok] = g
        t = np.array([age for _, age, _ in self.sites])
        if t.size:
            b = interp_ages(ages, out["B_surface"], t) * 1e6 * site_factor(np.array([lat for *_, lat in self.sites]))
            src = source_at_ages(ages, out["B_core"], out["B_bmo"], out["B_precession"], t)
            bl = np.full((ok.sum(), 2 * len(SITES)), np.nan)
            bl[:, : t.size] = b
            bl[:, len(SITES): len(SITES) + t.size] = src
            bl[failed] = np.nan
            blobs[ok] = bl
        return ll, blobs

    def fields_chunk(self, h: str, store: str, lo: int, U) -> dict:
        """Field histories of posterior draws [lo, lo + len(U)) of hypothesis h, written into the store."""
        import zarr

        X = self.physical(U)
        res = self.compute(h, X)
        g = zarr.open_group(store, mode="r+")
        k = self.hypotheses.index(h)
        for name in FIELD_VARIABLES:
            B = np.asarray(res["outputs"][name], dtype=np.float32)
            B[(res["status"] & THERMAL_CODE_MASK) != 0] = np.nan
            g[name][k, lo: lo + X.shape[0], :] = B
        return {"n": int(X.shape[0])}


def _warm_worker():
    return warmup()


def _loglike_task(problem, h, U):
    return problem.loglike_chunk(h, U)


def _fields_task(problem, h, store, item):
    lo, U = item
    return problem.fields_chunk(h, store, lo, U)


# --------------------------------------------------------------------------------------------------
# backends: many small maps on one session


class Runner:
    """Maps a function over small items on a backend of ``cluster.backends`` kept open for the whole
    inference (``map_items``: one batch per sampler step; ``each``: once on every worker)."""

    def __init__(self, backend="serial", workers=None, scheduler=None, cluster=None):
        options = {"dask": {"workers": workers, "scheduler": scheduler, "cluster": cluster}}.get(backend, {})
        if backend not in ("serial", "dask", "mpi"):
            raise UserError(f"--backend {backend}: expected serial, dask or mpi")
        self.backend = get_backend(backend, **options)

    @property
    def is_root(self) -> bool:
        return self.backend.is_root

    def __enter__(self):
        self.backend.__enter__()
        return self

    def __exit__(self, *exc):
        return self.backend.__exit__(*exc)

    def serve(self) -> None:
        """MPI ranks other than 0: compute their share of rank 0's batches until it is done."""
        self.backend.serve()

    def warm(self) -> None:
        """Load the compiled kernels on every worker before the clock runs."""
        self.backend.each(_warm_worker)

    def map(self, fn, items) -> list:
        return self.backend.map_items(fn, list(items))

    @property
    def concurrent(self) -> bool:
        """Whether several threads may map at once (a dask client is thread-safe; the MPI root hands
        batches to its ranks one at a time, and serial computes in the calling thread)."""
        return self.backend.name == "dask"

    @property
    def n_workers(self) -> int:
        """Worker processes the backend computes on (1 in process)."""
        if self.backend.name == "dask":
            return max(1, len(self.backend.client().scheduler_info().get("workers", {})))
        if self.backend.name == "mpi":
            return self.backend.comm.size
        return 1


class Stopped(RuntimeError):
    """Raised in a hypothesis' thread when the inference stops (its last finished generation is kept)."""


class BatchLikelihood:
    """loglike(U) for runs.inference.evidence: U split into chunks, mapped over the runner, reassembled in order."""

    def __init__(self, runner: Runner, fn, chunk_size: int, stop: threading.Event | None = None):
        self.runner, self.fn, self.chunk_size, self.stop = runner, fn, int(chunk_size), stop
        self._workers = None
        self.n_models = 0
        self.seconds = 0.0

    def chunks(self, U) -> list:
        """Chunks of at most chunk_size rows, and at least two per worker when the batch allows, of equal
        size (a batch smaller than 2·workers·chunk_size would otherwise leave workers idle; the models
        do not depend on how a batch is chunked)."""
        n = U.shape[0]
        if self._workers is None:
            self._workers = self.runner.n_workers
        k = max(-(-n // self.chunk_size), min(n, 2 * self._workers if self._workers > 1 else 1), 1)
        return [c for c in np.array_split(U, k) if c.shape[0]]

    def __call__(self, U):
        U = np.asarray(U, dtype=float)
        if self.stop is not None and self.stop.is_set():
            raise Stopped("another hypothesis of this inference failed or was interrupted")
        t0 = time.perf_counter()
        parts = self.runner.map(self.fn, self.chunks(U))
        self.seconds += time.perf_counter() - t0
        self.n_models += U.shape[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# --------------------------------------------------------------------------------------------------
# one hypothesis: paths A and B, checkpointed


def _save(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _load(path: Path):
    with open(path, "rb") as f:
        return pickle.load(f)


def hypothesis_seed(seed: int, k: int, branch: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), int(k), int(branch)])


def run_hypothesis(group_names, ndim, loglike, settings: ev.SMCSettings, seed, state_dir: Path | None = None,
                   label: str = "h", progress=None) -> dict:
    """Posterior and evidences of one hypothesis (module docstring), resumable from ``state_dir``.

    group_names: the likelihood groups in tempering order (``rest`` first, then ``CE-5``, ``CE-6`` when
    present); loglike(U) -> (ll (n, G), blobs (n, B)). Returns the combined summaries of paths A and B.
    """
    names = list(group_names)
    stages_a = [[g] for g in range(len(names))]
    fork_b = "CE-5" in names and "CE-6" in names and names[0] == "rest"
    files = {k: state_dir / f"{label}.{k}.pkl" for k in ("A", "B", "snap", "result")} if state_dir else {}
    if state_dir and files["result"].exists():
        return _load(files["result"])

    def checkpoint(key, obj):
        if state_dir:
            _save(obj, files[key])

    def load(key):
        return _load(files[key]) if state_dir and files[key].exists() else None

    # path A: rest -> CE-5 -> CE-6, R islands in lockstep
    islands = load("A")
    if islands is None:
        islands = ev.initial_states(loglike, ndim, stages_a, settings, hypothesis_seed(seed[0], seed[1], 0))
        checkpoint("A", islands)
    snaps = load("snap") or [None] * len(islands)
    while not all(s.finished for s in islands):
        ev.step(islands, loglike, settings)
        if fork_b:
            for k, s in enumerate(islands):
                if snaps[k] is None and s.stage_ends and s.stage_ends[0]["stage"] == 0 and s.converged \
                        and (s.stage > 0 or s.beta >= 1.0) and s.generation == s.stage_ends[0]["generation"]:
                    snaps[k] = s.copy()
            checkpoint("snap", snaps)
        checkpoint("A", islands)
        if progress:
            progress(label, "A", islands)
    paths = {"A": islands, "B": None}
    # path B: rest -> CE-6, forked from each island at the end of its rest stage
    if fork_b and all(x is not None for x in snaps):
        b = load("B")
        if b is None:
            b = [ev.fork(x, [[0], [names.index("CE-6")]], hypothesis_seed(seed[0], seed[1], 100 + k))
                 for k, x in enumerate(snaps)]
            checkpoint("B", b)
        while not all(s.finished for s in b):
            ev.step(b, loglike, settings)
            checkpoint("B", b)
            if progress:
                progress(label, "B", b)
        paths["B"] = b
    result = _hypothesis_result(names, paths, settings)
    if state_dir:
        _save(result, files["result"])
        for k in ("A", "B", "snap"):
            files[k].unlink(missing_ok=True)
    return result


def _hypothesis_result(names, paths, settings) -> dict:
    a = paths["A"]
    sa = ev.summary(a, settings)
    out = {**{k: v for k, v in sa.items() if k != "stage_ends"}, "stage_ends_A": sa["stage_ends"],
           "history_A": [s.history for s in a]}
    nan = float("nan")
    out.update(ln_z_without_ce6=nan, ln_z_without_ce6_err=nan, ln_p_ce6=nan, ln_p_ce6_err=nan,
               ln_z_without_ce5=nan, ln_z_without_ce5_err=nan, ln_p_ce5=nan, ln_p_ce5_err=nan)
    ends = sa["stage_ends"]
    complete = sa["converged"] and len(ends) == len(names)
    if complete and names[-1] == "CE-6" and len(ends) >= 1:
        last = ends[-1]
        if len(ends) > 1:
            prev = ends[-2]
            out["ln_z_without_ce6"], out["ln_z_without_ce6_err"] = prev["ln_z"], prev["ln_z_err"]
            out["ln_p_ce6"], out["ln_p_ce6_err"] = ev.combine_ln_z(last["islands_ln_z"], last["islands_var_ln_z"],
                                                                   prev["islands_ln_z"], prev["islands_var_ln_z"])
        else:
            out["ln_z_without_ce6"], out["ln_z_without_ce6_err"] = 0.0, 0.0
            out["ln_p_ce6"], out["ln_p_ce6_err"] = last["ln_z"], last["ln_z_err"]
    b = paths["B"]
    if b is not None and complete:
        sb = ev.summary(b, settings)
        if sb["converged"] and sb["stage_ends"]:
            last, end_b, rest = ends[-1], sb["stage_ends"][-1], ends[0]
            out["ln_z_without_ce5"], out["ln_z_without_ce5_err"] = end_b["ln_z"], end_b["ln_z_err"]
            # ln Z(all) - ln Z(all but CE-5): two paths sharing the rest stage (its error cancels within islands)
            za, zb = np.array(last["islands_ln_z"]), np.array(end_b["islands_ln_z"])
            va = np.array(last["islands_var_ln_z"]) - np.array(rest["islands_var_ln_z"])
            vb = np.array(end_b["islands_var_ln_z"]) - np.array(rest["islands_var_ln_z"])
            d, e = ev.combine_ln_z(za, np.maximum(va, 0) + np.maximum(vb, 0), zb, np.zeros_like(vb))
            out["ln_p_ce5"], out["ln_p_ce5_err"] = d, e
            out["n_evaluations"] += int(sum(s.n_evaluations - s.fork_evaluations for s in b))
            out["n_generations"] += int(max(s.generation - s.fork_generation for s in b))
            out["history_B"] = [s.history for s in b]
    return out


# --------------------------------------------------------------------------------------------------
# the store


def is_inference_store(path) -> bool:
    import zarr

    p = Path(path)
    if not (p / "zarr.json").is_file():
        return False
    try:
        return MARKER in zarr.open_group(str(p), mode="r").attrs
    except Exception:
        return False


def _prepare_store(spec, path: Path, overwrite: bool):
    """Create the store (marker and hash first) or reopen it to resume; returns the zarr group."""
    import zarr

    if path.exists() and any(path.iterdir()):
        if not is_inference_store(path):
            what = "a lunadyn sweep store" if is_store(path) else "not a lunadyn inference store"
            raise UserError(f"{path} exists and is {what}; refusing to modify it (choose another -o)")
        g = zarr.open_group(str(path), mode="r+")
        if g.attrs.get("spec_hash") == spec.hash and not overwrite:
            return g
        if not overwrite:
            what = spec_differences(json.loads(g.attrs["spec"]), json.loads(canonical_json(spec.canonical)))
            raise UserError(f"{path} holds an inference of a different spec (differs in: {what}); "
                            "use --overwrite to replace it or choose another -o")
        shutil.rmtree(path)
    g = zarr.open_group(str(path), mode="w", zarr_format=3)
    g.attrs.update({MARKER: 1, "spec": canonical_json(spec.canonical), "spec_hash": spec.hash, "complete": 0})
    return g


def _array(g, name, data, dims, attrs=None, chunks=None):
    data = np.asarray(data)
    kw = {}
    if data.dtype.kind in "OU":
        dtype = str
    else:
        dtype = data.dtype
        kw["fill_value"] = np.nan if data.dtype.kind == "f" else 0
    a = g.create_array(name, shape=data.shape, dtype=dtype, dimension_names=dims, attributes=attrs or {},
                       chunks=chunks or data.shape or None, overwrite=True, **kw)
    a[...] = data
    return a


def _resample_indices(W, k, seed) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 7919]))
    c = np.cumsum(W)
    c[-1] = 1.0
    return np.searchsorted(c, (rng.random() + np.arange(k)) / k)


def write_store(path: Path, spec, problem: InferenceProblem, results: dict, runner: Runner, wall: dict,
                field_draws: int = FIELD_DRAWS) -> None:
    """Every array of the module docstring; the draws' fields are computed through the runner."""
    import zarr

    g = zarr.open_group(str(path), mode="r+")
    hyps = problem.hypotheses
    H, d = len(hyps), problem.ndim
    N = results[hyps[0]]["u"].shape[0]
    ages = output_ages(spec.settings["start_age"], spec.settings["output_step"])
    names = [p.name for p in problem.priors]
    units = {p.name: PARAMS[p.name].unit for p in problem.priors}
    _array(g, "hypothesis", np.array(hyps, dtype=str), ("hypothesis",), {"long_name": "dynamo hypothesis"})
    _array(g, "hypothesis_ref", np.array(hyps, dtype=str), ("hypothesis_ref",),
           {"long_name": "reference hypothesis of a Bayes factor"})
    _array(g, "parameter", np.array(names, dtype=str), ("parameter",),
           {"long_name": "free parameter", "units_by_parameter": json.dumps(units)})
    _array(g, "draw", np.arange(N), ("draw",), {"long_name": "particle of the final SMC population"})
    _array(g, "quantile", np.array(QUANTILES), ("quantile",), {"long_name": "posterior quantile"})
    _array(g, "site", np.array([s for _, s in SITES], dtype=str), ("site",),
           {"long_name": "Chang'e landing site (record age and site latitude)"})
    _array(g, "source", np.array(SOURCE_NAMES, dtype=str), ("source",),
           {"long_name": "dynamo source with the largest field (none: no field)"})
    _array(g, "age", ages, ("age",), {"long_name": "age before present", "units": "Ga"})
    K = int(field_draws)
    _array(g, "field_draw", np.arange(K), ("field_draw",), {"long_name": "posterior draw (resampled by weight)"})

    samples = np.stack([problem.physical(results[h]["u"]) for h in hyps])
    weights = np.stack([results[h]["weights"] for h in hyps])
    ll = np.stack([np.where(np.isfinite(results[h]["ll"]).all(axis=1), results[h]["ll"].sum(axis=1), -np.inf)
                   for h in hyps])
    _array(g, "samples", samples, ("hypothesis", "draw", "parameter"),
           {"long_name": "posterior samples (final weighted SMC population), in each parameter's unit"})
    _array(g, "weight", weights, ("hypothesis", "draw"), {"long_name": "normalised posterior weight", "units": "1"})
    _array(g, "loglike", ll, ("hypothesis", "draw"), {"long_name": "log-likelihood of every selected record"})
    scalar = {
        "ln_z": ("ln_z", "log evidence ln Z (all selected records)"),
        "ln_z_err": ("ln_z_err", "error (1 sigma, single-run estimate) of ln Z"),
        "n_evaluations": ("n_evaluations", "model evaluations"),
        "ess": ("ess", "effective sample size of the posterior (chain-aware, smallest over parameters)"),
        "ess_kish": ("ess_kish", "Kish effective sample size of the final weights"),
        "n_generations": ("n_generations", "SMC generations"),
        "ln_z_without_ce6": ("ln_z_without_ce6", "ln Z of every selected record but CE-6"),
        "ln_z_without_ce6_err": ("ln_z_without_ce6_err", "its error"),
        "ln_z_without_ce5": ("ln_z_without_ce5", "ln Z of every selected record but CE-5"),
        "ln_z_without_ce5_err": ("ln_z_without_ce5_err", "its error"),
        "ln_p_ce6_given_rest": ("ln_p_ce6", "ln p(CE-6 | other records, H) = ln Z(all) - ln Z(all but CE-6)"),
        "ln_p_ce6_given_rest_err": ("ln_p_ce6_err", "its error"),
        "ln_p_ce5_given_rest": ("ln_p_ce5", "ln p(CE-5 | other records, H) = ln Z(all) - ln Z(all but CE-5)"),
        "ln_p_ce5_given_rest_err": ("ln_p_ce5_err", "its error"),
    }
    for name, (key, long) in scalar.items():
        _array(g, name, np.array([float(results[h][key]) for h in hyps]), ("hypothesis",), {"long_name": long})
    isl = np.array([results[h]["islands_ln_z"] for h in hyps], dtype=float)
    _array(g, "islands_ln_z", isl, ("hypothesis", "island"),
           {"long_name": "ln Z of each island (independent population) of the run; ln_z is the log of their mean Z"})
    _array(g, "largest_island_share", np.array([float(results[h]["largest_island_share"]) for h in hyps]),
           ("hypothesis",), {"long_name": "the largest island's share of Z (resolved below "
                                           f"{MAX_ISLAND_SHARE:g}: no island carries half of the evidence)",
                             "units": "1"})
    _array(g, "converged", np.array([int(results[h]["converged"]) for h in hyps], dtype=np.int8), ("hypothesis",),
           {"long_name": "1 if every stage reached beta = 1 within max_generations"})
    _array(g, "wall_time_s", np.array([float(wall.get(h, math.nan)) for h in hyps]), ("hypothesis",),
           {"long_name": "wall time of this run of the hypothesis (0 if it was finished before a resume)", "units": "s"})
    lz = np.array([results[h]["ln_z"] for h in hyps])
    le = np.array([results[h]["ln_z_err"] for h in hyps])
    with np.errstate(invalid="ignore"):
        _array(g, "ln_bayes_factor", lz[:, None] - lz[None, :], ("hypothesis", "hypothesis_ref"),
               {"long_name": "ln B = ln Z(hypothesis) - ln Z(hypothesis_ref)"})
        _array(g, "ln_bayes_factor_err", np.sqrt(le[:, None] ** 2 + le[None, :] ** 2), ("hypothesis", "hypothesis_ref"),
               {"long_name": "error of ln B (independent runs)"})
    pq = np.stack([np.stack([weighted_quantiles(samples[k, :, j], weights[k], QUANTILES) for j in range(d)])
                   for k in range(H)])
    _array(g, "posterior_quantiles", pq, ("hypothesis", "parameter", "quantile"),
           {"long_name": "weighted posterior quantiles of each free parameter"})
    ns = len(SITES)
    pred = np.full((H, ns, len(QUANTILES)), np.nan)
    sw = np.zeros((H, ns, len(SOURCE_NAMES)))
    for k, h in enumerate(hyps):
        bl, w = results[h]["blobs"], weights[k]
        for s in range(ns):
            ok = np.isfinite(bl[:, s])
            if ok.any():
                pred[k, s] = weighted_quantiles(bl[ok, s], w[ok], QUANTILES)
                codes = bl[ok, ns + s].astype(int)
                tot = w[ok].sum()
                sw[k, s] = [w[ok][codes == c].sum() / tot for c in range(len(SOURCE_NAMES))]
    _array(g, "predictive_B_site", pred, ("hypothesis", "site", "quantile"),
           {"long_name": "posterior predictive field at the site and age of the record", "units": "uT"})
    _array(g, "source_weight", sw, ("hypothesis", "site", "source"),
           {"long_name": "posterior mass of the source with the largest field at the record's age"})
    # field histories of K draws, written by the workers
    draws = np.stack([_resample_indices(weights[k], K, spec.seed + k) for k in range(H)])
    cs = min(spec.chunk_size, K)
    for name in FIELD_VARIABLES:
        g.create_array(name, shape=(H, K, ages.size), chunks=(1, cs, ages.size), dtype="float32",
                       dimension_names=("hypothesis", "field_draw", "age"), fill_value=np.nan, overwrite=True,
                       attributes={"units": "T", "long_name": f"equatorial surface field {name} of posterior draws"})
    _array(g, "field_draw_parameters", np.stack([samples[k, draws[k]] for k in range(H)]),
           ("hypothesis", "field_draw", "parameter"), {"long_name": "parameters of the field draws"})
    for k, h in enumerate(hyps):
        U = results[h]["u"][draws[k]]
        items = [(lo, U[lo: lo + cs]) for lo in range(0, K, cs)]
        runner.map(partial(_fields_task, problem, h, str(path)), items)
    B = g["B_surface"][...]
    env = np.full((H, len(QUANTILES), ages.size), np.nan)
    for k in range(H):
        ok = np.isfinite(B[k]).all(axis=1)
        if ok.any():
            env[k] = np.quantile(B[k][ok], QUANTILES, axis=0)
    _array(g, "B_surface_quantiles", env, ("hypothesis", "quantile", "age"),
           {"long_name": "posterior envelope of the combined surface field", "units": "T"})
    g.attrs.update({
        "title": spec.title or "lunadyn inference",
        "spec_toml": spec.text, "hypotheses": json.dumps(spec.hypotheses), "free": json.dumps(names),
        "priors": json.dumps([p.to_dict() for p in problem.priors]), "sampler": json.dumps(spec.sampler),
        "seed": int(spec.seed), "model_settings": json.dumps(spec.settings), "groups": json.dumps(problem.groups),
        "history": json.dumps({h: {"A": results[h]["history_A"], "B": results[h].get("history_B")} for h in hyps},
                              default=float),
        **observation_attrs(spec.obs, spec.likelihood), **provenance(), "complete": 1,
    })
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        consolidate(path)


# --------------------------------------------------------------------------------------------------
# the driver


def infer(spec, store=None, backend: str = "serial", workers: int | None = None, scheduler: str | None = None,
          cluster=None, overwrite: bool = False, progress: bool = True) -> dict | None:
    """Run an inference spec (path or InferenceSpec) into a store; returns the answer (``summarize``).

    backend: serial, dask (a LocalCluster of ``workers``, or ``scheduler``, or a ``cluster`` object) or
    mpi (under mpiexec: rank 0 samples and returns the answer; the other ranks compute its batches and
    return None).
    """
    from ..io.paths import default_output

    if not isinstance(spec, InferenceSpec):
        spath = Path(spec)
        spec = load_spec(spath)
        store = store or default_output(spath, ".zarr")
    path = Path(store)
    with Runner(backend, workers, scheduler, cluster) as runner:
        if not runner.is_root:
            warmup()
            runner.serve()
            return None
        try:
            g = _prepare_store(spec, path, overwrite)
            if int(g.attrs.get("complete", 0)):
                return summarize(path)
            return _run(spec, path, runner, progress)
        finally:
            if backend == "mpi":
                runner.backend.release()


def _run(spec, path: Path, runner: Runner, progress: bool) -> dict:
    state_dir = path / "_state"
    state_dir.mkdir(exist_ok=True)
    problem = InferenceProblem(spec)
    settings = ev.SMCSettings(particles=spec.sampler["particles"], chain_length=spec.sampler["chain_length"],
                              ess_fraction=spec.sampler["ess_fraction"],
                              max_generations=spec.sampler["max_generations"], islands=spec.sampler["islands"])
    warmup()
    runner.warm()
    t_start = time.perf_counter()
    show = _progress_printer(progress)
    results, wall = {}, {}
    stop = threading.Event()

    def one(k, h):
        t0 = time.perf_counter()
        lik = BatchLikelihood(runner, partial(_loglike_task, problem, h), spec.chunk_size, stop)
        show.start(h, lik)
        res = run_hypothesis(problem.group_names, problem.ndim, lik, settings, (spec.seed, k),
                             state_dir, label=h, progress=show)
        wall[h] = time.perf_counter() - t0
        show.done(h, res)
        return res

    if runner.concurrent and len(problem.hypotheses) > 1:
        # On dask the hypotheses are sampled side by side, one thread each: while one hypothesis' driver
        # reweights, resamples or waits for the slowest chunk of its batch, the others' chunks keep the
        # workers busy. Each hypothesis has its own random streams and batches, so its result does not
        # depend on the interleaving (the same as sampled alone, bitwise: tests/test_infer.py).
        with ThreadPoolExecutor(len(problem.hypotheses), thread_name_prefix="lunadyn-infer") as pool:
            futures = {h: pool.submit(one, k, h) for k, h in enumerate(problem.hypotheses)}
            try:
                done, _ = wait(list(futures.values()), return_when=FIRST_EXCEPTION)
                for f in done:
                    f.result()   # the first failure, if any, stops the others at their next batch
            except BaseException:
                stop.set()
                raise
            results = {h: f.result() for h, f in futures.items()}
    else:
        for k, h in enumerate(problem.hypotheses):
            results[h] = one(k, h)
    write_store(path, spec, problem, results, runner, wall)
    shutil.rmtree(state_dir, ignore_errors=True)
    out = summarize(path)
    out["wall_time_s"] = time.perf_counter() - t_start
    return out


class _progress_printer:
    def __init__(self, on):
        self.on = on
        self.t0 = {}
        self.lik = {}

    def start(self, h, lik):
        self.t0[h] = time.perf_counter()
        self.lik[h] = lik

    def __call__(self, h, path, islands):
        if not self.on:
            return
        state = max(islands, key=lambda s: s.generation)
        last = state.history[-1] if state.history else {}
        acc = next((x["acceptance"] for x in reversed(state.history) if "acceptance" in x), float("nan"))
        el = time.perf_counter() - self.t0[h]
        rate = self.lik[h].n_models / el if el > 0 else 0.0
        print(f"  {h} [{path}] gen {state.generation:3d} stage {state.stage} beta {state.beta:.3g} "
              f"ESS {last.get('ess', 0):.0f} acceptance {acc:.2f} "
              f"evals {sum(s.n_evaluations for s in islands)} ({rate:.0f} models/s), {len(islands)} islands", file=sys.stderr, flush=True)

    def done(self, h, res):
        if self.on:
            print(f"  {h}: ln Z {res['ln_z']:.3f} +- {res['ln_z_err']:.3f} ({res['n_evaluations']} evaluations)",
                  file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# reading the answer


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def summarize(path) -> dict:
    """The JSON-ready answer of an inference store: per hypothesis and every pair's Bayes factor."""
    import zarr

    g = zarr.open_group(str(path), mode="r")
    hyps = [str(h) for h in g["hypothesis"][:]]
    lz = g["ln_z"][:]
    best = int(np.nanargmax(np.where(np.isfinite(lz), lz, -np.inf)))
    rows = []
    for k, h in enumerate(hyps):
        rows.append({
            "hypothesis": h,
            "ln_z": _num(lz[k]), "ln_z_err": _num(g["ln_z_err"][k]),
            "ln_b_vs_best": _num(lz[k] - lz[best]),
            "islands_ln_z": [_num(v) for v in g["islands_ln_z"][k]] if "islands_ln_z" in g else None,
            "largest_island_share": _num(g["largest_island_share"][k]) if "largest_island_share" in g else None,
            "ess": _num(g["ess"][k]), "ess_kish": _num(g["ess_kish"][k]),
            "n_evaluations": int(g["n_evaluations"][k]), "n_generations": int(g["n_generations"][k]),
            "converged": bool(g["converged"][k]),
            "ln_p_ce6_given_rest": _num(g["ln_p_ce6_given_rest"][k]),
            "ln_p_ce6_given_rest_err": _num(g["ln_p_ce6_given_rest_err"][k]),
            "ln_p_ce5_given_rest": _num(g["ln_p_ce5_given_rest"][k]),
            "ln_p_ce5_given_rest_err": _num(g["ln_p_ce5_given_rest_err"][k]),
            "predictive_B_site_uT": {str(s): {f"{q:g}": _num(v) for q, v in zip(QUANTILES, g["predictive_B_site"][k, i])}
                                     for i, s in enumerate(g["site"][:])},
            "source_weight": {str(s): {str(n): _num(v) for n, v in zip(g["source"][:], g["source_weight"][k, i])}
                              for i, s in enumerate(g["site"][:])},
            "posterior": {str(p): {f"{q:g}": _num(v) for q, v in zip(QUANTILES, g["posterior_quantiles"][k, j])}
                          for j, p in enumerate(g["parameter"][:])},
            "wall_time_s": _num(g["wall_time_s"][k]),
        })
    bf = g["ln_bayes_factor"][:]
    bfe = g["ln_bayes_factor_err"][:]
    pairs = [{"hypothesis": hyps[i], "against": hyps[j], "ln_b": _num(bf[i, j]), "ln_b_err": _num(bfe[i, j])}
             for i in range(len(hyps)) for j in range(len(hyps)) if i < j]
    return {"store": str(path), "title": g.attrs.get("title", ""), "free": json.loads(g.attrs.get("free", "[]")),
            "records": g.attrs.get("observations_records", ""), "selection": g.attrs.get("observations_selection", ""),
            "sampler": json.loads(g.attrs.get("sampler", "{}")), "best": hyps[best], "hypotheses": rows,
            "bayes_factors": pairs, "warnings": warnings_for(rows)}


def _unresolved(r) -> bool:
    """True when one island carries at least MAX_ISLAND_SHARE of the evidence (of two or more islands)."""
    share, isl = r.get("largest_island_share"), r.get("islands_ln_z") or []
    return r["ln_z"] is not None and share is not None and len(isl) > 1 and share >= MAX_ISLAND_SHARE


def warnings_for(rows) -> list[str]:
    out = []
    for r in rows:
        if r["ess"] is not None and r["ess"] < LOW_ESS:
            out.append(f"{r['hypothesis']}: small ESS ({r['ess']:.0f} < {LOW_ESS:g}): raise particles or chain_length")
        share = r.get("largest_island_share")
        if _unresolved(r):
            finite = [v for v in r["islands_ln_z"] if v is not None]
            span = f"{min(finite):.1f} to {max(finite):.1f}" if finite else "none finite"
            out.append(f"{r['hypothesis']}: ln Z unresolved: one of {len(r['islands_ln_z'])} islands carries "
                       f"{100 * share:.0f}% of the evidence (islands' ln Z {span}); its ± is not an "
                       "error bar: raise particles (more chains per island) until the islands agree")
        elif r["ln_z_err"] is not None and r["ln_z_err"] > HIGH_ERR:
            out.append(f"{r['hypothesis']}: ln Z error {r['ln_z_err']:.2f} > {HIGH_ERR:g}: raise particles")
        if not r["converged"]:
            out.append(f"{r['hypothesis']}: stopped at max_generations before reaching the posterior")
        if r["ln_z"] is None:
            out.append(f"{r['hypothesis']}: no model of its prior has a finite likelihood (every model failed)")
    return out


def _pm(v, e, w=8) -> str:
    if v is None:
        return "-".rjust(w + 7)
    return f"{v:{w}.2f} ± {e if e is not None else float('nan'):4.2f}"


def format_table(summary: dict) -> str:
    """The hypothesis table of ``lunadyn infer``."""
    lines = [f"lunadyn infer: {summary['title']}: {summary['store']}",
             f"  free: {', '.join(summary['free'])}; records: {summary['selection']}",
             f"  sampler: waste-free tempering SMC, {summary['sampler'].get('particles')} chains x "
             f"{summary['sampler'].get('chain_length')} states per generation",
             f"  {'hypothesis':12s} {'ln Z ± err':>15s} {'ln B vs best':>13s} {'ESS':>7s} {'evaluations':>12s} "
             f"{'ln p(CE-6|rest)':>16s}"]
    for r in sorted(summary["hypotheses"], key=lambda r: -(r["ln_z"] if r["ln_z"] is not None else -math.inf)):
        lb = "-" if r["ln_b_vs_best"] is None else f"{r['ln_b_vs_best']:.2f}"
        ess = "-" if r["ess"] is None else f"{r['ess']:.0f}"
        unresolved = _unresolved(r)
        lines.append(f"  {r['hypothesis']:12s} {_pm(r['ln_z'], r['ln_z_err'])} {lb:>13s} {ess:>7s} "
                     f"{r['n_evaluations']:>12,d} {_pm(r['ln_p_ce6_given_rest'], r['ln_p_ce6_given_rest_err'], 9)}"
                     + ("  unresolved" if unresolved else ""))
    lines.append(f"  best: {summary['best']}; ln B of every pair in the store (ln_bayes_factor)")
    for w in summary["warnings"]:
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


def to_arviz(store, hypothesis: str | None = None):
    """The posterior of an inference store as ArviZ data.

    Each hypothesis's weighted final population is resampled to equal weights (systematic and seeded,
    as many draws as its Kish ESS, one chain) and passed to ``arviz.from_dict`` (groups ``posterior``,
    one variable per free parameter, and ``sample_stats``, ``lp`` = ln L).

    Parameters
    ----------
    store : str or path
        An inference store (``lunadyn infer``, ``lunadyn.infer``).
    hypothesis : str, optional
        One hypothesis of the store; None for all of them.

    Returns
    -------
    arviz.InferenceData or xarray.DataTree
        The ``InferenceData`` of ``hypothesis``, ln Z ± err in its attributes; with ``hypothesis=None``
        an ``xarray.DataTree`` with one child per hypothesis (each the InferenceData's
        ``to_datatree()``), ln Z ± err in each child's attributes.

    Examples
    --------
    >>> import lunadyn
    >>> tree = lunadyn.to_arviz("demo_infer.zarr")            # doctest: +SKIP
    >>> idata = lunadyn.to_arviz("demo_infer.zarr", "bmo")    # doctest: +SKIP
    >>> idata.posterior["sigma_bmo"].median()                 # doctest: +SKIP
    """
    import arviz
    import xarray as xr
    import zarr

    g = zarr.open_group(str(store), mode="r")
    hyps = [str(h) for h in g["hypothesis"][:]]
    names = [str(p) for p in g["parameter"][:]]

    def one(k):
        W = g["weight"][k]
        n = int(round(min(W.size, max(float(g["ess_kish"][k]), 1.0))))
        idx = _resample_indices(W, n, 0)
        x = g["samples"][k][idx]
        post = {p: x[None, :, j] for j, p in enumerate(names)}
        stats = {"lp": g["loglike"][k][idx][None, :]}
        return arviz.from_dict(posterior=post, sample_stats=stats,
                               attrs={"hypothesis": hyps[k], "ln_z": float(g["ln_z"][k]),
                                      "ln_z_err": float(g["ln_z_err"][k])})

    if hypothesis is not None:
        if hypothesis not in hyps:
            raise UserError(f"hypothesis {hypothesis!r} is not in {store} (it has {', '.join(hyps)})")
        return one(hyps.index(hypothesis))
    tree = xr.DataTree()
    for k, h in enumerate(hyps):
        child = one(k).to_datatree()
        child.attrs.update({"ln_z": float(g["ln_z"][k]), "ln_z_err": float(g["ln_z_err"][k])})
        tree[h] = child
    return tree
