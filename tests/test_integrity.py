"""Damaged stores (issue 12): a corrupted, truncated or deleted chunk and a truncated or unreadable ledger
are detected by `lunadyn info`, refused by every reader in one line naming the units and the repair
command, and repaired by rerunning the sweep, which recomputes exactly the damaged units into a store
bitwise equal to an undamaged one."""
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lunadyn.runs import api
from lunadyn.runs.cli import main as cli
from lunadyn.runs.io import store
from lunadyn.runs.errors import StoreDamaged
from lunadyn.testing import assert_stores_equal

TINY = """
title = "integrity sweep"
[vary]
r_core = { min = 320e3, max = 380e3 }
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 6
seed = 1
[settings]
output_step = 0.5
chunk_size = 3
"""
N_UNITS = 4


@pytest.fixture(scope="module")
def reference(tmp_path_factory, warm):
    d = tmp_path_factory.mktemp("integrity")
    spec = d / "tiny.toml"
    spec.write_text(TINY)
    report = api.sweep(spec, d / "ref.zarr", backend="serial", progress=False)
    assert report["complete"] and report["chunks_total"] == N_UNITS
    return d / "ref.zarr", spec


def chunk_file(path, name, i):
    a = store.zarr.open_array(str(Path(path) / name), mode="r")
    return Path(path) / name / a.metadata.encode_chunk_key((i,) + (0,) * (len(a.shape) - 1))


def corrupt(f):
    b = bytearray(f.read_bytes())
    b[len(b) // 2] ^= 0xFF           # same size, one byte flipped
    f.write_bytes(bytes(b))


def truncate(f, keep=0.5):
    b = f.read_bytes()
    f.write_bytes(b[:int(len(b) * keep)])


def hashes(path):
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(path).rglob("*")) if p.is_file()}


# each damage: (what it does, the units a reader must name, the units a rerun recomputes, found without --verify)
DAMAGE = {
    "corrupted chunk": (lambda s: [corrupt(chunk_file(s, v, 1)) for v in ("B_surface", "T_cmb")], [1], [1], False),
    "truncated chunk": (lambda s: truncate(chunk_file(s, "B_surface", 2)), [2], [2], True),
    "deleted chunk": (lambda s: chunk_file(s, "status", 3).unlink(), [3], [3], True),
    "truncated ledger": (lambda s: (truncate(chunk_file(s, "done", 0)), truncate(chunk_file(s, "nbytes", 2), 0.1)),
                         [0, 2], [], True),
    "truncated ledger and a deleted chunk": (
        lambda s: (truncate(chunk_file(s, "done", 1)), chunk_file(s, "T_cmb", 1).unlink()), [1], [1], True),
    "deleted ledger metadata": (lambda s: (Path(s) / "done" / "zarr.json").unlink(), [0, 1, 2, 3], [], True),
}


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_detected_refused_and_repaired_bitwise(kind, reference, tmp_path, capsys, monkeypatch):
    ref, spec = reference
    damage, named, recomputed, fast = DAMAGE[kind]
    path = tmp_path / "s.zarr"
    shutil.copytree(ref, path)
    damage(path)

    # info: the fast check finds missing/truncated chunks and ledger damage; --verify finds every kind
    code, out, _ = run_cli(capsys, "info", path, "--json")
    info = json.loads(out)
    if fast:
        assert code == 1 and not info["integrity"]["intact"]
        assert info["integrity"]["damaged_units"] == named
    else:
        assert code == 0 and info["integrity"]["intact"]          # same size: only a read finds it
    code, out, _ = run_cli(capsys, "info", path, "--verify", "--json")
    info = json.loads(out)
    assert code == 1 and info["integrity"]["damaged_units"] == named and info["integrity"]["verified"]
    assert info["integrity"]["files_checked"] > 0 and not info["complete"]
    assert "lunadyn sweep" in info["repair_command"] and str(spec.resolve()) in info["repair_command"]
    code, out, _ = run_cli(capsys, "info", path, *([] if fast else ["--verify"]))
    assert code == 1 and "DAMAGED" in out and "repair" in out

    # readers: one line naming the units and the repair command; the store is not written
    before = hashes(path)
    for argv in (["compare", path], ["plot", path, "-o", tmp_path / "fig.png"],
                 ["field", path, "-o", tmp_path / "field.zarr"]):
        code, out, err = run_cli(capsys, *argv)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, (argv[0], err)
        assert lines[0].startswith("lunadyn: error: ") and "damaged" in lines[0], lines[0]
        assert f"unit(s) {', '.join(map(str, named))}" in lines[0] and "lunadyn sweep" in lines[0], lines[0]
        assert f"-o {path}" in lines[0]
    assert hashes(path) == before
    assert not (tmp_path / "fig.png").exists() and not (tmp_path / "field.zarr").exists()
    with pytest.raises(StoreDamaged):
        store.check_store_intact(path, verify=True)

    # repair: the rerun recomputes exactly the damaged units, bitwise as before
    log = tmp_path / "chunks.log"
    monkeypatch.setenv("LUNADYN_CHUNK_LOG", str(log))
    report = api.sweep(spec, path, backend="serial", progress=False)
    assert report["complete"]
    again = sorted(int(line.split()[0]) for line in log.read_text().splitlines()) if log.exists() else []
    assert again == recomputed
    assert_stores_equal(ref, path)
    store.check_store_intact(path, verify=True)
    code, out, _ = run_cli(capsys, "info", path, "--verify", "--json")
    assert code == 0 and json.loads(out)["integrity"]["intact"]


def test_a_deleted_chunk_is_never_scored_as_fill_values(reference, tmp_path):
    """The issue's case: `compare` on a store with a deleted chunk used to score NaN fills silently."""
    from lunadyn.runs.inference.compare import compare_store

    ref, _ = reference
    path = tmp_path / "s.zarr"
    shutil.copytree(ref, path)
    chunk_file(path, "B_surface", 0).unlink()
    with pytest.raises(StoreDamaged, match=r"unit\(s\) 0 .*B_surface: missing"):
        compare_store(path)
    assert "loglike" not in {k for k, _ in store.zarr.open_group(str(path)).arrays()}


def test_run_store_repaired_by_rerunning_lunadyn_run(tmp_path, capsys, warm):
    scenario = tmp_path / "moon.toml"
    scenario.write_text('title = "repair"\noutput_step = 0.5\n')
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    assert cli.main(["run", str(scenario), "-o", str(a), "--no-plot", "--json"]) == 0
    shutil.copytree(a, b)
    corrupt(chunk_file(b, "B_surface", 0))
    capsys.readouterr()
    code, _, err = run_cli(capsys, "compare", b)
    assert code == 2 and "lunadyn run" in err and str(scenario.resolve()) in err, err
    assert cli.main(["run", str(scenario), "-o", str(b), "--no-plot", "--json"]) == 0
    assert_stores_equal(a, b)


def test_unit_sizes_are_recorded_before_the_done_flag(reference):
    ref, _ = reference
    g = store.zarr.open_group(str(ref), mode="r")
    names = json.loads(g.attrs["unit_arrays"])
    nb = g["nbytes"][:]
    assert nb.shape == (N_UNITS, len(names)) and (nb > 4).all()
    for j, name in enumerate(names):
        assert nb[2, j] == chunk_file(ref, name, 2).stat().st_size
    assert g["T_cmb"].metadata.to_dict()["codecs"][-1]["name"] == "crc32c"
