"""Write the golden outputs (every array of the default Moon store and of a small serial sweep) as .npz.

    python tests/golden/make_golden.py OUTDIR

The redesign of the layout changes no number: tests/test_golden.py writes both stores again with the
installed package and compares them with the committed .npz files, NaN-aware and bitwise.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import zarr

HERE = Path(__file__).resolve().parent


LEDGER_ONLY = ("nbytes",)   # chunk-file sizes (store format 2): how the codecs wrote, not what the model gave


def store_arrays(path) -> dict:
    g = zarr.open_group(str(path), mode="r")
    return {name: np.asarray(a[...]) for name, a in g.arrays() if name not in LEDGER_ONLY}


def write_stores(out: Path, lunadyn=("lunadyn",)) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    moon = out / "moon.zarr"
    sweep = out / "sweep.zarr"
    root = HERE.parents[1]
    subprocess.run([*lunadyn, "run", str(root / "runs/examples/moon_default.toml"), "-o", str(moon),
                    "--no-plot", "--json", "--overwrite"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*lunadyn, "sweep", str(HERE / "small_sweep.toml"), "-o", str(sweep), "--backend",
                    "serial", "--json", "--overwrite"], check=True, stdout=subprocess.DEVNULL)
    return {"moon": store_arrays(moon), "sweep": store_arrays(sweep)}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for key, arrays in write_stores(out).items():
        np.savez_compressed(HERE / f"{key}.npz", **arrays)
        print(key, len(arrays), "arrays")
