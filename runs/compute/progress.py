"""Progress of a sweep: a one-line bar on a terminal, periodic plain lines otherwise.

Hand-written (a dozen lines) rather than a progress-bar dependency: reports arrive from any backend as
small dicts, and the same counter feeds the final summary.
"""
from __future__ import annotations

import sys
import time


class Progress:
    """Counts chunks and models from run_chunk reports; prints chunks done/total, models/s and ETA."""

    def __init__(self, total_chunks: int, total_models: int, done_chunks: int = 0, stream=None,
                 every: float = 10.0, quiet: bool = False):
        self.total_chunks, self.total_models = total_chunks, total_models
        self.done_chunks = done_chunks
        self.models = 0
        self.ok = 0
        self.failed: dict[int, int] = {}
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every, self.quiet = every, quiet
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._start_done = done_chunks
        self.first_s, self.first_models = 0.0, 0
        self.units = 0                  # units of work reported with their timings (not MPI's summaries)
        self.compute_s = self.write_s = 0.0
        self.t_end = None               # set by stop(): the clock then reads the sweep's own duration

    @property
    def elapsed(self) -> float:
        return (self.t_end if self.t_end is not None else time.perf_counter()) - self.t0

    @property
    def rate(self) -> float:
        return self.models / self.elapsed if self.elapsed > 0 else 0.0

    def update(self, rep: dict) -> None:
        if rep.get("skipped"):
            return
        if self.models == 0:
            self.first_s = self.elapsed     # start-up (workers, kernels) ends with the first chunk
            self.first_models = rep["n"]
        self.done_chunks += rep.get("chunks", 1)   # the MPI backend reports several ranks' chunks at once
        if "compute_s" in rep:
            self.units += 1
            self.compute_s += rep["compute_s"]
            self.write_s += rep.get("write_s", 0.0)
        self.models += rep["n"]
        self.ok += rep.get("ok", 0)
        for code, k in rep.get("failed", {}).items():
            self.failed[int(code)] = self.failed.get(int(code), 0) + k
        self.show()

    @property
    def steady_rate(self) -> float:
        """models/s after the first chunk (without the start-up of workers)."""
        dt = self.elapsed - self.first_s
        return (self.models - self.first_models) / dt if dt > 0 and self.models > self.first_models else self.rate

    def line(self) -> str:
        left = self.total_chunks - self.done_chunks
        per_chunk = self.elapsed / max(1, self.done_chunks - self._start_done)
        eta = left * per_chunk
        return (f"chunks {self.done_chunks}/{self.total_chunks}  {self.rate:,.0f} models/s  "
                f"ETA {eta:,.0f} s")

    def start(self) -> None:
        self._start_done = self.done_chunks
        self.t0 = time.perf_counter()
        self.t_end = None

    def stop(self) -> None:
        """The work is over (last unit written, workers stopped): what follows, such as the final
        report's reading of the store, is not on the sweep's clock."""
        self.t_end = time.perf_counter()

    def show(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if self.tty:
            frac = self.done_chunks / max(1, self.total_chunks)
            bar = "#" * int(30 * frac)
            print(f"\r[{bar:<30s}] {self.line()}", end="", file=self.stream, flush=True)
            if self.done_chunks >= self.total_chunks:
                print(file=self.stream)
        elif force or now - self._last >= self.every or self.done_chunks >= self.total_chunks:
            print(f"lunadyn sweep: {self.line()}", file=self.stream, flush=True)
            self._last = now
