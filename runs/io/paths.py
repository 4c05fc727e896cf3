"""Where a command writes when no ``-o`` is given (DESIGN.md "The command line"): one rule for all.

``default_output(input, suffix)`` is ``./<stem><suffix>`` in the current directory, the stem being the
input's file name without its ``.toml`` / ``.zarr`` ending (and a ``.fit`` before it): a scenario
``moon.toml`` runs into ``./moon.zarr``, a store ``demo.zarr`` is plotted to ``./demo.png``, a fit store
``moon.fit.zarr`` to ``./moon.fit.png``. The one exception is a figure drawn with a store it
accompanies (``lunadyn run``): ``beside(store, ".png")`` puts it next to the store.
"""
from __future__ import annotations

from pathlib import Path

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
