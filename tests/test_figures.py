"""Figures of comparisons and fits are written and are not blank."""
import numpy as np
import pytest

from lunadyn.runs.errors import UserError


def assert_not_blank(path):
    """The PNG exists, its pixels vary, and it has several distinct colours (lines, bands, records)."""
    import matplotlib.image as mpimg

    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200
    rgb = img[..., :3].reshape(-1, 3)
    assert float(rgb.var()) > 0.0
    colours = np.unique(np.round(rgb * 255).astype(np.uint8), axis=0)
    assert len(colours) >= 8, len(colours)


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory, run_models):
    from lunadyn.runs.registry import make_records
    from lunadyn.runs.io.store import create_store, write_chunk

    path = tmp_path_factory.mktemp("fig") / "sweep.zarr"
    S, F = np.meshgrid([0.05, 0.08, 0.11], [0.3, 0.4, 0.5], indexing="ij")
    res = run_models(make_records(9, {"sulfur_core": S.ravel(), "f_hpe_basal": F.ravel(), "law": "ml"}),
                     {"output_step": 0.05})
    names = ("B_core", "B_bmo", "B_precession", "B_surface")
    g = create_store(path, spec={"kind": "sweep", "figures": 1}, spec_text="", n_samples=9, chunk_size=5,
                     ages=res["age"], variables={n: ("float32", "age") for n in names},
                     coords={"sulfur_core": S.ravel(), "f_hpe_basal": F.ravel()})
    for i, (lo, hi) in enumerate(((0, 5), (5, 9))):
        write_chunk(g, i, {n: res["outputs"][n][lo:hi] for n in names}, res["status"][lo:hi])
    return path


@pytest.fixture(scope="module")
def mcmc_store(tmp_path_factory, warm):
    from lunadyn.runs.inference.fit import fit

    d = tmp_path_factory.mktemp("figfit")
    scn = d / "moon.toml"
    scn.write_text('law = "ml"\n')
    return fit(scn, ["sulfur_core", "f_hpe_basal"], method="mcmc", walkers=8, steps=30, seed=1,
               out=d / "moon.fit.zarr")["store"]


def test_comparison_of_the_best_models_of_a_sweep(sweep_store, tmp_path):
    from lunadyn.runs.viz.figures import plot_comparison

    out = plot_comparison(sweep_store, best=3, out=tmp_path / "best.png", select=["all"])
    assert out.exists()
    assert_not_blank(out)


def test_comparison_of_the_posterior_weighted_sweep(sweep_store, tmp_path):
    from lunadyn.runs.viz.figures import plot_comparison

    assert_not_blank(plot_comparison(sweep_store, out=tmp_path / "post.png"))


def test_fit_store_plots_and_corner(mcmc_store, tmp_path):
    from lunadyn.runs.viz.figures import plot_comparison, plot_corner

    assert_not_blank(plot_comparison(mcmc_store, out=tmp_path / "fit.png"))
    assert_not_blank(plot_corner(mcmc_store, tmp_path / "corner.png"))


def test_plot_command_writes_the_figure_and_the_corner_plot(mcmc_store, tmp_path, capsys):
    from lunadyn.runs.cli.main import _Parser
    from lunadyn.runs.cli.compare import add_commands

    parser = _Parser(prog="lunadyn")
    add_commands(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "cli.png"
    args = parser.parse_args(["plot", str(mcmc_store), "--best", "10", "-o", str(out)])
    assert args.func(args) == 0
    assert_not_blank(out)
    assert_not_blank(tmp_path / "cli.corner.png")
    assert "corner" in capsys.readouterr().out


def test_corner_needs_an_mcmc_fit(sweep_store, tmp_path):
    from lunadyn.runs.viz.figures import plot_corner

    with pytest.raises(UserError, match="not a lunadyn fit store"):
        plot_corner(sweep_store, tmp_path / "x.png")
