"""Every code block of the README runs as written: each is a cell of the getting-started notebook
(docs/getting-started.md), word for word, and that notebook is executed by every documentation build
(`make docs`, run by `make test`), where a failing command or assertion fails the build.

Shell blocks run as `%%script bash -e` cells (so any failing line fails the cell); Python blocks run as
they are. Indented blocks (the two make commands, which CI itself is) are not fenced and not checked here.
"""
import re
from pathlib import Path

import jupytext

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def readme_blocks():
    return [(lang, body) for lang, body in FENCE.findall((ROOT / "README.md").read_text())]


def notebook_cells():
    nb = jupytext.read(ROOT / "docs" / "getting-started.md")
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_readme_has_fenced_shell_and_python_blocks_only():
    blocks = readme_blocks()
    assert blocks, "the README has no fenced code block (the tour is gone?)"
    assert {lang for lang, _ in blocks} <= {"sh", "python"}, "only sh and python blocks can be checked"


def test_every_readme_block_is_a_cell_of_the_executed_getting_started_notebook():
    cells = [c.strip() for c in notebook_cells()]
    for lang, body in readme_blocks():
        want = ("%%script bash -e\n" + body if lang == "sh" else body).strip()
        assert want in cells, f"README {lang} block not in docs/getting-started.md as a cell:\n{body}"


def test_the_notebook_cells_run_the_readme_blocks_in_the_readme_order():
    cells = [c.strip() for c in notebook_cells()]
    order = [cells.index(("%%script bash -e\n" + b if lang == "sh" else b).strip()) for lang, b in readme_blocks()]
    assert order == sorted(order)
