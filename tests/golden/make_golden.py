"""Write the golden outputs (every array of the default Moon store and of a small serial sweep) as .npz.

    python tests/golden/make_golden.py OUTDIR

The redesign of the layout changes no number: tests/test_golden.py writes both stores again with the
installed package and compares them with the committed .npz files, NaN-aware and bitwise.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import zarr

HERE = Path(__file__).resolve().parent


# NumPy picks its exp/log/power kernels by the CPU: its AVX-512 ones differ from its AVX2 ones in the last
# bit (on an AMD EPYC with AVX-512, 3 of the 32 log-uniform eta_ref samples and one loglike, 2e-16
# relative). The golden outputs were written on the AVX2 paths, so the stores are written on them
# (NPY_DISABLE_CPU_FEATURES; a feature the CPU lacks is ignored) and stay bitwise comparable everywhere.
NUMPY_PATHS = {"NPY_DISABLE_CPU_FEATURES": "AVX512_SPR AVX512_ICL X86_V4"}

LEDGER_ONLY = ("nbytes",)   # chunk-file sizes (store format 2): how the codecs wrote, not what the model gave


def store_arrays(path) -> dict:
    g = zarr.open_group(str(path), mode="r")
    return {name: np.asarray(a[...]) for name, a in g.arrays() if name not in LEDGER_ONLY}


def write_stores(out: Path, lunadyn=("lunadyn",)) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    moon = out / "moon.zarr"
    sweep = out / "sweep.zarr"
    root = HERE.parents[1]
    env = {**os.environ, **NUMPY_PATHS}
    subprocess.run([*lunadyn, "run", str(root / "runs/examples/moon_default.toml"), "-o", str(moon),
                    "--no-plot", "--json", "--overwrite"], check=True, stdout=subprocess.DEVNULL, env=env)
    subprocess.run([*lunadyn, "sweep", str(HERE / "small_sweep.toml"), "-o", str(sweep), "--backend",
                    "serial", "--json", "--overwrite"], check=True, stdout=subprocess.DEVNULL, env=env)
    return {"moon": store_arrays(moon), "sweep": store_arrays(sweep)}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for key, arrays in write_stores(out).items():
        np.savez_compressed(HERE / f"{key}.npz", **arrays)
        print(key, len(arrays), "arrays")
