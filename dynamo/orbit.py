"""Prescribed lunar orbit a(t), mean motion and nodal precession rate (docs/physics.md §Orbit).

Orbit models (codes = order of the ``orbit`` choices in dynamo/parameters.py):

- ``cyclostratigraphy`` (0): monotone cubic (PCHIP) in age through (0, 384,400 km),
  (1.4 Ga, 341,000 km) (Meyers & Malinverno 2018), (2.46 Ga, 321,800 km) (Lantink et al. 2022) and
  (start_age, a_start);
- ``dwyer`` (1): PCHIP through (0, 384,400 km), (2.7 Ga, 48 R_E) (Dwyer et al. 2011) and
  (start_age, a_start);
- ``constant_q`` (2): the constant-Q closed form of docs/physics.md §Orbit from today's recession 3.82 cm/yr; it
  collapses to a = 0 at 1.548127 Ga and is undefined (NaN) from there on;
- published histories (codes 3-16, ``TABULATED_ORBITS``): PCHIP in age through the source's own tabulated
  points (dynamo/data/orbit_<name>.csv; sources, DOIs and the conversion in dynamo/data/README.md):
  Farhat et al. 2022 and the two edges of its 2-sigma band, Daher et al. 2021 (four ocean-basin
  geometries), Tyler 2021 (three dissipation parameters), Webb 1982 (curves a-d). A published history is
  the source's curve alone: ``a_start`` is not used, and outside the source's age range (older than its
  oldest point, e.g. Farhat et al.'s Moon-forming 4.429 Ga, or the collapse of Webb's curves a, b, d) the
  orbit is undefined (NaN), as constant_q beyond its collapse.

A fixed knot at or beyond start_age is dropped (only knots younger than start_age are used), so the
curve always ends exactly at (start_age, a_start). Outside [0, start_age] the end cubics extrapolate,
as scipy's PchipInterpolator does.

The PCHIP is written here in Numba for at most 4 knots, held in fixed-size tuples, because the dynamo
stage that evaluates a(t) at every (sample, age) must be ``@njit`` without allocating: scipy's
PchipInterpolator cannot be called there. It is the Fritsch-Carlson (1980) / Fritsch & Butland scheme
of scipy.interpolate.PchipInterpolator (weighted harmonic mean of the secants inside, the
shape-preserving three-point formula at the ends, two knots = a straight line) and is tested against it.

The tabulated histories have up to 4,430 points, so their PCHIP derivatives are computed once at import
by scipy.interpolate.PchipInterpolator (a well-kept implementation of the same scheme) and stored beside
the points in one packed table (``ORBIT_TABLE``: age in Ga, a in m, da/dage in m/Ga; ``ORBIT_SPAN``: the
rows of each orbit code). The kernels take that table as an argument (not as a frozen global, which
Numba's on-disk cache would not see change) and evaluate the cubic Hermite piece by bisection.
"""
import math
from pathlib import Path

import numpy as np
from numba import float64, int64, njit, types
from scipy.interpolate import PchipInterpolator

from .parameters import ANALYTIC_ORBITS, ORBIT_NAMES, TABULATED_ORBITS
from ..thermal.constants import GA, G, M_EARTH, M_MOON, R_EARTH, YEAR

# codes = positions in the registry's ``orbit`` choices (dynamo/parameters.py), spelled there once
ORBIT_CYCLOSTRATIGRAPHY = ORBIT_NAMES.index("cyclostratigraphy")
ORBIT_DWYER = ORBIT_NAMES.index("dwyer")
ORBIT_CONSTANT_Q = ORBIT_NAMES.index("constant_q")
FIRST_TABULATED = len(ANALYTIC_ORBITS)
DATA_DIR = Path(__file__).resolve().parent / "data"

A_TODAY = 384400e3                 # m, today's semi-major axis
A_1400 = 341000e3                  # m at 1.4 Ga (Meyers & Malinverno 2018)
A_2460 = 321800e3                  # m at 2.46 Ga (Lantink et al. 2022)
A_DWYER = 48.0 * R_EARTH           # m at 2.7 Ga in Dwyer et al. 2011's history
ADOT_TODAY = 0.0382 / YEAR         # m/s, today's lunar recession (LLR)
NODAL_PERIOD_TODAY = 18.6 * YEAR   # s
# constant-Q collapse age (Ga): a(t)^(13/2) = a0^(13/2) - (13/2) adot0 a0^(11/2) t reaches 0
CONSTANT_Q_COLLAPSE_AGE = A_TODAY / (6.5 * ADOT_TODAY) / GA

KNOTS = types.UniTuple(float64, 4)


# --------------------------------------------------------------------------------------------------
# monotone cubic Hermite interpolation (PCHIP), <= 4 knots

@njit(float64(float64), cache=True)
def _sign(x):
    """Sign of x as numpy.sign: -1, 0 or 1."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return 0.0


@njit(float64(float64, float64, float64, float64), cache=True)
def _pchip_edge_slope(h0, h1, m0, m1):
    """End-point derivative of PCHIP: the three-point formula, limited to preserve shape
    (Fritsch & Carlson 1980; as scipy.interpolate.PchipInterpolator._edge_case)."""
    d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if _sign(d) != _sign(m0):
        return 0.0
    if _sign(m0) != _sign(m1) and abs(d) > 3.0 * abs(m0):
        return 3.0 * m0
    return d


@njit(float64(KNOTS, KNOTS, int64, int64), cache=True)
def pchip_slope(xs, ys, n, k):
    """PCHIP derivative at knot k of the n (2-4) knots (xs, ys), xs increasing: zero at a local
    extremum of the data, else the weighted harmonic mean of the neighbouring secants
    (Fritsch & Butland 1984, as scipy's PchipInterpolator); the ends use ``_pchip_edge_slope``."""
    if n == 2:
        return (ys[1] - ys[0]) / (xs[1] - xs[0])
    if k == 0:
        h0 = xs[1] - xs[0]
        h1 = xs[2] - xs[1]
        return _pchip_edge_slope(h0, h1, (ys[1] - ys[0]) / h0, (ys[2] - ys[1]) / h1)
    if k == n - 1:
        h0 = xs[n - 1] - xs[n - 2]
        h1 = xs[n - 2] - xs[n - 3]
        return _pchip_edge_slope(h0, h1, (ys[n - 1] - ys[n - 2]) / h0, (ys[n - 2] - ys[n - 3]) / h1)
    hl = xs[k] - xs[k - 1]
    hr = xs[k + 1] - xs[k]
    ml = (ys[k] - ys[k - 1]) / hl
    mr = (ys[k + 1] - ys[k]) / hr
    if ml == 0.0 or mr == 0.0 or (ml > 0.0) != (mr > 0.0):
        return 0.0
    w1 = 2.0 * hr + hl
    w2 = hr + 2.0 * hl
    return (w1 + w2) / (w1 / ml + w2 / mr)


@njit(float64(KNOTS, KNOTS, int64, float64), cache=True)
def pchip_eval(xs, ys, n, x):
    """Monotone piecewise-cubic Hermite interpolant (PCHIP) of the first n (2-4) knots at x
    (Fritsch & Carlson 1980; scipy.interpolate.PchipInterpolator, extrapolating with the end cubics)."""
    j = 0
    while j < n - 2 and x >= xs[j + 1]:
        j += 1
    h = xs[j + 1] - xs[j]
    t = (x - xs[j]) / h
    t2 = t * t
    t3 = t2 * t
    d0 = pchip_slope(xs, ys, n, j)
    d1 = pchip_slope(xs, ys, n, j + 1)
    return ((2.0 * t3 - 3.0 * t2 + 1.0) * ys[j] + (t3 - 2.0 * t2 + t) * h * d0
            + (-2.0 * t3 + 3.0 * t2) * ys[j + 1] + (t3 - t2) * h * d1)


# --------------------------------------------------------------------------------------------------
# published histories: tables

def orbit_data_file(name: str) -> Path:
    """The CSV of a published history (columns age_Ga, a_km; dynamo/data/README.md)."""
    return DATA_DIR / f"orbit_{name}.csv"


def read_orbit_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(age in Ga, a in m) at the source's own points, ages increasing."""
    d = np.loadtxt(orbit_data_file(name), delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    return d[:, 0].copy(), d[:, 1] * 1e3


def build_orbit_tables() -> tuple[np.ndarray, np.ndarray]:
    """The packed table of every published history and the row span of every orbit code.

    Returns (table (N, 3): age Ga, a m, PCHIP da/dage m/Ga; span (len(ORBIT_NAMES), 2) int64 [start, stop)
    rows, (0, 0) for the analytic models).
    """
    rows, span = [], np.zeros((len(ORBIT_NAMES), 2), dtype=np.int64)
    start = 0
    for k, name in enumerate(TABULATED_ORBITS):
        age, a = read_orbit_table(name)
        if age.size < 2 or not np.all(np.diff(age) > 0.0):
            raise ValueError(f"{orbit_data_file(name)}: expected at least 2 points with increasing ages")
        slope = PchipInterpolator(age, a).derivative()(age)
        rows.append(np.column_stack([age, a, slope]))
        span[FIRST_TABULATED + k] = (start, start + age.size)
        start += age.size
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float64), span


ORBIT_TABLE, ORBIT_SPAN = build_orbit_tables()


@njit(cache=True)
def tabulated_semi_major_axis(table, lo, hi, age):
    """a(age) (m) of one published history: the cubic Hermite piece through rows [lo, hi) of ``table``
    (age, a, PCHIP slope), found by bisection; exact at the source's points; NaN outside its age range."""
    if not (age >= table[lo, 0] and age <= table[hi - 1, 0]):
        return math.nan
    i, j = lo, hi - 1
    while j - i > 1:  # table[i, 0] <= age <= table[j, 0]
        k = (i + j) // 2
        if table[k, 0] <= age:
            i = k
        else:
            j = k
    h = table[j, 0] - table[i, 0]
    t = (age - table[i, 0]) / h
    t2 = t * t
    t3 = t2 * t
    return ((2.0 * t3 - 3.0 * t2 + 1.0) * table[i, 1] + (t3 - 2.0 * t2 + t) * h * table[i, 2]
            + (-2.0 * t3 + 3.0 * t2) * table[j, 1] + (t3 - t2) * h * table[j, 2])


# --------------------------------------------------------------------------------------------------
# a(t)

@njit(types.Tuple((KNOTS, KNOTS, int64))(int64, float64, float64), cache=True)
def orbit_knots(orbit, start_age, a_start):
    """Knots (ages in Ga, a in m, count) of the PCHIP orbit models (docs/physics.md §Orbit); fixed knots at or
    beyond start_age are dropped. Unused tuple slots repeat the last knot."""
    s = start_age
    if orbit == ORBIT_CYCLOSTRATIGRAPHY:
        if s > 2.46:
            return (0.0, 1.4, 2.46, s), (A_TODAY, A_1400, A_2460, a_start), 4
        if s > 1.4:
            return (0.0, 1.4, s, s), (A_TODAY, A_1400, a_start, a_start), 3
        return (0.0, s, s, s), (A_TODAY, a_start, a_start, a_start), 2
    # dwyer
    if s > 2.7:
        return (0.0, 2.7, s, s), (A_TODAY, A_DWYER, a_start, a_start), 3
    return (0.0, s, s, s), (A_TODAY, a_start, a_start, a_start), 2


@njit(float64(float64), cache=True)
def constant_q_semi_major_axis(age):
    """Constant-Q tidal recession a(t) = [a0^(13/2) - (13/2) C t]^(2/13), C = adot0 a0^(11/2), from today's
    adot0 = 3.82 cm/yr (docs/physics.md §Orbit; VALIDATION A5/F1). NaN from the collapse (1.548127 Ga) on."""
    x = 1.0 - 6.5 * ADOT_TODAY * (age * GA) / A_TODAY
    if not (x > 0.0):
        return math.nan
    return A_TODAY * x ** (2.0 / 13.0)


@njit(float64(int64, float64, float64, float64), cache=True)
def analytic_semi_major_axis(orbit, age, start_age, a_start):
    """a (m) at ``age`` (Ga) under one of the analytic models (0 cyclostratigraphy, 1 dwyer, 2 constant_q)
    (docs/physics.md §Orbit). NaN where the model is undefined (constant_q beyond its collapse) or
    for any other code."""
    if orbit == ORBIT_CONSTANT_Q:
        return constant_q_semi_major_axis(age)
    if orbit != ORBIT_CYCLOSTRATIGRAPHY and orbit != ORBIT_DWYER:
        return math.nan
    xs, ys, n = orbit_knots(orbit, start_age, a_start)
    return pchip_eval(xs, ys, n, age)


@njit(cache=True)
def semi_major_axis(orbit, age, start_age, a_start, table, span):
    """Lunar semi-major axis a (m) at ``age`` (Ga) under orbit model ``orbit`` (codes of ORBIT_NAMES)
    (docs/physics.md §Orbit); ``table``, ``span``: ORBIT_TABLE, ORBIT_SPAN. NaN where the model is
    undefined or for an unknown code."""
    if orbit < FIRST_TABULATED:
        return analytic_semi_major_axis(orbit, age, start_age, a_start)
    if orbit >= span.shape[0]:
        return math.nan
    return tabulated_semi_major_axis(table, span[orbit, 0], span[orbit, 1], age)


@njit(cache=True)
def _semi_major_axis_many(orbit, age, start_age, a_start, table, span, out):
    for k in range(age.shape[0]):
        out[k] = semi_major_axis(orbit[k], age[k], start_age[k], a_start[k], table, span)


def semi_major_axis_array(orbit, age, start_age, a_start):
    """``semi_major_axis`` over broadcast arrays (or scalars, giving a float), with the package's tables."""
    o, x, s, a0 = np.broadcast_arrays(np.asarray(orbit, dtype=np.int64), np.asarray(age, dtype=np.float64),
                                      np.asarray(start_age, dtype=np.float64),
                                      np.asarray(a_start, dtype=np.float64))
    out = np.empty(x.size)
    flat = [np.array(v, copy=True).ravel() for v in (o, x, s, a0)]  # writable, contiguous: one signature
    _semi_major_axis_many(*flat, ORBIT_TABLE, ORBIT_SPAN, out)
    out = out.reshape(x.shape)
    return float(out) if out.ndim == 0 else out


@njit(float64(float64), cache=True)
def mean_motion(a):
    """Orbital mean motion n = sqrt(G (M_E + M_M)/a^3) (rad/s); the synchronous Moon's spin and the
    Omega of every scaling law (docs/physics.md §Orbit)."""
    return math.sqrt(G * (M_EARTH + M_MOON) / (a * a * a))


@njit(float64(float64), cache=True)
def nodal_rate(a):
    """Nodal precession rate |Omega_dot|(a) = (2 pi/18.6 yr)(a/384,400 km)^(3/2) (rad/s), the solar term
    only (no Earth J2 term in v1) (docs/physics.md §Orbit)."""
    return 2.0 * math.pi / NODAL_PERIOD_TODAY * (a / A_TODAY) ** 1.5
