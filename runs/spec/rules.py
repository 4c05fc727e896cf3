"""The cross-parameter rules: relations between parameters that single bounds cannot express.

Each rule is declared once here
(docs/physics.md §Three stages, §Structure and state) and used alike by scenario validation
(``config.check_consistency``, one model), sweep sample checks (every sample of a sweep, vectorised)
and fits (``inference.fit``: a proposal breaking a rule is outside the prior). A rule is a vectorised
predicate over parameter columns (``broken``) with a short name and a one-line explanation for one
model (``explain``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...thermal.mantle import MIN_MANTLE_THICKNESS
from ..errors import exact


class Columns:
    """Parameter values of n models as float arrays: a varied column, or a fixed value broadcast.

    ``length(name)`` is the number of values of an array parameter (e.g. the core-only knots).
    """

    def __init__(self, values: dict, varied: dict | None = None, n: int = 1):
        self.values, self.varied, self.n = values, varied or {}, n

    def __call__(self, name):
        if name in self.varied:
            return np.asarray(self.varied[name], dtype=float)
        return np.full(self.n, float(self.values[name]))

    def category(self, name):
        v = self.varied.get(name)
        return np.asarray(v if v is not None else [self.values[name]] * self.n, dtype=object)

    def length(self, name):
        return np.full(self.n, len(self.values[name]))


@dataclass(frozen=True)
class Rule:
    name: str                                    # short: what is broken, e.g. "lid0 < crust_thickness"
    broken: Callable[[Columns], np.ndarray]      # True where the rule is broken
    explain: Callable[[dict], tuple]             # (subject, rest) of the one-line error for one model


def _room(c: Columns):
    return c("radius") - c("r_core") - c("bmo_thickness0") - MIN_MANTLE_THICKNESS


def _knots(v):
    name = next(n for n in ("qcmb_ages", "qcmb_values") if len(v[n]) != v["qcmb_n"])
    return (name, f" has {len(v[name])} value(s) but qcmb_n = {v['qcmb_n']}: core_only mode needs qcmb_n "
                  "knots in qcmb_ages and qcmb_values")


RULES = (
    Rule("f_hpe_crust + f_hpe_basal > 1",
         lambda c: c("f_hpe_crust") + c("f_hpe_basal") > 1.0,
         lambda v: (f"f_hpe_crust + f_hpe_basal = {exact(v['f_hpe_crust'] + v['f_hpe_basal'])}",
                    ": expected at most 1 (fractions of one heat-producing inventory)")),
    Rule("f_hpe_basal > 0 needs bmo_thickness0 > 0",
         lambda c: (c("f_hpe_basal") > 0.0) & (c("bmo_thickness0") == 0.0),
         lambda v: (f"f_hpe_basal = {exact(v['f_hpe_basal'])}", " needs a basal layer, but bmo_thickness0 = 0: "
                    "set f_hpe_basal = 0 or bmo_thickness0 > 0")),
    Rule("lid0 < crust_thickness",
         lambda c: c("lid0") < c("crust_thickness"),
         lambda v: (f"lid0 = {exact(v['lid0'])} m", f" is thinner than crust_thickness = {exact(v['crust_thickness'])} m: "
                    "expected lid0 >= crust_thickness (the lid includes the crust)")),
    Rule("lid0 leaves no convecting mantle",
         lambda c: c("lid0") >= _room(c),
         lambda v: (f"lid0 = {exact(v['lid0'])} m", " leaves no convecting mantle: expected less than radius - r_core"
                    f" - bmo_thickness0 - {exact(MIN_MANTLE_THICKNESS)} m = "
                    f"{exact(v['radius'] - v['r_core'] - v['bmo_thickness0'] - MIN_MANTLE_THICKNESS)} m")),
    Rule("core_only needs qcmb_n knots",
         lambda c: (c.category("mode") == "core_only")
         & ((c.length("qcmb_ages") != c("qcmb_n")) | (c.length("qcmb_values") != c("qcmb_n"))),
         _knots),
)


def message(rule: Rule, values: dict, where: str) -> str:
    """The one-line error for one model breaking ``rule``: what, in which file or section, what is expected."""
    subject, rest = rule.explain(values)
    return f"{subject} in {where}{rest}"


def broken_rules(values: dict, varied: dict | None = None, n: int = 1) -> list[tuple[Rule, np.ndarray]]:
    """(rule, mask of the models breaking it) for every rule some of the n models break."""
    c = Columns(values, varied, n)
    out = []
    for rule in RULES:
        bad = np.asarray(rule.broken(c), dtype=bool)
        if bad.any():
            out.append((rule, bad))
    return out


def satisfied(values: dict, varied: dict, n: int) -> np.ndarray:
    """True for each of n models (``values`` with the columns ``varied``) that keeps every rule."""
    ok = np.ones(n, dtype=bool)
    for _, bad in broken_rules(values, varied, n):
        ok &= ~bad
    return ok
