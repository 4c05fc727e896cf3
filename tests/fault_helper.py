"""Store creation under injected faults (issue 15), for tests/test_faults.py.

``python tests/fault_helper.py ARGS_JSON`` imports zarr once, then for k = 1, 2, ... forks a child that
creates a store with LUNADYN_FAULT_AFTER_STEP=k (the hook in lunadyn.runs.io.store signals the child after its
k-th creation step: SIGKILL, or SIGINT for a Ctrl-C), until a child completes without a fault. Forking
from this single-threaded helper keeps a hundred faults to a second or two (no interpreter start-up
per fault) without forking the multi-threaded test process. Prints one JSON list: per k, how the
child ended.
"""
import json
import os
import sys

import numpy as np

AGES = np.round(np.linspace(1.0, 0.0, 6), 12)
VARIABLES = {"T_cmb": ("float64", "age"), "B_surface": ("float32", "age"), "age_inner_core_nucleation": ("float64", "run")}
N, CHUNK = 10, 4


def recipe(seed: int = 0) -> dict:
    """The arguments of create_store for the fault tests (seed changes the spec: an 'old' store)."""
    rng = np.random.default_rng(seed)
    return dict(spec={"kind": "sweep", "fault_test": True, "seed": seed}, spec_text=f"seed = {seed}\n",
                n_samples=N, chunk_size=CHUNK, ages=AGES, variables=VARIABLES,
                coords={"r_core": np.linspace(300e3, 400e3, N), "law": ["cia", "ml"] * (N // 2)},
                fixed={"k_core": 40.0 + seed}, attrs={"title": f"fault test {seed}"})


def unit_arrays(lo, hi, seed=0):
    m = hi - lo
    return {"T_cmb": np.full((m, AGES.size), 1500.0 + lo + seed),
            "B_surface": np.full((m, AGES.size), 1e-6 * (1 + lo), dtype=np.float32),
            "age_inner_core_nucleation": np.arange(lo, hi, dtype=float)}


def fill(path, seed=0):
    """Write every unit (deterministic data)."""
    from lunadyn.runs.io import store
    g = store.zarr.open_group(str(path), mode="r+")
    for i in store.chunks_to_do(g):
        lo, hi = store.chunk_bounds(g, i)
        store.write_chunk(g, i, unit_arrays(lo, hi, seed), status=np.full(hi - lo, 32))


def main(args: dict) -> list:
    from lunadyn.runs.io import store

    out = []
    for k in range(1, args.get("max_k", 200) + 1):
        path = os.path.join(args["base"], f"k{k}.zarr")
        if args.get("overwrite"):
            store.create_store(path, **recipe(seed=1))      # an old store of another spec, complete
            fill(path, seed=1)
        pid = os.fork()
        if pid == 0:
            os.environ["LUNADYN_FAULT_AFTER_STEP"] = str(k)
            os.environ["LUNADYN_FAULT_SIGNAL"] = args["signal"]
            try:
                store.create_store(path, **recipe(), overwrite=bool(args.get("overwrite")))
                code = 0
            except KeyboardInterrupt:
                code = 130
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        ended = {"k": k, "path": path,
                 "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                 "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
        out.append(ended)
        if ended["exit"] == 0:         # no step k: the creation ran to its end
            break
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
