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
   acceptance rate; a step out of the cube is rejected uncomputed); all M·P states are the next population (equal weights). Every Metropolis step is
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

    particles: int = 800
    chain_length: int = 10
    ess_fraction: float = 0.8
    max_generations: int = 500
    islands: int = 8

    @property
    def chains(self) -> int:
        """Chains per island (M / R)."""
        return max(1, self.particles // self.islands)

    @property
    def n(self) -> int:
        """Particles per island."""
        return self.chains * self.chain_length


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


def initial_states(loglike, ndim: int, stages, settings: SMCSettings, seed) -> list:
    """R islands of M/R·P prior draws each, evaluated in one batch."""
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    seqs = root.spawn(settings.islands)
    rngs = [np.random.default_rng(q) for q in seqs]
    us = [r.random((settings.n, ndim)) for r in rngs]
    ll, blobs = loglike(np.concatenate(us))
    ll, blobs = np.asarray(ll, float), np.asarray(blobs)
    out = []
    for k, (r, u) in enumerate(zip(rngs, us)):
        sl = slice(k * settings.n, (k + 1) * settings.n)
        out.append(SMCState(u=u, ll=ll[sl], blobs=blobs[sl], logw=np.zeros(settings.n),
                            stages=[list(x) for x in stages], rng=r.bit_generator.state, n_evaluations=settings.n))
    return out


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


class _Chains:
    """The M/R Metropolis chains of one island during a move (module docstring, step 2)."""

    def __init__(self, state: SMCState, settings: SMCSettings, rng):
        W = normalised(state.logw)
        d = state.u.shape[1]
        mu = W @ state.u
        cov = (state.u - mu).T @ ((state.u - mu) * W[:, None])
        cov = 0.5 * (cov + cov.T) + 1e-12 * np.eye(d)
        try:
            self.chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            self.chol = np.diag(np.sqrt(np.maximum(np.diag(cov), 1e-12)))
        idx = _systematic(W, settings.chains, rng)
        self.state, self.rng = state, rng
        self.u, self.ll, self.blobs = state.u[idx].copy(), state.ll[idx].copy(), state.blobs[idx].copy()
        self.lt = log_target(state, self.ll)
        self.us, self.lls, self.bs = [self.u.copy()], [self.ll.copy()], [self.blobs.copy()]
        self.step = state.scale * 2.38 / math.sqrt(d)
        self.accepted = self.proposed = 0

    def propose(self) -> np.ndarray:
        m, d = self.u.shape
        self.prop = self.u + self.step * self.rng.standard_normal((m, d)) @ self.chol.T
        # a proposal outside the prior box has target 0: rejected without computing it (folding it back
        # by reflection would not be a symmetric proposal for correlated steps)
        self.inside = np.all((self.prop >= 0.0) & (self.prop <= 1.0), axis=1)
        return self.prop[self.inside]

    def accept(self, pll_in, pb_in) -> None:
        m = self.u.shape[0]
        pll = np.full((m, self.ll.shape[1]), -np.inf)
        pb = np.full((m,) + self.blobs.shape[1:], np.nan)
        pll[self.inside], pb[self.inside] = np.asarray(pll_in, float), pb_in
        lp = log_target(self.state, pll)
        self.state.n_evaluations += int(self.inside.sum())
        log_a = lp - self.lt   # the resampled particles have finite targets (weight > 0); lp may be -inf
        acc = np.log(self.rng.random(lp.size)) < log_a
        self.u[acc], self.ll[acc], self.blobs[acc], self.lt[acc] = self.prop[acc], pll[acc], pb[acc], lp[acc]
        self.accepted += int(acc.sum())
        self.proposed += lp.size
        self.us.append(self.u.copy())
        self.lls.append(self.ll.copy())
        self.bs.append(self.blobs.copy())

    def finish(self) -> None:
        st = self.state
        rate = self.accepted / self.proposed if self.proposed else 0.0
        st.history[-1]["acceptance"] = rate
        st.scale = float(np.clip(st.scale * math.exp(2.0 * (rate - TARGET_ACCEPTANCE)), SCALE_MIN, SCALE_MAX))
        st.u, st.ll, st.blobs = np.concatenate(self.us), np.concatenate(self.lls), np.concatenate(self.bs)
        st.logw = np.zeros(st.u.shape[0])


def step(states, loglike, settings: SMCSettings) -> list:
    """One generation of every unfinished island (module docstring): the pending moves, in lockstep
    (each Metropolis step of all islands is one batch), then a reweight."""
    active = [s for s in states if not s.finished]
    if not active:
        return states
    rngs = []
    for s in active:
        r = np.random.default_rng()
        r.bit_generator.state = s.rng
        rngs.append(r)
    moving = [_Chains(s, settings, r) for s, r in zip(active, rngs) if s.pending_move]
    for _ in range(settings.chain_length - 1) if moving else ():
        props = [c.propose() for c in moving]
        batch = np.concatenate(props)
        if batch.shape[0]:
            ll, blobs = loglike(batch)
            ll, blobs = np.asarray(ll, float), np.asarray(blobs)
        else:
            ll, blobs = np.zeros((0, moving[0].ll.shape[1])), np.zeros((0,) + moving[0].blobs.shape[1:])
        lo = 0
        for c, p in zip(moving, props):
            c.accept(ll[lo: lo + p.shape[0]], blobs[lo: lo + p.shape[0]])
            lo += p.shape[0]
    for c in moving:
        c.finish()
    for s, r in zip(active, rngs):
        if s.pending_move and s.beta >= 1.0:
            s.stage += 1
            s.beta = 0.0
        s.generation += 1
        _reweight(s, settings)
        if not s.finished and s.generation >= settings.max_generations:
            s.finished = True
            s.converged = False
        s.pending_move = not s.finished
        s.rng = r.bit_generator.state
    return states


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


def run(states, loglike, settings: SMCSettings, on_generation=None) -> list:
    """Generations until every island's last stage reaches β = 1 (or max_generations)."""
    while not all(s.finished for s in states):
        step(states, loglike, settings)
        if on_generation is not None:
            on_generation(states)
    return states


def combine_ln_z(lz, var, lz_ref=None, var_ref=None):
    """ln Z of R islands combined (Z = mean of the islands' Z: unbiased) and its error: the spread
    between islands (relative variance of the mean, R − 1 degrees of freedom) plus the islands' own
    single-run estimates (a conservative sum: the spread of a few islands alone underestimates a skewed
    Z; on the toy Gaussians of tests/test_infer.py the sum covers the true error). With ``lz_ref`` (the same islands' ln Z of a nested evidence, e.g. all but
    CE-6), the log ratio ln Z − ln Z_ref and its error (var − var_ref: the increments of one path)."""
    lz, var = np.asarray(lz, float), np.asarray(var, float)
    R = lz.size
    if not np.isfinite(lz).any():
        return -math.inf, math.nan
    ln_z = log_mean_exp(lz)
    a = np.exp(lz - ln_z)
    if lz_ref is None:
        between = float(np.var(a, ddof=1) / R) if R > 1 else 0.0
        within = float(np.sum((a / R) ** 2 * var))
        return ln_z, math.sqrt(between + within)
    lz_ref, var_ref = np.asarray(lz_ref, float), np.asarray(var_ref, float)
    ln_ref = log_mean_exp(lz_ref)
    b = np.exp(lz_ref - ln_ref)
    between = float(np.var(a - b, ddof=1) / R) if R > 1 else 0.0
    within = float(np.sum((a / R) ** 2 * np.maximum(var - var_ref, 0.0)))
    return ln_z - ln_ref, math.sqrt(between + within)


def summary(states, settings: SMCSettings) -> dict:
    """ln Z ± err of R finished islands, the stage evidences, the combined posterior weights and ESS."""
    lz = np.array([s.ln_z for s in states])
    var = np.array([s.var_ln_z for s in states])
    ln_z, err = combine_ln_z(lz, var)
    R = len(states)
    with np.errstate(invalid="ignore"):
        a = np.exp(lz - ln_z) if np.isfinite(ln_z) else np.full(R, 1.0)
    a = np.where(np.isfinite(a), a, 0.0)
    W = np.concatenate([(a[k] / max(a.sum(), 1e-300)) * normalised(s.logw) for k, s in enumerate(states)])
    n_stages = min(len(s.stage_ends) for s in states)
    stage_ends = []
    for k in range(n_stages):
        lzk = [s.stage_ends[k]["ln_z"] for s in states]
        vk = [s.stage_ends[k]["var_ln_z"] for s in states]
        z, e = combine_ln_z(lzk, vk)
        stage_ends.append({"stage": states[0].stage_ends[k]["stage"], "ln_z": z, "ln_z_err": e,
                           "islands_ln_z": lzk, "islands_var_ln_z": vk,
                           "generation": max(s.stage_ends[k]["generation"] for s in states)})
    wr = a / max(a.sum(), 1e-300)
    ess_r = np.array([chain_ess(s.u, normalised(s.logw), settings.chain_length) if np.isfinite(s.ln_z) else 0.0
                      for s in states])
    with np.errstate(divide="ignore"):
        ess = float(1.0 / np.sum(np.where(wr > 0, wr ** 2 / np.maximum(ess_r, 1e-300), 0.0))) if wr.sum() > 0 else 0.0
        kish = kish_ess(np.log(W))
    return {
        "ln_z": float(ln_z), "ln_z_err": float(err), "islands_ln_z": lz.tolist(),
        # the largest island's share of Z = mean of the islands' Z: near 1 when one island found mass the
        # others missed; ln Z then rests on one island, and its error (which tends to 1 in that limit) is
        # not an error bar (runs.inference.infer calls such an evidence unresolved)
        "largest_island_share": float(a.max() / max(a.sum(), 1e-300)) if a.sum() > 0 else float("nan"),
        "stage_ends": stage_ends,
        "weights": W,
        "u": np.concatenate([s.u for s in states]), "ll": np.concatenate([s.ll for s in states]),
        "blobs": np.concatenate([s.blobs for s in states]),
        "ess_kish": kish, "ess": min(ess, kish),
        "n_evaluations": int(sum(s.n_evaluations for s in states)),
        "n_generations": int(max(s.generation for s in states)),
        "converged": bool(all(s.converged for s in states)),
    }
