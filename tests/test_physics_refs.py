"""The code points to the physics page that is in the repository (docs/physics.md), by section titles that
exist: no reference to the brief (PHYSICS.md, which is not in the repository) is left, and every
"docs/physics.md §Title" names a heading of docs/physics.md. `python docs/_tools/physics_refs.py` rewrites
brief references (e.g. after merging a branch that still has them).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_tools"))   # a script beside the docs, not a package
import physics_refs  # noqa: E402

REF = re.compile(r"docs/physics\.md\s+§")


def headings() -> list[str]:
    return physics_refs.page_titles()


def test_no_reference_to_the_brief_is_left():
    left = [str(p) for p in physics_refs.files() if "PHYSICS.md" in (ROOT / p).read_text()]
    assert not left, f"PHYSICS.md still cited in {left}: run python docs/_tools/physics_refs.py"


def test_every_physics_page_reference_names_a_section():
    titles = sorted(headings(), key=len, reverse=True)
    bad = []
    for rel in physics_refs.files():
        text = " ".join((ROOT / rel).read_text().split())      # a reference may wrap a line
        for m in REF.finditer(text):
            rest = text[m.end() - 1:]
            while rest.startswith("§"):
                title = next((t for t in titles if rest[1:].startswith(t)), None)
                if title is None:
                    bad.append(f"{rel}: {rest[:40]!r}")
                    break
                rest = rest[1 + len(title):]
                rest = rest[2:] if rest.startswith(", §") else ""
    assert not bad, "references to sections docs/physics.md does not have:\n" + "\n".join(bad)


def test_the_mapping_names_only_sections_that_exist():
    titles = headings()
    assert set(physics_refs.SECTION.values()) <= titles
    assert set(physics_refs.REFINE.values()) <= titles
