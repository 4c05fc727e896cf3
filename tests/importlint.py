"""Run import-linter's contracts (pyproject.toml [tool.importlinter]) on the package as it installs.

import-linter (grimp) reads a package from the folder of its root package, but lunadyn's sub-packages
live in sibling folders mapped by setuptools' package-dir (thermal/ -> lunadyn.thermal, ...). So the
installed layout is laid out in a scratch folder (the .py files only) and linted there.

    python tests/importlint.py            # exit status of lint-imports; `make test` runs it
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAPPING = {"lunadyn": "lunadyn", "lunadyn/thermal": "thermal", "lunadyn/dynamo": "dynamo",
           "lunadyn/runs": "runs", "lunadyn/cluster": "cluster"}


def lay_out(src: Path, dest: Path) -> Path:
    """Copy the .py files of the package folders under ``src`` into ``dest`` in the installed layout."""
    if dest.exists():
        shutil.rmtree(dest)
    for target, folder in MAPPING.items():
        for path in (src / folder).rglob("*.py"):
            rel = path.relative_to(src / folder)
            if target == "lunadyn" and len(rel.parts) > 1:
                continue
            out = dest / target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
    return dest


def lint(src: Path = REPO, dest: Path | None = None) -> subprocess.CompletedProcess:
    """lint-imports with the contracts of ``src``/pyproject.toml on ``src`` laid out in ``dest``."""
    dest = lay_out(src, dest or src / "build" / "importlint")
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache", str(src / "pyproject.toml")], cwd=dest,
                          env={"PYTHONPATH": str(dest), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)


if __name__ == "__main__":
    proc = lint()
    print(proc.stdout[proc.stdout.find("Contracts"):] if "Contracts" in proc.stdout else proc.stdout, end="")
    print(proc.stderr, end="", file=sys.stderr)
    sys.exit(proc.returncode)
