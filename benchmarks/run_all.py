"""`make bench`: every benchmark the issues ask for, a table, and one JSON line with every figure last.

Each figure is a ratio against a reference measured in the same run, or a rate on this machine; nothing
here asserts a wall-clock limit.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_backends  # noqa: E402
import bench_dynamo  # noqa: E402
import bench_fit  # noqa: E402
import bench_infer  # noqa: E402
import bench_kernel  # noqa: E402
import bench_machine  # noqa: E402
import bench_scale  # noqa: E402
import bench_sweep  # noqa: E402

BENCHES = [("machine", bench_machine.run), ("thermal kernel (issue 2)", bench_kernel.run), ("dynamo stage (issue 3)", bench_dynamo.run),
           ("sweep (issue 4)", bench_sweep.run), ("backends (issue 5)", bench_backends.run),
           ("compare and fit (issue 6)", bench_fit.run), ("inference (issue 11)", bench_infer.run),
           ("sweeps at scale (issue 13)", bench_scale.run)]


def _cpu_jiffies():
    """(steal, all) CPU time of the whole machine so far, from /proc/stat (None where there is none)."""
    try:
        with open("/proc/stat", encoding="utf-8") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return v[7], sum(v)


def main():
    figures = {}
    j0 = _cpu_jiffies()
    for title, fn in BENCHES:
        print(f"== {title}", flush=True)
        res = fn()
        for k, v in res.items():
            print(f"  {k:40s} {v}", flush=True)
        figures.update(res)
    # the machine again at the end (its speed drifts during a run) and the time the hypervisor took
    end = {"machine_scalar_ns_end": bench_machine.run()["machine_scalar_ns"]}
    j1 = _cpu_jiffies()
    if j0 and j1 and j1[1] > j0[1]:
        end["machine_steal_fraction"] = round((j1[0] - j0[0]) / (j1[1] - j0[1]), 4)
    print("== machine at the end", flush=True)
    for k, v in end.items():
        print(f"  {k:40s} {v}", flush=True)
    figures.update(end)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
