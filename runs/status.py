"""Model status codes in words (docs/physics.md §Status; integer layout in thermal/layout.py).

``status`` = thermal code (low 4 bits) | informational flags; -1 in a store means "not computed yet".
"""
from ..thermal import layout as L

CODES = {
    L.ST_OK: "ok",
    L.ST_UNDERFLOW: "step size underflow",
    L.ST_MAX_STEPS: "max_steps exceeded",
    L.ST_NONFINITE: "non-finite state",
    L.ST_BOUNDS: "state out of physical bounds",
    L.ST_ROOT: "root-finding failure",
    L.ST_BOOKS: "energy books not closed",
}
FLAGS = {
    L.FLAG_ORBIT_UNDEFINED: "orbit undefined at some ages",
    L.FLAG_REGIME2: "regime 2 entered",
    L.FLAG_REMELT: "basal layer remelted",
}
NOT_COMPUTED = -1
THERMAL_CODE_MASK = L.ST_CODE_MASK

LEGEND = ("-1 not computed; thermal code (low 4 bits): "
          + ", ".join(f"{k} {v}" for k, v in CODES.items())
          + "; flags: " + ", ".join(f"{k} {v}" for k, v in FLAGS.items()))


def thermal_code(status: int) -> int:
    """The thermal code of a status (0 = ok, > 0 = the model failed)."""
    return int(status) & THERMAL_CODE_MASK


def describe(status: int) -> str:
    """A status in words, e.g. ``ok (regime 2 entered)``."""
    status = int(status)
    if status == NOT_COMPUTED:
        return "not computed"
    code = thermal_code(status)
    text = CODES.get(code, f"unknown code {code}")
    flags = [v for k, v in FLAGS.items() if status & k]
    return f"{text} ({'; '.join(flags)})" if flags else text
