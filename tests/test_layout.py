"""The distribution installs one top-level package, ``lunadyn`` (DESIGN.md "The repository"): the folders
thermal/, dynamo/, runs/ and cluster/ become lunadyn.thermal, ... and nothing generic lands at the top of
site-packages, so lunadyn sits beside PyPI's own ``dynamo`` or ``cluster``."""
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("thermal", "dynamo", "runs", "cluster")


def _python(code, cwd, python=sys.executable, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([python, "-c", code], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)


def test_console_script_and_package_dirs():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["lunadyn"] == "lunadyn.runs.cli.launch:main"
    dirs = project["tool"]["setuptools"]["package-dir"]
    assert {dirs[f"lunadyn.{name}"] for name in SUBPACKAGES} == set(SUBPACKAGES)
    assert all(p == "lunadyn" or p.startswith("lunadyn.") for p in project["tool"]["setuptools"]["packages"])
    assert "jinja2>=3.1" in project["project"]["dependencies"]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackage_resolves_to_this_repository_from_anywhere(name, tmp_path):
    proc = _python(f"import lunadyn.{name} as m; print(m.__file__)", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).resolve() == REPO / name / "__init__.py"


def test_no_generic_top_level_package_is_installed(tmp_path):
    proc = _python("import importlib.util as u; print([n for n in ('thermal', 'dynamo', 'runs', 'cluster') "
                   "if u.find_spec(n)])", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_public_api_in_one_place(tmp_path):
    proc = _python("import lunadyn; print(lunadyn.__version__); "
                   "print(all(callable(getattr(lunadyn, n)) for n in "
                   "('run', 'sweep', 'open_store', 'compare', 'fit', 'params')))", tmp_path)
    assert proc.returncode == 0, proc.stderr
    version, ok = proc.stdout.split()
    from importlib.metadata import version as dist_version
    assert version == dist_version("lunadyn") and ok == "True"


def test_importing_the_physics_does_not_import_the_infrastructure(tmp_path):
    """A worker that imports the kernels pays for neither xarray, zarr, matplotlib nor the runs layer."""
    proc = _python("import sys, lunadyn.thermal.kernel, lunadyn.dynamo.stage; "
                   "print(sorted(m for m in ('xarray', 'zarr', 'matplotlib', 'lunadyn.runs', 'lunadyn.cluster') "
                   "if m in sys.modules))", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
