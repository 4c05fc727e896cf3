"""Figures of runs, comparisons and fits (matplotlib, Agg canvases; never pyplot state)."""
