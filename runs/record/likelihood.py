"""The likelihood of a model's surface field given the paleointensity record (data/README.md).

For one model and one record, with λ the site latitude and σ = σ_lnB of the record's method class:

1. Site field. For a centred axial dipole B(λ) = B_eq·√(1 + 3 sin²λ)
(docs/physics.md §Surface and site field); B_eq is the
   model's combined ``B_surface``. Records without ``site_lat_deg`` use the factor averaged uniformly
   over λ in ``unknown_lat_band_deg`` = [0°, 30°] (all Apollo sites), 1.117889. With
   ``paleolat_sigma_deg`` > 0 every factor is averaged over a Gaussian paleolatitude λ ~ N(λ_site, σ_λ)
   (24-node Gauss–Hermite; for the unknown-latitude records inside the band average).
2. x = ln max(B_site, ``B_floor_ut``): a model field below the floor (0.01 µT) counts as the floor, so
   a model without a dynamo has a finite, very low likelihood instead of ln 0.
3. Per record kind (b = ``b_ut``, in µT at the site):
   ``value``       L = N(x; ln b, σ)  (a density in ln B)
   ``range``       L = exp(−d²/2σ²) / ((ln b_high − ln b_low) + √(2π)σ), d = distance of x outside
                   [ln b_low, ln b_high] (0 inside) — a flat top with Gaussian shoulders, normalised
   ``upper_limit`` L = Φ((ln b − x)/σ)
   ``lower_limit`` L = Φ((x − ln b)/σ)
   ``null``        an upper limit at ``null_threshold_ut`` (1 µT)
   (Φ the standard normal CDF, evaluated as ``scipy.special.log_ndtr`` so far tails stay finite.)
4. Ages. L is averaged over the record's age distribution — ``gaussian`` (σ = ``age_err_ga``, or
   ``default_age_err_ga`` = 0.05 Ga where blank) or ``uniform`` (``age_ga`` ± ``age_err_ga``) — truncated
   to [0, start_age] (start_age = the oldest output age). Quadrature (a fixed rule per record and
   output grid): Gauss–Legendre nodes on the truncated support (± ``gaussian_span_sigma`` = 4σ for the
   Gaussian, whose mass beyond is renormalised away), weighted by the pdf and normalised; at least
   ``age_nodes`` (16) nodes and at least ``nodes_per_step`` (2) per output interval the support spans
   (at most ``max_age_nodes``), so a narrow CE-6 age (±3 Myr) and a 1.5 Gyr interval are both
   resolved. B between output ages is interpolated linearly in age. A zero-width support (error 0,
   or an age outside [0, start_age]) is one node at the age clipped into [0, start_age].
5. ln L_model = Σ_records ln L_record (records independent).

A model whose field is NaN at a node (a failed model) has ln L = −inf.

"Which source explains a record" (data/README.md): the source (core, BMO, precession) with the
largest on-field at the record's nominal age (linear interpolation between output ages), or none
when no source is on there.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from ..errors import UserError

SOURCES = ("none", "core", "bmo", "precession")
SOURCE_VARIABLES = ("B_core", "B_bmo", "B_precession")
LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
UNKNOWN_LAT_FACTOR_0_30 = 1.117889  # data/README.md; computed by band_site_factor(0, 30), checked in tests


@dataclass(frozen=True)
class LikelihoodSettings:
    """Every choice of the likelihood, with the defaults of data/README.md.

    sigma_whole_rock, sigma_whole_rock_arm, sigma_single_crystal: σ of ln B per method class
        (0.5, 0.8, 0.5);
    B_floor_ut: a site field below this counts as this (0.01 µT);
    null_threshold_ut: the upper limit a ``null`` record stands for (1 µT);
    default_age_err_ga: σ (gaussian) or half-width (uniform) where ``age_err_ga`` is blank (0.05 Ga);
    paleolat_sigma_deg: Gaussian paleolatitude uncertainty averaged into the site factor (0 = none);
    unknown_lat_band_deg: band over which the factor of records without a site latitude is averaged
        uniformly ([0, 30] deg: the Apollo sites);
    age_nodes, nodes_per_step, max_age_nodes, gaussian_span_sigma: the age quadrature (module
        docstring, item 4): 16, 2, 512, 4.
    """

    sigma_whole_rock: float = 0.5
    sigma_whole_rock_arm: float = 0.8
    sigma_single_crystal: float = 0.5
    B_floor_ut: float = 0.01
    null_threshold_ut: float = 1.0
    default_age_err_ga: float = 0.05
    paleolat_sigma_deg: float = 0.0
    unknown_lat_band_deg: tuple = (0.0, 30.0)
    age_nodes: int = 16
    nodes_per_step: float = 2.0
    max_age_nodes: int = 512
    gaussian_span_sigma: float = 4.0

    def sigma(self, method_class: str) -> float:
        """σ_lnB of a method class."""
        return float(getattr(self, f"sigma_{method_class}"))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["unknown_lat_band_deg"] = [float(x) for x in self.unknown_lat_band_deg]
        return d

    @classmethod
    def from_dict(cls, table: dict | None, where: str = "likelihood settings") -> "LikelihoodSettings":
        """Validated settings from a table (e.g. a sweep spec's [observations]); unknown keys are errors."""
        table = dict(table or {})
        names = {f.name: f for f in dataclasses.fields(cls)}
        out = {}
        for key, value in table.items():
            if key not in names:
                raise UserError(f"unknown likelihood setting '{key}' in {where}; expected one of "
                                f"{', '.join(names)}")
            if key == "unknown_lat_band_deg":
                if (not isinstance(value, (list, tuple)) or len(value) != 2
                        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                        or not -90 <= value[0] < value[1] <= 90):
                    raise UserError(f"{key} in {where}: expected [low, high] degrees with -90 <= low < high "
                                    f"<= 90, got {value!r}")
                out[key] = (float(value[0]), float(value[1]))
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise UserError(f"{key} in {where}: expected a number, got {value!r}")
            if key == "paleolat_sigma_deg":
                if value < 0:
                    raise UserError(f"{key} in {where}: expected >= 0 degrees, got {value!r}")
            elif value <= 0:
                raise UserError(f"{key} in {where}: expected a positive number, got {value!r}")
            if key in ("age_nodes", "max_age_nodes"):
                if int(value) != value:
                    raise UserError(f"{key} in {where}: expected an integer, got {value!r}")
                value = int(value)
            out[key] = value if key in ("age_nodes", "max_age_nodes") else float(value)
        return cls(**out)


# --------------------------------------------------------------------------------------------------
# site latitude


def site_factor(lat_deg, paleolat_sigma_deg: float = 0.0):
    """Axial-dipole factor B(λ)/B_eq = √(1 + 3 sin²λ)
    (docs/physics.md §Surface and site field), optionally averaged over a
    Gaussian paleolatitude λ ~ N(lat, σ) (24-node Gauss–Hermite, probabilists' weights)."""
    lat = np.asarray(lat_deg, dtype=float)
    if paleolat_sigma_deg <= 0.0:
        return np.sqrt(1.0 + 3.0 * np.sin(np.radians(lat)) ** 2)
    x, w = np.polynomial.hermite_e.hermegauss(24)
    lam = np.radians(lat[..., None] + paleolat_sigma_deg * x)
    return (np.sqrt(1.0 + 3.0 * np.sin(lam) ** 2) * w).sum(axis=-1) / w.sum()


def band_site_factor(lo_deg: float, hi_deg: float, paleolat_sigma_deg: float = 0.0) -> float:
    """The factor averaged uniformly over latitudes in [lo, hi] (64-node Gauss–Legendre: a smooth
    integrand, exact to rounding). [0°, 30°] gives 1.117889 (data/README.md)."""
    x, w = np.polynomial.legendre.leggauss(64)
    lat = lo_deg + (x + 1.0) * 0.5 * (hi_deg - lo_deg)
    return float((site_factor(lat, paleolat_sigma_deg) * w).sum() / w.sum())


def record_site_factors(obs, settings: LikelihoodSettings) -> np.ndarray:
    """Site factor of each selected record (band average where the latitude is blank)."""
    band = band_site_factor(*settings.unknown_lat_band_deg, settings.paleolat_sigma_deg)
    lat = obs.array("site_lat_deg")
    out = np.full(lat.shape, band)
    known = np.isfinite(lat)
    out[known] = site_factor(lat[known], settings.paleolat_sigma_deg)
    return out


# --------------------------------------------------------------------------------------------------
# per-record likelihood of ln B


def record_loglike(kind: str, x, sigma: float, b=math.nan, b_low=math.nan, b_high=math.nan,
                   null_threshold: float = 1.0):
    """ln L of one record at x = ln B_site (µT, floor already applied), data/README.md."""
    x = np.asarray(x, dtype=float)
    if kind == "value":
        z = (x - math.log(b)) / sigma
        return -0.5 * z * z - LN_SQRT_2PI - math.log(sigma)
    if kind == "range":
        lo, hi = math.log(b_low), math.log(b_high)
        d = np.maximum(lo - x, 0.0) + np.maximum(x - hi, 0.0)
        return -0.5 * (d / sigma) ** 2 - math.log((hi - lo) + math.sqrt(2.0 * math.pi) * sigma)
    if kind == "upper_limit":
        return log_ndtr((math.log(b) - x) / sigma)
    if kind == "lower_limit":
        return log_ndtr((x - math.log(b)) / sigma)
    if kind == "null":
        return log_ndtr((math.log(null_threshold) - x) / sigma)
    raise ValueError(f"unknown record kind {kind!r}")


def record_misfit(kind: str, x, sigma: float, b=math.nan, b_low=math.nan, b_high=math.nan,
                  null_threshold: float = 1.0):
    """Signed misfit in σ at x = ln B_site: (x − ln b)/σ for a value; the distance outside a range,
    or beyond a limit, in σ (0 when the model satisfies it; positive = model too strong)."""
    x = np.asarray(x, dtype=float)
    if kind == "value":
        return (x - math.log(b)) / sigma
    if kind == "range":
        return (np.maximum(x - math.log(b_high), 0.0) - np.maximum(math.log(b_low) - x, 0.0)) / sigma
    if kind == "upper_limit":
        return np.maximum(x - math.log(b), 0.0) / sigma
    if kind == "lower_limit":
        return np.minimum(x - math.log(b), 0.0) / sigma
    if kind == "null":
        return np.maximum(x - math.log(null_threshold), 0.0) / sigma
    raise ValueError(f"unknown record kind {kind!r}")


# --------------------------------------------------------------------------------------------------
# ages


def age_quadrature(age, err, dist: str, start_age: float, output_step: float,
                   settings: LikelihoodSettings) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (Ga) and normalised weights averaging over a record's age pdf truncated to [0, start_age]."""
    if not math.isfinite(err):
        err = settings.default_age_err_ga
    if dist == "gaussian":
        lo, hi = age - settings.gaussian_span_sigma * err, age + settings.gaussian_span_sigma * err
    elif dist == "uniform":
        lo, hi = age - err, age + err
    else:
        raise ValueError(f"unknown age distribution {dist!r}")
    lo, hi = max(lo, 0.0), min(hi, start_age)
    if err <= 0.0 or hi <= lo:
        return np.array([min(max(age, 0.0), start_age)]), np.ones(1)
    n = max(settings.age_nodes, int(math.ceil(settings.nodes_per_step * (hi - lo) / output_step)))
    n = min(n, settings.max_age_nodes)
    x, w = np.polynomial.legendre.leggauss(n)
    t = lo + (x + 1.0) * 0.5 * (hi - lo)
    if dist == "gaussian":
        w = w * np.exp(-0.5 * ((t - age) / err) ** 2)
    return t, w / w.sum()


def _interp_plan(ages: np.ndarray, t: np.ndarray):
    """Columns (j0, j1) of the decreasing output ages bracketing each t, and the weight f of j1."""
    ages = np.asarray(ages, dtype=float)
    n = ages.size
    asc = ages[::-1]
    t = np.clip(np.asarray(t, dtype=float), asc[0], asc[-1])
    i = np.clip(np.searchsorted(asc, t, side="right") - 1, 0, n - 2)
    f = (t - asc[i]) / (asc[i + 1] - asc[i])
    return n - 1 - i, n - 2 - i, f


def interp_ages(ages, B, t) -> np.ndarray:
    """B (n, n_age) on the decreasing output ages, linearly interpolated at ages t: (n, len(t))."""
    j0, j1, f = _interp_plan(ages, np.atleast_1d(t))
    B = np.asarray(B)
    return B[:, j0] * (1.0 - f) + B[:, j1] * f


@dataclass
class LikelihoodPlan:
    """Everything about (output ages, records, settings) that does not depend on the model.

    The kinds reduce to two vectorised forms (ln B units, per record): an *interval* [lo, hi] with
    Gaussian shoulders, ln L = −d²/2σ² − ln((hi − lo) + √(2π)σ) — a ``value`` is the zero-width
    interval [ln b, ln b], which is exactly the Gaussian density — and a *CDF*,
    ln L = ln Φ(sign·(x − c)/σ): ``upper_limit`` (sign −1, c = ln b), ``null`` (sign −1,
    c = ln null_threshold), ``lower_limit`` (sign +1, c = ln b).
    """

    ages: np.ndarray
    kinds: list
    sigma: np.ndarray  # per record
    factor: np.ndarray
    is_cdf: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    norm: np.ndarray
    sign: np.ndarray
    c: np.ndarray
    j0: np.ndarray  # all nodes of all records, concatenated
    j1: np.ndarray
    f: np.ndarray
    ln_w: np.ndarray
    node_record: np.ndarray
    starts: np.ndarray  # first node of each record
    slices: list
    nominal: tuple  # (j0, j1, f) at each record's nominal age
    floor_ut: float
    null_threshold_ut: float


def make_plan(ages, obs, settings: LikelihoodSettings | None = None) -> LikelihoodPlan:
    """Precompute the quadrature and per-record constants for a model output grid."""
    settings = settings or LikelihoodSettings()
    ages = np.asarray(ages, dtype=float)
    if ages.ndim != 1 or ages.size < 2:
        raise ValueError("the model needs at least two output ages")
    start_age = float(ages.max())
    step = float(np.median(np.abs(np.diff(ages))))
    nodes, weights, slices, owner = [], [], [], []
    k = 0
    for i, r in enumerate(obs.records):
        t, w = age_quadrature(r.age_ga, r.age_err_ga, r.age_dist, start_age, step, settings)
        nodes.append(t)
        weights.append(w)
        slices.append(slice(k, k + t.size))
        owner.append(np.full(t.size, i))
        k += t.size
    j0, j1, f = _interp_plan(ages, np.concatenate(nodes))
    with np.errstate(divide="ignore"):
        ln_w = np.log(np.concatenate(weights))
    n_rec = len(obs.records)
    sigma = np.array([settings.sigma(r.method_class) for r in obs.records])
    is_cdf = np.zeros(n_rec, dtype=bool)
    lo, hi, norm, sign, c = (np.zeros(n_rec) for _ in range(5))
    for i, r in enumerate(obs.records):
        if r.kind in ("value", "range"):
            lo[i], hi[i] = ((math.log(r.b_ut),) * 2 if r.kind == "value"
                            else (math.log(r.b_low_ut), math.log(r.b_high_ut)))
            norm[i] = math.log((hi[i] - lo[i]) + math.sqrt(2.0 * math.pi) * sigma[i])
        elif r.kind in ("upper_limit", "lower_limit", "null"):
            is_cdf[i] = True
            sign[i] = 1.0 if r.kind == "lower_limit" else -1.0
            c[i] = math.log(settings.null_threshold_ut if r.kind == "null" else r.b_ut)
        else:
            raise ValueError(f"unknown record kind {r.kind!r}")
    return LikelihoodPlan(
        ages=ages, kinds=[r.kind for r in obs.records], sigma=sigma,
        factor=record_site_factors(obs, settings), is_cdf=is_cdf, lo=lo, hi=hi, norm=norm, sign=sign, c=c,
        j0=j0, j1=j1, f=f, ln_w=ln_w, node_record=np.concatenate(owner),
        starts=np.array([sl.start for sl in slices]), slices=slices,
        nominal=_interp_plan(ages, np.clip(obs.array("age_ga"), 0.0, start_age)),
        floor_ut=settings.B_floor_ut, null_threshold_ut=settings.null_threshold_ut)


def plan_columns(plan: LikelihoodPlan, misfit: bool = False) -> np.ndarray:
    """The output-age columns (sorted) a plan reads: both brackets of every node (and of every record's
    nominal age with ``misfit``). Nothing else of the history enters ln L."""
    cols = [plan.j0, plan.j1] + ([plan.nominal[0], plan.nominal[1]] if misfit else [])
    return np.unique(np.concatenate([np.asarray(c, dtype=np.int64) for c in cols]))


def restrict_plan(plan: LikelihoodPlan, ages, columns) -> LikelihoodPlan:
    """The same plan reading B on ``ages`` (a reduced sweep's evaluated ages), where output-age column
    ``columns[k]`` of the plan's grid is found: every node gathers the very same values, so ln L is
    bitwise that of the full grid. Raises ValueError if the plan reads a column not among ``ages``."""
    ages = np.asarray(ages, dtype=float)
    pos = np.full(plan.ages.size, -1, dtype=np.int64)
    index = {float(a): k for k, a in enumerate(ages)}
    for c in np.asarray(columns, dtype=np.int64):
        pos[c] = index.get(float(plan.ages[c]), -1)

    def moved(j):
        out = pos[np.asarray(j, dtype=np.int64)]
        if (out < 0).any():
            raise ValueError("the likelihood reads an output age that is not evaluated")
        return out

    nominal = plan.nominal
    try:
        nominal = (moved(nominal[0]), moved(nominal[1]), nominal[2])
    except ValueError:
        nominal = (None, None, nominal[2])      # misfits not asked for: the nominal ages are not evaluated
    return dataclasses.replace(plan, ages=ages, j0=moved(plan.j0), j1=moved(plan.j1), nominal=nominal)


def _ln_site(B_eq_T, factor, floor_ut):
    """x = ln max(B_eq · factor, floor) in µT (NaN stays NaN)."""
    b = np.asarray(B_eq_T, dtype=float) * (1e6 * factor)
    return np.log(np.where(b < floor_ut, floor_ut, b))


def _lnl_forms(x, rec, plan: LikelihoodPlan):
    """ln L at x (n, m) for records rec (m,) (the two forms of LikelihoodPlan)."""
    sig = plan.sigma[rec]
    out = np.empty(x.shape)
    cdf = plan.is_cdf[rec]
    iv = ~cdf
    if iv.any():
        xi = x[:, iv]
        d = np.maximum(plan.lo[rec][iv] - xi, 0.0) + np.maximum(xi - plan.hi[rec][iv], 0.0)
        out[:, iv] = -0.5 * (d / sig[iv]) ** 2 - plan.norm[rec][iv]
    if cdf.any():
        out[:, cdf] = log_ndtr(plan.sign[rec][cdf] * (x[:, cdf] - plan.c[rec][cdf]) / sig[cdf])
    return out


def _misfit_forms(x, plan: LikelihoodPlan):
    """Signed misfit in σ at x (n, n_records) (see record_misfit)."""
    out = np.empty(x.shape)
    cdf, iv = plan.is_cdf, ~plan.is_cdf
    out[:, iv] = np.maximum(x[:, iv] - plan.hi[iv], 0.0) - np.maximum(plan.lo[iv] - x[:, iv], 0.0)
    beyond = x[:, cdf] - plan.c[cdf]
    out[:, cdf] = np.where(plan.sign[cdf] < 0, np.maximum(beyond, 0.0), np.minimum(beyond, 0.0))
    return out / plan.sigma


def _evaluate(plan: LikelihoodPlan, B: np.ndarray, misfit: bool):
    Bn = B[:, plan.j0] * (1.0 - plan.f) + B[:, plan.j1] * plan.f  # (n, n_nodes)
    x = _ln_site(Bn, plan.factor[plan.node_record], plan.floor_ut)
    a = _lnl_forms(x, plan.node_record, plan) + plan.ln_w  # ln(w_k L_k)
    # per-record log-sum-exp over each record's nodes (contiguous runs starting at plan.starts)
    with np.errstate(invalid="ignore"):
        m = np.maximum.reduceat(a, plan.starts, axis=1)
        m = np.where(np.isfinite(m), m, 0.0)
        per = np.log(np.add.reduceat(np.exp(a - m[:, plan.node_record]), plan.starts, axis=1)) + m
    per[np.isnan(per)] = -np.inf
    mis = None
    if misfit:
        j0, j1, f = plan.nominal
        xn = _ln_site(B[:, j0] * (1.0 - f) + B[:, j1] * f, plan.factor, plan.floor_ut)
        mis = _misfit_forms(xn, plan).astype(np.float32)
    return per, mis


def log_likelihood(ages, B_eq, obs, settings: LikelihoodSettings | None = None, *,
                   plan: LikelihoodPlan | None = None, misfit: bool = False, chunk: int = 4096):
    """ln L of every model given the selected records (data/README.md; module docstring).

    ages: output ages (Ga, decreasing); B_eq: (n, n_age) equatorial surface field in T (the combined
    ``B_surface``); obs: runs.observations.Observations. Returns (loglike (n,), per_record (n, n_records))
    and, with ``misfit=True``, also the signed misfit (n, n_records) at each record's nominal age.
    """
    plan = plan or make_plan(ages, obs, settings)
    B = np.asarray(B_eq)
    if B.ndim == 1:
        B = B[None, :]
    if B.shape[1] != plan.ages.size:
        raise ValueError(f"B_eq has {B.shape[1]} ages, the plan {plan.ages.size}")
    n = B.shape[0]
    per = np.empty((n, len(plan.kinds)))
    mis = np.empty((n, len(plan.kinds)), dtype=np.float32) if misfit else None
    for lo in range(0, n, chunk):
        p, m = _evaluate(plan, B[lo:lo + chunk], misfit)
        per[lo:lo + chunk] = p
        if misfit:
            mis[lo:lo + chunk] = m
    loglike = per.sum(axis=1)
    return (loglike, per, mis) if misfit else (loglike, per)


# --------------------------------------------------------------------------------------------------
# which source explains a record


def source_codes(B_core, B_bmo, B_precession) -> np.ndarray:
    """Code (index in SOURCES) of the largest on-field among stacked source fields of equal shape
    (NaN counts as off; 0 = none on)."""
    stack = np.stack([np.nan_to_num(np.asarray(b, dtype=float), nan=0.0) for b in (B_core, B_bmo, B_precession)])
    code = np.argmax(stack, axis=0) + 1
    code[stack.max(axis=0) <= 0.0] = 0
    return code.astype(np.int8)


def source_at_ages(ages, B_core, B_bmo, B_precession, t) -> np.ndarray:
    """Source code of each model at ages t (linear interpolation between output ages): (n, len(t))."""
    return source_codes(*(interp_ages(ages, b, t) for b in (B_core, B_bmo, B_precession)))


def explaining_source(ages, B_core, B_bmo, B_precession, obs) -> np.ndarray:
    """For each model and record the source with the largest on-field at the record's age
    (data/README.md): int8 codes (n, n_records) indexing ``SOURCES`` (0 = no source on)."""
    t = np.clip(obs.array("age_ga"), 0.0, float(np.max(ages)))
    return source_at_ages(ages, np.atleast_2d(B_core), np.atleast_2d(B_bmo), np.atleast_2d(B_precession), t)


def source_weights(codes, weights=None) -> dict:
    """Posterior mass of each source (codes (n,), weights (n,) summing to anything; None = equal)."""
    codes = np.asarray(codes).ravel()
    w = np.ones(codes.size) if weights is None else np.asarray(weights, dtype=float).ravel()
    total = w.sum()
    return {name: (float(w[codes == k].sum() / total) if total > 0 else 0.0) for k, name in enumerate(SOURCES)}
