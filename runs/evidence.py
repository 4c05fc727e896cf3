"""Bayesian evidence and posterior samples: waste-free sequential Monte Carlo with adaptive tempering.

The sampler (Dau & Chopin 2022, "Waste-free sequential Monte Carlo", JRSS B 84:114, Algorithm 2, with
the adaptive tempering of Jasra et al. 2011) moves a population of N = M·P particles in the unit cube
[0, 1]^d (the free parameters' prior is uniform there: ``runs.infer`` maps it to the parameters' linear
or log ranges) from the prior to the posterior through the tempered targets

    π_β(u) ∝ Π_{j < s} L_j(u) · L_s(u)^β,   β: 0 → 1, stage s = 0, 1, ...

where the likelihood is split into groups of records (``stages``: the groups tempered in at each stage,
in order). One generation:

1. reweight: the next β is chosen so that the effective sample size of the incremental weights
   w_n = L_s(u_n)^(β' − β) is ``ess_fraction``·N (bisection, ``scipy.optimize.brentq``); ln Z gains
   ln mean(w). When β reaches 1 the stage is done: ln Z is then the log evidence of every group tempered
   so far (ln Z of "all records but CE-6" on the way to "all records" costs nothing extra);
2. resample M ancestors (systematic) and run M random-walk Metropolis chains of P states each under the
   current target (Gaussian steps from the weighted covariance, scaled 2.38/√d and adapted to the
   acceptance rate); all M·P states are the next population (equal weights). Every Metropolis step is
   one batch of M likelihood evaluations (``loglike(U) -> (ll (n, G), blobs (n, B))``).

The error of ln Z is the single-run estimate of Dau & Chopin (2022, section 4): the N particles of a
generation are M chains of length P, so the asymptotic variance of each mean incremental weight is
estimated with Geyer's (1992) initial positive sequence over the chains, and Var(ln Ẑ) ≈ Σ_t
σ²_t / (N·mean(w_t)²). The chain-aware ESS of the final population is the same estimator applied to
each parameter's posterior mean (the smallest over parameters).

Why this sampler, written here (~250 lines), rather than a library: the issue asks for a batched
likelihood (>= 10³ models per call), an evidence with an error, plateaus (the likelihood is exactly flat
wherever no dynamo runs: every such model sits at B_floor), and exact resume. Tempering needs no
ordering of likelihood values, so plateaus and a flat likelihood are harmless (a flat likelihood ends
in one generation per stage); every Metropolis step is one batch of M models; the staged path gives
the predictive checks ln p(CE-6 | rest) as by-products; and the whole state (particles, weights, β,
ln Z, the random generator's state) is a few arrays, checkpointed after every generation, so a killed
run resumes bitwise. The libraries that could do it do not fit here: ``particles`` (Chopin's reference
implementation of exactly this algorithm) pins numpy < 2, which this environment cannot take; UltraNest
is GPL-3 (this project is MIT), runs its own MPI when mpi4py is importable (clashing with the MPI
backend) and resumes statistically, not bitwise; dynesty evaluates one point per pool task (no batched
likelihood) and stops on a likelihood without any point above the plateau; tempest-sampler returns no
evidence error and reseeds on resume; pocomc needs torch.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

SCALE_MIN, SCALE_MAX = 0.02, 3.0  # bounds on the adapted proposal scale factor
TARGET_ACCEPTANCE = 0.234


@dataclass(frozen=True)
class SMCSettings:
    """particles: M, the chains per generation (one batch of M models per Metropolis step);
    chain_length: P, the states kept per chain (waste-free: N = M·P particles);
    ess_fraction: the ESS kept by each tempering step (as a fraction of N);
    max_generations: a hard stop (the result is then marked not converged)."""

    particles: int = 1000
    chain_length: int = 8
    ess_fraction: float = 0.5
    max_generations: int = 500

    @property
    def n(self) -> int:
        return self.particles * self.chain_length


@dataclass
class SMCState:
    """Everything a generation needs (checkpointed after each one)."""

    u: np.ndarray                 # (N, d) positions in the unit cube
    ll: np.ndarray                # (N, G) log-likelihood of each group
    blobs: np.ndarray             # (N, B) values carried with each particle (e.g. predicted fields)
    logw: np.ndarray              # (N,) log weights (0 after a move)
    stages: list                  # list of lists of group indices
    rng: dict                     # numpy bit generator state
    stage: int = 0
    beta: float = 0.0
    ln_z: float = 0.0
    var_ln_z: float = 0.0
    scale: float = 1.0
    pending_move: bool = False
    finished: bool = False
    converged: bool = True
    generation: int = 0
    n_evaluations: int = 0
    fork_generation: int = 0     # a forked state: the generation and evaluations it shares with its parent
    fork_evaluations: int = 0
    stage_ends: list = field(default_factory=list)   # per finished stage: {stage, ln_z, var_ln_z, generation}
    history: list = field(default_factory=list)      # per generation: stage, beta, ess, acceptance, evaluations

    def copy(self) -> "SMCState":
        return copy.deepcopy(self)


# --------------------------------------------------------------------------------------------------
# estimators


def log_mean_exp(a) -> float:
    a = np.asarray(a, dtype=float)
    m = np.max(a)
    if not np.isfinite(m):
        return float(m)
    return float(m + np.log(np.mean(np.exp(a - m))))


def kish_ess(logw) -> float:
    """(Σw)²/Σw² of log weights (0 when every weight is 0)."""
    lw = np.asarray(logw, dtype=float)
    m = np.max(lw)
    if not np.isfinite(m):
        return 0.0
    w = np.exp(lw - m)
    return float(w.sum() ** 2 / (w * w).sum())


def normalised(logw) -> np.ndarray:
    lw = np.asarray(logw, dtype=float)
    m = np.max(lw)
    if not np.isfinite(m):
        return np.full(lw.shape, 1.0 / lw.size)
    w = np.exp(lw - m)
    return w / w.sum()


def chain_variance(x: np.ndarray) -> float:
    """Asymptotic variance σ² of the mean of x (P, M): M chains of length P, Geyer's (1992) initial
    positive sequence over the chain-averaged autocovariances (biased, about the global mean), so that
    Var(mean) ≈ σ² / (M·P). Independent draws give σ² ≈ their variance."""
    x = np.asarray(x, dtype=float)
    P = x.shape[0]
    d = x - x.mean()
    gam = np.array([np.mean(d[: P - k] * d[k:]) * (P - k) / P for k in range(P)])
    total = -gam[0]
    for j in range(0, P, 2):
        pair = gam[j] + (gam[j + 1] if j + 1 < P else 0.0)
        if pair <= 0.0 and j > 0:
            break
        total += 2.0 * pair
    return float(max(total, gam[0] if P == 1 else 0.0, 1e-300))


def var_log_mean_weight(lw: np.ndarray, P: int) -> float:
    """Single-run estimate of Var(ln mean w) for incremental log weights lw (N,) of a population of M
    chains of length P (stored step-major: lw[p*M + m] is chain m at step p)."""
    m = np.max(lw)
    if not np.isfinite(m):
        return 0.0
    w = np.exp(lw - m)
    mean = w.mean()
    return chain_variance(w.reshape(P, -1)) / (w.size * mean * mean)


def chain_ess(u: np.ndarray, W: np.ndarray, P: int) -> float:
    """ESS of the weighted posterior mean of each coordinate accounting for the chains (Dau & Chopin
    2022, var_wf): N·Var_W(u_j)/σ²_j, the smallest over coordinates j."""
    N = u.shape[0]
    ess = math.inf
    for j in range(u.shape[1]):
        mu = float(np.sum(W * u[:, j]))
        var = float(np.sum(W * (u[:, j] - mu) ** 2))
        if var <= 0.0:
            continue
        sig2 = chain_variance((N * W * (u[:, j] - mu)).reshape(P, -1))
        ess = min(ess, N * var / sig2)
    with np.errstate(divide="ignore"):
        kish = kish_ess(np.log(W))
    return float(min(ess, kish))


# --------------------------------------------------------------------------------------------------
# the sampler


def _target_parts(state: SMCState):
    """(fixed groups, current groups) of the current stage."""
    done = [g for s in state.stages[: state.stage] for g in s]
    return done, list(state.stages[state.stage])


def log_target(state: SMCState, ll: np.ndarray) -> np.ndarray:
    """ln of the current tempered target (up to the prior, uniform in the cube): the groups of the stages
    done, plus β times the current stage's (moves happen only at β > 0, so 0·(−inf) never arises)."""
    done, cur = _target_parts(state)
    with np.errstate(invalid="ignore"):
        out = ll[:, done].sum(axis=1) if done else np.zeros(ll.shape[0])
        if state.beta > 0.0:
            out = out + state.beta * ll[:, cur].sum(axis=1)
    return np.where(np.isnan(out), -np.inf, out)


def initial_state(loglike, ndim: int, stages, settings: SMCSettings, seed) -> SMCState:
    """N = M·P prior draws, evaluated in one batch."""
    rng = np.random.default_rng(seed)
    u = rng.random((settings.n, ndim))
    ll, blobs = loglike(u)
    return SMCState(u=u, ll=np.asarray(ll, float), blobs=np.asarray(blobs), logw=np.zeros(settings.n),
                    stages=[list(s) for s in stages], rng=rng.bit_generator.state, n_evaluations=settings.n)


def _next_beta(beta: float, l: np.ndarray, target_ess: float) -> float:
    finite = np.isfinite(l)
    if not finite.any():
        return 1.0
    lf = np.where(finite, l, -np.inf)

    def ess_minus(db):
        return kish_ess(db * lf) - target_ess

    if ess_minus(1.0 - beta) >= 0.0:
        return 1.0
    lo = 0.0
    if ess_minus(1e-300) < 0.0:  # the failed models alone sink the ESS: take the smallest step
        return min(1.0, beta + 1e-12)
    return beta + brentq(ess_minus, lo, 1.0 - beta, xtol=1e-12, rtol=1e-10)


def _reweight(state: SMCState, settings: SMCSettings) -> None:
    done, cur = _target_parts(state)
    with np.errstate(invalid="ignore"):
        l = state.ll[:, cur].sum(axis=1)
    l = np.where(np.isnan(l), -np.inf, l)
    N = l.size
    new_beta = _next_beta(state.beta, l, settings.ess_fraction * N)
    db = new_beta - state.beta
    with np.errstate(invalid="ignore"):
        lw = np.where(np.isfinite(l), db * l, -np.inf) + state.logw
    inc = log_mean_exp(lw)
    state.ln_z += inc
    if np.isfinite(inc):
        state.var_ln_z += var_log_mean_weight(lw, settings.chain_length)
    state.logw = lw
    state.beta = new_beta
    ess = kish_ess(lw)
    state.history.append({"generation": state.generation, "stage": state.stage, "beta": new_beta, "ess": ess,
                          "ln_z": state.ln_z, "evaluations": state.n_evaluations})
    if not np.isfinite(inc):           # no particle has a finite likelihood: Z = 0
        state.finished = True
        state.stage_ends.append({"stage": state.stage, "ln_z": state.ln_z, "var_ln_z": state.var_ln_z,
                                 "generation": state.generation})
        return
    if new_beta >= 1.0:
        state.stage_ends.append({"stage": state.stage, "ln_z": state.ln_z, "var_ln_z": state.var_ln_z,
                                 "generation": state.generation})
        if state.stage == len(state.stages) - 1:
            state.finished = True


def _systematic(W: np.ndarray, M: int, rng) -> np.ndarray:
    c = np.cumsum(W)
    c[-1] = 1.0
    return np.searchsorted(c, (rng.random() + np.arange(M)) / M)


def _move(state: SMCState, loglike, settings: SMCSettings, rng) -> None:
    """Resample M ancestors and run M Metropolis chains of P states under the current target."""
    M, P = settings.particles, settings.chain_length
    W = normalised(state.logw)
    d = state.u.shape[1]
    mu = W @ state.u
    cov = (state.u - mu).T @ ((state.u - mu) * W[:, None])
    cov = 0.5 * (cov + cov.T) + 1e-12 * np.eye(d)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        chol = np.diag(np.sqrt(np.maximum(np.diag(cov), 1e-12)))
    idx = _systematic(W, M, rng)
    u, ll, blobs = state.u[idx].copy(), state.ll[idx].copy(), state.blobs[idx].copy()
    lt = log_target(state, ll)
    us, lls, bs = [u.copy()], [ll.copy()], [blobs.copy()]
    accepted = proposed = 0
    step = state.scale * 2.38 / math.sqrt(d)
    for _ in range(P - 1):
        prop = u + step * rng.standard_normal((M, d)) @ chol.T
        inside = np.all((prop >= 0.0) & (prop <= 1.0), axis=1)
        lp = np.full(M, -np.inf)
        if inside.any():
            pll, pb = loglike(prop[inside])
            state.n_evaluations += int(inside.sum())
            pll = np.asarray(pll, float)
            full = np.full((M, ll.shape[1]), -np.inf)
            full[inside] = pll
            lp[inside] = log_target(state, pll)
        else:
            full = None
        log_a = lp - lt   # the resampled particles have finite targets (weight > 0); lp may be -inf
        acc = np.log(rng.random(M)) < log_a
        if acc.any():
            u[acc] = prop[acc]
            ll[acc] = full[acc]
            blobs[acc] = _blob_rows(pb, inside, acc, blobs)
            lt[acc] = lp[acc]
        accepted += int(acc.sum())
        proposed += M
        us.append(u.copy())
        lls.append(ll.copy())
        bs.append(blobs.copy())
    rate = accepted / proposed if proposed else 0.0
    state.history[-1]["acceptance"] = rate
    state.scale = float(np.clip(state.scale * math.exp(2.0 * (rate - TARGET_ACCEPTANCE)), SCALE_MIN, SCALE_MAX))
    state.u = np.concatenate(us)
    state.ll = np.concatenate(lls)
    state.blobs = np.concatenate(bs)
    state.logw = np.zeros(state.u.shape[0])


def _blob_rows(pb, inside, acc, blobs):
    """Blob rows of the accepted proposals (pb holds the rows of the proposals inside the cube)."""
    full = np.empty_like(blobs)
    full[inside] = pb
    return full[acc]


def step(state: SMCState, loglike, settings: SMCSettings) -> SMCState:
    """One generation (module docstring): the pending move, then a reweight."""
    if state.finished:
        return state
    rng = np.random.default_rng()
    rng.bit_generator.state = state.rng
    if state.pending_move:
        _move(state, loglike, settings, rng)
        if state.beta >= 1.0:
            state.stage += 1
            state.beta = 0.0
    state.generation += 1
    _reweight(state, settings)
    if not state.finished and state.generation >= settings.max_generations:
        state.finished = True
        state.converged = False
    state.pending_move = not state.finished
    state.rng = rng.bit_generator.state
    return state


def fork(state: SMCState, stages, seed) -> SMCState:
    """A copy of a state taken at the end of a stage, continuing along other stages (same prefix)."""
    new = state.copy()
    new.stages = [list(s) for s in stages]
    new.finished = False
    new.converged = True
    new.pending_move = True
    new.rng = np.random.default_rng(seed).bit_generator.state
    new.fork_generation, new.fork_evaluations = state.generation, state.n_evaluations
    return new


def run(state: SMCState, loglike, settings: SMCSettings, on_generation=None) -> SMCState:
    """Generations until the last stage reaches β = 1 (or max_generations)."""
    while not state.finished:
        step(state, loglike, settings)
        if on_generation is not None:
            on_generation(state)
    return state


def summary(state: SMCState, settings: SMCSettings) -> dict:
    """ln Z ± err, the stage evidences, the posterior weights and ESS of a finished state."""
    W = normalised(state.logw)
    return {
        "ln_z": float(state.ln_z),
        "ln_z_err": float(math.sqrt(state.var_ln_z)),
        "stage_ends": [dict(s, ln_z_err=math.sqrt(s["var_ln_z"])) for s in state.stage_ends],
        "weights": W,
        "ess_kish": kish_ess(state.logw),
        "ess": chain_ess(state.u, W, settings.chain_length) if np.isfinite(state.ln_z) else 0.0,
        "n_evaluations": int(state.n_evaluations),
        "n_generations": int(state.generation),
        "converged": bool(state.converged),
    }
