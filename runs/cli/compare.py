"""The ``lunadyn data``, ``compare``, ``fit`` and ``plot`` commands .

``add_commands(subparsers)`` registers them on the parser of runs/cli.py. Every handler returns an
exit status and raises ``runs.errors.UserError`` (one line) for user errors.

    lunadyn data [--data FILE] [--select KEY=VALUE ...] [--json]
    lunadyn compare STORE [--data FILE] [--select KEY=VALUE ...] [--best K] [--json]
    lunadyn fit SCENARIO.toml --free NAME [NAME ...] [--method optimize|mcmc] [--walkers N] [--steps N]
                [--seed S] [-o OUT] [--data FILE] [--select KEY=VALUE ...] [--json]
    lunadyn plot STORE [--best K] [-o FIG.png] [--data FILE] [--select KEY=VALUE ...]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import UserError
from ..io.paths import check_output, default_output
from ..io.store import reading
from ..record.observations import load_observations, records_table
from ..inference.compare import compare_store, format_compare
from ..inference.fit import is_fit_store
from ..spec.config import load_scenario
from ..inference.fit import check_free, fit, format_fit
import zarr
from ..viz.figures import plot_comparison, plot_corner, plot_inference
from ..inference.infer import is_inference_store
from .argtypes import integer, positive_int

SELECT_HELP = ("record selection KEY=VALUE (KEY: mission, side, method_class, confidence, id; repeatable: "
               "values of one key OR-ed, keys AND-ed; 'all' drops the default confidence=high,medium "
               "method_class=whole_rock,whole_rock_arm)")


def _data_args(p):
    p.add_argument("--data", metavar="FILE", help="a record file in the format of runs/data/lunar_paleointensity.csv "
                   "(default: the shipped record)")
    p.add_argument("--select", nargs="+", action="extend", metavar="KEY=VALUE", help=SELECT_HELP)


# --------------------------------------------------------------------------------------------------
# handlers


def cmd_data(args) -> int:
    obs = load_observations(args.data, args.select)
    if args.json:
        print(json.dumps({"file": obs.path, "sha256": obs.sha256, "selection": obs.description,
                          "filters": {k: list(v) for k, v in obs.selection.items()},
                          "n_selected": len(obs), "n_total": obs.n_total,
                          "records": [r.as_dict() for r in obs.records]}, indent=1))
        return 0
    print(f"lunadyn data: {obs.description}")
    print(f"  file {obs.path} (sha256 {obs.sha256[:12]})")
    rows = records_table(obs)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def cmd_compare(args) -> int:
    if is_inference_store(args.store):
        raise UserError(f"{args.store} is an inference store (made by `lunadyn infer`); compare takes a run or "
                        "sweep store — its answer is printed by `lunadyn infer` again, and drawn by `lunadyn plot`")
    if is_fit_store(args.store):
        raise UserError(f"{args.store} is a fit store (made by `lunadyn fit`); compare takes a run or sweep "
                        "store — plot the fit with `lunadyn plot`")
    with reading(args.store):      # a chunk failing its checksum: one line naming the units
        summary = compare_store(args.store, data=args.data, select=args.select, best=args.best)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(format_compare(summary))
    return 0


def cmd_fit(args) -> int:
    free = check_free(args.free)  # before loading anything heavy: mistakes are reported fast
    scn = load_scenario(args.scenario)
    out = args.output or default_output(args.scenario, ".fit.zarr")
    check_output(out, [args.scenario, args.data], "-o")
    result = fit(scn, free, method=args.method, walkers=args.walkers, steps=args.steps, seed=args.seed,
                 out=out, data=args.data, select=args.select)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(format_fit(result))
    return 0


def cmd_plot(args) -> int:
    store = Path(args.store)
    out = Path(args.output) if args.output else default_output(store, ".png")
    if is_inference_store(store):
        paths = plot_inference(store, out, data=args.data, select=args.select)
        print(f"lunadyn plot: posterior field envelope per hypothesis against the record -> {paths[0]}")
        for p in paths[1:]:
            print(f"lunadyn plot: posterior corner plot -> {p}")
        return 0
    check_output(out, [store, args.data], "-o")
    check_output(out.with_name(out.stem + ".corner.png"), [store, args.data], "-o")
    with reading(store):
        path = plot_comparison(store, best=args.best, out=out, data=args.data, select=args.select)
    print(f"lunadyn plot: field histories against the record -> {path}")
    if is_fit_store(store) and "chain" in zarr.open_group(str(store), mode="r"):
        corner_out = out.with_name(out.stem + ".corner.png")
        print(f"lunadyn plot: posterior corner plot -> {plot_corner(store, corner_out)}")
    return 0


# --------------------------------------------------------------------------------------------------
# registration


def add_commands(subparsers) -> None:
    """Register data, compare, fit and plot on the ``lunadyn`` subparsers."""
    p = subparsers.add_parser("data", help="the measured paleointensity record in use and the selection")
    _data_args(p)
    p.add_argument("--json", action="store_true", help="print the records as JSON")
    p.set_defaults(func=cmd_data)

    p = subparsers.add_parser("compare", help="score a store's models against the record (writes loglike)")
    p.add_argument("store", metavar="STORE", help="a lunadyn run or sweep store")
    _data_args(p)
    p.add_argument("--best", type=positive_int, default=5, metavar="K", help="best models to report (default 5)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_compare)

    p = subparsers.add_parser("fit", help="fit free parameters of a scenario to the record")
    p.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file (fixed parameters and settings)")
    p.add_argument("--free", nargs="+", required=True, metavar="NAME", help="parameters to fit (need a prior range)")
    p.add_argument("--method", choices=("optimize", "mcmc"), default="optimize",
                   help="differential evolution (default) or emcee MCMC")
    p.add_argument("--walkers", type=positive_int, default=16, metavar="N", help="MCMC walkers (default 16)")
    p.add_argument("--steps", type=positive_int, default=400, metavar="N", help="MCMC steps (default 400)")
    p.add_argument("--seed", type=integer, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("-o", "--output", metavar="OUT", help="fit store (default ./<scenario stem>.fit.zarr)")
    _data_args(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_fit)

    p = subparsers.add_parser("plot", help="field histories of a store's models against the record")
    p.add_argument("store", metavar="STORE", help="a lunadyn run, sweep, fit or inference store")
    p.add_argument("--best", type=positive_int, metavar="K",
                   help="the best K models (default: posterior-weighted models, or all draws of a fit)")
    p.add_argument("-o", "--output", metavar="FIG.png", help="figure (default ./<store stem>.png)")
    _data_args(p)
    p.set_defaults(func=cmd_plot)
