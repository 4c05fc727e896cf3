"""Replace references to the physics brief ("PHYSICS.md I.2.2", "Part II 5.3", ...) in the code with
references to sections of the repository's own physics page ("docs/physics.md §Core energy budget").

The brief (the project's PHYSICS.md) is not in the repository; docs/physics.md is, and its section titles
are stable. Run from the repository root, after rebasing (it is idempotent, and a branch that still has
brief references after a merge can run it again):

    python docs/_tools/physics_refs.py            # rewrite the files in place, print what changed
    python docs/_tools/physics_refs.py --check    # exit 1 if a brief reference is left

Mechanical: an ordered table of the reference phrases that occur (compound ones first), each mapped to
the section(s) of docs/physics.md that hold that part of the model, and per-file refinements where a
docstring names one equation of a long section (e.g. Q_ad in thermal/core.py -> §Adiabatic heat flow).
Every target is checked against the headings of docs/physics.md before anything is written.
tests/test_physics_refs.py checks that no brief reference is left and that every "§Title" exists.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("thermal", "dynamo", "runs", "cluster", "lunadyn", "tests", "benchmarks")
SUFFIXES = (".py", ".toml", ".md", ".sh", ".j2", ".tmpl")
SKIP = {Path("tests/test_physics_refs.py")}
PAGE = "docs/physics.md"

# the brief's section ids -> the page's section titles
SECTION = {
    "I.1": "Three stages",
    "I.2": "Structure and state",
    "I.2.1": "Mantle",
    "I.2.2": "Core",
    "I.2.3": "Core-only mode",
    "I.2.4": "Basal layer",
    "I.2.5": "Orbit",
    "I.3": "Dynamo sources",
    "I.4": "What every run reports",
    "I.5": "Numerics and events",
    "I.6": "Defaults and calibration",
    "Part II 1.1": "Reference formulas",
    "Part II 1.4": "Core entropy budget",
    "Part II 1.5": "Core liquidus",
    "Part II 2.2": "Radiogenic heating",
    "Part II 3.2": "Basal-magma-ocean dynamo",
    "Part II 4": "Precession dynamo",
    "Part II 4.1": "Precession dynamo",
    "Part II 4.2": "Precession dynamo",
    "Part II 4.3": "Precession dynamo",
    "Part II 4.1-4.3": "Precession dynamo",
    "Part II 5": "Scaling laws",
    "Part II 5.1": "Velocity and field",
    "Part II 5.2": "Velocity and field",
    "Part II 5.2-5.3": "Velocity and field",
    "Part II 5.3": "Velocity and field",
    "Part II 5.1, 5.3": "Velocity and field",
    "Part II 5.4": "Surface and site field",
    "Part II 5.5": "Dynamo onset",
    "Part II 6": "Orbit",
}


def ref(*titles: str) -> str:
    return f"{PAGE} " + ", ".join(f"§{t}" for t in titles)


# Compound phrases, replaced first (literal text -> replacement). Ordered longest first.
PHRASES = [
    # references to this page written before it had section references
    ('docs/physics.md "Reheated off-centre\n# nucleus"', ref("Reheated off-centre nucleus")),
    ('docs/physics.md "Reheated off-centre nucleus"', ref("Reheated off-centre nucleus")),
    ('docs/physics.md "The books as a verdict"', ref("The books as a verdict")),
    ("holds ~1e23 J of nucleus (docs/physics.md).", "holds ~1e23 J of nucleus (" + ref("Reheated off-centre nucleus") + ")."),
    ("L_H M_ic + Psi_G (docs/physics.md)", "L_H M_ic + Psi_G (" + ref("Reheated off-centre nucleus") + ")"),
    ("every thermal code (PHYSICS.md I.5; runs/status.py)", "every thermal code (" + ref("Status") + "; runs/status.py)"),
    ('"dynamo scaling law: ml, cia, mac (Part II 5.3, c = 0.63) or ca06 (Part II 5.1)"',
     '"dynamo scaling law: ml, cia, mac (c = 0.63) or ca06 (' + ref("Velocity and field") + ')"'),
    ("PHYSICS.md I.2.2, I.3;\n    Part II 1.4; ", ref("Core dynamo") + "; "),
    ("PHYSICS.md I.3;\n    Part II 4.1; ", ref("Precession dynamo") + "; "),
    ("the Cassini relation of PHYSICS.md I.3\n    divided by |Omega_dot| (Part II 4.1)",
     "the Cassini relation of " + ref("Precession dynamo") + "\n    divided by |Omega_dot|"),
    ("PHYSICS.md Part II 1.5", ref("Core liquidus")),
    ("Mantle: PHYSICS.md I.2.1; core: I.2.2; core-only mode: I.2.3; basal layer: I.2.4.",
     ref("Mantle", "Core", "Core-only mode", "Basal layer") + "."),
    ("PHYSICS.md Part II 1.1", ref("Reference formulas")),
    ("PHYSICS.md I.3 and Part II sections 5.1-5.4", ref("Scaling laws")),
    ("PHYSICS.md I.3; Part II 4.1-4.3", ref("Precession dynamo")),
    ("PHYSICS.md I.3; Part II 4.1", ref("Precession dynamo")),
    ("PHYSICS.md I.3; Part II 4.2", ref("Precession dynamo")),
    ("PHYSICS.md I.3; Part II 4.3", ref("Precession dynamo")),
    ("PHYSICS.md I.3; Part II 5.1, 5.3", ref("Velocity and field")),
    ("PHYSICS.md I.3; Part II 5.3", ref("Velocity and field")),
    ("PHYSICS.md I.3; Part II 5.4", ref("Surface and site field")),
    ("PHYSICS.md I.3; Part II 5.5", ref("Dynamo onset")),
    ("PHYSICS.md I.3; Part II 3.2", ref("Basal-magma-ocean dynamo")),
    ("PHYSICS.md I.3, Part II 5", ref("Scaling laws")),
    ("PHYSICS.md I.2.5; Part II 6", ref("Orbit")),
    ("PHYSICS.md I.2.5; Part II 4.1", ref("Orbit")),
    ("PHYSICS.md I.2.5, I.3,\nPart II 4 and 6", ref("Orbit", "Precession dynamo")),
    ("PHYSICS.md I.2.1; Part II 2.2", ref("Radiogenic heating")),
    ("PHYSICS.md I.2.2 and I.3; Part II 1.4", ref("Core entropy budget", "Core dynamo")),
    ("PHYSICS.md I.2.4 and I.3; Part II 3.2", ref("Basal layer", "Basal-magma-ocean dynamo")),
    ("PHYSICS.md I.2.2, I.3", ref("Core dynamo")),
    ("PHYSICS.md I.2.2 regimes", ref("Core regimes")),
    ("PHYSICS.md I.2.2 nucleation", ref("Inner-core nucleation")),
    ("PHYSICS.md I.2.2:", ref("Core entropy budget") + ":"),
    ("PHYSICS.md I.5 books", ref("Energy books")),
    ("PHYSICS.md I.1 stage 3, I.3", ref("Three stages", "Dynamo sources")),
    ("PHYSICS.md I.1, I.5", ref("Three stages", "Numerics and events")),
    ("PHYSICS.md I.1, I.2", ref("Three stages", "Structure and state")),
    ("PHYSICS.md I.2, I.2.4", ref("Structure and state", "Molten basal layer")),
    ("PHYSICS.md I.3, I.4", ref("Dynamo sources", "What every run reports")),
    ("PHYSICS.md I.3, I.6", ref("Dynamo sources", "Defaults and calibration")),
    ("PHYSICS.md I.3-I.5", ref("Dynamo sources", "Numerics and events")),
    ("PHYSICS.md I.2.5, I.3", ref("Orbit", "Precession dynamo")),
    ("PHYSICS.md I.4 from the stored state (I.1 stage 2)",
     ref("What every run reports") + " from the stored state (stage 2 of §Three stages)"),
    ('PHYSICS.md I.6 "Earth defaults"', ref("Defaults and calibration")),
    ("PHYSICS.md I.6 (SI units)", ref("Conventions") + " (SI units)"),
    ('_P1 + " I.2.3;', '"' + ref("Core-only mode") + ';'),
    ("through the solid layer (I.2.4)", "through the solid layer (" + ref("Solid basal layer") + ")"),
    ("The names PHYSICS.md I.6 fixes", "The names the physics brief fixes"),
]

# Refinements: (file, text on the same line) -> the section that line's reference should name.
REFINE = {
    ("thermal/core.py", "C_S = M_c c_p"): "Core structure",
    ("thermal/core.py", "P(r) = P_cmb"): "Core structure",
    ("thermal/core.py", "T*(r) = T_L"): "Core liquidus",
    ("thermal/core.py", "dT_c/dt = -"): "Core energy budget",
    ("thermal/core.py", "Q_ad = 4 pi"): "Adiabatic heat flow",
    ("thermal/core.py", "Bottom-up inner-core radius"): "Core regimes",
    ("thermal/core.py", "    (PHYSICS.md I.2.2)."): "Core energy budget",
    ("thermal/core.py", "16-point Gauss-Legendre"): "Energy books",
    ("thermal/core.py", "with an S-enriched liquidus"): "Core",
    ("thermal/diagnostics.py", "signed (PHYSICS.md I.2.2)"): "Core entropy budget",
    ("thermal/radiogenic.py", "Q_R = M_c h_K"): "Radiogenic heating",
    ("thermal/radiogenic.py", "bulk silicate Moon"): "Radiogenic heating",
    ("thermal/mantle.py", "Arrhenius viscosity"): "Viscosity and rheological scale",
    ("thermal/mantle.py", "Rheological temperature scale"): "Viscosity and rheological scale",
    ("thermal/mantle.py", "into the lid base (PHYSICS"): "Upper boundary layer",
    ("thermal/mantle.py", "from below (PHYSICS"): "Lower boundary layer",
    ("thermal/mantle.py", "planar steady lid"): "Stagnant lid",
    ("thermal/mantle.py", "Surface heat flux q_s"): "Stagnant lid",
    ("thermal/mantle.py", "Volcanism proxy"): "Volcanism proxy",
    ("thermal/basal_layer.py", "Liquid thickness H_b"): "Molten basal layer",
    ("thermal/basal_layer.py", "while partly molten"): "Molten basal layer",
    ("thermal/basal_layer.py", "g(r) = G"): "Gravity and adiabat in the basal layer",
    ("thermal/basal_layer.py", "Q_ad,b = 4 pi"): "Gravity and adiabat in the basal layer",
    ("thermal/kernel.py", "RMS of err_i"): "Numerics and events",
    ("thermal/kernel.py", "layer (PHYSICS.md I.5); a book that is not finite"): "The books as a verdict",
    ("thermal/kernel.py", "E_core of the state"): "Energy books",
    ("thermal/kernel.py", "E_layer of the state"): "Energy books",
    ("thermal/kernel.py", "# the books"): "Energy books",
    ("thermal/model.py", "E_core = C_S T_c"): "Energy books",
    ("thermal/parameters.py", "Calibration of the default Moon (PHYSICS.md I.6"): "Defaults and calibration",
    ("dynamo/scaling.py", "Volume of the spherical shell"): "Scaling laws",
    ("dynamo/scaling.py", "Magnetic Reynolds number Rm"): "Dynamo onset",
    ("dynamo/scaling.py", "B_DIP0 = 7.3"): "Dipolarity",
    ("dynamo/scaling.py", "Core b_dip"): "Dipolarity",
    ("dynamo/scaling.py", "Precession b_dip"): "Dipolarity",
    ("dynamo/scaling.py", "BMO b_dip"): "Dipolarity",
    ("dynamo/scaling.py", "Omega = n(a), the mean motion"): "Orbit",
    ("dynamo/scaling.py", "its velocity is the ``ml`` one"): "Velocity and field",
    ("dynamo/scaling.py", "Magnetic diffusion time"): "Reference formulas",
    ("dynamo/scaling.py", "Field of Elsasser number"): "Reference formulas",
    ("dynamo/scaling.py", "Olson & Christensen 2006 dipole"): "Reference formulas",
    ("dynamo/scaling.py", "Dipole moment of an equatorial"): "Reference formulas",
    ("dynamo/scaling.py", "Equatorial surface field of a dipole moment"): "Reference formulas",
    ("dynamo/scaling.py", "Virtual axial dipole moment"): "Reference formulas",
    ("dynamo/precession.py", "the Cassini relation of PHYSICS.md I.3,"): "Precession dynamo",
    ("dynamo/scaling.py", "gamma_d = 0.2, F the buoyancy flux"): "Reference formulas",
    ("dynamo/stage.py", "One dynamo source (PHYSICS.md I.3)"): "Scaling laws",
    ("dynamo/parameters.py", "Calibrated (PHYSICS.md I.3"): "Precession calibration",
    ("dynamo/parameters.py", "(calibrated on VALIDATION E2, PHYSICS.md I.3)"): "Precession calibration",
    ("runs/record/likelihood.py", "B(λ) = B_eq"): "Surface and site field",
    ("runs/record/likelihood.py", "√(1 + 3 sin²λ) (PHYSICS.md I.3)"): "Surface and site field",
    ("runs/record/scoring.py", "site factor"): "Surface and site field",
    ("runs/record/scoring.py", "axial-dipole factor"): "Surface and site field",
    ("runs/inference/summary.py", "equatorial surface fields"): "Surface and site field",
    ("runs/viz/plots.py", "equatorial"): "Surface and site field",
    ("runs/viz/figures.py", "largest source"): "Combined field",
    ("runs/status.py", "status codes"): "Status",
    ("tests/test_thermal_books.py", "energy books"): "Energy books",
    ("tests/test_dynamo_scaling.py", "B_eq = B_s"): "Surface and site field",
    ("tests/test_dynamo_scaling.py", "PHYSICS.md I.3: core 7.3"): "Dipolarity",
    ("tests/test_dynamo_scaling.py", "dipole -> surface -> site"): "Scaling laws",
    ("tests/test_dynamo_stage.py", "Phi_core = T_c"): "Core dynamo",
    ("tests/test_dynamo_stage.py", "E2 / PHYSICS.md I.3"): "Precession calibration",
    ("tests/test_dynamo_moon.py", "MAC velocities are small"): "Velocity and field",
    ("tests/test_dynamo_moon.py", "with the defaults the field"): "What the default Moon gives",
    ("tests/test_field.py", "misses CE-6"): "What the default Moon gives",
    ("tests/test_thermal_behaviour.py", "calibration figures"): "Defaults and calibration",
    ("tests/test_thermal_behaviour.py", "today's q_s 8-15"): "Defaults and calibration",
    ("tests/test_thermal_behaviour.py", "r_i stays frozen"): "Core regimes",
    ("tests/test_orbit_precession.py", "PCHIP curves in age"): "Orbit",
}

SINGLE = re.compile(r"PHYSICS\.md (I\.[1-6](?:\.[1-5])?)\b")
BARE_PART2 = re.compile(r"\bPart II (\d(?:\.\d)?(?:-\d(?:\.\d)?)?(?:, \d\.\d)?)")


def page_titles() -> set[str]:
    text = (ROOT / PAGE).read_text()
    return {m.group(1).strip() for m in re.finditer(r"^#{1,4} (.+)$", text, re.M)}


def refine_line(path: str, line: str) -> str:
    """The section a refinement names for this line (None: keep the table's)."""
    for (f, key), title in REFINE.items():
        if f == path and key in line:
            return title
    return None


def rewrite(path: str, text: str) -> str:
    lines = text.splitlines(keepends=True)
    # refinements first, line by line: the line's first brief reference becomes the refined section
    for i, line in enumerate(lines):
        title = refine_line(path, line)
        if title is None:
            continue
        for phrase, _ in PHRASES:
            if phrase.startswith("PHYSICS.md") and "\n" not in phrase and phrase in line:
                lines[i] = line.replace(phrase, ref(title), 1)
                break
        else:
            m = SINGLE.search(line)
            if m:
                lines[i] = line[:m.start()] + ref(title) + line[m.end():]
            else:
                m = BARE_PART2.search(line)
                if m:
                    lines[i] = line[:m.start()] + ref(title) + line[m.end():]
    text = "".join(lines)
    for phrase, new in PHRASES:
        text = text.replace(phrase, new)
    text = SINGLE.sub(lambda m: ref(SECTION[m.group(1)]), text)

    def part2(m):
        key = f"Part II {m.group(1)}"
        return ref(SECTION[key]) if key in SECTION else m.group(0)

    text = BARE_PART2.sub(part2, text)
    # "docs/physics.md §A; docs/physics.md §B" -> "docs/physics.md §A, §B"
    text = re.sub(rf"({re.escape(PAGE)} §[^;()\n]+?); {re.escape(PAGE)} §", r"\1, §", text)
    return text


MAX = 120   # a rewritten prose line longer than this is split in two (the references are longer than the ids)
REF_SPAN = re.compile(rf"{re.escape(PAGE)} §[^;()\n]*?(?=[;()\n]|$)")


def _cut(body: str, lead: str):
    """Where to split a long prose line: just before a reference, if the line's head then fits in MAX;
    None otherwise (the line is left long rather than a paragraph rewrapped: other branches edit these files)."""
    best = None
    for m in re.finditer(rf" \(?{re.escape(PAGE)}", body):
        if len(lead) + 30 < m.start() <= MAX:
            best = m.start()
    return best


def reflow(old: str, new: str) -> str:
    """Split the prose lines (comments, docstrings) the rewrite made longer than MAX in two, just before the
    reference; every other line is left as it is."""
    before = set(old.splitlines())
    out, in_doc = [], False
    for body in new.splitlines():
        quotes = body.count('"""')
        prose = in_doc or quotes > 0 or body.lstrip().startswith("#")
        if quotes % 2:
            in_doc = not in_doc
        indent = body[: len(body) - len(body.lstrip())]
        lead = indent + ("# " if body.lstrip().startswith("#") else "")
        cut = _cut(body, lead) if prose and len(body) > MAX and body not in before and "Param(" not in body \
            else None
        if cut is None:
            out.append(body)
        else:
            out += [body[:cut].rstrip(), lead + body[cut + 1:].lstrip()]
    return "\n".join(out) + ("\n" if new.endswith("\n") else "")


def files():
    for folder in FOLDERS:
        for p in sorted((ROOT / folder).rglob("*")):
            rel = p.relative_to(ROOT)
            if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts and rel not in SKIP:
                yield rel


def main(argv) -> int:
    check = "--check" in argv
    titles = page_titles()
    wanted = set(SECTION.values()) | set(REFINE.values()) | {
        t for _, new in PHRASES for t in re.findall(r"§([^,;()\n]+?)(?=, §|[,;()\n:.]|$| from)", new)}
    missing = sorted(t.strip() for t in wanted if t.strip() not in titles)
    if missing:
        print(f"physics_refs: sections not in {PAGE}: {', '.join(missing)}", file=sys.stderr)
        return 2
    left, changed = [], []
    for rel in files():
        text = (ROOT / rel).read_text()
        if check:
            if "PHYSICS.md" in text:
                left.append(str(rel))
            continue
        new = reflow(text, rewrite(str(rel), text))
        if new != text:
            (ROOT / rel).write_text(new)
            changed.append(str(rel))
        if "PHYSICS.md" in new:
            left.append(str(rel))
    if not check:
        print(f"physics_refs: rewrote {len(changed)} files")
    if left:
        print(f"physics_refs: brief references left in {', '.join(left)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
