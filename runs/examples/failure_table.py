"""The table of failure causes of a sweep store (issue 10, item 3): how models fail, and how often.

    python runs/examples/failure_table.py STORE [--before OLD_STORE] [--markdown]

Rows, each a count and a rate over the computed models:
- every thermal code (docs/physics.md §Status; runs/status.py): ok, step-size underflow, max_steps, non-finite,
  out of bounds, root finding, energy books not closed;
- among status-0 models: a core or basal-layer book off by more than 1% / 10% of its scale, or by more
  than the books' verdict tolerance (thermal.kernel.book_tolerance(rtol); a model past it fails with its
  own code, so these rows must read 0 once the verdict is in);
- among status-0 models: a stuck state -- over some 1 Ga window the energy to change the core's (or the
  basal layer's) temperature by more than 1 K flowed in or out, yet its temperature moved by less than 1%
  of that and (core) the inner core did not move (the signature of a freezing heat capacity gone
  infinite);
- the informational flags (regime 2 entered, basal layer remelted, orbit undefined).

The store must keep the state (keep_state = true) and r_inner_core; the records are rebuilt from the
spec the store holds.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import zarr

from lunadyn.runs import registry
from lunadyn.runs import status as st
from lunadyn.thermal import basal_layer, core, kernel
from lunadyn.thermal.layout import ST_OK
from lunadyn.thermal.parameters import MODE_COUPLED
from lunadyn.thermal.radiogenic import core_potassium_energy

WINDOW_GA = 1.0


def store_records(g) -> np.ndarray:
    """The kernel records of every sample of a store (fixed values from its spec, varied ones from coords)."""
    spec = json.loads(g.attrs["spec"])
    values = dict(spec["parameters"])
    n = int(g.attrs["n_samples"])
    for name in json.loads(g.attrs["varied_parameters"]):
        v = np.asarray(g[name][:])
        p = registry.PARAMS[name]
        values[name] = [p.choices[int(c)] for c in v] if p.kind == "category" else v
    return registry.make_records(n, values)


def stuck(ages, state, r_i, rec) -> tuple[bool, bool]:
    """(core stuck, layer stuck) of one model over any WINDOW_GA window of output ages (see the module doc)."""
    T_c, T_b = state["T_cmb"], state["T_basal"]
    IQ, IQB, IHL = state["int_Q_cmb"], state["int_Q_basal_top"], state["int_H_layer"]
    C_S = core.secular_capacity(rec)
    M_c = core.core_mass(rec)
    start = float(ages[0])
    QR = np.array([core_potassium_energy(start, float(a), rec["K_core_ppm"], M_c) for a in ages])
    step = float(ages[0] - ages[1])
    w = max(1, int(round(WINDOW_GA / step)))
    a, b = slice(0, -w), slice(w, None)
    dE = -(IQ[b] - IQ[a]) + (QR[b] - QR[a])          # the energy the core gained over the window
    core_stuck = np.any((np.abs(dE) > C_S * 1.0) & (C_S * np.abs(T_c[b] - T_c[a]) < 1e-2 * np.abs(dE))
                        & (np.abs(r_i[b] - r_i[a]) < 10.0))
    layer_stuck = False
    if rec["mode"] == MODE_COUPLED and rec["bmo_thickness0"] > 0.0:
        C_b = basal_layer.layer_mass(rec) * rec["cp_bmo"]
        dEb = (IQ[b] - IQ[a]) - (IQB[b] - IQB[a]) + (IHL[b] - IHL[a])
        layer_stuck = bool(np.any((np.abs(dEb) > C_b * 1.0) & (C_b * np.abs(T_b[b] - T_b[a]) < 1e-2 * np.abs(dEb))))
    return bool(core_stuck), layer_stuck


def failure_table(path) -> list[tuple[str, int, int]]:
    """Rows (cause, count, out of) of the store at ``path``."""
    g = zarr.open_group(str(path), mode="r")
    status = np.asarray(g["status"][:])
    computed = status >= 0
    n = int(computed.sum())
    codes = np.where(computed, status & 0xF, -1)
    rows = [("models computed", n, int(status.size))]
    known = dict(st.CODES)
    for c in sorted(set(known) | {int(x) for x in np.unique(codes[computed])}):
        rows.append((f"status {c}: {known.get(c, 'unknown code')}", int((codes == c).sum()), n))
    ok = codes == ST_OK
    n_ok = int(ok.sum())
    s = {k: np.asarray(g[k][:]) for k in ("book_core_residual", "book_core_scale", "book_layer_residual",
                                           "book_layer_scale")}
    rc = np.abs(s["book_core_residual"]) / s["book_core_scale"]
    rl = np.abs(s["book_layer_residual"]) / s["book_layer_scale"]
    rtol = float(json.loads(g.attrs["spec"])["settings"]["rtol"])
    tol = kernel.book_tolerance(rtol) if hasattr(kernel, "book_tolerance") else None
    for what, r in (("core", rc), ("basal-layer", rl)):
        for thr in (1e-2, 1e-1):
            rows.append((f"status 0, {what} book off by > {thr:.0%} of its scale", int((ok & (r > thr)).sum()), n_ok))
        if tol is not None:
            rows.append((f"status 0, {what} book off by > the verdict tolerance {tol:g}", int((ok & (r > tol)).sum()), n_ok))
    # stuck states, model by model over the status-0 ones
    recs = store_records(g)
    ages = np.asarray(g["age"][:])
    names = ("T_cmb", "T_basal", "int_Q_cmb", "int_Q_basal_top", "int_H_layer")
    n_core = n_layer = 0
    chunk = int(g.attrs["chunk_size"])
    for lo in range(0, status.size, chunk):
        hi = min(status.size, lo + chunk)
        idx = np.nonzero(ok[lo:hi])[0]
        if idx.size == 0:
            continue
        block = {k: np.asarray(g[k][lo:hi], dtype=np.float64) for k in names}
        ri = np.asarray(g["r_inner_core"][lo:hi], dtype=np.float64)
        for j in idx:
            c, l = stuck(ages, {k: v[j] for k, v in block.items()}, ri[j], recs[lo + j])
            n_core += c
            n_layer += l
    rows.append((f"status 0, core stuck (> 1 K of energy in {WINDOW_GA:g} Ga, T_c and r_i still)", n_core, n_ok))
    rows.append((f"status 0, basal layer stuck (> 1 K of energy in {WINDOW_GA:g} Ga, T_b still)", n_layer, n_ok))
    for flag, text in st.FLAGS.items():
        rows.append((f"flag {flag}: {text}", int((computed & ((status & flag) != 0)).sum()), n))
    return rows


def _rate(k, m):
    return f"{100.0 * k / m:.3g}%" if m else "-"


def format_rows(rows, markdown=False) -> str:
    if markdown:
        lines = ["| cause | count | rate |", "|---|---:|---:|"]
        lines += [f"| {c} | {k} | {_rate(k, m)} of {m} |" for c, k, m in rows]
        return "\n".join(lines)
    w = max(len(c) for c, _, _ in rows)
    return "\n".join(f"{c.ljust(w)}  {k:>7d}  {_rate(k, m):>8} of {m}" for c, k, m in rows)


def format_before_after(before, after, markdown=False) -> str:
    """Rows of two stores side by side (cause | before | after), in the order of ``after``."""
    old = {c: (k, m) for c, k, m in before}
    cells = []
    for c, k, m in after:
        kb, mb = old.get(c, (0, before[0][1]))
        cells.append((c, f"{kb} ({_rate(kb, mb)})", f"{k} ({_rate(k, m)})"))
    if markdown:
        return "\n".join(["| cause | before | after |", "|---|---:|---:|"]
                         + [f"| {c} | {b} | {a} |" for c, b, a in cells])
    w = max(len(c) for c, _, _ in cells)
    return "\n".join(f"{c.ljust(w)}  {b:>18}  {a:>18}" for c, b, a in cells)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("store")
    ap.add_argument("--before", metavar="STORE", help="a store of the same spec computed before a change: "
                    "both columns side by side")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    args = ap.parse_args(argv)
    rows = failure_table(args.store)
    if args.before:
        print(format_before_after(failure_table(args.before), rows, args.markdown))
    else:
        print(format_rows(rows, args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
