"""Figures drawn on matplotlib ``Figure`` objects (the Agg canvas), never through pyplot's global state,
so library code never calls ``matplotlib.use`` and a notebook's own backend is left alone."""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

MIN_BOX_WIDTH = 0.05  # Ga: age boxes (records, Chang'e ranges) are drawn at least this wide to stay visible


def new_figure(figsize) -> Figure:
    """A constrained-layout Figure of ``figsize`` inches."""
    return Figure(figsize=figsize, layout="constrained")


def save(fig: Figure, out, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG at ``out`` (parents created); returns the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out
