"""The MPI backend: ``mpiexec -n N lunadyn sweep SPEC.toml --backend mpi`` (mpi4py, MPICH from PyPI).

Every rank computes (rank 0 included). ``once(fn)`` runs ``fn`` on rank 0 only (the sweep driver creates
or validates the store there and warms the kernel cache) and broadcasts its result, or the fact that it
failed; that broadcast is the barrier after which the other ranks load the compiled kernels from the
on-disk cache. ``map`` hands out the chunks dynamically through a shared counter in an ``MPI.Win`` on
rank 0: a rank takes the next position of the list with an atomic fetch-and-add (``Fetch_and_op`` with
``MPI.SUM``), so a slow rank never holds the others back. Each rank calls the chunk function, which
writes its chunk to the store; no model array crosses MPI. Two more counters of the same window (chunks
and models finished, ``Accumulate`` with ``MPI.SUM``) feed rank 0's progress: after each of its own
chunks rank 0 reports what every rank finished since (a report ``{"chunks": k, "n": models}``). At the
end rank 0 gathers every rank's reports and returns them; the other ranks return an empty list.

A ``stop`` report (the protocol's early end: the chunk function met a full or read-only file system)
raises the shared STOP counter; every rank checks it before taking a chunk, so all of them stop after
their current chunk and rank 0 returns every report, the stopping ones included.

Failure: an exception in a rank aborts the whole job (``MPI_Abort``), and a rank killed outright takes
the job down through mpiexec; in both cases every chunk marked done is complete on disk (its data are
written before its flag) and a rerun of the same command resumes with the chunks not done. A Ctrl-C
(mpiexec forwards SIGINT to every rank) stops each rank after its current chunk; rank 0 then raises
KeyboardInterrupt.

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
import traceback
import warnings

import numpy as np

from .protocol import Backend, keeps, one_core_io

# slots of the shared window on rank 0
NEXT, CHUNKS_DONE, MODELS_DONE, STOP = 0, 1, 2, 3
N_SLOTS = 4


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


class MpiBackend(Backend):
    """MPI backend of the protocol in ``cluster.backends`` (one object per rank)."""

    name = "mpi"

    def __init__(self, comm=None):
        single_threaded_numba()
        one_core_io()
        from mpi4py import MPI  # optional dependency (the mpi extra): imported only for this backend

        self.MPI = MPI
        self.comm = comm or MPI.COMM_WORLD
        self.is_root = self.comm.rank == 0
        self._items_counters = None

    def __exit__(self, *exc):
        if self._items_counters is not None and self.is_root:
            self.release()
        return False

    # -- many small root-driven maps (the inference driver: one per sampler step) ---------------------
    # Rank 0 calls map_items/each; every other rank calls serve() until rank 0 releases it (release(),
    # or leaving the ``with`` block). A map is one broadcast of (fn, items) — parameter vectors, never
    # model arrays — after which every rank, rank 0 included, takes the next item through a shared
    # counter (fetch-and-add, as in map) and computes it; the small results are gathered on rank 0.

    def _counters(self):
        if self._items_counters is None:
            self._items_counters = SharedCounters(self.comm)   # collective: serve() makes it on the others
        return self._items_counters

    def _work(self, fn, items) -> list:
        counters, mine = self._counters(), []
        while True:
            k = counters.fetch_add(NEXT)
            if k >= len(items):
                break
            mine.append((k, fn(items[k])))
        return mine

    def map_items(self, fn, items) -> list:
        """rank 0: fn(item) for every item, computed on every rank; the results in the items' order."""
        items = list(items)
        counters = self._counters()
        zero, out = np.zeros(1, np.int64), np.empty(1, np.int64)
        counters.win.Fetch_and_op(zero, out, 0, NEXT, self.MPI.REPLACE)   # reset the counter
        counters.win.Flush(0)
        self.comm.bcast(("map", fn, items), root=0)
        parts = self.comm.gather(self._work(fn, items), root=0)
        results = [None] * len(items)
        for part in parts:
            for k, r in part:
                results[k] = r
        return results

    def each(self, fn):
        """rank 0: fn() once on every rank; the results of every rank."""
        self._counters()
        self.comm.bcast(("each", fn, None), root=0)
        return self.comm.gather(fn(), root=0)

    def serve(self) -> None:
        """ranks > 0: compute their share of every map of rank 0 until it releases them."""
        self._counters()
        while True:
            kind, fn, items = self.comm.bcast(None, root=0)
            if kind == "stop":
                break
            try:
                part = fn() if kind == "each" else self._work(fn, items)
            except BaseException:
                sys.stderr.write(f"lunadyn: MPI rank {self.comm.rank} failed; aborting the job:\n"
                                 f"{traceback.format_exc()}")
                sys.stderr.flush()
                self.comm.Abort(1)
            self.comm.gather(part, root=0)
        self._items_counters.free()
        self._items_counters = None

    def release(self) -> None:
        """rank 0: let the serving ranks return."""
        self._counters()
        self.comm.bcast(("stop", None, None), root=0)
        self._items_counters.free()
        self._items_counters = None

    def once(self, fn):
        """fn() on rank 0; its result on every rank. If it fails, rank 0 raises the error and the other
        ranks exit quietly (status 2), leaving the one message to rank 0."""
        msg = None
        if self.is_root:
            try:
                msg = ("ok", fn())
            except BaseException as e:  # noqa: BLE001 - re-raised on rank 0 after the broadcast
                error = e
                msg = ("failed", None)
        msg = self.comm.bcast(msg, root=0)
        if msg[0] != "ok":
            if self.is_root:
                raise error
            raise SystemExit(2)
        return msg[1]

    def map(self, fn, todo, on_report=None, collect: bool = True) -> list:
        """fn(todo[k]) with k from the shared counter; on rank 0 every rank's reports (none with
        ``collect=False``: rank 0 counts progress through ``on_report``, so memory stays flat)."""
        counters = SharedCounters(self.comm)   # collective (a barrier): every rank is ready to compute
        mine, interrupted, seen = [], False, [0, 0]

        def report_progress():
            chunks, models = counters.read(CHUNKS_DONE), counters.read(MODELS_DONE)
            if on_report is not None and chunks > seen[0]:
                on_report({"chunks": chunks - seen[0], "n": models - seen[1]})
            seen[:] = [chunks, models]

        try:
            while True:
                if counters.read(STOP):
                    break
                k = counters.fetch_add(NEXT)
                if k >= len(todo):
                    break
                rep = fn(todo[k])
                if keeps(collect, rep):
                    mine.append(rep)
                if rep.get("stop"):
                    counters.add(STOP, 1)
                    break
                if not rep.get("skipped"):
                    counters.add(CHUNKS_DONE, 1)
                    counters.add(MODELS_DONE, rep["n"])
                if self.is_root:
                    report_progress()
        except KeyboardInterrupt:
            interrupted = True
        except BaseException:              # one rank failing takes the job down; done chunks stay done
            sys.stderr.write(f"lunadyn: MPI rank {self.comm.rank} failed; aborting the job (rerun to resume):\n"
                             f"{traceback.format_exc()}")
            sys.stderr.flush()
            self.comm.Abort(1)
        gathered = self.comm.gather((mine, interrupted), root=0)
        if self.is_root:
            report_progress()              # what the other ranks finished after rank 0's last chunk
        counters.free()
        if not self.is_root:
            return []
        if any(flag for _, flag in gathered):
            raise KeyboardInterrupt
        return [rep for reps, _ in gathered for rep in reps]
