"""Fit model parameters to the paleointensity record (``lunadyn fit``): optimisation and MCMC.

The free parameters are registry parameters with a prior range (``runs.registry.PARAMS[name].prior``);
every other parameter keeps the scenario's value. Fits work in a "fit space": the parameter itself
for linear-scaled parameters, log10 of it for log-scaled ones, so the prior is uniform in fit space
(uniform or log-uniform in the parameter, by the registry's scale) within the prior range.

- ``method="optimize"``: ``scipy.optimize.differential_evolution`` within the prior ranges,
  ``vectorized=True`` (with ``updating="deferred"``), so a whole population is one batched
  ``runs.pipeline.compute`` call; ``polish=False`` (the likelihood has steps where a dynamo switches on
  or off, which a gradient polish cannot use); a fixed seed.
- ``method="mcmc"``: ``emcee.EnsembleSampler(vectorize=True)`` with its stretch move: the ensemble is
  updated in two halves, each proposed as one batched compute call (two calls per step). Walkers start
  in a small ball (1 % of each prior range in fit space) around the optimum of a short
  differential-evolution run (``init="optimum"``, default) or at a uniform prior draw
  (``init="prior"``); a fixed seed. The first half of the chain is discarded as burn-in for the
  posterior summaries (median and the 2.5/97.5 % quantiles) and for the autocorrelation time.

Model settings (start_age, output_step, rtol, max_steps) come from the scenario, except that a fit
uses an output step of 0.05 Ga (``FIT_OUTPUT_STEP``) when the scenario does not set ``output_step``
itself (the registry default of 0.01 Ga is five times costlier in the dynamo stage and the likelihood,
and 0.05 Ga resolves every record once its age is averaged). A candidate that breaks a consistency
rule of runs.config (e.g. f_hpe_crust + f_hpe_basal > 1) or whose model fails has ln L = −inf.

The result goes to a zarr store (default ``<scenario stem>.fit.zarr``; ``FIT_MARKER`` attribute):
``parameter (parameter,)`` names; MCMC: ``chain (walker, step, parameter)`` in the parameters' units,
``log_prob (walker, step)``, ``acceptance_fraction (walker,)``, ``autocorr_time (parameter,)``;
optimisation: ``history (evaluation, parameter)`` and ``history_loglike (evaluation,)``; both:
``optimum``, ``median``, ``q025``, ``q975``, ``prior_low``, ``prior_high`` (parameter,), and the field
histories of posterior draws (or of the best distinct optimisation candidates) ``draw_parameters
(draw, parameter)``, ``draw_loglike (draw,)``, ``B_core``, ``B_bmo``, ``B_precession``, ``B_surface``
``(draw, age)`` with ``age (age,)``, used by ``lunadyn plot`` and for the posterior weight of each
dynamo source at 2.8 Ga. Attributes hold the scenario text, the free names, the method, the record
file's hash, the selection and the likelihood settings.
"""
from __future__ import annotations

import json
import logging
import math
import shutil
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.paths import default_output
from ..record.observations import CE6_AGE_GA
from ..status import THERMAL_CODE_MASK
from ..registry import PARAMS
import difflib
from ..spec.rules import satisfied
from ..compute.pipeline import compute
from ..registry import make_records
from ..record.likelihood import log_likelihood, make_plan
import zarr
from ..io.store import COMPRESSORS, consolidate, provenance
from ..spec.hashing import canonical_json
from ..record.scoring import as_settings, observation_attrs
from ..spec.config import Scenario, load_scenario
from ..record.likelihood import SOURCES, source_at_ages, source_weights
from ..record.observations import load_observations

FIT_MARKER = "lunadyn_fit"
FIT_OUTPUT_STEP = 0.05
N_DRAWS = 400  # posterior draws whose field histories are stored and attributed to sources
INIT_BALL = 0.01  # MCMC start: ball radius as a fraction of each prior range (fit space)


# --------------------------------------------------------------------------------------------------
# the problem


def check_free(free) -> list[str]:
    """Validate --free names: registry parameters with a prior, no duplicates."""
    if isinstance(free, str):
        free = [free]
    free = [str(f) for f in (free or [])]
    if not free:
        raise UserError("fit needs at least one free parameter (--free NAME ...)")
    with_prior = sorted(n for n, p in PARAMS.items() if p.prior is not None and p.kind == "float")
    for name in free:
        if name not in PARAMS:
            close = difflib.get_close_matches(name, with_prior, n=1)
            hint = f": did you mean '{close[0]}'?" if close else ""
            raise UserError(f"--free {name}: unknown parameter{hint} (free parameters need a prior range: "
                            f"{', '.join(with_prior)})")
        p = PARAMS[name]
        if p.prior is None or p.kind != "float":
            raise UserError(f"--free {name}: parameter has no prior range (it is fixed); free parameters "
                            f"need one: {', '.join(with_prior)}")
    dup = sorted({n for n in free if free.count(n) > 1})
    if dup:
        raise UserError(f"--free names {', '.join(dup)} more than once")
    return free


def fit_settings(scn) -> dict:
    """Model settings of a fit: the scenario's, with output_step 0.05 Ga unless the scenario sets it."""
    settings = dict(scn.settings)
    try:
        written = set(tomllib.loads(scn.text or "")) | set(scn.overrides or {})
    except tomllib.TOMLDecodeError:  # pragma: no cover - the scenario was validated
        written = set(scn.overrides or {})
    if "output_step" not in written:
        k = settings["start_age"] / FIT_OUTPUT_STEP
        if abs(k - round(k)) <= 1e-9 * k:
            settings["output_step"] = FIT_OUTPUT_STEP
    return settings


class FitProblem:
    """ln L(θ) of a scenario with free parameters θ (fit space), one batched compute per call."""

    def __init__(self, scn, free, obs, lsettings):
        self.scn = scn
        self.free = list(free)
        self.obs = obs
        self.lsettings = lsettings
        self.settings = fit_settings(scn)
        self.log = np.array([PARAMS[n].scale == "log" for n in self.free])
        prior = np.array([PARAMS[n].prior_for(getattr(scn, "body", "moon")) for n in self.free], dtype=float)
        self.prior = prior
        with np.errstate(divide="ignore"):
            self.lo = np.where(self.log, np.log10(prior[:, 0]), prior[:, 0])
            self.hi = np.where(self.log, np.log10(prior[:, 1]), prior[:, 1])
        self.n_models = 0
        self.n_calls = 0
        self.compute_s = 0.0
        self._plan = None

    @property
    def ndim(self) -> int:
        return len(self.free)

    def physical(self, theta) -> np.ndarray:
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        out = theta.copy()
        out[:, self.log] = 10.0 ** theta[:, self.log]
        return out

    def fit_space(self, x) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        out = x.copy()
        out[:, self.log] = np.log10(x[:, self.log])
        return out

    def in_prior(self, theta) -> np.ndarray:
        theta = np.atleast_2d(theta)
        return np.all((theta >= self.lo) & (theta <= self.hi) & np.isfinite(theta), axis=1)

    def _consistent(self, x) -> np.ndarray:
        """True for each proposal (physical values x (m, k)) that keeps the cross-parameter rules."""
        return satisfied(self.scn.values, {n: x[:, j] for j, n in enumerate(self.free)}, x.shape[0])

    def models(self, x) -> dict:
        """compute() of the models with physical free values x (m, k)."""
        values = dict(self.scn.values)
        for j, name in enumerate(self.free):
            values[name] = x[:, j]
        t0 = time.perf_counter()
        res = compute(make_records(x.shape[0], values), self.settings)
        self.compute_s += time.perf_counter() - t0
        self.n_models += x.shape[0]
        self.n_calls += 1
        return res

    def loglike(self, theta) -> np.ndarray:
        """ln L of each row of θ (fit space); −inf outside the prior, for inconsistent sets and failures."""
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        out = np.full(theta.shape[0], -np.inf)
        ok = self.in_prior(theta)
        x = self.physical(theta)
        ok[ok] = self._consistent(x[ok])
        if not ok.any():
            return out
        res = self.models(x[ok])
        if self._plan is None:
            self._plan = make_plan(res["age"], self.obs, self.lsettings)
        ll, _ = log_likelihood(res["age"], res["outputs"]["B_surface"], self.obs, plan=self._plan)
        ll = np.where((res["status"] & THERMAL_CODE_MASK) != 0, -np.inf, ll)
        out[ok] = ll
        return out


# --------------------------------------------------------------------------------------------------
# methods


def run_optimize(problem: FitProblem, seed: int = 0, popsize: int = 15, maxiter: int = 60,
                 tol: float = 1e-3):
    """Differential evolution over the prior box (fit space); returns (best θ, best ln L, history)."""
    from scipy.optimize import differential_evolution

    hist_x, hist_ll = [], []

    def objective(X):  # X: (k, S) -> (S,)
        theta = np.asarray(X, dtype=float).reshape(problem.ndim, -1).T
        ll = problem.loglike(theta)
        hist_x.append(theta.copy())
        hist_ll.append(ll.copy())
        return np.where(np.isfinite(ll), -ll, 1e300)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        res = differential_evolution(objective, list(zip(problem.lo, problem.hi)), vectorized=True,
                                     updating="deferred", polish=False, seed=seed, popsize=popsize,
                                     maxiter=maxiter, tol=tol, init="latinhypercube")
    hx, hl = np.concatenate(hist_x), np.concatenate(hist_ll)
    i = int(np.argmax(hl))
    return hx[i], float(hl[i]), hx, hl, res


def _initial_walkers(problem: FitProblem, rng, walkers: int, center=None):
    width = problem.hi - problem.lo
    pos = np.empty((walkers, problem.ndim))
    ll = np.full(walkers, -np.inf)
    todo = np.arange(walkers)
    for attempt in range(50):
        if center is None:
            cand = problem.lo + rng.random((todo.size, problem.ndim)) * width
        else:
            scale = INIT_BALL * width * (1 + attempt)
            cand = np.clip(center + scale * rng.standard_normal((todo.size, problem.ndim)), problem.lo, problem.hi)
        cl = problem.loglike(cand)
        pos[todo], ll[todo] = cand, cl
        todo = todo[~np.isfinite(cl)]
        if todo.size == 0:
            return pos
    raise UserError("could not find starting points with a finite likelihood for the MCMC walkers "
                    f"(free: {', '.join(problem.free)}); check the scenario and the prior ranges")


def run_mcmc(problem: FitProblem, walkers: int, steps: int, seed: int, center=None):
    """emcee ensemble sampling; returns the sampler and the burn-in length."""
    import emcee

    rng = np.random.default_rng(seed)
    p0 = _initial_walkers(problem, rng, walkers, center)

    def log_prob(theta):
        return problem.loglike(theta)

    sampler = emcee.EnsembleSampler(walkers, problem.ndim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(seed).get_state()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        sampler.run_mcmc(p0, steps, progress=False)
    return sampler, steps // 2


# --------------------------------------------------------------------------------------------------
# the store


def _fit_out(out, scn) -> Path:
    if out is not None:
        return Path(out)
    return default_output(scn.path if scn.path else "fit", ".fit.zarr")


def is_fit_store(path) -> bool:
    p = Path(path)
    if not p.is_dir():
        return False
    try:
        return FIT_MARKER in zarr.open_group(str(p), mode="r").attrs
    except Exception:
        return False


def _prepare_target(path: Path):
    if path.exists():
        if path.is_dir() and not any(path.iterdir()):
            return
        if not is_fit_store(path):
            raise UserError(f"{path} exists and is not a lunadyn fit store; refusing to replace it (choose another -o)")
        shutil.rmtree(path)


def write_fit_store(path: Path, problem: FitProblem, result: dict, arrays: dict) -> None:
    """Write a fit's arrays (name -> (data, dims)) and attributes as a zarr v3 group."""
    _prepare_target(path)
    g = zarr.open_group(str(path), mode="w-", zarr_format=3)
    for name, (data, dims, attrs) in arrays.items():
        data = np.asarray(data)
        if data.dtype.kind in "OU":
            a = g.create_array(name, shape=data.shape, dtype=str, dimension_names=dims, attributes=attrs,
                               compressors=COMPRESSORS)
        else:
            a = g.create_array(name, shape=data.shape, dtype=data.dtype, dimension_names=dims, attributes=attrs,
                               fill_value=np.nan if data.dtype.kind == "f" else 0, compressors=COMPRESSORS)
        a[...] = data
    scn = problem.scn
    g.attrs.update({
        FIT_MARKER: 1,
        "title": f"lunadyn fit ({result['method']}) of {scn.title or scn.path or 'a scenario'}",
        "method": result["method"],
        "free": json.dumps(problem.free),
        "scale": json.dumps(["log" if lg else "linear" for lg in problem.log]),
        "scenario_text": scn.text or "",
        "scenario_path": str(scn.path or ""),
        "scenario_overrides": canonical_json(scn.overrides or {}),
        "model_settings": canonical_json(problem.settings),
        **result["observation_attrs"],
        "seed": int(result["seed"]),
        "walkers": int(result.get("walkers") or 0),
        "steps": int(result.get("steps") or 0),
        "burn_in": int(result.get("burn_in") or 0),
        "optimum_loglike": float(result["optimum_loglike"]),
        "source_weights_2p8Ga": json.dumps(result["source_weights"]),
        "n_models": int(result["n_models"]),
        "wall_time_s": float(result["wall_time_s"]),
        **provenance(),
    })
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        consolidate(path)


# --------------------------------------------------------------------------------------------------
# the fit


def _draw_fields(problem: FitProblem, theta_draws) -> dict:
    """Field histories and ln L of draws (fit space), one batched compute."""
    x = problem.physical(theta_draws)
    res = problem.models(x)
    plan = make_plan(res["age"], problem.obs, problem.lsettings)
    ll, _ = log_likelihood(res["age"], res["outputs"]["B_surface"], problem.obs, plan=plan)
    ll = np.where((res["status"] & THERMAL_CODE_MASK) != 0, -np.inf, ll)
    return {"age": res["age"], "x": x, "loglike": ll,
            **{v: res["outputs"][v] for v in ("B_core", "B_bmo", "B_precession", "B_surface")}}


def fit(scenario, free, method: str = "optimize", walkers: int = 16, steps: int = 400, seed: int = 0,
        out=None, data=None, select=None, settings=None, *, init: str = "optimum", popsize: int = 15,
        maxiter: int = 60, write: bool = True) -> dict:
    """Fit ``free`` parameters of a scenario to the measured record; returns a JSON-ready summary.

    Parameters
    ----------
    scenario : str, path or Scenario
        A scenario TOML file or a loaded ``runs.spec.config.Scenario``: the fixed parameters and settings.
    free : list of str
        The parameters to fit: registry parameters with a prior range; the prior is uniform (or
        log-uniform, by the registry's scale) over it.
    method : {'optimize', 'mcmc'}
        'optimize': scipy's differential evolution within the prior ranges (``popsize``, ``maxiter``,
        ``seed``). 'mcmc': emcee's ensemble sampler (``walkers``, ``steps``), started around a short
        optimisation (``init='optimum'``) or at prior draws (``init='prior'``).
    out : str or path, optional
        The fit store (default ``./<scenario stem>.fit.zarr``); ``write=False`` writes nothing.
    data, select : optional
        The record file (default the shipped record) and the selection (``KEY=VALUE`` strings or "all").
    settings : LikelihoodSettings or dict, optional
        The likelihood settings (docs/record.md).

    Returns
    -------
    dict
        The method, the free parameters with their optimum (and for MCMC the median and 95 % interval),
        the best log-likelihood and the posterior weight of each dynamo source at 2.8 Ga.
    """
    if method not in ("optimize", "mcmc"):
        raise UserError(f"--method {method}: expected optimize or mcmc")
    if init not in ("optimum", "prior"):
        raise UserError(f"init {init!r}: expected optimum or prior")
    free = check_free(free)
    scn = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if method == "mcmc":
        if walkers < 2 * len(free) or walkers % 2:
            raise UserError(f"--walkers {walkers}: emcee needs an even number of walkers, at least twice the "
                            f"number of free parameters ({2 * len(free)})")
        if steps < 2:
            raise UserError(f"--steps {steps}: expected at least 2")
    obs = load_observations(data, select)
    lsettings = as_settings(settings)
    problem = FitProblem(scn, free, obs, lsettings)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()

    result = {"method": method, "free": free, "seed": int(seed), "scale": ["log" if lg else "linear" for lg in problem.log],
              "model_settings": {k: problem.settings[k] for k in ("start_age", "output_step", "rtol", "max_steps")},
              "selection": obs.description, "data_sha256": obs.sha256,
              "observation_attrs": observation_attrs(obs, lsettings)}
    arrays = {"parameter": (np.array(free, dtype=str), ("parameter",), {"long_name": "free parameter"}),
              "prior_low": (problem.prior[:, 0], ("parameter",), {"long_name": "lower end of the prior range"}),
              "prior_high": (problem.prior[:, 1], ("parameter",), {"long_name": "upper end of the prior range"})}

    theta_opt, ll_opt = None, -np.inf
    if method == "optimize" or init == "optimum":
        it = maxiter if method == "optimize" else max(10, maxiter // 2)
        theta_opt, ll_opt, hx, hl, de = run_optimize(problem, seed=seed, popsize=popsize, maxiter=it)
        result["de_iterations"] = int(de.nit)
        result["de_converged"] = bool(de.success)
    if method == "optimize":
        finite = np.isfinite(hl)
        arrays["history"] = (problem.physical(hx), ("evaluation", "parameter"), {"long_name": "evaluated parameters"})
        arrays["history_loglike"] = (hl, ("evaluation",), {"long_name": "log-likelihood of each evaluation"})
        # draws for plots: the best distinct candidates
        uniq, first = np.unique(np.round(hx[finite], 12), axis=0, return_index=True)
        order = np.argsort(-hl[finite][first])[:64]
        draws = uniq[order]
        result.update(walkers=None, steps=None, burn_in=None)
        summary_q = None
    else:
        sampler, burn = run_mcmc(problem, walkers, steps, seed, center=theta_opt if init == "optimum" else None)
        chain = sampler.get_chain()  # (steps, walkers, k) fit space
        lp = sampler.get_log_prob()  # (steps, walkers)
        emcee_log = logging.getLogger("emcee.autocorr")
        level = emcee_log.level
        emcee_log.setLevel(logging.ERROR)  # quiet=True logs "chain too short" as a warning; we report tau
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tau = np.asarray(sampler.get_autocorr_time(quiet=True, discard=burn), dtype=float)
        finally:
            emcee_log.setLevel(level)
        result["autocorr_reliable"] = bool(np.all(steps - burn >= 50 * tau))
        post = chain[burn:].reshape(-1, problem.ndim)
        post_x = problem.physical(post)
        summary_q = np.quantile(post_x, [0.5, 0.025, 0.975], axis=0)
        i = np.unravel_index(np.argmax(lp), lp.shape)
        if lp[i] > ll_opt:
            theta_opt, ll_opt = chain[i], float(lp[i])
        phys_chain = problem.physical(chain.reshape(-1, problem.ndim)).reshape(chain.shape)
        arrays["chain"] = (np.transpose(phys_chain, (1, 0, 2)), ("walker", "step", "parameter"),
                           {"long_name": "MCMC chain (parameter units)", "burn_in": int(burn)})
        arrays["log_prob"] = (lp.T, ("walker", "step"), {"long_name": "log-posterior (= log-likelihood inside "
                                                          "the uniform prior box)"})
        arrays["acceptance_fraction"] = (sampler.acceptance_fraction, ("walker",),
                                         {"long_name": "acceptance fraction of each walker"})
        arrays["autocorr_time"] = (tau, ("parameter",), {"long_name": "integrated autocorrelation time "
                                                         "(steps, after burn-in; emcee, quiet)"})
        pick = rng.choice(post.shape[0], size=min(N_DRAWS, post.shape[0]), replace=False)
        draws = post[np.sort(pick)]
        result.update(walkers=int(walkers), steps=int(steps), burn_in=int(burn),
                      acceptance_fraction=float(np.mean(sampler.acceptance_fraction)),
                      autocorr_time={n: _num(t) for n, t in zip(free, tau)})
    fields = _draw_fields(problem, draws)
    codes = source_at_ages(fields["age"], fields["B_core"], fields["B_bmo"], fields["B_precession"],
                           np.array([CE6_AGE_GA]))[:, 0]
    opt_fields = _draw_fields(problem, np.atleast_2d(theta_opt))
    opt_code = int(source_at_ages(opt_fields["age"], opt_fields["B_core"], opt_fields["B_bmo"],
                                  opt_fields["B_precession"], np.array([CE6_AGE_GA]))[0, 0])
    wall = time.perf_counter() - t0
    x_opt = problem.physical(theta_opt)[0]
    result.update({
        "optimum": {n: float(v) for n, v in zip(free, x_opt)},
        "optimum_loglike": float(ll_opt),
        "optimum_source_2p8Ga": SOURCES[opt_code],
        "source_weights": source_weights(codes) if method == "mcmc" else source_weights([opt_code]),
        "source_weights_from": "posterior draws" if method == "mcmc" else "the optimum",
        "n_models": int(problem.n_models),
        "n_compute_calls": int(problem.n_calls),
        "wall_time_s": float(wall),
        "models_per_s": float(problem.n_models / wall) if wall > 0 else None,
    })
    if summary_q is not None:
        result["posterior"] = {n: {"median": float(summary_q[0, j]), "q025": float(summary_q[1, j]),
                                   "q975": float(summary_q[2, j])} for j, n in enumerate(free)}
        med, q025, q975 = summary_q
    else:
        med = q025 = q975 = x_opt
    arrays.update({
        "optimum": (x_opt, ("parameter",), {"long_name": "best parameters found (highest log-likelihood)"}),
        "median": (med, ("parameter",), {"long_name": "posterior median (MCMC after burn-in; the optimum for optimize)"}),
        "q025": (q025, ("parameter",), {"long_name": "posterior 2.5 % quantile"}),
        "q975": (q975, ("parameter",), {"long_name": "posterior 97.5 % quantile"}),
        "age": (fields["age"], ("age",), {"long_name": "age before present", "units": "Ga"}),
        "draw_parameters": (fields["x"], ("draw", "parameter"), {"long_name": "parameters of the stored draws"}),
        "draw_loglike": (fields["loglike"], ("draw",), {"long_name": "log-likelihood of the stored draws"}),
    })
    for v in ("B_core", "B_bmo", "B_precession", "B_surface"):
        arrays[v] = (np.asarray(fields[v], dtype=np.float32), ("draw", "age"),
                     {"units": "T", "long_name": f"equatorial surface field {v} of the stored draws"})
    path = _fit_out(out, scn)
    if write:
        write_fit_store(path, problem, result, arrays)
        result["store"] = str(path)
    else:
        result["store"] = None
    result.pop("observation_attrs")
    return result


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def format_fit(result: dict) -> str:
    """The human-readable report of ``lunadyn fit``."""
    lines = [f"lunadyn fit ({result['method']}): free {', '.join(result['free'])}; "
             f"{result['n_models']} models in {result['wall_time_s']:.1f} s "
             f"({result['models_per_s']:.0f} models/s)",
             f"  records: {result['selection']} (sha256 {result['data_sha256'][:12]})",
             f"  model settings: output_step {result['model_settings']['output_step']:g} Ga, "
             f"rtol {result['model_settings']['rtol']:g}"]
    lines.append(f"  optimum (ln L {result['optimum_loglike']:.2f}): " +
                 ", ".join(f"{k} = {v:.5g}" for k, v in result["optimum"].items()))
    if "posterior" in result:
        lines.append(f"  posterior ({result['walkers']} walkers x {result['steps']} steps, burn-in "
                     f"{result['burn_in']}; acceptance {result['acceptance_fraction']:.2f}):")
        for k, q in result["posterior"].items():
            tau = result["autocorr_time"].get(k)
            lines.append(f"    {k:16s} median {q['median']:.5g}  95% [{q['q025']:.5g}, {q['q975']:.5g}]"
                         f"  tau {'-' if tau is None else f'{tau:.1f}'} steps")
    sw = result["source_weights"]
    lines.append(f"  dynamo source at 2.8 Ga ({result['source_weights_from']}): " +
                 ", ".join(f"{k} {v:.2f}" for k, v in sw.items()))
    if result.get("store"):
        lines.append(f"  store: {result['store']}")
    return "\n".join(lines)
