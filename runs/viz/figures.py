"""Figures of a comparison or a fit (``lunadyn plot``): field histories against the record, corner plots.

``plot_comparison`` draws, on a log axis in µT against age (start_age on the left, today on the
right), the median and the 68 % and 95 % bands of the field histories of a set of models — the
combined field (the largest source, docs/physics.md §Combined field) in the top panel, each source (core, BMO,
precession) below — over every selected record drawn as its kind demands: error bars for a value,
a box for a range, an arrow down from an upper limit and up from a lower limit, a cross with an
arrow for a null (at ``null_threshold_ut``). CE-6 and CE-5 are highlighted and labelled.

Common reference: the model fields are equatorial (B_eq); each record is converted to equatorial by
dividing by its site factor √(1 + 3 sin²λ) (1.117889 where the site is unknown), as the axis label
says. Model fields below the likelihood's floor (0.01 µT, i.e. no dynamo) are drawn at the floor.

Which models: for a sweep store, the best K by ``loglike`` (``best=K``), or with ``best=None`` the
posterior-weighted models (importance weights from loglike; weighted quantiles at each age); a store
without ``loglike`` is scored first (not written). For a fit store, the stored draws: the posterior
draws of an MCMC fit or the best distinct candidates of an optimisation (``best=K`` keeps the K with
the highest ln L). A one-model store shows its single history.

``plot_corner`` draws the MCMC posterior (chain after burn-in) with ``corner``, log-scaled parameters
as log10. Both use matplotlib's Agg canvas without touching the global backend.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.paths import default_output
from .canvas import MIN_BOX_WIDTH, new_figure, save
from ..inference.compare import weighted_quantiles
from ..inference.compare import as_settings, importance_weights, read_rows, score_store
from ..inference.fit import is_fit_store
from ..record.observations import load_observations
import zarr
from ..io.store import check_store_intact, open_store
from ..record.likelihood import record_site_factors

SOURCE_PANELS = (("B_core", "core"), ("B_bmo", "basal magma ocean"), ("B_precession", "precession"))
COLORS = {"B_surface": "black", "B_core": "tab:blue", "B_bmo": "tab:green", "B_precession": "tab:purple"}
HIGHLIGHT = {"ce6_basalt": "crimson", "ce5_basalt": "darkorange"}
RECORD_COLOR = "0.35"
DISPLAY_FLOOR_UT = 0.005


# --------------------------------------------------------------------------------------------------
# which models


def _weighted_band(B, w, q=(0.025, 0.16, 0.5, 0.84, 0.975)):
    """Weighted quantiles of B (m, n_age) at each age: (len(q), n_age)."""
    B = np.asarray(B, dtype=float)
    return np.stack([weighted_quantiles(B[:, j], w, q) for j in range(B.shape[1])], axis=1)


def models_for_plot(store_path, best: int | None = None, data=None, select=None, settings=None):
    """(ages, fields name -> (m, n_age) in T, weights (m,), description, obs, lsettings) for a store."""
    lsettings = as_settings(settings)
    if is_fit_store(store_path):
        g = zarr.open_group(str(store_path), mode="r")
        obs = load_observations(data, select) if (data or select) else _fit_observations(g)
        ages = g["age"][:]
        ll = g["draw_loglike"][:]
        fields = {v: g[v][:].astype(float) for v in ("B_surface",) + tuple(s for s, _ in SOURCE_PANELS)}
        idx = np.arange(ll.size)
        if best is not None:
            idx = np.argsort(-np.where(np.isfinite(ll), ll, -np.inf), kind="stable")[:best]
        what = (f"{'posterior draws' if g.attrs['method'] == 'mcmc' else 'best candidates'} of a "
                f"{g.attrs['method']} fit ({len(idx)} models)")
        return ages, {k: v[idx] for k, v in fields.items()}, np.full(len(idx), 1.0 / len(idx)), what, obs, lsettings


    check_store_intact(store_path)
    g = open_store(store_path)
    obs = load_observations(data, select)
    ages = g["age"][:]
    n = int(g.attrs["n_samples"])
    if "B_surface" not in g:
        raise UserError(f"{store_path} keeps no B_surface: nothing to plot (re-run keeping the field outputs)")
    if n == 1:
        idx, w, what = np.array([0]), np.ones(1), "one model"
    else:
        ll = score_store(store_path, obs, lsettings, misfit=False)["loglike"]
        finite = np.isfinite(ll)
        if not finite.any():
            raise UserError(f"{store_path} has no scored model (all failed or not computed)")
        if best is not None:
            order = np.argsort(-np.where(finite, ll, -np.inf), kind="stable")[:best]
            idx = np.sort(order[np.isfinite(ll[order])])
            w = np.full(idx.size, 1.0 / idx.size)
            what = f"best {idx.size} of {n} models by ln L"
        else:
            wall = importance_weights(ll)
            order = np.argsort(-wall, kind="stable")[:4096]
            idx = np.sort(order[wall[order] > 1e-12 * wall.max()])
            w = wall[idx] / wall[idx].sum()
            what = f"posterior-weighted models of {n} (ESS {1.0 / float((w * w).sum()):.1f})"
    names = [v for v in ("B_surface",) + tuple(s for s, _ in SOURCE_PANELS) if v in g]
    fields = read_rows(g, names, idx)
    return ages, fields, w, what, obs, lsettings


def _fit_observations(g):
    """The record selection a fit used (the shipped file or the recorded path)."""
    src = g.attrs.get("observations_file", "")
    ids = [i for i in str(g.attrs.get("observations_records", "")).split(",") if i]
    data = None if src.startswith("shipped:") else src
    return load_observations(data, [f"id={','.join(ids)}", "all"] if ids else None)


# --------------------------------------------------------------------------------------------------
# drawing


def _draw_band(ax, ages, B_T, w, color, label, floor_ut, lw=1.6, bands=True):
    y = np.maximum(np.asarray(B_T, dtype=float) * 1e6, floor_ut)
    if y.shape[0] == 1:
        ax.plot(ages, y[0], color=color, lw=lw, label=label)
        return
    q = _weighted_band(y, w)
    if bands:
        ax.fill_between(ages, q[0], q[4], color=color, alpha=0.15, lw=0, label=f"{label}: 95 %")
        ax.fill_between(ages, q[1], q[3], color=color, alpha=0.3, lw=0, label=f"{label}: 68 %")
    ax.plot(ages, q[2], color=color, lw=lw, label=f"{label}: median")


def _age_err(r, lsettings) -> float:
    e = r.age_err_ga
    return lsettings.default_age_err_ga if not np.isfinite(e) else e


def draw_records(ax, obs, lsettings, faint: bool = False, annotate: bool = True):
    """Every selected record in equatorial µT, drawn as its kind demands (module docstring)."""
    from matplotlib.patches import Rectangle


    factors = record_site_factors(obs, lsettings)
    seen = set()

    def lab(key):
        if key in seen or faint:
            return None
        seen.add(key)
        return key

    for r, f in zip(obs.records, factors):
        hl = HIGHLIGHT.get(r.id)
        color = hl or RECORD_COLOR
        alpha = 0.45 if faint and not hl else 1.0
        lw = 2.0 if hl else 1.0
        x, xe = r.age_ga, _age_err(r, lsettings)
        sigma = lsettings.sigma(r.method_class)
        if r.kind == "value":
            y = r.b_ut / f
            lo = r.b_low_ut / f if np.isfinite(r.b_low_ut) else y * np.exp(-sigma)
            hi = r.b_high_ut / f if np.isfinite(r.b_high_ut) else y * np.exp(sigma)
            ax.errorbar([x], [y], xerr=[[xe], [xe]], yerr=[[y - lo], [hi - y]], fmt="o", ms=5, color=color,
                        alpha=alpha, lw=lw, capsize=2, label=lab("value"), zorder=5)
            top = hi
        elif r.kind == "range":
            lo, hi = r.b_low_ut / f, r.b_high_ut / f
            width = max(2 * xe, MIN_BOX_WIDTH)
            ax.add_patch(Rectangle((x - width / 2, lo), width, hi - lo, facecolor=color, edgecolor=color,
                                   alpha=0.35 * alpha if not hl else 0.45, lw=lw, zorder=5,
                                   label=lab("range")))
            top = hi
        elif r.kind in ("upper_limit", "lower_limit", "null"):
            y = (lsettings.null_threshold_ut if r.kind == "null" else r.b_ut) / f
            end = y / 3.0 if r.kind != "lower_limit" else y * 3.0
            marker = {"null": "x", "upper_limit": "v", "lower_limit": "^"}[r.kind]
            ax.plot([x], [y], marker=marker, ms=7 if r.kind != "null" else 9, mew=2, color=color, alpha=alpha, ls="none", zorder=5,
                    label=lab({"upper_limit": "upper limit", "lower_limit": "lower limit",
                               "null": "null (at the null threshold)"}[r.kind]))
            ax.annotate("", xy=(x, end), xytext=(x, y), zorder=5,
                        arrowprops=dict(arrowstyle="-|>", color=color, alpha=alpha, lw=1.2))
            if xe > 0:
                ax.plot([x - xe, x + xe], [y, y], color=color, alpha=alpha, lw=1.0, zorder=5)
            top = max(y, end)
        else:  # pragma: no cover - validated kinds
            continue
        if hl and annotate:
            ax.annotate(r.label, (x, top), textcoords="offset points", xytext=(0, 5), ha="center",
                        fontsize=9, color=hl, fontweight="bold", zorder=6)


def plot_comparison(store_path, best: int | None = None, out=None, data=None, select=None, settings=None) -> Path:
    """Field histories of a store's models against the record (module docstring); returns the PNG path."""
    ages, fields, w, what, obs, lsettings = models_for_plot(store_path, best, data, select, settings)
    out = Path(out) if out else default_output(store_path, ".png")
    floor = lsettings.B_floor_ut
    fig = new_figure((10, 9))
    grid = fig.add_gridspec(2, 3, height_ratios=(2.2, 1.0))
    ax = fig.add_subplot(grid[0, :])
    _draw_band(ax, ages, fields["B_surface"], w, COLORS["B_surface"], "combined field", floor, lw=2.0)
    for name, label in SOURCE_PANELS:
        if name in fields:
            _draw_band(ax, ages, fields[name], w, COLORS[name], label, floor, lw=1.0, bands=False)
    draw_records(ax, obs, lsettings)
    ylab = ("equatorial field B_eq (µT)\nrecords ÷ √(1+3 sin²λ_site)")
    ax.set_yscale("log")
    ax.set_ylim(DISPLAY_FLOOR_UT, 300.0)
    ax.set_xlim(float(np.max(ages)), float(np.min(ages)))
    ax.set_ylabel(ylab)
    ax.set_xlabel("age (Ga)")
    ax.grid(alpha=0.3, which="both", lw=0.4)
    ax.legend(fontsize=7, ncol=3, loc="upper right")
    ax.set_title(f"{Path(str(store_path)).name}: {what}\nrecords: {obs.description}", fontsize=9)
    for k, (name, label) in enumerate(SOURCE_PANELS):
        a = fig.add_subplot(grid[1, k], sharex=ax)
        if name in fields:
            _draw_band(a, ages, fields[name], w, COLORS[name], label, floor)
        draw_records(a, obs, lsettings, faint=True, annotate=False)
        a.set_yscale("log")
        a.set_ylim(DISPLAY_FLOOR_UT, 300.0)
        a.set_title(f"{label} dynamo", fontsize=9)
        a.set_xlabel("age (Ga)")
        a.grid(alpha=0.3, lw=0.4)
        if k == 0:
            a.set_ylabel("B_eq (µT; records ÷ site factor)", fontsize=8)
    return save(fig, out)


def plot_corner(fit_store, out=None) -> Path:
    """Corner plot of an MCMC fit store's posterior (chain after burn-in)."""
    import corner


    if not is_fit_store(fit_store):
        raise UserError(f"{fit_store} is not a lunadyn fit store (made by `lunadyn fit`)")
    g = zarr.open_group(str(fit_store), mode="r")
    if "chain" not in g:
        raise UserError(f"{fit_store} holds an optimisation, not an MCMC chain: a corner plot needs --method mcmc")
    chain = g["chain"][:]  # (walker, step, parameter)
    burn = int(g.attrs.get("burn_in", 0))
    free = json.loads(g.attrs["free"])
    scale = json.loads(g.attrs.get("scale", json.dumps(["linear"] * len(free))))
    flat = chain[:, burn:, :].reshape(-1, len(free)).astype(float)
    labels = []
    for j, (name, s) in enumerate(zip(free, scale)):
        if s == "log":
            flat[:, j] = np.log10(flat[:, j])
            labels.append(f"log10 {name}")
        else:
            labels.append(name)
    out = Path(out) if out else default_output(fit_store, ".corner.png")
    k = len(free)
    fig = new_figure((2.6 * k + 1, 2.6 * k + 1))
    fig.set_layout_engine(None)
    if k == 1:
        ax = fig.add_subplot(1, 1, 1)
        ax.hist(flat[:, 0], bins=40, color="k", histtype="step")
        for q in np.quantile(flat[:, 0], [0.025, 0.5, 0.975]):
            ax.axvline(q, ls="--", color="tab:blue")
        ax.set_xlabel(labels[0])
    else:
        corner.corner(flat, labels=labels, quantiles=[0.025, 0.5, 0.975], show_titles=True,
                      title_fmt=".3g", fig=fig)
    fig.text(0.98, 0.98, f"{Path(str(fit_store)).name}\n{g.attrs['method']} posterior, burn-in {burn} steps\n"
             f"dashed: 2.5, 50, 97.5 %", ha="right", va="top", fontsize=9)
    return save(fig, out)


# --------------------------------------------------------------------------------------------------
# inference stores


def _inference_observations(g, data=None, select=None):
    if data or select:
        return load_observations(data, select)
    return _fit_observations(g)


def plot_inference(store, out=None, data=None, select=None, settings=None) -> list[Path]:
    """An inference store (runs.infer): one panel per hypothesis with the posterior envelope (median,
    68 % and 95 %) of the combined field of its posterior draws against the record, and a corner plot
    per hypothesis (``corner``, weighted final population, log-scaled parameters as log10). Returns
    [envelope figure, corner figures...]."""
    import corner

    g = zarr.open_group(str(store), mode="r")
    lsettings = as_settings(settings)
    obs = _inference_observations(g, data, select)
    hyps = [str(h) for h in g["hypothesis"][:]]
    ages = g["age"][:]
    out = Path(out) if out else Path(str(store)).with_suffix(".png")
    floor = lsettings.B_floor_ut
    fig = new_figure((10, 2.6 * len(hyps) + 1))
    lz, le = g["ln_z"][:], g["ln_z_err"][:]
    for k, h in enumerate(hyps):
        ax = fig.add_subplot(len(hyps), 1, k + 1)
        B = g["B_surface"][k].astype(float)
        ok = np.isfinite(B).all(axis=1)
        if ok.any():
            _draw_band(ax, ages, B[ok], np.full(int(ok.sum()), 1.0 / ok.sum()), COLORS["B_surface"],
                       "posterior", floor, lw=1.8)
        draw_records(ax, obs, lsettings, annotate=(k == 0))
        ax.set_yscale("log")
        ax.set_ylim(DISPLAY_FLOOR_UT, 300.0)
        ax.set_xlim(float(np.max(ages)), float(np.min(ages)))
        ax.set_ylabel("B_eq (µT)\nrecords ÷ site factor", fontsize=8)
        ax.grid(alpha=0.3, which="both", lw=0.4)
        ax.set_title(f"hypothesis {h}: ln Z = {lz[k]:.2f} ± {le[k]:.2f}  ({int(ok.sum())} posterior draws)",
                     fontsize=9)
        if k == 0:
            ax.legend(fontsize=7, ncol=3, loc="upper right")
    ax.set_xlabel("age (Ga)")
    paths = [save(fig, out)]
    priors = json.loads(g.attrs["priors"])
    labels = [f"log10 {p['name']}" if p["scale"] == "log" else p["name"] for p in priors]
    for k, h in enumerate(hyps):
        x = g["samples"][k].astype(float)
        w = g["weight"][k].astype(float)
        for j, p in enumerate(priors):
            if p["scale"] == "log":
                x[:, j] = np.log10(x[:, j])
        d = x.shape[1]
        cf = new_figure((2.4 * d + 1, 2.4 * d + 1))
        cf.set_layout_engine(None)
        if d == 1:
            a = cf.add_subplot(1, 1, 1)
            a.hist(x[:, 0], bins=40, weights=w, color="k", histtype="step")
            a.set_xlabel(labels[0])
        else:
            ranges = [(np.log10(p["min"]), np.log10(p["max"])) if p["scale"] == "log" else (p["min"], p["max"])
                      for p in priors]
            corner.corner(x, weights=w, labels=labels, range=ranges, quantiles=[0.025, 0.5, 0.975],
                          show_titles=True, title_fmt=".3g", fig=cf)
        cf.text(0.98, 0.98, f"{Path(str(store)).name}\nhypothesis {h}: ln Z = {lz[k]:.2f} ± {le[k]:.2f}\n"
                f"dashed: 2.5, 50, 97.5 %; axes: the prior box", ha="right", va="top", fontsize=9)
        paths.append(save(cf, out.with_name(f"{out.stem}.corner.{h}.png")))
    return paths
