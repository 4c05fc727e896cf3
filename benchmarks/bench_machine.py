"""The machine the figures were measured on, so that figures of different runs can be compared.

machine_cpu, machine_cores: what /proc/cpuinfo and os.cpu_count() say. machine_scalar_ns: one step of a
fixed dependent chain of the scalar operations the kernel is made of (a division, an exponential, a
logarithm, multiplications), compiled by Numba, single-threaded, best of 5 -- the same code on every
machine, so a kernel rate times machine_scalar_ns is comparable between machines where the raw rate
is not (the machine kinds here have differed by 2x from one session to the next).
"""
import math
import os
import time

from numba import njit


@njit
def _chain(n, x):
    for _ in range(n):
        x = math.exp(-0.5 * x) / (1.0 + x) + 0.01 * math.log(1.0 + x * x)
    return x


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def run(n=2_000_000):
    _chain(10, 0.3)
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        _chain(n, 0.3)
        best = min(best, time.perf_counter() - t0)
    return {"machine_cpu": _cpu(), "machine_cores": os.cpu_count(), "machine_scalar_ns": round(best / n * 1e9, 2)}


if __name__ == "__main__":
    print(run())
