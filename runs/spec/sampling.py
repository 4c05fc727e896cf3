"""Samplers of parameter sweeps: grid, Latin hypercube and Sobol (scipy.stats.qmc).

A sweep varies some parameters over ranges (sampled) and others over explicit lists (outer product).
Ranges are sampled in [0, 1)^d by the sampler and mapped to [min, max] linearly or in log10, as the
registry's scale (or the spec) says. A categorical may also be sampled (``choices``): its dimension of
the unit cube is cut into equal parts, one per choice (uniform prior over the choices); the grid sampler
takes every choice instead. Sobol sizes must be powers of two: a spec asking for another n is
refused with the nearest powers, never silently changed.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from ..errors import UserError

METHODS = ("grid", "lhs", "sobol")


@dataclass(frozen=True)
class Axis:
    """One varied parameter: a range (lo, hi, scale, n for grids) or explicit values."""

    name: str
    lo: float | None = None
    hi: float | None = None
    scale: str = "linear"
    n: int | None = None          # grid points of a range axis (default: the sampler's n)
    values: tuple | None = None   # explicit values (outer product); numbers or categorical names
    choices: tuple | None = None  # a sampled categorical: names drawn uniformly, jointly with the ranges

    @property
    def is_range(self) -> bool:
        return self.values is None


def unit_to_choice(u: np.ndarray, axis: Axis) -> list:
    """Map u in [0, 1) onto one of the axis's k choices: choice floor(u k) (uniform over the choices)."""
    k = len(axis.choices)
    idx = np.minimum((np.asarray(u) * k).astype(np.int64), k - 1)
    return [axis.choices[i] for i in idx]


def unit_to_range(u: np.ndarray, axis: Axis) -> np.ndarray:
    """Map u in [0, 1] onto [lo, hi], linearly or in log10."""
    if axis.scale == "log":
        return 10.0 ** (math.log10(axis.lo) + u * (math.log10(axis.hi) - math.log10(axis.lo)))
    return axis.lo + u * (axis.hi - axis.lo)


def grid_points(axis: Axis, n: int) -> np.ndarray:
    """n points from lo to hi inclusive (log-spaced for log axes); one point is the range's centre."""
    if n == 1:
        return unit_to_range(np.array([0.5]), axis)
    return unit_to_range(np.linspace(0.0, 1.0, n), axis)


def check_size(method: str, n: int, where: str = "[sampler]") -> None:
    """Refuse sizes a sampler cannot honour (Sobol: powers of two)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise UserError(f"n in {where}: expected a positive integer, got {n!r}")
    if method == "sobol" and n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise UserError(f"n = {n} in {where}: sobol needs a power of two (balance properties of the sequence); "
                        f"use n = {lo} or n = {lo * 2}")


def _split_axes(axes: list[Axis], method: str, n: int) -> tuple[list[Axis], list[Axis]]:
    """(explicit-value axes, range axes to sample jointly); on a grid every range axis becomes an
    explicit-value axis of its grid points (or its choices)."""
    lists = [a for a in axes if not a.is_range]
    ranges = [a for a in axes if a.is_range]
    if method == "grid":
        lists = lists + [Axis(a.name, values=a.choices if a.choices is not None else tuple(grid_points(a, a.n or n)))
                         for a in ranges]
        ranges = []
    return lists, ranges


# What drawing a unit's samples imports beyond this module: scipy.stats (its __init__ imports every
# distribution, ~0.7-1 s in a fresh process). ``preload`` imports them; a LocalCluster's fork server
# imports them once for all its workers (runs.compute.WORKER_MODULES).
WORKER_MODULES = ("scipy.stats.qmc",)


def preload() -> None:
    """Import WORKER_MODULES now: for a worker warming up (``pipeline.warmup``), so that its first unit,
    which draws the unit's samples, does not pay the import (~0.5-1 s, measured as the first dask task of
    a sweep taking 1.4 s instead of 0.6 s)."""
    import importlib

    for name in WORKER_MODULES:
        importlib.import_module(name)


def sample(axes: list[Axis], method: str, n: int, seed: int) -> dict:
    """Values of every varied parameter along ``sample`` (dict name -> list or array of length N).

    Order: the outer product of the explicit-value axes (first axis slowest), and for each combination
    the sampled block of range axes (grid: their outer product too; lhs/sobol: n joint points).
    """
    lists, ranges = _split_axes(axes, method, n)
    block = {}
    if ranges:
        from scipy.stats import qmc   # here, not at import: scipy.stats costs every process ~0.5 s to import

        d = len(ranges)
        if method == "lhs":
            u = qmc.LatinHypercube(d=d, seed=seed).random(n)
        else:
            u = qmc.Sobol(d=d, scramble=True, seed=seed).random(n)
        block = {a.name: unit_to_choice(u[:, j], a) if a.choices is not None else unit_to_range(u[:, j], a)
                 for j, a in enumerate(ranges)}
    n_block = n if ranges else 1
    combos = list(itertools.product(*[a.values for a in lists])) if lists else [()]
    out = {}
    for j, a in enumerate(lists):
        col = [c[j] for c in combos for _ in range(n_block)]
        out[a.name] = np.asarray(col, dtype=float) if not isinstance(col[0], str) else col
    for name, vals in block.items():
        out[name] = list(vals) * len(combos) if isinstance(vals, list) else np.tile(vals, len(combos))
    return out


_LHS_BLOCKS: dict = {}   # (d, n, seed) -> the LHS block, per process (LHS cannot make a slice alone)


def sample_slice(axes: list[Axis], method: str, n: int, seed: int, lo: int, hi: int) -> dict:
    """Rows [lo, hi) of ``sample(axes, method, n, seed)`` without making the others (sweeps of 10^8-10^9
    models): the explicit-value and grid axes by mixed-radix arithmetic on the sample index, Sobol rows
    by ``fast_forward`` (the same points as the whole sequence), LHS from its block of n joint points
    (a permutation per axis: 8 n bytes per range axis, made once per process).
    """
    lists, ranges = _split_axes(axes, method, n)
    n_block = n if ranges else 1
    idx = np.arange(lo, hi, dtype=np.int64)
    combo, row = idx // n_block, idx % n_block
    out = {}
    stride = 1
    for a in reversed(lists):          # the first axis varies slowest
        k = (combo // stride) % len(a.values)
        stride *= len(a.values)
        vals = a.values
        out[a.name] = [vals[j] for j in k] if isinstance(vals[0], str) else np.asarray(vals, dtype=float)[k]
    out = {a.name: out[a.name] for a in lists}
    if ranges:
        from scipy.stats import qmc   # see ``sample``

        d = len(ranges)
        if method == "lhs":
            key = (d, n, seed)
            if key not in _LHS_BLOCKS:
                _LHS_BLOCKS.clear()
                _LHS_BLOCKS[key] = qmc.LatinHypercube(d=d, seed=seed).random(n)
            u = _LHS_BLOCKS[key][row]
        else:
            r0, r1 = int(row.min()), int(row.max()) + 1
            eng = qmc.Sobol(d=d, scramble=True, seed=seed)
            if r0:
                eng.fast_forward(r0)
            u = eng.random(r1 - r0)[row - r0]
        for j, a in enumerate(ranges):
            out[a.name] = unit_to_choice(u[:, j], a) if a.choices is not None else unit_to_range(u[:, j], a)
    return out


def sample_count(axes: list[Axis], method: str, n: int) -> int:
    """Number of models a sweep makes (without sampling)."""
    total = 1
    for a in axes:
        if not a.is_range:
            total *= len(a.values)
        elif method == "grid":
            total *= len(a.choices) if a.choices is not None else (a.n or n)
    if method != "grid" and any(a.is_range for a in axes):
        total *= n
    return total
