"""`make docs` fails on a broken page: the documentation is built with warnings as errors, so an undefined
cross-reference, or a parameter name the registry does not know, fails the build (docs/developing.md).

Checked on a tiny copy of the site (the real conf.py and extension, a page, the generated parameter and
output tables, notebooks not executed):
with a good reference it builds; with a broken one it fails, naming it. Sphinx is the `docs` extra, which
`make test` installs before running the tests.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def sphinx_opts() -> list[str]:
    """The options `make docs` passes to sphinx-build (SPHINXOPTS in the Makefile)."""
    m = re.search(r"^SPHINXOPTS \?= (.*)$", (ROOT / "Makefile").read_text(), re.M)
    return m.group(1).split()


def tiny_site(tmp_path, page: str) -> Path:
    src = tmp_path / "docs"
    src.mkdir(parents=True)
    shutil.copy(DOCS / "conf.py", src)
    shutil.copytree(DOCS / "_ext", src / "_ext")
    shutil.copy(DOCS / "references.bib", src)
    (src / "index.md").write_text("# Tiny\n\n```{toctree}\npage\ntables\n```\n\n(tiny-label)=\n## A section\n")
    # the generated tables, which the {param} and {output} roles link to
    (src / "tables.md").write_text("# Tables\n\n```{lunadyn-parameters}\n```\n\n```{lunadyn-outputs}\n:stage: thermal\n```\n")
    (src / "page.md").write_text(page)
    return src


def start_build(src: Path) -> subprocess.Popen:
    env = {**os.environ, "LUNADYN_DOCS_EXECUTE": "off"}
    return subprocess.Popen([sys.executable, "-m", "sphinx", *sphinx_opts(), "-q", "-b", "html", str(src),
                             str(src.parent / "html")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def finish(proc: subprocess.Popen):
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err


def test_make_docs_treats_warnings_as_errors():
    assert "-W" in sphinx_opts() and "--keep-going" in sphinx_opts()


def test_a_good_page_builds_and_a_broken_reference_fails_the_build(tmp_path):
    # both builds at once (each is mostly start-up)
    good = start_build(tiny_site(tmp_path / "good", "# Page\n\nSee {ref}`tiny-label`, {param}`r_core`, {output}`Q_cmb`.\n"))
    broken = start_build(tiny_site(tmp_path / "broken", "# Page\n\nSee {ref}`no-such-label` and {param}`r_cor`.\n"))
    (rc_good, err_good), (rc_broken, err_broken) = finish(good), finish(broken)
    assert rc_good == 0, err_good
    assert rc_broken != 0
    assert "undefined label: 'no-such-label'" in err_broken
    assert "'r_cor' is not in lunadyn's registry" in err_broken
