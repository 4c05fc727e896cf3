"""The Python API and the run figure, with a stand-in for the pipeline (plumbing, not physics)."""
from pathlib import Path

import numpy as np
import pytest

import fake_pipeline
from lunadyn.runs import api
from lunadyn.runs.compute import pipeline
from lunadyn.runs.record.scoring import chang_e_boxes
from lunadyn.runs.viz import plots
from lunadyn.runs.spec.config import scenario_records, scenario_from_text
from lunadyn.runs.errors import UserError

EXAMPLE = Path(__file__).resolve().parents[1] / "runs" / "examples" / "moon_default.toml"


@pytest.fixture(autouse=True)
def fake_compute(monkeypatch):
    monkeypatch.setattr(pipeline, "compute", fake_pipeline.fake_compute)


def test_run_returns_a_dataset_laid_out_like_a_store():
    ds = api.run(EXAMPLE, k_core=20)
    assert ds["T_cmb"].dims == ("sample", "age") and ds["T_cmb"].attrs["units"] == "K"
    assert ds.sizes["age"] == 451 and ds["age"].values[0] == 4.5 and ds["age"].values[-1] == 0.0
    assert '"k_core": 20.0' in ds.attrs["fixed_parameters"]
    summary = api.summarize(ds)
    assert summary["q_surface_today_mW_m2"] == pytest.approx(13.8, rel=1e-5)


def test_run_defaults_and_validated_overrides():
    assert api.run(output_step=0.5).sizes["age"] == 10
    with pytest.raises(UserError, match="unknown parameter 'k_cor' in overrides"):
        api.run(k_cor=20)


def test_summary_reports_events_that_never_happened_as_none():
    scn = scenario_from_text("", "defaults")
    result = fake_pipeline.fake_compute(scenario_records(scn), scn.settings)
    result["summaries"]["age_bmo_solidified"][:] = -1.0
    summary = api.summarize(api.result_to_dataset(result, scn))
    assert summary["age_bmo_solidified_Ga"] is None and summary["age_inner_core_nucleation_Ga"] == 3.43


def test_plot_run_draws_the_field_panel_when_the_dynamo_outputs_exist(tmp_path):
    scn = scenario_from_text("", "defaults")
    result = fake_pipeline.fake_compute(scenario_records(scn), scn.settings)
    n, na = 1, result["age"].size
    for name in ("B_core", "B_bmo", "B_precession", "B_surface"):
        result["outputs"].setdefault(name, np.linspace(2e-6, 0.0, na)[None, :].repeat(n, 0))
    png = plots.plot_run(result, tmp_path / "field.png")
    assert png.stat().st_size > 10_000


def test_chang_e_boxes_are_equatorial_equivalents_of_the_site_ranges():
    boxes = {b["label"]: b for b in chang_e_boxes()}
    assert boxes["CE-5"]["age"] == pytest.approx(2.03) and boxes["CE-6"]["age"] == pytest.approx(2.807)
    assert boxes["CE-5"]["site_ut"] == (2.0, 4.0) and boxes["CE-6"]["site_ut"] == (5.0, 21.0)
    k = np.sqrt(1 + 3 * np.sin(np.radians(43.06)) ** 2)
    assert boxes["CE-5"]["eq_ut"] == pytest.approx((2.0 / k, 4.0 / k))


def test_field_panel_is_skipped_without_field_data():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ds = api.run(output_step=0.5)
    one = ds.isel(sample=0)
    if "B_surface" in one:  # the dynamo stage has landed: the panel is drawn
        assert plots.add_field_panel(ax, one["age"].values, one)
    else:
        assert not plots.add_field_panel(ax, one["age"].values, one)
    plt.close(fig)
