"""The ``lunadyn`` command line (DESIGN.md "The command line and the Python API").

User errors (a bad scenario, a missing file, a foreign or damaged store, a bad option) print one line
``lunadyn: error: ...`` on stderr and exit with status 2, never a traceback. A write the file system
refuses (full, over quota, read-only) prints one line too and exits with status 74 (EX_IOERR); an
interrupted command exits with 130. ``lunadyn info`` exits with 1 when it finds a damaged store.
"""
from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from ..errors import EXIT_STORAGE, EXIT_USER_ERROR, StorageError, UserError, exact, storage_reason
from ..status import thermal_code
from ...cluster.backends import available as available_backends
from ...cluster.errors import ClusterError
from ..io.paths import beside, check_output, default_output
from ...dynamo.parameters import DYNAMO_PARAMETERS
from ..registry import ALL_PARAMS, BODY, params_table
from ..spec.config import load_scenario
from .. import api
from ..io import store
from ..viz.plots import plot_run
from ..compute.field import rerun_field
from ..compute.driver import check_sweep_options
from ..spec.sweep import load_spec
from ...cluster.jobqueue import cluster_from_spec
from ..io.store import store_info
from ..compute import pipeline
from ... import __version__
from .submit import add_commands as add_cluster_commands
from .compare import add_commands as add_compare_commands
from .infer import add_commands as add_infer_commands
from .argtypes import nonnegative_int, positive_int
import os

PARAMS_LAW_CHOICES = next(p.choices for p in DYNAMO_PARAMETERS if p.name == "law")
EXIT_DAMAGED = 1           # lunadyn info: the store is damaged (the report says where)


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one-line UserErrors instead of usage text."""

    def error(self, message):
        raise UserError(f"{message} (see `{self.prog} --help`)")


# --------------------------------------------------------------------------------------------------
# lunadyn params


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return exact(v)            # a bound shown is a bound that can be typed back
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def params_rows() -> list[list[str]]:
    """The parameter table as text cells (header first)."""
    declared = {**ALL_PARAMS, BODY.name: BODY}
    rows = [["name", "unit", "default", "min", "max", "prior", "stage", "earth", "description"]]
    for r in params_table():
        p = declared[r["name"]]
        lo, hi = _fmt(r["min"]), _fmt(r["max"])
        if r["min"] is not None and p.lower_open:
            lo = f">{lo}"
        if r["kind"] == "category":
            prior, lo, hi = "|".join(r["choices"]), "-", "-"
            if len(prior) > 40:  # the orbit models: the first few, and how many (all in --json)
                prior = "|".join(r["choices"][:3]) + f"|... ({len(r['choices'])} choices)"
        elif r["kind"] == "set":
            prior, lo, hi = "subset of " + ",".join(r["choices"]), "-", "-"
        elif r["stage"] == "spec":
            prior = "(setting)"
        elif r["prior"]:
            prior = f"{_fmt(r['prior'][0])}..{_fmt(r['prior'][1])}" + (" log" if r["scale"] == "log" else "")
        else:
            prior = "fixed"
        default = _fmt(r["default"])
        if r["kind"] == "array":
            default = f"{default} (<= {p.size} values)"
        earth = _fmt(r["earth_default"]) if p.has_earth_default() else "n/a"
        if p.has_earth_default() and r["earth_prior"] and p.kind == "float":
            earth += f" [{_fmt(r['earth_prior'][0])}..{_fmt(r['earth_prior'][1])}]"
        rows.append([r["name"], r["unit"] or "-", default, lo, hi, prior, r["stage"], earth,
                     r["description"]])
    return rows


def cmd_params(args) -> int:
    if args.json:
        print(json.dumps(params_table(), indent=1))
        return 0
    rows = params_rows()
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    return 0


# --------------------------------------------------------------------------------------------------
# lunadyn run


def _summary_lines(summary: dict, title: str) -> list[str]:
    def val(key, fmt, unit, none="never"):
        v = summary.get(key)
        return none if v is None else f"{v:{fmt}} {unit}"
    lines = [f"lunadyn run: {title}"]
    failed = summary["status"] >= 0 and thermal_code(summary["status"]) != 0
    items = [
        ("status", f"FAILED: {summary['status_text']} (status {summary['status']}): the model stopped, its "
                   "outputs from then on are NaN" if failed else summary["status_text"]),
        ("surface heat flow today", val("q_surface_today_mW_m2", ".2f", "mW/m2", "n/a")),
        ("T_cmb today", val("T_cmb_today_K", ".1f", "K", "n/a")),
        ("inner-core radius today", val("r_inner_core_today_km", ".1f", "km", "n/a")),
        ("inner core nucleated", val("age_inner_core_nucleation_Ga", ".3f", "Ga")),
        ("basal magma ocean solidified", val("age_bmo_solidified_Ga", ".3f", "Ga")),
        ("store", f"{summary['store']} (created {summary['created_utc']})"),
        ("figure", summary["figure"] or "not drawn (--no-plot)"),
    ]
    width = max(len(k) for k, _ in items)
    lines += [f"  {k.ljust(width)}  {v}" for k, v in items]
    return lines + _field_lines(summary)


def _field_lines(summary: dict) -> list[str]:
    """Which dynamo sources are on when, and the field at the Chang'e-5/-6 sites and ages."""
    lines = []
    epochs = summary.get("dynamo_epochs_Ga")
    if epochs is not None:
        lines.append("  dynamo epochs (Ga, each source on):")
        for src, spans in epochs.items():
            text = ", ".join(f"{a:.2f}-{b:.2f}" for a, b in spans) or "never"
            lines.append(f"    {src:11s} {text}")
    for row in summary.get("chang_e", []):
        lo, hi = row["measured_uT"]
        b = row.get("B_surface_site_uT")

        def show(v):
            return "n/a" if v is None else f"{v:.3g}"
        parts = [f"{s} {show(row.get(f'B_{s}_site_uT'))}" for s in ("core", "bmo", "precession")]
        if b is None:
            verdict = "no model field (the model failed before this age)"
        elif row["within_range"]:
            verdict = "within the measured range"
        elif not b or row.get("factor_to_range") is None:
            verdict = "no field"
        else:
            verdict = f"{row['factor_to_range']:.3g}x {'below' if b < lo else 'above'} it"
        lines.append(f"  {row['mission']} ({row['age_Ga']:.3f} Ga, {row['site_lat_deg']:+.2f} deg): model "
                     f"{show(b)} uT at the site ({', '.join(parts)}) vs measured {lo:g}-{hi:g} uT: {verdict}")
    return lines


def cmd_run(args) -> int:
    scn = load_scenario(args.scenario, args.set)  # before the heavy imports: mistakes are reported fast
    out = Path(args.output) if args.output else default_output(args.scenario, ".zarr")
    check_output(out, [args.scenario], "-o")
    if not args.no_plot:
        check_output(beside(out, ".png"), [args.scenario], "the figure of -o")
    path = api.run_scenario(scn, out, overwrite=args.overwrite)
    ds = store.open_dataset(path)
    figure = None
    if not args.no_plot:
        figure = str(plot_run(ds, beside(path, ".png")))
    summary = {**api.summarize(ds), "store": str(path), "figure": figure,
               "created_utc": ds.attrs.get("created_utc", ""), "spec_hash": ds.attrs.get("spec_hash", "")}
    if scn.body != "moon":  # the Chang'e records and the dynamo stage's lunar spin say nothing of another body
        summary = {**summary, "body": scn.body, "chang_e": [], "dynamo_epochs_Ga": None}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print("\n".join(_summary_lines(summary, scn.title or str(args.scenario))))
    if summary["status"] >= 0 and thermal_code(summary["status"]) != 0:
        print(f"lunadyn: the model failed ({summary['status_text']}); the store keeps its status and the outputs "
              "up to the failure (see `lunadyn params` for max_steps and rtol)", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------------
# lunadyn field


def cmd_field(args) -> int:
    with store.reading(args.store):
        report = rerun_field(args.store, out=args.output, law=args.law, sets=args.set, overwrite=args.overwrite)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"lunadyn field: {report['chunks_written']} chunk(s) of {report['source']} re-run "
          f"with {report['overrides'] or 'unchanged settings'} -> {report['store']}")
    ds = store.open_dataset(report["store"])
    if ds.sizes["sample"] == 1:
        print("\n".join(_field_lines(api.summarize(ds))))
    return 0


# --------------------------------------------------------------------------------------------------
# lunadyn sweep / info


def cmd_sweep(args) -> int:
    check_sweep_options(args.backend, args.workers, args.task_index, args.n_tasks)
    spec = load_spec(args.spec)  # validation before anything starts
    out = Path(args.output) if args.output else default_output(args.spec, ".zarr")
    check_output(out, spec.inputs, "-o")
    backend = args.backend
    cluster = None
    if getattr(args, "cluster", None) or (backend == "dask" and spec_cluster(spec)):
        cluster = cluster_from_spec(spec_cluster(spec), args.cluster, workers=args.workers)
    report = api.sweep(spec, out, backend=backend, workers=args.workers, scheduler=args.scheduler,
                       overwrite=args.overwrite, progress=not args.json, task_index=args.task_index,
                       n_tasks=args.n_tasks, cluster=cluster)
    if report is None:      # an MPI rank other than 0
        return 0
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        failed = ", ".join(f"{k}: {v}" for k, v in report["models_failed_by_status"].items()) or "none"
        state = "complete" if report["complete"] else ("interrupted" if report["interrupted"] else "incomplete")
        print(f"lunadyn sweep: {report['store']} ({state}, {report['chunks_done']}/{report['chunks_total']} chunks)\n"
              f"  models ok {report['models_ok']}, failed {failed}\n"
              f"  computed now {report['models_computed_now']} models in {report['seconds']:.1f} s "
              f"({report['models_per_s']:,.0f} models/s)")
    if report["interrupted"]:
        print("lunadyn: interrupted; every finished chunk is kept: rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


def spec_cluster(spec):
    """The [cluster] section of a sweep spec, if any (read from its TOML text; not part of the hash)."""
    return tomllib.loads(spec.text).get("cluster") if spec.text else None


def cmd_info(args) -> int:
    info = store_info(args.store, verify=args.verify)
    integ = info["integrity"]
    status = 0 if integ["intact"] else EXIT_DAMAGED
    if args.json:
        print(json.dumps(info, indent=1))
        return status
    print(f"lunadyn store {info['path']}: {info['title'] or info['kind']}")
    rows = [("spec hash", info["spec_hash"][:16]), ("created", info["created_utc"]),
            ("lunadyn", f"{info['lunadyn_version']} ({info['git_commit'][:10] or 'no git'})"),
            ("models", f"{info['n_samples']} x {info['n_age']} ages, chunks of {info['chunk_size']}"),
            ("chunks done", f"{info['chunks_done']}/{info['chunks_total']}" + ("" if info["complete"] else " (incomplete)")),
            ("varied", ", ".join(info["varied_parameters"]) or "none"),
            ("status", "; ".join(f"{info['status_meaning'][k]}: {v}" for k, v in info["status_counts"].items())),
            ("failed models", str(info["n_failed"])),
            ("variables", f"{len(info['variables'])}: " + ", ".join(list(info["variables"])[:12])
             + (" ..." if len(info["variables"]) > 12 else "")),
            ("size on disk", f"{info['size_bytes'] / 1e6:.1f} MB in {info['files']} files"
             + (f" ({info['size_bytes'] / info['n_samples']:.0f} bytes a model)" if info["n_samples"] else ""))]
    check = ("every chunk read against its checksum" if integ["verified"]
             else "presence and sizes (--verify reads every chunk)")
    if integ["intact"]:
        rows.append(("integrity", f"intact: {integ['files_checked']} chunk files checked, {check}"))
    else:
        extra = (f", {len(integ['ledger_unreadable_units'])} ledger entries unreadable"
                 if integ["ledger_unreadable_units"] else "")
        rows.append(("integrity", f"DAMAGED: {integ['files_damaged']} of {integ['files_checked']} chunk files "
                                  f"damaged{extra} ({check})"))
        units = integ["damaged_units"]
        if units:
            rows.append(("damaged units", ", ".join(map(str, units[:40])) + (" ..." if len(units) > 40 else "")))
        for u, why in list(integ["damage"].items())[:8]:
            rows.append((f"  unit {u}", "; ".join(why[:4]) + (" ..." if len(why) > 4 else "")))
        if integ["ledger_unreadable_units"]:
            rows.append(("ledger unreadable", ", ".join(map(str, integ["ledger_unreadable_units"][:40]))))
        if integ["damaged_metadata"]:
            rows.append(("metadata damaged", ", ".join(integ["damaged_metadata"])))
        rows.append(("repair", f"{info['repair_command']} (recomputes only the damaged units)"))
    w = max(len(k) for k, _ in rows)
    print("\n".join(f"  {k.ljust(w)}  {v}" for k, v in rows))
    return status


# --------------------------------------------------------------------------------------------------
# lunadyn warmup


def cmd_warmup(args) -> int:
    seconds = pipeline.warmup()
    print(f"lunadyn: kernels compiled and cached ({seconds:.1f} s)")
    return 0


# --------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lunadyn", description="Thermal evolution and dynamos of the Moon: runs, sweeps, fits.")
    parser.add_argument("--version", action="version", version=f"lunadyn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("params", help="the parameter registry (name, unit, default, bounds, prior, ...)")
    p.add_argument("--json", action="store_true", help="print the table as a JSON list")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("run", help="run one scenario and write a store and a figure")
    p.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file (see runs/examples/)")
    p.add_argument("-o", "--output", metavar="STORE", help="store path (default ./<scenario stem>.zarr)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter or setting (TOML value; repeatable)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store of a different spec")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-plot", action="store_true", help="do not draw the figure")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("field", help="re-run the dynamo stage on a stored thermal history (new store)")
    p.add_argument("store", metavar="STORE", help="a lunadyn store that keeps the thermal state")
    p.add_argument("--law", choices=PARAMS_LAW_CHOICES, help="another scaling law")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="another value of a dynamo-stage parameter (repeatable)")
    p.add_argument("-o", "--output", metavar="OUT", help="new store (default <stem>.field.zarr)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store of a different spec")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_field)

    p = sub.add_parser("sweep", help="run a parameter sweep into a zarr store (resumable)")
    p.add_argument("spec", metavar="SPEC.toml", help="sweep spec (see runs/examples/demo_sweep.toml)")
    p.add_argument("-o", "--output", metavar="STORE", help="store path (default ./<spec stem>.zarr)")
    p.add_argument("--backend", choices=[b for b in available_backends() if b != "array"], default="dask",
                   help="serial, dask (default: a local cluster, one single-threaded worker per core) or mpi")
    p.add_argument("--workers", type=positive_int, metavar="N", help="dask workers (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDR", help="a running dask scheduler (e.g. tcp://host:8786)")
    p.add_argument("--cluster", metavar="KIND", choices=("slurm", "pbs"),
                   help="dask workers from a dask-jobqueue SLURM/PBS cluster ([cluster] section of the spec)")
    p.add_argument("--task-index", type=nonnegative_int, metavar="I", help="job arrays: compute slice I of the chunks")
    p.add_argument("--n-tasks", type=positive_int, metavar="N", help="job arrays: the number of slices")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store of another spec")
    p.add_argument("--json", action="store_true", help="print the final report as JSON (no progress bar)")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("info", help="progress, integrity and contents of a store (exit 1 if damaged)")
    p.add_argument("store", metavar="STORE")
    p.add_argument("--verify", action="store_true",
                   help="read every chunk against its checksum (default: check presence and sizes)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("warmup", help="compile and cache the kernels")
    p.set_defaults(func=cmd_warmup)
    add_cluster_commands(sub)
    add_compare_commands(sub)
    add_infer_commands(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``lunadyn`` console script; returns the exit status."""
    status = EXIT_USER_ERROR
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UserError, ClusterError) as e:
        msg = str(e)
    except StorageError as e:
        msg, status = str(e), e.exit_status
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as e:
        msg = f"{e.strerror or e}: {e.filename}" if e.filename else str(e)
    except tomllib.TOMLDecodeError as e:
        msg = f"invalid TOML: {e}"
    except BrokenPipeError:  # e.g. `lunadyn params | head`: stop quietly (Python docs' idiom)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("lunadyn: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        reason = storage_reason(e)
        if reason is None:
            raise
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        msg, status = f"{reason}{where}: the command stopped; rerun it once the file system accepts writes", EXIT_STORAGE
    print(f"lunadyn: error: {' '.join(msg.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
