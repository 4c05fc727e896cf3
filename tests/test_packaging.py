"""The distribution as a user installs it: ``pip install .`` (not editable) into a fresh virtual
environment, used from a directory outside the repository, ships its data and templates and answers to
``import lunadyn`` only; the on-disk kernel cache is keyed on the physics' sources; the layering
contracts hold and catch a wrong import."""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import importlint  # noqa: E402


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory):
    """A new venv holding a wheel of this repository (dependencies seen through a .pth on the test venv's
    site-packages, whose .pth files, the editable install's among them, are not processed)."""
    d = tmp_path_factory.mktemp("fresh")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(d / "wheel"), str(REPO)],
                   check=True, timeout=600, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(d / "venv")], check=True, timeout=120)
    py = d / "venv" / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((d / "wheel").glob("lunadyn-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)],
                   check=True, timeout=600, capture_output=True)
    outside = d / "elsewhere"
    outside.mkdir()
    return py, outside, site


def _run(py, cwd, code, timeout=900, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}
    environ.update(env)
    return subprocess.run([str(py), "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=environ)


def test_installed_wheel_runs_a_model_and_ships_its_files(fresh_install):
    py, outside, site = fresh_install
    code = ("import lunadyn, pathlib\n"
            "ds = lunadyn.run(output_step=0.5)\n"
            "print(int(ds.status[0]) & 15, ds.sizes['age'])\n"
            "from lunadyn.runs.record.observations import shipped_path\n"
            "print(shipped_path().is_file(), lunadyn.example('demo_sweep.toml').is_file())\n"
            "import lunadyn.cluster.submit as s\n"
            "print(sorted(p.name for p in s.TEMPLATES.glob('*.j2'))[0])\n"
            "print(pathlib.Path(lunadyn.__file__).resolve())\n")
    proc = _run(py, outside, code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    status_ages, files, template, where = proc.stdout.split("\n")[:4]
    assert status_ages == "0 10"                          # the default Moon is right (thermal code 0)
    assert files == "True True" and template == "_env.sh.j2"
    assert Path(where).is_relative_to(site.resolve())    # the installed copy, not the repository


@pytest.mark.parametrize("name", ["thermal", "dynamo", "runs", "cluster"])
def test_no_generic_top_level_package_in_the_installed_wheel(fresh_install, name):
    py, outside, _ = fresh_install
    proc = _run(py, outside, f"import {name}")
    assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr


def _copy_physics(tmp_path):
    for name in ("thermal", "dynamo"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_cache_key_changes_when_any_kernel_source_changes(tmp_path):
    from lunadyn.thermal import jit_cache

    root = _copy_physics(tmp_path)
    dirs = (root / "thermal", root / "dynamo")
    key = jit_cache.source_hash(dirs)
    assert key == jit_cache.source_hash((REPO / "thermal", REPO / "dynamo"))   # the content, not the place
    core = root / "thermal" / "core.py"
    core.write_text(core.read_text() + "\n# an edit in a file the integrator calls into\n")
    edited = jit_cache.source_hash(dirs)
    assert edited != key
    (root / "dynamo" / "scaling.py").write_text((root / "dynamo" / "scaling.py").read_text() + "\n")
    assert jit_cache.source_hash(dirs) not in (key, edited)
    assert jit_cache.CACHE_DIR.name == f"numba-{jit_cache.source_hash()[:16]}"


def test_import_contracts_hold():
    proc = importlint.lint(dest=REPO / "build" / "importlint-test")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "4 kept, 0 broken" in proc.stdout


def test_import_contracts_catch_a_wrong_import(tmp_path):
    """A physics module importing the store layer (in a temporary copy) breaks a contract."""
    for name in ("lunadyn", "thermal", "dynamo", "runs", "cluster"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    core = tmp_path / "thermal" / "core.py"
    core.write_text(core.read_text() + "\nfrom ..runs.io import store  # noqa: E402  (deliberately wrong)\n")
    proc = importlint.lint(tmp_path, tmp_path / "laid_out")
    assert proc.returncode != 0
    assert "lunadyn.thermal.core -> lunadyn.runs.io.store" in proc.stdout
