"""The energy books as a verdict (docs/physics.md §The books as a verdict).

A model whose core or basal-layer book is off by more than ``thermal.kernel.book_tolerance(rtol)`` of
its scale fails with its own code (ST_BOOKS, "energy books not closed") and the usual failure handling;
over the whole prior, the physics closes every book well inside that tolerance.
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from lunadyn.runs import status as st
from lunadyn.runs.compute.pipeline import compute
from lunadyn.runs.spec.sweep import load_spec, spec_from_text
from lunadyn.thermal import kernel
from lunadyn.thermal.layout import FLAG_REGIME2, ST_BOOKS, ST_MAX_STEPS, ST_OK

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-6


def test_the_tolerance_is_documented_and_sits_between_integration_error_and_broken_books():
    tol = kernel.book_tolerance(RTOL)
    assert tol == pytest.approx(3.01e-4)
    text = (ROOT / "docs" / "physics.md").read_text()
    assert "The books as a verdict" in text and "300" in text


@pytest.mark.parametrize("core, layer, expected", [
    ((1e-7, 1.0), (0.0, 1.0), ST_OK),               # the default Moon's books
    ((2.9e-4, 1.0), (2.9e-4, 1.0), ST_OK),          # just inside on both
    ((-3.1e-4, 1.0), (0.0, 1.0), ST_BOOKS),         # the core book, either sign
    ((0.0, 1.0), (3.1e-4, 1.0), ST_BOOKS),          # the layer book alone
    ((0.93e27, 1e27), (0.0, 1.0), ST_BOOKS),        # a core held at r* for Gyr (issue 10): 93% off
    ((math.nan, 1e27), (0.0, 1.0), ST_BOOKS),       # a book that is not finite does not close
    ((0.0, 1.0), (math.inf, 1.0), ST_BOOKS),
])
def test_books_verdict_on_crafted_summaries(core, layer, expected):
    assert kernel.books_verdict(core[0], core[1], layer[0], layer[1], RTOL) == expected


def test_the_new_code_has_words_and_counts_as_a_failure():
    assert st.CODES[ST_BOOKS] == "energy books not closed"
    assert st.thermal_code(ST_BOOKS | FLAG_REGIME2) == ST_BOOKS
    assert st.describe(ST_BOOKS | FLAG_REGIME2) == "energy books not closed (regime 2 entered)"


def test_a_store_with_broken_books_counts_them_and_compare_excludes_them(tmp_path, warm):
    """The usual failure handling: `lunadyn info` counts code 6, the likelihood gives it -inf."""
    from lunadyn.runs.io import store
    from lunadyn.runs.record.scoring import loglike_for_outputs
    from lunadyn.runs.record.observations import load_observations

    spec = spec_from_text(SMALL_SPEC, "books.toml")
    res = compute(spec.records(), spec.settings)
    status = res["status"].copy()
    status[1] = ST_BOOKS | FLAG_REGIME2            # as the kernel marks a model failing its books
    path = tmp_path / "b.zarr"
    from lunadyn.runs.compute.driver import prepare_store
    g = prepare_store(spec, path)
    arrays = {}
    for name in spec.variables:
        for group in ("state", "outputs", "summaries"):
            if name in res[group]:
                arrays[name] = res[group][name]
    store.write_chunk(g, 0, arrays, status)
    info = store.store_info(path)
    assert info["n_failed"] == 1
    assert info["status_meaning"][str(ST_BOOKS | FLAG_REGIME2)] == "energy books not closed (regime 2 entered)"
    obs = load_observations()
    ll = loglike_for_outputs(res["age"], res["outputs"], obs, status=status)["loglike"]
    assert ll[1] == -np.inf and np.all(np.isfinite(ll[[0, 2, 3]]))


SMALL_SPEC = """
[vary]
r_core = {}
[sampler]
method = "sobol"
n = 4
seed = 1
[settings]
output_step = 0.5
"""


@pytest.fixture(scope="module")
def prior_sweep(warm):
    """512 Sobol models of the whole thermal prior (runs/examples/prior_wide_sweep.toml, every parameter
    with a prior range and every categorical), at 0.1 Ga."""
    text = (ROOT / "runs" / "examples" / "prior_wide_sweep.toml").read_text().replace("n = 32768", "n = 512")
    spec = spec_from_text(text, "prior_wide_sweep.toml", path=ROOT / "runs" / "examples" / "prior_wide_sweep.toml")
    recs = spec.records()
    return recs, compute(recs, spec.settings)


def test_over_the_prior_every_status_0_model_closes_both_books(prior_sweep):
    recs, res = prior_sweep
    code = res["status"] & 15
    s = res["summaries"]
    core = np.abs(s["book_core_residual"]) / s["book_core_scale"]
    layer = np.abs(s["book_layer_residual"]) / s["book_layer_scale"]
    ok = code == ST_OK
    tol = kernel.book_tolerance(RTOL)
    # the physics closes the books: nothing fails the verdict, and status 0 means closed
    assert not np.any(code == ST_BOOKS)
    assert np.all(core[ok] <= tol) and np.all(layer[ok] <= tol)
    # well inside: the tolerance is for bugs, not for the integration error
    assert np.quantile(core[ok], 0.99) <= 10 * RTOL and layer[ok].max() <= 10 * RTOL
    # the only other failure over the prior: a solid basal layer a few hundred metres thick (stiff)
    bad = ~ok
    assert np.all(code[bad] == ST_MAX_STEPS) and np.all(recs["bmo_thickness0"][bad] < 1e3)
    # the sample does exercise a reheated nucleus: an inner core at the start that melts away
    r_i = res["outputs"]["r_inner_core"]
    assert np.sum(ok & (r_i[:, 0] > 0) & (r_i[:, 1] == 0)) >= 3


def test_the_failure_table_script_reads_a_store(tmp_path, warm):
    """runs/examples/failure_table.py on a real store: every row present, counts consistent."""
    import subprocess
    import sys

    text = (ROOT / "runs" / "examples" / "prior_wide_sweep.toml").read_text().replace("n = 32768", "n = 64")
    spec_path = ROOT / "runs" / "examples" / "prior_wide_sweep.toml"
    spec = spec_from_text(text, "prior_wide_sweep.toml", path=spec_path)
    from lunadyn.runs.compute.driver import prepare_store
    from lunadyn.runs.compute.pipeline import run_chunk
    path = tmp_path / "p.zarr"
    prepare_store(spec, path)
    for i in range(spec.n_chunks):
        run_chunk(spec, i)
    out = subprocess.run([sys.executable, str(ROOT / "runs" / "examples" / "failure_table.py"), str(path)],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    rows = {line.rsplit(None, 4)[0]: int(line.rsplit(None, 4)[1]) for line in out.splitlines()}
    assert rows["models computed"] == 64
    assert sum(v for k, v in rows.items() if k.startswith("status ") and ":" in k) == 64
    assert rows["status 0, core book off by > 1% of its scale"] == 0
    assert rows["status 0, core stuck (> 1 K of energy in 1 Ga, T_c and r_i still)"] == 0
