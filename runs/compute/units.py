"""The unit of work the sweep driver maps on every backend, and what it learns from the reports
(issues 12 and 15).

A *unit* is one sweep chunk. ``run_unit(spec, i)`` is the function the driver hands to every backend
(serial, dask, MPI, job-array slices): it claims the unit (``io.claims``), computes and writes it
(``pipeline.run_chunk``) and releases the claim. A write the file system refuses (full, over quota,
read-only, permission) is not raised in the worker (on dask that prints a traceback per task): it comes
back as an error report with ``stop`` set, which the backends honour by starting no further unit
(``cluster.protocol``), and the driver turns every such report into one line (``StorageError``). A unit
claimed by another live driver comes back as ``busy``; the driver waits for it at the end instead of
computing it twice.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import zarr

from ..errors import StorageError, storage_reason
from ..io import claims
from . import pipeline


def _where(filename, store) -> str:
    if not filename:
        return ""
    try:
        return os.path.relpath(filename, store) if Path(filename).is_relative_to(store) else str(filename)
    except (TypeError, ValueError):
        return str(filename)


def run_unit(spec, i: int) -> dict:
    """Claim, compute and write unit ``i`` of ``spec`` (``spec.store`` set); returns a small report."""
    quiet = {"chunk": i, "n": 0, "skipped": True, "ok": 0, "failed": {}, "seconds": 0.0}
    try:
        claim = claims.acquire(spec.store, i)
        if claim is None:
            return {**quiet, "busy": True}
        try:
            return pipeline.run_chunk(spec, i)
        finally:
            claim.release()
    except Exception as e:
        reason = storage_reason(e)
        if reason is None:
            raise
        return {**quiet, "error": reason, "where": _where(getattr(e, "filename", None), spec.store),
                "pid": os.getpid(), "stop": True}


class Outcome:
    """Storage errors and busy units among the reports of one mapping (and of the ones before)."""

    def __init__(self):
        self.errors: list[dict] = []
        self.busy: list[int] = []

    @staticmethod
    def needs(rep: dict) -> bool:
        """Whether a report matters beyond progress (the backends' ``collect`` predicate)."""
        return bool(rep.get("error") or rep.get("busy"))

    def add(self, reports) -> None:
        for rep in reports or ():
            if rep.get("error"):
                self.errors.append(rep)
            elif rep.get("busy"):
                self.busy.append(int(rep["chunk"]))

    def wait_for_busy(self, store, poll: float = 0.25) -> list[int]:
        """Units another driver held: wait until each is done, or free again (its holder died or gave
        up), and return the free ones not done (for this driver to compute)."""
        busy = sorted(set(self.busy))
        self.busy.clear()
        while busy:
            done = np.asarray(zarr.open_group(str(store), mode="r", use_consolidated=False)["done"][:])
            busy = [i for i in busy if not done[i]]
            free = [i for i in busy if claims.holder(store, i) is None]
            if free:
                return free
            if busy:
                time.sleep(poll)
        return []

    def error(self, store) -> StorageError:
        """The one line of a stopped sweep: what, where, how many units are done, that a rerun resumes."""
        done = np.asarray(zarr.open_group(str(store), mode="r", use_consolidated=False)["done"][:])
        first = self.errors[0]
        reason = first["error"]
        where = f" ({first['where']})" if first.get("where") else ""
        units = sorted({int(r["chunk"]) for r in self.errors})
        pids = {r.get("pid") for r in self.errors}
        more = f"; {len(units)} units failed the same way in {len(pids)} process(es)" if len(units) > 1 else ""
        advice = {"no space left on device": "free some space and rerun the same command to resume",
                  "disk quota exceeded": "free some quota and rerun the same command to resume",
                  "read-only file system": "rerun the same command once it is writable again: it resumes",
                  }.get(reason, "fix the file system's permissions and rerun the same command to resume")
        return StorageError(f"{reason} writing unit {units[0]} of {store}{where}{more}: the sweep stopped with "
                            f"{int(done.sum())} of {done.size} units done (nothing half-written is marked done); "
                            f"{advice}")
