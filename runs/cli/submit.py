"""The ``lunadyn submit`` command (registered into the main parser by ``cli.main.build_parser``)."""
from __future__ import annotations

import json
import sys

from ...cluster.submit import MODES, SCHEDULERS
from ..compute.driver import submit_sweep


def cmd_submit(args) -> int:
    report = submit_sweep(args.spec, scheduler=args.scheduler, mode=args.mode, store=args.output,
                    dry_run=args.dry_run, overwrite=args.overwrite, nodes=args.nodes, ntasks=args.ntasks,
                    time=args.time, partition=args.partition, account=args.account, name=args.name,
                    extra=args.directive, estimate=not args.no_estimate)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    if args.dry_run:
        print(report["script"], end="")
        if "estimate" in report:           # on stderr: stdout stays the script, ready to save or pipe
            print("\n".join(estimate_lines(report["estimate"])), file=sys.stderr)
        return 0
    if "estimate" in report:
        print("\n".join(estimate_lines(report["estimate"])))
    if report.get("complete"):
        print(f"lunadyn submit: {report['store']} is already complete ({report['chunks_total']} chunks); "
              "nothing submitted")
        return 0
    what = {"mpi": f"{report['ntasks']} MPI ranks", "array": f"an array of {report['ntasks']} tasks",
            "dask": "a dask driver job"}[args.mode]
    print(f"lunadyn submit: job {report['job_id']} ({args.scheduler}, {what}) for "
          f"{report['chunks_to_do']}/{report['chunks_total']} chunks -> {report['store']}\n"
          f"  script {report['script_path']}\n"
          f"  watch with: lunadyn info {report['store']}  (job output in {report['log_dir']})")
    return 0


def estimate_lines(est: dict) -> list[str]:
    """The scaling model's estimate as ``# ``-prefixed lines (a valid script if appended to one)."""
    from ..compute import scaling

    c = est["costs"]
    lines = scaling.describe(est["at_spec_unit"])
    rec = est["recommended"]
    if rec["unit"] != est["at_spec_unit"]["unit"]:
        lines.append(f"  recommended unit size: chunk_size = {rec['unit']:,} (~{rec['wall_s']:,.0f} s, "
                     f"{rec['files']:,} files" + ("" if rec["feasible"] else "; none meets the file budget") + ")")
    else:
        lines.append("  the unit size (chunk_size) is the recommended one")
    lines.append(f"  costs ({c['source']}): {c['model_s'] * 1e6:,.0f} us a model, write {c['write_s0'] * 1e3:.1f} ms "
                 f"+ {c['write_s_per_model'] * 1e6:.2f} us a model, {c['bytes_per_model']:.0f} bytes a model, "
                 f"{c['files_per_unit']} files a unit")
    return ["# " + line for line in lines]


def add_commands(subparsers) -> None:
    """Register ``lunadyn submit`` on the main parser's subparsers."""
    p = subparsers.add_parser("submit", help="submit a sweep to SLURM or PBS (MPI job, job array or dask)")
    p.add_argument("spec", metavar="SPEC.toml", help="sweep spec")
    p.add_argument("--scheduler", required=True, choices=SCHEDULERS, help="the batch system: slurm or pbs")
    p.add_argument("--mode", required=True, choices=MODES,
                   help="mpi: one MPI job; array: a job array of --task-index slices; dask: a driver job "
                        "that starts dask_jobqueue workers")
    p.add_argument("--nodes", type=int, metavar="N", help="nodes (mpi mode)")
    p.add_argument("--ntasks", type=int, metavar="N",
                   help="mpi: ranks (default 2 per node); array: array tasks (default min(chunks, 8)); "
                        "dask: workers (default: the [cluster] section's jobs)")
    p.add_argument("--time", default="01:00:00", metavar="HH:MM:SS", help="wall time per job (default 01:00:00)")
    p.add_argument("--partition", metavar="P", help="partition (SLURM) or queue (PBS)")
    p.add_argument("--account", metavar="A", help="account to charge")
    p.add_argument("--name", metavar="NAME", help="job name (default lunadyn-<spec stem>)")
    p.add_argument("--directive", action="append", default=[], metavar="TEXT",
                   help="an extra #SBATCH/#PBS directive, e.g. --directive=--qos=debug (repeatable)")
    p.add_argument("-o", "--output", metavar="STORE", help="store path (default ./<spec stem>.zarr)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store of another spec")
    p.add_argument("--dry-run", action="store_true", help="print the job script; create and submit nothing")
    p.add_argument("--json", action="store_true", help="print a JSON report (job id, script, paths)")
    p.add_argument("--no-estimate", action="store_true",
                   help="skip the scaling model's estimate (it computes one unit's worth of models first)")
    p.set_defaults(func=cmd_submit)
