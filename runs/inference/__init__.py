"""Inference: comparison with the record, the sweep posterior, fits, run summaries."""
