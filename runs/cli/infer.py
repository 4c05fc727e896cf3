"""The ``lunadyn infer`` command (issue 11): evidence and posterior of each dynamo hypothesis.

    lunadyn infer SPEC.toml [-o STORE] [--backend serial|dask|mpi] [--workers N] [--scheduler ADDR]
                  [--overwrite] [--json]

``add_commands(subparsers)`` registers it on the parser of runs/cli/main.py. User errors raise
``runs.errors.UserError`` (one line, exit 2).
"""
from __future__ import annotations

import argparse
import json

from ..inference.infer import format_table, infer
from ..io.paths import default_output
from ..spec.inference import load_spec
from .argtypes import positive_int


def cmd_infer(args) -> int:
    spec = load_spec(args.spec)  # validation first: mistakes are reported before anything starts
    out = args.output or default_output(args.spec, ".zarr")
    cluster = None
    if args.backend == "dask" and spec.cluster and not args.scheduler:
        from ...cluster.jobqueue import cluster_from_spec
        cluster = cluster_from_spec(spec.cluster, spec.cluster.get("kind"), workers=args.workers)
    summary = infer(spec, out, backend=args.backend, workers=args.workers, scheduler=args.scheduler,
                    cluster=cluster, overwrite=args.overwrite, progress=not args.json)
    if summary is None:      # an MPI rank other than 0
        return 0
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(format_table(summary))
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("infer", help="posterior and evidence of each dynamo hypothesis (resumable)")
    p.add_argument("spec", metavar="SPEC.toml", help="inference spec (see runs/examples/ce6_hypotheses.toml)")
    p.add_argument("-o", "--output", metavar="STORE", help="inference store (default ./<spec stem>.zarr)")
    p.add_argument("--backend", choices=("serial", "dask", "mpi"), default="dask",
                   help="where the models of each batch are computed (default dask: a local cluster)")
    p.add_argument("--workers", type=positive_int, metavar="N", help="dask workers (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDR", help="a running dask scheduler (e.g. tcp://host:8786)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store of another spec")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (no progress lines)")
    p.set_defaults(func=cmd_infer)
