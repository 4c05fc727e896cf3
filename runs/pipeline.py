"""The chunk pipeline: records -> thermal kernel -> state in the store dtype -> diagnostics -> dynamo.

``compute(records, settings)`` is the one place models are computed (DESIGN.md "Data flow").
"""
from __future__ import annotations

import numpy as np


def output_ages(start_age: float, output_step: float) -> np.ndarray:
    """Output ages start_age - k*output_step, k = 0..N, ending exactly at 0 (PHYSICS.md I.1)."""
    n = int(round(start_age / output_step))
    ages = start_age - np.arange(n + 1) * output_step
    ages[-1] = 0.0
    return ages


def compute(records: np.ndarray, settings: dict) -> dict:
    """Run the model pipeline on records.

    settings: start_age (Ga), output_step (Ga), rtol, max_steps.
    Returns {'age': (n_age,), 'status': (n,) int32,
             'state': {name: (n, n_age) float64}, 'outputs': {name: (n, n_age) declared dtype},
             'summaries': {name: (n,) float64}}.
    """
    raise NotImplementedError("the thermal kernel lands in thermal/kernel.py")
