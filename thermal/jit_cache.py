"""Where Numba keeps the compiled kernels: a cache directory named by a hash of the physics' sources.

Numba's own on-disk cache checks only the timestamp of the file that defines a jitted function, so an
edit to a function it calls from another file (``thermal/core.py`` called from ``thermal/kernel.py``)
would leave stale machine code in the integrator. Keying the whole cache directory on the sha256 of
every source file of the compiled physics (``thermal/*.py``, ``dynamo/*.py``), of the Numba and Python
versions, makes any edit compile afresh into a new directory; an unchanged tree loads what it compiled.

The directory is ``<lunadyn.thermal>/__pycache__/numba-<hash>`` (removed by ``make clean``), or, where
that is not writable (a read-only install), ``~/.cache/lunadyn/numba-<hash>``; a ``NUMBA_CACHE_DIR`` in
the environment is used as the parent instead. It must be set before any ``@njit(cache=True)``
function is defined, so ``thermal/__init__.py`` imports this module first.
"""
from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path

import numba
from numba.core import config

HERE = Path(__file__).resolve().parent
PHYSICS_DIRS = (HERE, HERE.parent / "dynamo")   # the compiled physics: lunadyn.thermal and lunadyn.dynamo


def source_hash(dirs=PHYSICS_DIRS) -> str:
    """sha256 (hex) over the names and bytes of every ``*.py`` in ``dirs``, and the Numba/Python versions."""
    h = hashlib.sha256(f"numba {numba.__version__} python {platform.python_version()}".encode())
    for d in dirs:
        for path in sorted(Path(d).glob("*.py")):
            h.update(f"{Path(d).name}/{path.name}\0".encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        return os.access(path, os.W_OK)
    except OSError:
        return False


def cache_dir(dirs=PHYSICS_DIRS) -> Path:
    """The cache directory for the sources in ``dirs`` (see the module docstring)."""
    name = f"numba-{source_hash(dirs)[:16]}"
    parent = os.environ.get("NUMBA_CACHE_DIR")
    if parent:
        return Path(parent) / name
    in_tree = HERE / "__pycache__"
    if _writable(in_tree):
        return in_tree / name
    return Path.home() / ".cache" / "lunadyn" / name


CACHE_DIR = cache_dir()
config.CACHE_DIR = str(CACHE_DIR)
