"""The sweep driver: one place where a sweep is prepared, warmed, mapped over a backend and reported.

``sweep(spec, store, backend=...)`` creates or validates the store (once, on the root process), warms
the kernel cache before any worker starts, maps ``pipeline.run_chunk`` over the chunks not yet done
through the backend found by name in ``cluster.backends``, shows progress and returns the final report.
Every backend (serial, dask, MPI, job-array slice) goes through here, so they all write the same bytes.
``submit_sweep`` prepares the store and submits a job script that runs this driver on a cluster.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path

from ...cluster import submit as job_scripts
from ...cluster.backends import get_backend
from ..io import store as st_mod
from ..io.paths import default_output
from ..record.scoring import observation_attrs
from ..spec.sweep import SweepSpec, load_spec
from ..status import thermal_code
from . import pipeline
from .pipeline import output_ages
from .progress import Progress


def prepare_store(spec: SweepSpec, path, overwrite: bool = False):
    """Create the sweep's store, or reopen it to resume (same hash); returns the zarr group.

    A store of another spec is refused naming what differs unless ``overwrite``; a directory that is not
    a lunadyn store is never touched (io.store.create_store).
    """
    spec.store = Path(path)
    ages = output_ages(spec.settings["start_age"], spec.settings["output_step"])
    attrs = {"title": spec.title} if spec.title else {}
    if spec.obs is not None:
        attrs.update(observation_attrs(spec.obs, spec.likelihood))
    return st_mod.create_store(path, spec=spec.canonical, spec_text=spec.text, n_samples=spec.n_samples,
                              chunk_size=spec.chunk_size, ages=ages, variables=st_mod.variable_layout(spec.variables, scored=spec.obs is not None),
                              coords=spec.samples(), fixed=spec.fixed, attrs=attrs, overwrite=overwrite)


def sweep(spec, store=None, backend: str = "dask", workers: int | None = None, scheduler: str | None = None,
          overwrite: bool = False, progress: bool = True, task_index: int | None = None,
          n_tasks: int | None = None, cluster=None) -> dict | None:
    """Run a sweep spec (a path or a ``spec.sweep.SweepSpec``) into a store; returns the final report.

    backend: 'serial' (in process), 'dask' (a LocalCluster started for the run, or ``scheduler``, or a
    ``cluster`` object such as a dask_jobqueue cluster) or 'mpi' (under mpiexec; ranks other than 0
    return None). A store of the same spec is resumed: only chunks not done are computed.
    task_index/n_tasks compute one slice of the chunks (job arrays: the 'array' backend).
    """
    if not isinstance(spec, SweepSpec):
        spath = Path(spec)
        spec = load_spec(spath)
        store = store or default_output(spath, ".zarr")
    store = Path(store)
    options = {"dask": {"workers": workers, "scheduler": scheduler, "cluster": cluster}}.get(backend, {})
    if task_index is not None or n_tasks is not None:
        backend, options = "array", {"task_index": task_index, "n_tasks": n_tasks}

    def prepare():
        g = prepare_store(spec, store, overwrite=overwrite)
        todo = st_mod.chunks_to_do(g)
        if todo:
            pipeline.warmup()      # compile once, before any worker starts (on-disk cache)
        return todo

    with get_backend(backend, **options) as be:
        todo = be.once(prepare)
        spec.store = store
        if todo and not be.is_root:
            pipeline.warmup()      # MPI ranks load what rank 0 compiled from the on-disk cache
        prog = Progress(spec.n_chunks, spec.n_samples, done_chunks=spec.n_chunks - len(todo),
                        quiet=not progress or not be.is_root)
        prog.start()
        interrupted = False
        try:
            be.map(partial(pipeline.run_chunk, spec), todo, prog.update)
        except KeyboardInterrupt:
            interrupted = True
        if not be.is_root:
            return None
    return sweep_report(store, prog, interrupted)


def sweep_report(store, prog, interrupted: bool = False) -> dict:
    """Final figures of a sweep run: store, chunks, ok and failed models by status, throughput."""
    info = st_mod.store_info(store)
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
        "seconds": round(prog.elapsed, 3),
        "models_per_s": round(prog.rate, 1),
        "models_per_s_after_first_chunk": round(prog.steady_rate, 1),
        "startup_s": round(prog.first_s, 3),
        "size_bytes": info["size_bytes"],
    }


def submit_sweep(spec_path, *, scheduler: str, mode: str, store=None, dry_run: bool = False,
                 overwrite: bool = False, warm: bool = True, **options) -> dict:
    """Create the store, render the job script, submit it (``lunadyn submit``); returns a report.

    The store is created (or validated, to resume) here, before any job starts, so tasks never race to
    create it, and the kernels are compiled into the on-disk cache once, here, rather than once per
    task. options: nodes, ntasks, time, partition, account, name, extra, log_dir (``cluster.submit.render``).
    With ``dry_run`` the script is rendered and nothing is created or submitted.
    """
    spec = load_spec(spec_path)
    info = job_scripts.render(spec_path, scheduler=scheduler, mode=mode, store=store, n_chunks=spec.n_chunks,
                              **options)
    report = {"scheduler": scheduler, "mode": mode, "store": info["store"], "spec": info["spec"],
              "ntasks": info["ntasks"], "log_dir": info["log_dir"], "job_id": None, "submitted": False,
              "script_path": None, "script": info["script"], "chunks_total": spec.n_chunks}
    if mode == "dask":
        report["workers"] = info["workers"]
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
