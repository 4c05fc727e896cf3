"""The sweep driver: one place where a sweep is prepared, warmed, mapped over a backend and reported.

``sweep(spec, store, backend=...)`` checks the options and the output path before anything starts,
creates the store or verifies it to resume (once, on the root process: damaged units are cleared for
recomputation, ``io.store.repair_for_resume``), warms the kernel cache before any worker starts, maps
``units.run_unit`` (claim, ``pipeline.run_chunk``, release) over the units not yet done through the
backend found by name in ``cluster.backends``, shows progress and returns the final report. Every
backend (serial, dask, MPI, job-array slice) goes through here, so they all write the same bytes, and
their failures are collected here: a write the file system refuses stops the sweep on every backend
with one ``StorageError`` line (what, where, how many units are done, that rerunning resumes), and
units another driver holds are waited for. ``submit_sweep`` prepares the store and submits a job
script that runs this driver on a cluster.
"""
from __future__ import annotations

import inspect
from functools import partial
from pathlib import Path

import sys
import time

import numpy as np

from ...cluster import submit as job_scripts
from ...cluster.backends import get_backend
from ...cluster.dask_backend import start_fork_server
from ..errors import UserError
from ..io import claims
from ..io import store as st_mod
from ..io.paths import check_output, default_output
from ..record.scoring import RECORD_DIM, observation_attrs
from ..registry import NAMED_AGE_DIM
from ..spec.sweep import SweepSpec, load_spec
from ..status import thermal_code
from . import WORKER_MODULES, WORKER_SETUP, pipeline, scaling
from .pipeline import output_ages
from .progress import Progress
from .units import Outcome, run_unit


def check_sweep_options(backend: str = "dask", workers=None, task_index=None, n_tasks=None) -> None:
    """Resource options, before anything starts (one-line UserError each)."""
    for option, v in (("--workers", workers), ("--n-tasks", n_tasks)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise UserError(f"{option} {v}: expected a positive integer")
    if (task_index is None) != (n_tasks is None):
        raise UserError("--task-index and --n-tasks go together (slice I of N of the chunks)")
    if n_tasks is not None and (not isinstance(task_index, int) or not 0 <= task_index < n_tasks):
        raise UserError(f"--task-index {task_index}: expected 0 <= I < --n-tasks {n_tasks}")


def store_layout(spec: SweepSpec) -> dict:
    """The arrays a sweep's store holds: {'ages': output ages, 'variables': io.store.create_store form,
    'dims': the other dimensions' coordinates (a reduced sweep's named_age and record)}."""
    variables = st_mod.variable_layout(spec.variables, scored=spec.obs is not None, per_record=spec.per_record,
                                       at_age_variables=spec.at_age_variables)
    dims = {}
    if spec.at_age_variables:
        dims[NAMED_AGE_DIM] = list(spec.at_ages)
    if spec.per_record:
        dims[RECORD_DIM] = list(spec.obs.ids)
    return {"ages": output_ages(spec.settings["start_age"], spec.settings["output_step"]), "variables": variables,
            "dims": dims}


def open_sweep_store(spec: SweepSpec, path, overwrite: bool = False, units=None):
    """Create the sweep's store, or reopen it to resume (same hash; verified, damaged units cleared
    first); returns (zarr group, repairs) (``io.store.prepare``). ``units``: the units this driver will
    compute (a job-array slice), the only ones its resume check reads.

    A store of another spec is refused naming what differs unless ``overwrite``; a directory that is not
    a lunadyn store is never touched.
    """
    import json

    spec.store = Path(path)
    attrs = {"title": spec.title} if spec.title else {}
    if spec.path is not None:
        attrs["made_by"] = json.dumps(["lunadyn", "sweep", str(Path(spec.path).resolve())])
    if spec.obs is not None:
        attrs.update(observation_attrs(spec.obs, spec.likelihood))
    layout = store_layout(spec)
    return st_mod.prepare(path, spec=spec.canonical, spec_text=spec.text, n_samples=spec.n_samples,
                          chunk_size=spec.chunk_size, ages=layout["ages"], variables=layout["variables"],
                          coords={a: None for a in spec.varied} if spec.large else spec.samples(),
                          fixed=spec.fixed, attrs=attrs, overwrite=overwrite, units=units, dims=layout["dims"],
                          inner_chunk=spec.inner_chunk_size, unit_coordinates=spec.large)


def prepare_store(spec: SweepSpec, path, overwrite: bool = False, units=None):
    """Create the sweep's store, or reopen it to resume; returns the zarr group (see open_sweep_store)."""
    return open_sweep_store(spec, path, overwrite=overwrite, units=units)[0]


def note_repairs(store, repairs: dict) -> None:
    """One line on stderr when resuming repaired a store (what will be recomputed, what was rebuilt)."""
    if not repairs:
        return
    parts = []
    if repairs.get("units"):
        u = repairs["units"]
        parts.append(f"{len(u)} damaged unit(s) cleared for recomputation ({', '.join(map(str, u[:12]))}"
                     f"{' ...' if len(u) > 12 else ''})")
    if repairs.get("ledger_rebuilt"):
        parts.append(f"ledger rebuilt from the chunks present for {len(repairs['ledger_rebuilt'])} unit(s)")
    if repairs.get("restored"):
        parts.append(f"{len(repairs['restored'])} metadata/coordinate file(s) restored")
    print(f"lunadyn: {store}: {'; '.join(parts)}", file=sys.stderr)


def sweep(spec, store=None, backend: str = "dask", workers: int | None = None, scheduler: str | None = None,
          overwrite: bool = False, progress: bool = True, task_index: int | None = None,
          n_tasks: int | None = None, cluster=None) -> dict | None:
    """Run a sweep spec into a store, computing only what is not done yet; returns the final report.

    Parameters
    ----------
    spec : str, path or SweepSpec
        A sweep spec TOML file (docs/guides/sweeps.md) or a loaded ``runs.spec.sweep.SweepSpec``.
    store : str or path, optional
        The zarr store (default ``./<spec stem>.zarr``). A store of the same spec is resumed: it is
        verified first (damaged units cleared), and only units not done are computed. A store of another
        spec is refused unless ``overwrite``; a directory that is not a lunadyn store is never modified.
    backend : {'dask', 'serial', 'mpi'}
        'serial': in this process. 'dask': a LocalCluster started for the run (``workers``
        single-threaded workers, default one per core), or the running scheduler at ``scheduler``, or a
        ``cluster`` object such as a dask_jobqueue cluster. 'mpi': under mpiexec, every rank computes;
        ranks other than 0 return None.
    workers : int, optional
    scheduler : str, optional
    cluster : object, optional
        Where the dask backend runs (see ``backend``).
    overwrite : bool
        Replace a store of another spec.
    progress : bool
        Show the progress line on stderr.
    task_index, n_tasks : int, optional
        Compute only slice ``task_index`` of ``n_tasks`` of the units (job arrays: the 'array' backend).

    Returns
    -------
    dict or None
        ``store``, ``chunks_done``, ``chunks_total``, ``complete``, ``interrupted``,
        ``models_computed_now``, ``models_ok``, ``models_failed_by_status``, ``seconds``,
        ``models_per_s`` and the rest of the run's figures (None on MPI ranks other than 0).

    Raises
    ------
    UserError, StorageError
        A bad spec or option, a foreign store, or a write the file system refuses (one line each).

    Examples
    --------
    >>> import lunadyn, tempfile, pathlib
    >>> store = pathlib.Path(tempfile.mkdtemp()) / "tour.zarr"
    >>> report = lunadyn.sweep(lunadyn.example("tour_sweep.toml"), store, backend="serial", progress=False)
    >>> report["complete"], report["chunks_total"], report["models_computed_now"]
    (True, 4, 512)
    >>> lunadyn.sweep(lunadyn.example("tour_sweep.toml"), store, backend="serial", progress=False)["models_computed_now"]
    0
    """
    check_sweep_options(backend, workers, task_index, n_tasks)
    if backend == "dask" and not scheduler and cluster is None and task_index is None and n_tasks is None:
        # a LocalCluster's fork server imports while the spec loads and the store is made (a no-op when
        # the command line started it already: runs.cli.launch)
        start_fork_server(WORKER_MODULES)
    if not isinstance(spec, SweepSpec):
        spath = Path(spec)
        spec = load_spec(spath)
        store = store or default_output(spath, ".zarr")
    store = Path(store)
    check_output(store, spec.inputs, "-o")
    options = {"dask": {"workers": workers, "scheduler": scheduler, "cluster": cluster}}.get(backend, {})
    mine = None
    if task_index is not None or n_tasks is not None:
        backend, options = "array", {"task_index": task_index, "n_tasks": n_tasks}
        mine = [i for i in range(spec.n_chunks) if i % n_tasks == task_index]

    def prepare():
        # the worker processes start (forked from a fork server that imported the pipeline) while the
        # store is created and the kernels are warmed: before the store is made when it is new (half a
        # second of overlap on a 100k-model sweep); after it is verified when resuming, which may find
        # nothing to do or a foreign store
        start = getattr(be, "start_workers", None)
        new_store = not store.exists()
        if start is not None and new_store:
            start(preload=WORKER_MODULES, setup=WORKER_SETUP)
        g, repairs = open_sweep_store(spec, store, overwrite=overwrite, units=mine)
        note_repairs(store, repairs)
        done = g["done"][:]
        claims.clear_done(store, done)
        todo = np.flatnonzero(~done).astype(np.int64)     # 8 bytes a unit, for 10^6 units
        if len(todo):
            if start is not None and not new_store:
                start(preload=WORKER_MODULES, setup=WORKER_SETUP)
            pipeline.warmup()      # compile once, before any worker computes (on-disk cache)
        return todo

    outcome = Outcome()
    with get_backend(backend, **options) as be:
        if not be.is_root:
            # MPI ranks > 0 load the cached kernels (~1 s here) while rank 0 makes the store, rather than
            # after it, when rank 0 has started the clock and waits for them at the first unit handed out;
            # a cache not yet complete they load after rank 0 has compiled it (below)
            pipeline.warmup_if_cached()
        todo = be.once(prepare)
        spec.store = store
        if len(todo) and not be.is_root:
            pipeline.warmup()      # MPI ranks load what rank 0 compiled from the on-disk cache
        prog = Progress(spec.n_chunks, spec.n_samples, done_chunks=spec.n_chunks - len(todo),
                        quiet=not progress or not be.is_root)
        prog.start()
        interrupted = False
        try:
            while len(todo):
                fn = partial(run_unit, spec)
                if "collect" in inspect.signature(be.map).parameters:
                    # only the reports the outcome needs come back: memory stays flat over 10^6 units
                    outcome.add(be.map(fn, todo, prog.update, collect=Outcome.needs))
                else:                                    # a plugin backend without the option
                    outcome.add(be.map(fn, todo, prog.update))
                # units another driver held and dropped: computed here (decided on the root, for all)
                todo = be.once(lambda: [] if outcome.errors else outcome.wait_for_busy(store))
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if be.is_root:
                claims.remove_dir_if_empty(store)
        if not be.is_root:
            return None
    prog.stop()          # after the backend closed (workers stopped), before the report reads the store
    if outcome.errors:
        if prog.tty and not prog.quiet:
            print(file=prog.stream)        # end the progress bar's line before the error's
        raise outcome.error(store)
    return sweep_report(store, prog, interrupted)


def sweep_report(store, prog, interrupted: bool = False) -> dict:
    """Final figures of a sweep run: store, chunks, ok and failed models by status, throughput."""
    t0 = time.perf_counter()
    info = st_mod.store_info(store)
    report_s = time.perf_counter() - t0
    return {
        "store": str(store),
        "chunks_done": info["chunks_done"],
        "chunks_total": info["chunks_total"],
        "complete": info["complete"],
        "interrupted": interrupted,
        "models_computed_now": prog.models,
        "models_ok": int(sum(v for k, v in info["status_counts"].items() if int(k) >= 0 and thermal_code(k) == 0)),
        "models_failed_by_status": {info["status_meaning"][k]: v for k, v in info["status_counts"].items()
                                    if int(k) >= 0 and thermal_code(k) != 0},
        # from the first unit handed out (store made, kernels warm) to the last written and the workers
        # stopped; report_s: this report's own reading of the store (status counts, integrity, files)
        "seconds": round(prog.elapsed, 3),
        "models_per_s": round(prog.rate, 1),
        "models_per_s_after_first_chunk": round(prog.steady_rate, 1),
        "startup_s": round(prog.first_s, 3),
        "report_s": round(report_s, 3),
        "size_bytes": info["size_bytes"],
        "files": info["files"],
        # per unit of work (the costs of the scaling model, runs.compute.scaling): compute (records, models,
        # likelihood) and write (open, region writes, ledger), seconds, over the units this process saw
        "unit_compute_s": round(prog.compute_s / prog.units, 5) if prog.units else None,
        "unit_write_s": round(prog.write_s / prog.units, 5) if prog.units else None,
    }


def sweep_estimate(spec: SweepSpec, cores: int, mode: str) -> dict:
    """The scaling model's estimate for ``spec`` on ``cores`` (runs.compute.scaling): costs calibrated on
    a unit of the sweep itself; the estimate at the spec's unit size and at the recommended one."""
    pipeline.warmup()
    costs = scaling.calibrate(spec)
    return {"costs": costs.to_dict(),
            "at_spec_unit": scaling.estimate(spec.n_samples, cores, spec.chunk_size, costs, mode),
            "recommended": scaling.recommend_unit(spec.n_samples, cores, costs, mode)}


def _estimate_cores(spec: SweepSpec, mode: str, info: dict) -> int:
    if mode != "dask":
        return int(info["ntasks"])
    if info.get("workers"):
        return int(info["workers"])
    import tomllib

    section = tomllib.loads(spec.text).get("cluster") if spec.text else None
    if section:
        from ...cluster.jobqueue import cluster_options

        _, kw, jobs = cluster_options(section)
        return int(jobs) * int(kw.get("processes", 1))
    return 1


def submit_sweep(spec_path, *, scheduler: str, mode: str, store=None, dry_run: bool = False,
                 overwrite: bool = False, warm: bool = True, estimate: bool = True, **options) -> dict:
    """Create the store, render the job script, submit it (``lunadyn submit``); returns a report.

    The store is created (or validated, to resume) here, before any job starts, so tasks never race to
    create it, and the kernels are compiled into the on-disk cache once, here, rather than once per
    task. options: nodes, ntasks, time, partition, account, name, extra, log_dir (``cluster.submit.render``).
    With ``dry_run`` the script is rendered and nothing is created or submitted. With ``estimate`` the
    report carries the scaling model's estimate (``sweep_estimate``; it computes one unit's worth of
    models in a scratch directory).
    """
    spec = load_spec(spec_path)
    check_output(store or default_output(spec_path, ".zarr"), spec.inputs, "-o")
    info = job_scripts.render(spec_path, scheduler=scheduler, mode=mode, store=store, n_chunks=spec.n_chunks,
                              **options)
    report = {"scheduler": scheduler, "mode": mode, "store": info["store"], "spec": info["spec"],
              "ntasks": info["ntasks"], "log_dir": info["log_dir"], "job_id": None, "submitted": False,
              "script_path": None, "script": info["script"], "chunks_total": spec.n_chunks}
    if mode == "dask":
        report["workers"] = info["workers"]
    if estimate:
        report["estimate"] = sweep_estimate(spec, _estimate_cores(spec, mode, info), mode)
    if dry_run:
        return report
    job_scripts.check_can_submit(scheduler, mode)
    g = prepare_store(spec, info["store"], overwrite=overwrite)
    todo = st_mod.chunks_to_do(g)
    report["chunks_to_do"] = len(todo)
    if not todo:
        report["complete"] = True
        return report
    if warm:
        pipeline.warmup()
    report.update(job_scripts.submit_script(info, scheduler, mode))
    return report
