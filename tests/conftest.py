"""Shared fixtures: the kernels are compiled (or loaded from the on-disk cache) once per session."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def warm():
    """Compile every kernel once (one signature each) before the tests that run models."""
    from runs.pipeline import warmup
    return warmup()


@pytest.fixture(scope="session")
def run_models(warm):
    """compute(records, settings) with the session's warm kernels."""
    from runs.pipeline import compute
    return compute


@pytest.fixture(scope="session")
def default_moon(run_models):
    """The default Moon at the default output step (computed once per session)."""
    from runs.registry import make_records
    return run_models(make_records(1), {})
