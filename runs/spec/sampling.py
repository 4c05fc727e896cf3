"""Samplers of parameter sweeps: grid, Latin hypercube and Sobol (scipy.stats.qmc).

A sweep varies some parameters over ranges (sampled) and others over explicit lists (outer product).
Ranges are sampled in [0, 1)^d by the sampler and mapped to [min, max] linearly or in log10, as the
registry's scale (or the spec) says. Sobol sizes must be powers of two: a spec asking for another n is
refused with the nearest powers, never silently changed.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

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

    @property
    def is_range(self) -> bool:
        return self.values is None


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


def sample(axes: list[Axis], method: str, n: int, seed: int) -> dict:
    """Values of every varied parameter along ``sample`` (dict name -> list or array of length N).

    Order: the outer product of the explicit-value axes (first axis slowest), and for each combination
    the sampled block of range axes (grid: their outer product too; lhs/sobol: n joint points).
    """
    lists = [a for a in axes if not a.is_range]
    ranges = [a for a in axes if a.is_range]
    if method == "grid":
        lists = lists + [Axis(a.name, values=tuple(grid_points(a, a.n or n))) for a in ranges]
        ranges = []
    block = {}
    if ranges:
        d = len(ranges)
        if method == "lhs":
            u = qmc.LatinHypercube(d=d, seed=seed).random(n)
        else:
            u = qmc.Sobol(d=d, scramble=True, seed=seed).random(n)
        block = {a.name: unit_to_range(u[:, j], a) for j, a in enumerate(ranges)}
    n_block = n if ranges else 1
    combos = list(itertools.product(*[a.values for a in lists])) if lists else [()]
    out = {}
    for j, a in enumerate(lists):
        col = [c[j] for c in combos for _ in range(n_block)]
        out[a.name] = np.asarray(col, dtype=float) if not isinstance(col[0], str) else col
    for name, vals in block.items():
        out[name] = np.tile(vals, len(combos))
    return out


def sample_count(axes: list[Axis], method: str, n: int) -> int:
    """Number of models a sweep makes (without sampling)."""
    total = 1
    for a in axes:
        if not a.is_range:
            total *= len(a.values)
        elif method == "grid":
            total *= a.n or n
    if method != "grid" and any(a.is_range for a in axes):
        total *= n
    return total
