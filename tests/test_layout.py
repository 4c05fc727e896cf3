"""The four import packages are this repository's (DESIGN.md "The repository"): generic names like
`thermal` must not resolve to some other installed distribution."""
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["thermal", "dynamo", "runs", "cluster"])
def test_package_resolves_to_this_repository(name):
    module = importlib.import_module(name)
    path = Path(module.__file__).resolve()
    assert path == REPO / name / "__init__.py", f"{name} imported from {path}"


def test_console_script_points_at_the_cli():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["lunadyn"] == "runs.cli:main"
    assert set(project["tool"]["setuptools"]["packages"]) == {"thermal", "dynamo", "runs", "cluster"}


def test_installed_packages_resolve_here_from_anywhere(tmp_path):
    """Outside the repository (no repo root on sys.path), the installed packages are still this repo's."""
    import subprocess
    import sys

    code = "import thermal, dynamo, runs, cluster; print('\\n'.join(m.__file__ for m in (thermal, dynamo, runs, cluster)))"
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name, line in zip(("thermal", "dynamo", "runs", "cluster"), proc.stdout.split()):
        assert Path(line).resolve() == REPO / name / "__init__.py"
