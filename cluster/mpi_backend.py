"""The MPI backend: ``mpiexec -n N lunadyn sweep SPEC.toml --backend mpi`` (mpi4py, MPICH from PyPI).

Every rank computes (rank 0 included). Rank 0 creates or validates the store (``prepare_store``), lists
the chunks not yet done and warms the kernel cache; a broadcast of that list (or of rank 0's error) is
the barrier after which the other ranks load the compiled kernels from the on-disk cache (before the
clock of the progress report starts). Chunks are then handed out dynamically through a shared counter
in an ``MPI.Win`` on rank 0: a rank takes the next position of the list with an atomic fetch-and-add (``Fetch_and_op`` with ``MPI.SUM``), so a slow
rank never holds the others back. Each rank calls ``runs.pipeline.run_chunk(spec, i)``, which writes
the chunk to the store and sets ``done[i]``; no model array crosses MPI. Two more counters of the same
window (chunks and models finished, ``Accumulate`` with ``MPI.SUM``) feed rank 0's progress line, and
at the end rank 0 gathers each rank's small report and returns ``runs.api.sweep_report``; other ranks
return None.

Failure: an exception in a rank aborts the whole job (``MPI_Abort``), and a rank killed outright takes
the job down through mpiexec; in both cases every chunk marked done is complete on disk (its data are
written before its flag) and a rerun of the same command resumes with the chunks not done.

The window is opened with ``Lock_all(MODE_NOCHECK)`` and each fetch-and-add is completed with
``Flush``: on one node MPICH then performs the atomic directly in shared memory, so a rank does not wait
for rank 0 to enter the MPI library (a per-fetch ``Lock``/``Unlock`` pair would wait until rank 0 has
finished its current chunk). Across nodes the same holds where the network offers hardware atomics.

Ranks run Numba single-threaded: ``NUMBA_NUM_THREADS=1`` should be in the environment before numba is
imported (the job scripts of ``lunadyn submit`` export it); otherwise this module warns and limits
Numba to one thread per rank.
"""
from __future__ import annotations

import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

# slots of the shared window on rank 0
NEXT, CHUNKS_DONE, MODELS_DONE = 0, 1, 2
N_SLOTS = 3


def single_threaded_numba() -> None:
    """Warn if Numba would start more than one thread per rank, and limit it to one."""
    import numba

    if numba.config.NUMBA_NUM_THREADS > 1:
        warnings.warn(f"the MPI backend runs Numba single-threaded, but NUMBA_NUM_THREADS is "
                      f"{numba.config.NUMBA_NUM_THREADS}: set NUMBA_NUM_THREADS=1 in the job environment; "
                      "limiting this rank to one thread", RuntimeWarning, stacklevel=3)
        numba.set_num_threads(1)


class SharedCounters:
    """Integer counters in rank 0's memory, updated atomically by every rank (MPI one-sided)."""

    def __init__(self, comm, n: int = N_SLOTS):
        from mpi4py import MPI

        self.MPI = MPI
        itemsize = np.dtype(np.int64).itemsize
        self.win = MPI.Win.Allocate(n * itemsize if comm.rank == 0 else 0, itemsize, comm=comm)
        if comm.rank == 0:
            self.win.Lock(0, MPI.LOCK_EXCLUSIVE)
            np.frombuffer(self.win.tomemory(), dtype=np.int64)[:] = 0
            self.win.Unlock(0)
        comm.Barrier()
        self.win.Lock_all(MPI.MODE_NOCHECK)
        self._one = np.ones(1, np.int64)
        self._out = np.empty(1, np.int64)

    def fetch_add(self, slot: int, value: int = 1) -> int:
        """Add ``value`` to a counter; returns the value before the addition."""
        self._one[0] = value
        self.win.Fetch_and_op(self._one, self._out, 0, slot, self.MPI.SUM)
        self.win.Flush(0)
        return int(self._out[0])

    def add(self, slot: int, value: int) -> None:
        self._one[0] = value
        self.win.Accumulate(self._one, 0, slot, self.MPI.SUM)
        self.win.Flush(0)

    def read(self, slot: int) -> int:
        self.win.Fetch_and_op(self._one, self._out, 0, slot, self.MPI.NO_OP)
        self.win.Flush(0)
        return int(self._out[0])

    def free(self) -> None:
        self.win.Unlock_all()
        self.win.Free()


def _merge(reports: list[dict]) -> dict:
    out = {"chunks": 0, "models": 0, "ok": 0, "failed": {}, "busy_s": 0.0, "interrupted": False}
    for r in reports:
        out["chunks"] += r["chunks"]
        out["models"] += r["models"]
        out["ok"] += r["ok"]
        out["busy_s"] += r["busy_s"]
        out["interrupted"] |= r["interrupted"]
        for code, k in r["failed"].items():
            out["failed"][code] = out["failed"].get(code, 0) + k
    return out


def run_sweep(spec, store, overwrite: bool = False, progress: bool = True, comm=None):
    """Run ``spec`` into ``store`` on every rank of ``comm`` (default COMM_WORLD); see the module doc.

    Returns the report of ``runs.api.sweep_report`` on rank 0 and None on the other ranks. A user error
    on rank 0 (a foreign store, a store of another spec) is raised there as UserError; the other ranks
    exit quietly with status 2.
    """
    single_threaded_numba()
    from mpi4py import MPI

    from runs import pipeline
    from runs.errors import UserError
    from runs.progress import Progress

    comm = comm or MPI.COMM_WORLD
    rank = comm.rank
    store = Path(store)

    # 1. rank 0: create or validate the store, list what is left, warm the kernel cache
    msg = None
    if rank == 0:
        try:
            from runs import store as st_mod
            from runs.sweep import prepare_store

            g = prepare_store(spec, store, overwrite=overwrite)
            todo = st_mod.chunks_to_do(g)
            if todo:
                pipeline.warmup()
            msg = ("ok", todo)
        except UserError as e:
            msg = ("user", str(e))
        except BaseException:
            msg = ("error", traceback.format_exc())
    msg = comm.bcast(msg, root=0)          # the barrier: the store exists and the cache is warm
    kind, payload = msg
    if kind != "ok":
        if rank == 0:
            if kind == "user":
                raise UserError(payload)
            raise RuntimeError(f"rank 0 could not prepare the store:\n{payload}")
        if kind == "user":
            raise SystemExit(2)            # rank 0 prints the one-line error
        raise SystemExit(1)
    todo = payload
    spec.store = store
    if rank != 0 and todo:
        pipeline.warmup()                  # loads the kernels rank 0 compiled from the on-disk cache

    counters = SharedCounters(comm)        # collective (a barrier): every rank is ready to compute
    prog = None
    if rank == 0:
        prog = Progress(spec.n_chunks, spec.n_samples, done_chunks=spec.n_chunks - len(todo),
                        quiet=not progress)
        prog.start()
    shown = -1
    mine = {"chunks": 0, "models": 0, "ok": 0, "failed": {}, "busy_s": 0.0, "interrupted": False}

    # 2. every rank: take the next chunk until the list is exhausted
    try:
        while True:
            k = counters.fetch_add(NEXT)
            if k >= len(todo):
                break
            t0 = time.perf_counter()
            rep = pipeline.run_chunk(spec, todo[k])
            mine["busy_s"] += time.perf_counter() - t0
            if not rep.get("skipped"):
                mine["chunks"] += 1
                mine["models"] += rep["n"]
                mine["ok"] += rep["ok"]
                for code, c in rep["failed"].items():
                    mine["failed"][int(code)] = mine["failed"].get(int(code), 0) + c
                counters.add(CHUNKS_DONE, 1)
                counters.add(MODELS_DONE, rep["n"])
            if prog is not None:
                prog.done_chunks = spec.n_chunks - len(todo) + counters.read(CHUNKS_DONE)
                prog.models = counters.read(MODELS_DONE)
                prog.show()
                shown = prog.done_chunks
    except KeyboardInterrupt:              # mpiexec forwards SIGINT to every rank
        mine["interrupted"] = True
    except BaseException:                  # one rank failing takes the job down; done chunks stay done
        sys.stderr.write(f"lunadyn: MPI rank {rank} failed; aborting the job (rerun to resume):\n"
                         f"{traceback.format_exc()}")
        sys.stderr.flush()
        comm.Abort(1)

    # 3. rank 0 gathers the small reports
    reports = comm.gather(mine, root=0)
    counters.free()
    if rank != 0:
        return None
    from runs.api import sweep_report

    total = _merge(reports)
    prog.done_chunks = spec.n_chunks - len(todo) + total["chunks"]
    prog.models, prog.ok, prog.failed = total["models"], total["ok"], total["failed"]
    if prog.done_chunks != shown:
        prog.show(force=True)
    return sweep_report(store, prog, total["interrupted"])


class MPIPool:
    """Many small maps on every rank of one MPI job (inference: one map per sampler step).

    Rank 0 drives (``map``); every other rank runs ``serve()`` until rank 0 calls ``close()``. A map is
    one broadcast of (fn, items) — parameter vectors, never model arrays — after which every rank,
    rank 0 included, takes the next item through the shared counter (fetch-and-add, as in
    ``run_sweep``) and computes it; the small results are gathered on rank 0 in the items' order.
    """

    def __init__(self, comm=None):
        from mpi4py import MPI

        single_threaded_numba()
        self.MPI = MPI
        self.comm = comm or MPI.COMM_WORLD
        self.counters = SharedCounters(self.comm)
        self._zero = np.zeros(1, np.int64)
        self._out = np.empty(1, np.int64)

    @property
    def rank(self) -> int:
        return self.comm.rank

    def _work(self, fn, items) -> list:
        mine = []
        while True:
            k = self.counters.fetch_add(NEXT)
            if k >= len(items):
                break
            mine.append((k, fn(items[k])))
        return mine

    def map(self, fn, items) -> list:
        """rank 0: fn(item) for every item, computed on every rank; results in order."""
        items = list(items)
        self.counters.win.Fetch_and_op(self._zero, self._out, 0, NEXT, self.MPI.REPLACE)   # reset
        self.counters.win.Flush(0)
        self.comm.bcast(("map", fn, items), root=0)
        parts = self.comm.gather(self._work(fn, items), root=0)
        out = [None] * len(items)
        for part in parts:
            for k, r in part:
                out[k] = r
        return out

    def serve(self) -> None:
        """ranks > 0: compute their share of every map until rank 0 closes the pool."""
        while True:
            msg = self.comm.bcast(None, root=0)
            if msg[0] != "map":
                break
            _, fn, items = msg
            try:
                part = self._work(fn, items)
            except BaseException:
                sys.stderr.write(f"lunadyn: MPI rank {self.rank} failed; aborting the job:\n{traceback.format_exc()}")
                sys.stderr.flush()
                self.comm.Abort(1)
            self.comm.gather(part, root=0)
        self.counters.free()

    def close(self) -> None:
        """rank 0: release the serving ranks."""
        self.comm.bcast(("stop", None, None), root=0)
        self.counters.free()
