"""Scenario files: TOML loading and validation against the registry (DESIGN.md "One registry").

A scenario is a flat TOML table: optional strings ``title`` and ``description``; optional ``body``
(``"moon"``, the default, or ``"earth"``: which body's defaults and validity bounds the scenario takes,
thermal/declare.py "Bodies"); every other key is a model parameter (``runs.registry.PARAMS``) or a
spec-level setting (``runs.registry.SPEC``: start_age, output_step, rtol, max_steps). Values are in the
registry's units (SI; ages in Ga); categoricals are named (``law = "cia"``); array parameters are TOML
lists of at most ``size`` numbers. Anything missing takes its registry default for the body.

Every problem raises ``runs.errors.UserError`` with one line naming the file (or ``--set``), the field
and what was expected.
"""
from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError, exact
from .rules import broken_rules, message
from ..registry import ALL_PARAMS, BODY, PARAMS, SPEC, make_records

TEXT_KEYS = ("title", "description")
BODY_KEY = BODY.name
REL_TOL_GRID = 1e-9  # start_age must be a multiple of output_step to this relative tolerance


@dataclass
class Scenario:
    """A validated scenario.

    values: every model parameter in config form (names for categoricals, lists for arrays), defaults
    filled; settings: the spec-level settings (start_age, output_step, rtol, max_steps); text: the TOML
    text as read; path: where it came from; overrides: the validated ``--set`` values applied on top; body: the body whose defaults and bounds were used.
    """

    values: dict
    settings: dict
    text: str
    path: Path | None = None
    title: str = ""
    description: str = ""
    overrides: dict = field(default_factory=dict)
    body: str = BODY.default


# --------------------------------------------------------------------------------------------------
# reading


def read_text(path) -> str:
    """The text of a UTF-8 file, or a UserError naming the file and what went wrong."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig")       # a byte-order mark (some editors write one) is dropped
    except FileNotFoundError:
        raise UserError(f"file not found: {p}") from None
    except IsADirectoryError:
        raise UserError(f"{p} is a directory, expected a TOML file") from None
    except PermissionError:
        raise UserError(f"cannot read {p}: permission denied") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{p} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise UserError(f"cannot read {p}: {e.strerror or e}") from None


def parse_toml(text: str, where: str) -> dict:
    """Parse TOML text; a syntax error becomes a UserError with the file and tomllib's line/column."""
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"invalid TOML in {where}: {e}") from None


def parse_set(items) -> dict:
    """``--set NAME=VALUE`` items as a dict (later items win).

    VALUE is read as a TOML value (``3e5``, ``true``, ``[1, 2]``, ``"cia"``); if it is not valid TOML it
    is taken as a bare string, so ``--set law=ml`` works for categoricals.
    """
    out = {}
    for item in items or ():
        name, sep, raw = str(item).partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name:
            raise UserError(f"--set expects NAME=VALUE, got {item!r}")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[name] = value
    return out


# --------------------------------------------------------------------------------------------------
# validation of single values


def _show(value) -> str:
    """A value as the user wrote it (TOML-like)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _unit(p) -> str:
    return "" if p.unit in ("", "1") else f" {p.unit}"


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_bounds(p, v: float, where: str, label: str | None = None, body: str = "moon") -> None:
    """Raise unless v lies within p.bounds_for(body) (lower end excluded when p.lower_open)."""
    label = label or p.name
    lo, hi = p.bounds_for(body)
    if not math.isfinite(v):
        raise UserError(f"{label} in {where}: expected a finite number, got {_show(v)}")
    low_ok = v > lo if p.lower_open else v >= lo
    if low_ok and v <= hi:
        return
    lower = "<" if p.lower_open else "<="
    if hi == math.inf:
        expected = f"{label} {'>' if p.lower_open else '>='} {exact(lo)}"
    elif lo == -math.inf:
        expected = f"{label} <= {exact(hi)}"
    else:
        expected = f"{exact(lo)} {lower} {label} <= {exact(hi)}"
    on = f" (body = {body})" if body != BODY.default else ""
    raise UserError(f"{label} = {exact(v)}{_unit(p)} in {where} is out of bounds{on}: expected {expected}{_unit(p)}")


def validate_body(value, where: str) -> str:
    """The ``body`` key: one of the declared bodies."""
    if not isinstance(value, str) or value not in BODY.choices:
        raise UserError(f"{BODY_KEY} in {where}: expected one of {', '.join(BODY.choices)}, got {_show(value)}")
    return value


def validate_value(name: str, value, where: str, body: str = "moon"):
    """One parameter or setting, checked against its declaration (bounds on ``body``); returns it in
    config form."""
    p = ALL_PARAMS[name]
    if p.kind == "category":
        if not isinstance(value, str) or value not in p.choices:
            raise UserError(f"{name} in {where}: expected one of {', '.join(p.choices)}, got {_show(value)}")
        return value
    if p.kind == "set":
        return validate_set(p, value, where)
    if p.kind == "array":
        if not isinstance(value, list) or not all(_is_number(x) for x in value):
            unit = f"{p.unit}, " if _unit(p) else ""
            raise UserError(f"{name} in {where}: expected a list of numbers ({unit}at most {p.size}), "
                            f"got {_show(value)}")
        if len(value) > p.size:
            raise UserError(f"{name} in {where}: expected at most {p.size} numbers, got {len(value)}")
        for i, x in enumerate(value):
            _check_bounds(p, float(x), where, f"{name}[{i}]", body)
        return [float(x) for x in value]
    if p.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise UserError(f"{name} in {where}: expected an integer, got {_show(value)}")
        _check_bounds(p, value, where, body=body)
        return int(value)
    if not _is_number(value):
        raise UserError(f"{name} in {where}: expected a number{_unit(p) and ' in' + _unit(p)}, "
                        f"got {_show(value)}")
    value = float(value)
    _check_bounds(p, value, where, body=body)
    return value


def validate_set(p, value, where: str) -> list:
    """A ``set`` parameter: a list of distinct names from its choices (``--set`` may also write a bare
    ``core,bmo`` or ``[core, bmo]``); returned in the order of the choices."""
    if isinstance(value, str):
        value = [v.strip().strip("'\"") for v in value.strip().strip("[]").split(",") if v.strip()]
    expected = (f"expected a list of distinct names from {', '.join(p.choices)} "
                f"(e.g. {p.name} = {_show(list(p.choices[:2]))}; [] for none)")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{p.name} in {where}: {expected}, got {_show(value)}")
    bad = [v for v in value if v not in p.choices]
    if bad or len(set(value)) != len(value):
        raise UserError(f"{p.name} in {where}: {expected}, got {_show(list(value))}")
    return [c for c in p.choices if c in value]


def _unknown(name: str, where: str) -> UserError:
    close = difflib.get_close_matches(name, list(ALL_PARAMS) + list(TEXT_KEYS) + [BODY_KEY], n=1)
    hint = f": did you mean '{close[0]}'?" if close else " (see `lunadyn params`)"
    return UserError(f"unknown parameter '{name}' in {where}{hint}")


def validate_table(table: dict, where: str, body: str = "moon") -> tuple[dict, dict, dict]:
    """Split and check a flat table: (model parameter values, spec settings, text fields), values within
    their bounds on ``body``; a ``body`` key is checked and returned among the text fields."""
    values, settings, text = {}, {}, {}
    for key, value in table.items():
        if key == BODY_KEY:
            text[key] = validate_body(value, where)
        elif key in TEXT_KEYS:
            if not isinstance(value, str):
                raise UserError(f"{key} in {where}: expected a string, got {_show(value)}")
            text[key] = value
        elif key in ALL_PARAMS:
            (settings if key in SPEC else values)[key] = validate_value(key, value, where, body)
        elif isinstance(value, dict):
            raise UserError(f"unexpected table [{key}] in {where}: a scenario is a flat list of NAME = VALUE")
        else:
            raise _unknown(key, where)
    return values, settings, text


# --------------------------------------------------------------------------------------------------
# consistency of the whole set


def closest(name, names) -> str:
    """": did you mean 'x'?" for the closest of ``names`` to a mistyped ``name`` (empty if none is close)."""
    close = difflib.get_close_matches(name, list(names), n=1)
    return f": did you mean '{close[0]}'?" if close else ""


def check_range(name: str, lo, hi, scale, section: str) -> None:
    """A sampled range of a sweep axis or an inference prior: min < max, a known scale, log needs min > 0
    (section: where it was given, e.g. "[vary] of s.toml")."""
    if not lo < hi:
        raise UserError(f"{name} in {section}: expected min < max, got {exact(lo)} >= {exact(hi)}")
    if scale not in ("linear", "log"):
        raise UserError(f"{name} in {section}: scale must be 'linear' or 'log', got {scale!r}")
    if scale == "log" and lo <= 0:
        raise UserError(f"{name} in {section}: a log scale needs min > 0, got {exact(lo)}")


def check_sections(table: dict, sections, where: str, kind: str) -> None:
    """Every top-level key of a spec file is one of its ``sections`` (a spec of ``kind``, e.g. "a sweep spec")."""
    for key in table:
        if key not in sections:
            raise UserError(f"unknown key '{key}' in {where}{closest(key, sections)} "
                            f"({kind} has {', '.join(sections)})")


def check_consistency(values: dict, settings: dict, where: str, body: str = "moon") -> None:
    """The cross-parameter rules (``spec.rules``) and the output grid, for one model's values."""
    if body == "earth" and values["mode"] != "core_only":
        raise UserError(f"mode = {values['mode']!r} in {where} with body = \"earth\": expected mode = \"core_only\" "
                        "(v1 has no Earth mantle or basal layer; their parameters have no Earth defaults)")
    for rule, _ in broken_rules(values):
        raise UserError(message(rule, values, where))
    start, step = settings["start_age"], settings["output_step"]
    k = round(start / step)
    if k < 1 or abs(start - k * step) > REL_TOL_GRID * start:
        raise UserError(f"start_age = {exact(start)} Ga in {where} is not a multiple of output_step = {exact(step)} Ga: "
                        "the output ages start_age - k*output_step must end exactly at 0")


# --------------------------------------------------------------------------------------------------
# scenarios


def defaults(body: str = "moon") -> tuple[dict, dict]:
    """Registry defaults on ``body`` in config form: (model parameter values, spec settings)."""
    def form(p):
        v = p.default_for(body)
        return list(v) if p.kind in ("array", "set") else v
    return {n: form(p) for n, p in PARAMS.items()}, {n: form(p) for n, p in SPEC.items()}


def scenario_body(table: dict, overrides, where: str) -> str:
    """The body of a scenario: ``body`` from the overrides, else from the file, else the Moon."""
    raw = overrides.get(BODY_KEY) if isinstance(overrides, dict) else parse_set(overrides).get(BODY_KEY)
    if raw is not None:
        return validate_body(raw, "overrides" if isinstance(overrides, dict) else "--set")
    if BODY_KEY in table:
        return validate_body(table[BODY_KEY], where)
    return BODY.default


def scenario_from_text(text: str, where: str = "<scenario>", overrides=(), path=None) -> Scenario:
    """A validated Scenario from TOML text (``where`` names it in error messages).

    overrides: ``--set`` strings ``NAME=VALUE``, or a dict of Python values; they win over the text.
    """
    table = parse_toml(text, where)
    body = scenario_body(table, overrides, where)
    f_values, f_settings, f_text = validate_table(table, where, body)
    if isinstance(overrides, dict):  # Python keyword overrides (runs.api.run)
        s_values, s_settings, s_text = validate_table(overrides, "overrides", body)
    else:  # --set NAME=VALUE strings
        s_values, s_settings, s_text = validate_table(parse_set(overrides), "--set", body)
    values, settings = defaults(body)
    values.update(f_values)
    values.update(s_values)
    settings.update(f_settings)
    settings.update(s_settings)
    text_fields = {**f_text, **s_text}
    check_consistency(values, settings, f"{where} with overrides" if (s_values or s_settings) else where, body)
    return Scenario(values=values, settings=settings, text=text, path=path,
                    title=text_fields.get("title", ""), description=text_fields.get("description", ""),
                    overrides={**s_values, **s_settings, **s_text}, body=body)


def load_scenario(path, overrides=()) -> Scenario:
    """Read and validate a scenario file, applying overrides (``--set NAME=VALUE`` strings) on top."""
    p = Path(path)
    return scenario_from_text(read_text(p), str(path), overrides, path=p)


def scenario_spec(scn: Scenario) -> dict:
    """The validated spec of a single run; its hash identifies the store."""
    return {"kind": "run", "parameters": scn.values, "settings": scn.settings}


def scenario_records(scn: Scenario, n: int = 1):
    """n kernel records (structured array) of the scenario's parameter values."""
    return make_records(n, scn.values)
