"""The one declaration type for model parameters and model outputs.

Every parameter is declared once, beside the physics that reads it (``thermal/parameters.py``,
``dynamo/parameters.py``); every output likewise (``thermal/outputs.py``, ``dynamo/outputs.py``).
``runs.registry`` assembles the full tables, the record dtype the kernels read, config validation,
``lunadyn params`` and the CF attributes of stores from these declarations. Nothing else spells a
default or a unit.

Validity bounds (docs/physics.md §Defaults and calibration): the physical interval (positivity, or the stated interval such as
[0, 1] for fractions) intersected with the prior range widened about its centre by a factor 2 on
each side -- the distance from the centre of the prior range to each of its ends is doubled (in
log10 for log-scaled parameters). A parameter without a prior is fixed by default; its bounds are
its physical interval.

Bodies (``BODIES``; a scenario's ``body`` key, runs/config.py). The Moon is the default body. For the
Earth (cross-code validation of the core; docs/physics.md §Defaults and calibration), a parameter with an Earth
default (``earth``, not "n/a") takes it, with validity bounds derived by the same rule from its Earth
prior ``earth_prior`` (None: fixed at the Earth default, bounds = its physical interval); a parameter
whose Earth default is "n/a" (the mantle, the basal layer, the precession set) keeps its Moon default,
prior and bounds. ``default_for``, ``prior_for`` and ``bounds_for`` apply the rule; ``bounds`` is the
Moon's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

INF = math.inf
BODIES = ("moon", "earth")
NA = "n/a"


def widened_bounds(physical: tuple, prior: tuple | None, scale: str) -> tuple:
    """Physical interval intersected with the prior range widened by a factor 2 about its centre
    (in log10 for log-scaled parameters); the physical interval alone without a prior."""
    lo, hi = physical
    if prior is not None:
        plo, phi = prior
        if scale == "log":
            c = 0.5 * (math.log10(plo) + math.log10(phi))
            w = math.log10(phi) - math.log10(plo)
            wlo, whi = 10 ** (c - w), 10 ** (c + w)
        else:
            c = 0.5 * (plo + phi)
            w = phi - plo
            wlo, whi = c - w, c + w
        lo, hi = max(lo, wlo), min(hi, whi)
    return (lo, hi)


@dataclass(frozen=True)
class Param:
    """One model parameter.

    kind: ``float`` (a number in SI units; ages in Ga), ``int``, ``category`` (named in configs,
    integer-coded in records, codes = index in ``choices``), ``set`` (a subset of ``choices``, a list of
    names in configs, a bitmask in records: bit i = ``choices[i]``) or ``array`` (``size`` float64
    slots; TOML arrays).
    """

    name: str
    unit: str
    default: object
    description: str
    reference: str
    stage: str  # 'thermal' | 'dynamo' | 'spec'
    prior: tuple | None = None
    scale: str = "linear"
    physical: tuple = (0.0, INF)
    earth: object = NA
    earth_prior: tuple | None = None   # Earth prior range (same scale); only with an Earth default
    kind: str = "float"
    choices: tuple = ()
    size: int = 1
    lower_open: bool = True  # physical lower end excluded (strict positivity)
    note: str = ""

    @property
    def bounds(self) -> tuple:
        """Validity interval (lo, hi) for the Moon: physical interval intersected with the widened prior."""
        return widened_bounds(self.physical, self.prior, self.scale)

    def has_earth_default(self) -> bool:
        return not (isinstance(self.earth, str) and self.earth == NA)

    def default_for(self, body: str = "moon"):
        """The default on ``body`` (the Earth default where there is one, else the Moon's)."""
        return self.earth if body == "earth" and self.has_earth_default() else self.default

    def prior_for(self, body: str = "moon") -> tuple | None:
        """The prior range on ``body`` (module docstring: Earth prior, or the Moon's where the Earth
        default is n/a)."""
        return self.earth_prior if body == "earth" and self.has_earth_default() else self.prior

    def bounds_for(self, body: str = "moon") -> tuple:
        """Validity interval (lo, hi) on ``body``: physical interval intersected with its widened prior."""
        return widened_bounds(self.physical, self.prior_for(body), self.scale)

    def mask(self, names) -> int:
        """Bitmask of a ``set`` value (a sequence of names from ``choices``; bit i = choices[i])."""
        out = 0
        for v in names:
            out |= 1 << self.code(v)
        return out

    def names(self, mask) -> list:
        """The names of a ``set`` bitmask, in the order of ``choices``."""
        return [c for i, c in enumerate(self.choices) if int(mask) >> i & 1]

    def code(self, value) -> int:
        """Integer code of a categorical value (raises ValueError naming the choices)."""
        if value not in self.choices:
            raise ValueError(f"{self.name}: expected one of {', '.join(self.choices)}, got {value!r}")
        return self.choices.index(value)


@dataclass(frozen=True)
class Output:
    """One model output.

    shape: ``age`` for variables along (sample, age), ``run`` for per-run summaries (sample,).
    fill: the documented value for "not applicable" (NaN is reserved for failures).
    """

    name: str
    unit: str
    long_name: str
    stage: str  # 'state' | 'thermal' | 'dynamo' | 'summary'
    shape: str = "age"
    fill: object = 0.0
    dtype: str = "float32"
    note: str = field(default="")
