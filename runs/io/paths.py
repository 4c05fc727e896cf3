"""Where a command writes when no ``-o`` is given (DESIGN.md "The command line"): one rule for all; and
the checks every writing command makes on its outputs before it starts (issue 12).

``default_output(input, suffix)`` is ``./<stem><suffix>`` in the current directory, the stem being the
input's file name without its ``.toml`` / ``.zarr`` ending (and a ``.fit`` before it): a scenario
``moon.toml`` runs into ``./moon.zarr``, a store ``demo.zarr`` is plotted to ``./demo.png``, a fit store
``moon.fit.zarr`` to ``./moon.fit.png``. The one exception is a figure drawn with a store it
accompanies (``lunadyn run``): ``beside(store, ".png")`` puts it next to the store.

``check_output(out, inputs)``: the parent of an output must be a directory, and no command writes into
its input (an output that is, contains, or lies inside one of its inputs: a scenario or spec file, a base
scenario, a record file, a source store). Every writing command (run, sweep, field, fit, plot, submit)
calls it before it creates anything; ``compare`` is the one command that annotates its store in place.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError

ENDINGS = (".toml", ".zarr")


def stem(path) -> str:
    """The file name of ``path`` without a trailing ``.toml`` or ``.zarr`` (and without a trailing slash)."""
    name = Path(str(path).rstrip("/")).name
    for ending in ENDINGS:
        if name.endswith(ending):
            return name[: -len(ending)]
    return name


def default_output(source, suffix: str) -> Path:
    """``./<stem of source><suffix>`` (e.g. suffix ``.zarr``, ``.png``, ``.fit.zarr``, ``.corner.png``)."""
    return Path(stem(source) + suffix)


def beside(store, suffix: str) -> Path:
    """``<store without .zarr><suffix>`` in the store's own directory."""
    p = Path(str(store).rstrip("/"))
    return p.with_name(stem(p) + suffix)


def _real(p) -> Path:
    return Path(p).expanduser().resolve()


def check_parent(out, option: str = "-o") -> None:
    """UserError unless the nearest existing ancestor of ``out`` is a directory (missing ones are made)."""
    out = Path(out)
    anc = _real(out).parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise UserError(f"{option} {out}: {anc} is a file, not a directory; choose another {option}")


def check_output(out, inputs=(), option: str = "-o") -> None:
    """The parent check, then refuse an output that is, contains or lies inside one of ``inputs``."""
    check_parent(out, option)
    ro = _real(out)
    for inp in inputs:
        if inp is None:
            continue
        ri = _real(inp)
        if ro == ri:
            relation = "is also"
        elif ro in ri.parents:
            relation = "contains"
        elif ri in ro.parents:
            relation = "lies inside"
        else:
            continue
        raise UserError(f"{option} {out} {relation} an input of this command ({inp}); no command writes into "
                        f"its input: choose another {option}")
