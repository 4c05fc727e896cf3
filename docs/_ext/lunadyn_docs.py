"""Sphinx extension of lunadyn's documentation: the tables that come from the code, built at build time.

Nothing in these tables is typed by hand: every row is read from the registry (``lunadyn.runs.registry``:
the parameter and output declarations of ``thermal/`` and ``dynamo/``), the status codes
(``lunadyn.runs.status``), the likelihood's settings (``lunadyn.runs.record.likelihood``) or the shipped
record (``runs/data/lunar_paleointensity.csv`` through ``lunadyn.runs.record.observations``), so a
table cannot disagree with the code it documents.

Directives (each produces docutils nodes directly, so it works the same in MyST and rst pages):

    ```{lunadyn-parameters}
    :stage: thermal            (thermal | dynamo | spec | scenario; default: all)
    ```
    ```{lunadyn-outputs}
    :stage: state              (state | thermal | dynamo | summary)
    ```
    ```{lunadyn-record}
    ```                         the measured record, every row with its reference and DOI
    ```{lunadyn-likelihood-settings}
    ```                         the likelihood's settings and their defaults
    ```{lunadyn-status}
    ```                         the status codes and flags
    ```{lunadyn-choices}
    :parameter: orbit          the choices of a categorical parameter, with their integer codes
    ```

Roles, which fail the build (a warning, an error under -W) on a name the registry does not know:

    {param}`r_core`     a link to the row of parameter ``r_core`` in the parameter tables
    {output}`Q_cmb`     a link to the row of output (or summary) ``Q_cmb`` in the output tables

Each table row of a parameter or output is a link target (``param-<name>``, ``output-<name>``, lower case),
so ``{ref}`` works on them too.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from sphinx import addnodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

STAGES = ("thermal", "dynamo", "spec", "scenario")
OUTPUT_STAGES = ("state", "thermal", "dynamo", "summary")


# --------------------------------------------------------------------------------------------------
# formatting


def fmt(v) -> str:
    """A registry value as text (as ``lunadyn params`` prints it: %g for floats, lists in brackets)."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return str(v)


def unit_text(unit: str) -> str:
    return unit if unit else "–"


def para(*children) -> nodes.paragraph:
    p = nodes.paragraph()
    for c in children:
        p += nodes.Text(c) if isinstance(c, str) else c
    return p


def literal(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def link(text: str, uri: str) -> nodes.reference:
    return nodes.reference(text, text, refuri=uri)


def make_table(headers, rows, widths=None, classes=("lunadyn-generated",)) -> nodes.table:
    """A docutils table; each cell a str, a paragraph or a list of body nodes."""
    table = nodes.table(classes=list(classes))
    tgroup = nodes.tgroup(cols=len(headers))
    table += tgroup
    for w in widths or [1] * len(headers):
        tgroup += nodes.colspec(colwidth=w)
    thead = nodes.thead()
    tgroup += thead
    thead += _row(headers)
    tbody = nodes.tbody()
    tgroup += tbody
    for r in rows:
        tbody += _row(r)
    return table


def _row(cells) -> nodes.row:
    row = nodes.row()
    for c in cells:
        entry = nodes.entry()
        if isinstance(c, (list, tuple)):
            for n in c:
                entry += n
        elif isinstance(c, nodes.paragraph):
            entry += c
        elif isinstance(c, nodes.Node):
            entry += para(c)
        else:
            entry += para(str(c))
        row += entry
    return row


def _label(env, docname: str, name: str, node_id: str, title: str) -> None:
    """Register ``name`` as a std-domain link target (so {ref}`name` and the roles resolve to it)."""
    std = env.get_domain("std")
    std.note_hyperlink_target(name, docname, node_id, title)


def _target_cell(env, docname: str, prefix: str, name: str) -> nodes.paragraph:
    """The first cell of a row: the name as literal text, carrying the row's link target."""
    label = f"{prefix}-{name.lower()}"
    node_id = nodes.make_id(label)
    p = para(literal(name))
    p["ids"].append(node_id)
    _label(env, docname, label, node_id, name)
    return p


# --------------------------------------------------------------------------------------------------
# references to the physics page ("docs/physics.md §Core energy budget") as links

_SECTIONS: dict = {}


def physics_sections(srcdir) -> dict:
    """{section title: label} of the site's physics.md: each heading and the ``(label)=`` line just above
    it (empty for a site without the page: references then stay plain text)."""
    page = Path(srcdir) / "physics.md"
    if not _SECTIONS and page.is_file():
        lines = page.read_text().splitlines()
        for k, line in enumerate(lines):
            m = re.match(r"^#{1,4} (.+)$", line)
            if m:
                prev = next((x for x in reversed(lines[:k]) if x.strip()), "")
                lab = re.match(r"^\((.+)\)=$", prev.strip())
                _SECTIONS[m.group(1).strip()] = lab.group(1) if lab else None
    return _SECTIONS


def with_physics_links(text: str, srcdir, location=None) -> list:
    """``text`` as nodes, each "§Title" of a "docs/physics.md §Title, §Title" reference a link to that
    section (the longest section title the text starts with); an unknown title is a warning."""
    sections = physics_sections(srcdir)
    if not sections:
        return [nodes.Text(text)]
    out, pos = [], 0
    for m in re.finditer(r"docs/physics\.md ((?:§[^§]*?)(?:, §[^§]*?)*)(?=$|[;()]|\.(?:\s|$))", text):
        out.append(nodes.Text(text[pos:m.start()] + "docs/physics.md "))
        rest = m.group(1)
        first = True
        while rest.startswith("§"):
            title = max((t for t in sections if rest[1:].startswith(t)), key=len, default=None)
            if title is None or sections[title] is None:
                logger.warning(f"{rest!r}: not a section of docs/physics.md with a label", location=location)
                out.append(nodes.Text(rest))
                rest = ""
                break
            if not first:
                out.append(nodes.Text(", "))
            xref = addnodes.pending_xref("", refdomain="std", reftype="ref", reftarget=sections[title],
                                         refexplicit=True, refwarn=True)
            xref += nodes.Text("§" + title)
            out.append(xref)
            rest = rest[1 + len(title):]
            rest = rest[2:] if rest.startswith(", ") else rest
            first = False
        out.append(nodes.Text(rest))
        pos = m.end()
    out.append(nodes.Text(text[pos:]))
    return out


# --------------------------------------------------------------------------------------------------
# the parameter tables


def _bounds_text(p, body: str = "moon") -> str:
    if p.kind == "category":
        return "–"
    lo, hi = p.bounds_for(body)
    if lo == -math.inf and hi == math.inf:
        return "–"
    left = "(" if p.lower_open or lo == -math.inf else "["
    lo_t = "−∞" if lo == -math.inf else fmt(lo)
    hi_t = "∞" if hi == math.inf else fmt(hi)
    right = ")" if hi == math.inf else "]"
    return f"{left}{lo_t}, {hi_t}{right}"


def _prior_text(p) -> str:
    if p.kind == "category":
        return "choices: " + ", ".join(p.choices)
    if p.stage in ("spec", "scenario"):
        return "setting (never swept)"
    if p.prior is None:
        return "fixed"
    return f"{fmt(p.prior[0])} – {fmt(p.prior[1])} ({p.scale})"


def _earth_text(p) -> str:
    if not p.has_earth_default():
        return "n/a"
    text = fmt(p.earth)
    if p.earth_prior is not None:
        text += f" [{fmt(p.earth_prior[0])} – {fmt(p.earth_prior[1])}]"
    return text


def _default_text(p) -> str:
    text = fmt(p.default)
    if p.kind == "array":
        text += f" (≤ {p.size} values)"
    return text


class ParametersDirective(Directive):
    """The parameter registry as a table (one per stage, or all)."""

    has_content = False
    option_spec = {"stage": directives.unchanged}

    def run(self):
        from lunadyn.runs.registry import BODY, MODEL_PARAMETERS
        from lunadyn.thermal.parameters import SPEC_PARAMETERS

        env = self.state.document.settings.env
        stage = self.options.get("stage")
        if stage is not None and stage not in STAGES:
            raise self.error(f"lunadyn-parameters: stage {stage!r}: expected one of {', '.join(STAGES)}")
        params = [p for p in MODEL_PARAMETERS + SPEC_PARAMETERS + (BODY,) if stage in (None, p.stage)]
        rows = []
        for p in params:
            where = (env.docname, self.lineno)
            desc = para(*with_physics_links(p.description + ". ", env.srcdir, where))
            ref = nodes.emphasis()
            for n in with_physics_links(p.reference, env.srcdir, where):
                ref += n
            desc += ref
            if p.note:
                desc += nodes.Text(" " + p.note)
            rows.append([_target_cell(env, env.docname, "param", p.name), unit_text(p.unit), _default_text(p),
                         _bounds_text(p), _prior_text(p), _earth_text(p), desc])
        headers = ["name", "unit", "Moon default", "validity bounds", "prior (scale)", "Earth default [prior]",
                   "description; reference"]
        return [make_table(headers, rows, widths=[12, 7, 10, 12, 14, 12, 33])]


# --------------------------------------------------------------------------------------------------
# the output tables


class OutputsDirective(Directive):
    """The output registry as a table, per stage: state, thermal diagnostics, dynamo, per-run summaries."""

    has_content = False
    option_spec = {"stage": directives.unchanged}

    def run(self):
        from lunadyn.dynamo.outputs import DYNAMO_OUTPUTS, DYNAMO_SUMMARY_OUTPUTS
        from lunadyn.thermal.outputs import DIAGNOSTIC_OUTPUTS, STATE_OUTPUTS, SUMMARY_OUTPUTS

        env = self.state.document.settings.env
        stage = self.options.get("stage")
        groups = {"state": STATE_OUTPUTS, "thermal": DIAGNOSTIC_OUTPUTS, "dynamo": DYNAMO_OUTPUTS,
                  "summary": SUMMARY_OUTPUTS + DYNAMO_SUMMARY_OUTPUTS}
        if stage not in groups:
            raise self.error(f"lunadyn-outputs: stage {stage!r}: expected one of {', '.join(OUTPUT_STAGES)}")
        rows = []
        for o in groups[stage]:
            desc = para(o.long_name)
            if o.note:
                desc += nodes.Text(". " + o.note)
            dims = "(sample, age)" if o.shape == "age" else "(sample,)"
            rows.append([_target_cell(env, env.docname, "output", o.name), unit_text(o.unit), dims, o.dtype,
                         fmt(o.fill), desc])
        headers = ["name", "unit", "dims", "stored as", "not applicable", "meaning"]
        return [make_table(headers, rows, widths=[16, 7, 12, 8, 9, 48])]


# --------------------------------------------------------------------------------------------------
# the measured record


class RecordDirective(Directive):
    """The shipped paleointensity record: every row with its reference and DOI, and whether the default
    selection of the likelihood uses it."""

    has_content = False

    def run(self):
        from lunadyn.runs.record.observations import load_observations

        everything = load_observations(None, ["all"])
        chosen = {r.id for r in load_observations(None, None).records}
        rows = []
        for r in everything.records:
            age = fmt(r.age_ga)
            if math.isfinite(r.age_err_ga):
                age += f" ± {fmt(r.age_err_ga)}"
            age += f" ({r.age_dist})"
            if r.kind == "range":
                field = f"{fmt(r.b_low_ut)} – {fmt(r.b_high_ut)}"
            elif r.kind == "null":
                field = "no field"
            elif r.kind == "upper_limit":
                field = f"< {fmt(r.b_ut)}"
            elif r.kind == "lower_limit":
                field = f"> {fmt(r.b_ut)}"
            else:
                field = fmt(r.b_ut)
                if math.isfinite(r.b_low_ut) and math.isfinite(r.b_high_ut):
                    field += f" ({fmt(r.b_low_ut)} – {fmt(r.b_high_ut)})"
            lat = fmt(r.site_lat_deg) if math.isfinite(r.site_lat_deg) else "– (band 0–30°)"
            ref = para(r.reference)
            if r.doi:
                ref += nodes.Text(" doi:")
                ref += link(r.doi, f"https://doi.org/{r.doi}")
            else:
                ref += nodes.Text(" (no DOI)")
            rows.append([[para(literal(r.id)), para(r.sample)], f"{r.mission}, {r.side}", lat, age,
                         f"{field} ({r.kind})", r.method_class, r.confidence,
                         "yes" if r.id in chosen else "no", [ref, para(nodes.emphasis(r.note, r.note))]])
        headers = ["id, sample", "mission, side", "site latitude (°)", "age (Ga)", "field at the site (µT)",
                   "method", "confidence", "in the default selection", "reference, DOI; what the source says"]
        table = make_table(headers, rows, widths=[12, 9, 6, 9, 9, 8, 6, 6, 35])
        default = load_observations(None, None)
        summary = para(f"{len(everything)} records in ", literal(everything.path),
                       f" (sha256 {everything.sha256[:12]}). The default selection: {default.description}.")
        return [summary, table]


class LikelihoodSettingsDirective(Directive):
    """The likelihood's settings with their default values (LikelihoodSettings)."""

    has_content = False

    def run(self):
        import dataclasses

        from lunadyn.runs.record.likelihood import LikelihoodSettings

        rows = []
        for f in dataclasses.fields(LikelihoodSettings):
            rows.append([para(literal(f.name)), fmt(f.default)])
        return [make_table(["setting", "default"], rows, widths=[30, 20])]


class StatusDirective(Directive):
    """The status codes (low 4 bits: the model failed) and the informational flags."""

    has_content = False

    def run(self):
        from lunadyn.runs import status

        rows = [[para(literal(str(status.NOT_COMPUTED))), "store only", "not computed yet"]]
        rows += [[para(literal(str(k))), "thermal code (failure)" if k else "thermal code", v]
                 for k, v in status.CODES.items()]
        rows += [[para(literal(str(k))), "flag (informational)", v] for k, v in status.FLAGS.items()]
        return [make_table(["value", "kind", "meaning"], rows, widths=[8, 16, 40])]


class ChoicesDirective(Directive):
    """The choices of a categorical parameter and their integer codes (the index of each choice)."""

    has_content = False
    option_spec = {"parameter": directives.unchanged_required}

    def run(self):
        from lunadyn.runs.registry import ALL_PARAMS

        name = self.options["parameter"]
        p = ALL_PARAMS.get(name)
        if p is None or p.kind != "category":
            raise self.error(f"lunadyn-choices: {name!r} is not a categorical parameter of the registry")
        rows = [[str(k), para(literal(c))] for k, c in enumerate(p.choices)]
        return [make_table(["code", "choice"], rows, widths=[8, 30])]


# --------------------------------------------------------------------------------------------------
# roles


def _registry_role(prefix: str):
    def known(name: str) -> bool:
        from lunadyn.runs.registry import ALL_PARAMS, BODY, OUTPUTS, SUMMARIES

        if prefix == "param":
            return name in ALL_PARAMS or name == BODY.name
        return name in OUTPUTS or name in SUMMARIES

    def role(name, rawtext, text, lineno, inliner, options=None, content=None):
        text = text.strip()
        if not known(text):
            msg = inliner.reporter.warning(f"{prefix} {text!r} is not in lunadyn's registry", line=lineno)
            return [nodes.literal(rawtext, text)], [msg]
        node = addnodes.pending_xref(rawtext, refdomain="std", reftype="ref", reftarget=f"{prefix}-{text.lower()}",
                                     refexplicit=True, refwarn=True)
        node += nodes.literal(text, text)
        return [node], []

    return role


def setup(app):
    app.add_directive("lunadyn-parameters", ParametersDirective)
    app.add_directive("lunadyn-outputs", OutputsDirective)
    app.add_directive("lunadyn-record", RecordDirective)
    app.add_directive("lunadyn-likelihood-settings", LikelihoodSettingsDirective)
    app.add_directive("lunadyn-status", StatusDirective)
    app.add_directive("lunadyn-choices", ChoicesDirective)
    app.add_role("param", _registry_role("param"))
    app.add_role("output", _registry_role("output"))
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
