"""`make bench`: every benchmark the issues ask for, a table, and one JSON line with every figure last.

Each figure is a ratio against a reference measured in the same run, or a rate on this machine; nothing
here asserts a wall-clock limit.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_kernel  # noqa: E402

BENCHES = [("thermal kernel", bench_kernel.run)]
for _mod in ("bench_dynamo", "bench_sweep", "bench_backends", "bench_fit"):
    try:
        BENCHES.append((_mod.replace("bench_", ""), __import__(_mod).run))
    except ImportError:
        pass


def main():
    figures = {}
    for title, fn in BENCHES:
        print(f"== {title}", flush=True)
        res = fn()
        for k, v in res.items():
            print(f"  {k:40s} {v}", flush=True)
        figures.update(res)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
