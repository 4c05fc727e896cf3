"""Figures of a run (``lunadyn run``): the thermal history against age, and the field when present.

Age runs from ``start_age`` on the left to 0 (today) on the right. ``add_field_panel`` draws the field
of each dynamo source on a log axis with the CE-5 and CE-6 paleointensities, as equatorial-equivalent
surface fields (the model's B_* are equatorial; the site values are divided by the axial-dipole factor
sqrt(1 + 3 sin^2 lat) of each landing site, read from the shipped record).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from ..io.dataset import result_to_dataset
from ..record.scoring import chang_e_boxes
from .canvas import MIN_BOX_WIDTH, new_figure, save
from ..status import describe
from ...thermal.layout import CORE_REGIMES

FIELD_SOURCES = (("B_core", "core"), ("B_bmo", "BMO"), ("B_precession", "precession"),
                 ("B_surface", "combined (largest)"))


def _as_dataset(ds_or_result):
    if isinstance(ds_or_result, dict):
        return result_to_dataset(ds_or_result)
    return ds_or_result


def _series(one, name, scale=1.0):
    return np.asarray(one[name].values, dtype=float) * scale if name in one else None


def _plot_lines(ax, age, one, names, scale=1.0, labels=None):
    for i, name in enumerate(names):
        y = _series(one, name, scale)
        if y is not None:
            ax.plot(age, y, label=(labels[i] if labels else name), lw=1.3)


def add_field_panel(ax, age, one) -> bool:
    """Surface field of each source (uT, log axis) with the CE-5/CE-6 boxes; False if no field data.

    Model fields are equatorial (docs/physics.md §Surface and site field); the boxes are the sites' ranges divided by the
    axial-dipole site factor, i.e. equatorial-equivalent, so both are compared on the same footing.
    """
    if not any(name in one for name, _ in FIELD_SOURCES):
        return False
    for name, label in FIELD_SOURCES:
        y = _series(one, name, 1e6)
        if y is not None:
            y = np.where(y > 0, y, np.nan)  # an inactive source (B = 0) has no point on a log axis
            if name == "B_surface":  # drawn wide and pale under the sources it is the largest of
                ax.plot(age, y, label=label, lw=4.0, alpha=0.3, color="k", zorder=1)
            else:
                ax.plot(age, y, label=label, lw=1.3, zorder=2)
    for b in chang_e_boxes():
        w = max(2 * b["age_err"], MIN_BOX_WIDTH)
        lo, hi = b["eq_ut"]
        ax.add_patch(_rectangle(b["age"] - w / 2, lo, w, hi - lo))
        ax.annotate(f"{b['label']} {b['site_ut'][0]:g}-{b['site_ut'][1]:g} uT at {b['lat']:.0f} deg\n"
                    f"({lo:.1f}-{hi:.1f} uT equatorial)", (b["age"], hi), textcoords="offset points",
                    xytext=(0, 4), ha="center", fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(1e-3, 1e3)
    ax.set_ylabel("equatorial surface field (uT)")
    return True


def _rectangle(x, y, w, h):
    from matplotlib.patches import Rectangle
    return Rectangle((x, y), w, h, facecolor="tab:red", alpha=0.35, edgecolor="tab:red")


def _core_panel(ax, age, one):
    """Entropy terms of the core budget (W/K) and the core regime on a second axis."""
    terms = ("E_secular", "E_latent", "E_gravitational", "E_radiogenic", "E_conduction")
    _plot_lines(ax, age, one, terms, labels=["E_S", "E_L", "E_G", "E_R", "E_k"])
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_ylabel("core entropy terms (W/K)")
    if "core_regime" in one:
        twin = ax.twinx()
        twin.step(age, np.asarray(one["core_regime"].values, dtype=float), where="post", color="k", lw=0.8,
                  alpha=0.6, label="core regime")
        twin.set_ylim(-0.5, len(CORE_REGIMES) - 0.5)
        twin.set_yticks(range(len(CORE_REGIMES)), CORE_REGIMES, fontsize=7)


def plot_run(ds_or_result, path, sample: int = 0) -> Path:
    """Four panels of one model against age (five with the field), saved as a PNG at ``path``."""
    ds = _as_dataset(ds_or_result)
    one = ds.isel(sample=sample) if "sample" in ds.dims else ds
    age = np.asarray(one["age"].values, dtype=float)
    has_field = any(name in one for name, _ in FIELD_SOURCES)
    n = 5 if has_field else 4
    fig = new_figure((8, 2.5 * n))
    axes = fig.subplots(n, 1, sharex=True)

    ax = axes[0]
    _plot_lines(ax, age, one, ("T_mantle", "T_cmb", "T_basal"))
    ax.set_ylabel("temperature (K)")

    ax = axes[1]
    _plot_lines(ax, age, one, ("r_inner_core", "bmo_thickness"), scale=1e-3,
                labels=["inner-core radius", "BMO thickness"])
    ax.set_ylabel("thickness (km)")

    ax = axes[2]
    _plot_lines(ax, age, one, ("Q_surface", "Q_cmb", "Q_adiabatic", "Q_basal_top"), scale=1e-9)
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_yscale("symlog", linthresh=1.0)  # the surface flow is ~100x the core's; Q_cmb may be < 0
    ax.set_ylabel("heat flow (GW, symlog)")

    _core_panel(axes[3], age, one)
    if has_field:
        add_field_panel(axes[4], age, one)
        axes[4].set_title("surface field, with the Chang'e-5 and Chang'e-6 paleointensities", fontsize=8)

    for ax in axes:
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    axes[-1].set_xlim(age.max(), age.min())
    axes[-1].set_xlabel("age (Ga)")
    title = ds.attrs.get("title") or "lunadyn run"
    status = int(np.asarray(one["status"])) if "status" in one else None
    if status is not None:
        title += f" -- status: {describe(status)}"
    fig.suptitle(title, fontsize=10)
    return save(fig, path, dpi=120)
