"""Shared fixtures: the kernels are compiled (or loaded from the on-disk cache) once per session."""
import pytest


@pytest.fixture(scope="session")
def warm():
    """Compile every kernel once (one signature each) before the tests that run models."""
    from lunadyn.runs.compute.pipeline import warmup
    return warmup()


@pytest.fixture(scope="session")
def run_models(warm):
    """compute(records, settings) with the session's warm kernels."""
    from lunadyn.runs.compute.pipeline import compute
    return compute


@pytest.fixture(scope="session")
def default_moon(run_models):
    """The default Moon at the default output step (computed once per session)."""
    from lunadyn.runs.registry import make_records
    return run_models(make_records(1), {})
