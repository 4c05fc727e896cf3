"""The measured lunar paleointensity record: loading, validation and selection (data/README.md).

The shipped record is ``runs/data/lunar_paleointensity.csv`` (described in ``runs/data/README.md``);
a user file in the same format replaces it (``--data FILE``). Every row is validated; a malformed row
is a one-line ``UserError`` naming the file, the row (1 = first record after the header, with its line
in the file), the column and the expected form.

Columns (one record per row; extra columns are ignored):

    id, sample, mission, side, rock_type, site_lat_deg, age_ga, age_err_ga, age_dist,
    b_ut, b_low_ut, b_high_ut, kind, method_class, reference, doi, confidence, note

What each kind needs (fields in µT at the sample site):

- ``value``: ``b_ut`` > 0 (``b_low_ut`` <= ``b_ut`` <= ``b_high_ut`` when given; not used by the
  likelihood, which has its own per-method σ_lnB);
- ``range``: ``b_low_ut`` > 0 and ``b_high_ut`` >= ``b_low_ut``;
- ``upper_limit``, ``lower_limit``: ``b_ut`` > 0 (the limit; a looser 2σ limit may be in
  ``b_high_ut`` and is not used);
- ``null``: nothing (the likelihood's ``null_threshold_ut`` is the limit).

Selection (data/README.md "Default selection"): ``KEY=VALUE`` strings with KEY one of ``mission``,
``side``, ``method_class``, ``confidence``, ``id``. Values of one key are OR-ed, different keys
AND-ed. The default is ``confidence=high,medium`` AND ``method_class=whole_rock,whole_rock_arm``; a
``KEY=VALUE`` given for ``confidence`` or ``method_class`` replaces the default of that key only (so
``method_class=single_crystal`` keeps the confidence default); ``all`` drops the defaults
altogether (``all side=farside`` = every farside record). A VALUE may list several values separated
by commas. Matching ignores case and apostrophes (``change-6`` matches ``Chang'e-6``); for
``mission`` a bare programme name also matches its numbered missions (``Apollo`` matches
``Apollo 12`` and ``Apollo (not verified)``).
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import UserError

COLUMNS = ("id", "sample", "mission", "side", "rock_type", "site_lat_deg", "age_ga", "age_err_ga",
           "age_dist", "b_ut", "b_low_ut", "b_high_ut", "kind", "method_class", "reference", "doi",
           "confidence", "note")
KINDS = ("value", "range", "upper_limit", "lower_limit", "null")
AGE_DISTS = ("gaussian", "uniform")
METHOD_CLASSES = ("whole_rock", "whole_rock_arm", "single_crystal")
CONFIDENCES = ("high", "medium", "low")
SIDES = ("nearside", "farside")
SELECT_KEYS = ("mission", "side", "method_class", "confidence", "id")
DEFAULT_SELECTION = {"confidence": ("high", "medium"), "method_class": ("whole_rock", "whole_rock_arm")}
SHIPPED_NAME = "lunar_paleointensity.csv"
CHANG_E_IDS = {"ce6_basalt": "CE-6", "ce5_basalt": "CE-5"}
CE6_AGE_GA = 2.8  # data/README.md: the age at which the posterior weight of each dynamo source is reported


@dataclass(frozen=True)
class Record:
    """One validated row; numbers as floats (NaN where blank), µT and Ga as in the file."""

    id: str
    sample: str
    mission: str
    side: str
    rock_type: str
    site_lat_deg: float
    age_ga: float
    age_err_ga: float
    age_dist: str
    b_ut: float
    b_low_ut: float
    b_high_ut: float
    kind: str
    method_class: str
    reference: str
    doi: str
    confidence: str
    note: str
    row: int = 0

    def as_dict(self) -> dict:
        """JSON-ready: blanks as None."""
        out = {}
        for name in COLUMNS:
            v = getattr(self, name)
            out[name] = None if isinstance(v, float) and math.isnan(v) else v
        return out

    @property
    def label(self) -> str:
        """Short label for figures and tables: CE-6 / CE-5 for the Chang'e records, else the id."""
        return CHANG_E_IDS.get(self.id, self.id)


@dataclass
class Observations:
    """The records in use (after selection) with where they came from.

    records: the selected records in file order; n_total: rows in the file; path: the file;
    sha256: hash of the file's bytes; selection: key -> tuple of values (the filters applied; empty
    for ``all``); select_items: the ``KEY=VALUE`` strings as given (None = default); shipped: whether
    the file is the shipped record.
    """

    records: tuple
    n_total: int
    path: str
    sha256: str
    selection: dict
    select_items: tuple | None = None
    shipped: bool = True
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self):
        return len(self.records)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.records]

    def array(self, name: str) -> np.ndarray:
        """One column over the selected records as an array (float for numbers, str otherwise)."""
        if name not in self._cache:
            vals = [getattr(r, name) for r in self.records]
            self._cache[name] = np.array(vals, dtype=float if name in _NUMERIC else object)
        return self._cache[name]

    def index(self, record_id: str) -> int | None:
        """Position of a record id among the selected records, or None."""
        try:
            return self.ids.index(record_id)
        except ValueError:
            return None

    @property
    def description(self) -> str:
        """Compact one-line description: the filters, whether default, the counts and the file."""
        return f"{selection_text(self.selection, self.select_items)}: {len(self.records)} of " \
               f"{self.n_total} records from {Path(self.path).name if self.shipped else self.path}"

    def provenance(self) -> dict:
        """What a store records about the observations (flat strings/numbers)."""
        return {"observations_file": "shipped:" + SHIPPED_NAME if self.shipped else str(self.path),
                "observations_sha256": self.sha256,
                "observations_selection": selection_text(self.selection, self.select_items),
                "observations_records": ",".join(self.ids)}


_NUMERIC = ("site_lat_deg", "age_ga", "age_err_ga", "b_ut", "b_low_ut", "b_high_ut")

# --------------------------------------------------------------------------------------------------
# reading and validation


def shipped_path() -> Path:
    """Path of the shipped record (inside the installed package)."""
    return Path(str(resources.files("lunadyn.runs").joinpath("data", SHIPPED_NAME)))


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"data file not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory, expected a CSV file of paleointensity records") from None
    except OSError as e:
        raise UserError(f"cannot read data file {path}: {e.strerror or e}") from None


def _err(where, row, line, col, expected, raw) -> UserError:
    return UserError(f"{where}: row {row} (line {line}), column '{col}': expected {expected}, got {raw!r}")


def _number(where, row, line, col, raw, *, required=False, lo=-math.inf, hi=math.inf, positive=False,
            what="a number") -> float:
    raw = raw.strip()
    if raw == "":
        if required:
            raise _err(where, row, line, col, what, raw)
        return math.nan
    try:
        v = float(raw)
    except ValueError:
        raise _err(where, row, line, col, what, raw) from None
    if not math.isfinite(v) or v < lo or v > hi or (positive and v <= 0.0):
        raise _err(where, row, line, col, what, raw)
    return v


def _choice(where, row, line, col, raw, choices) -> str:
    v = raw.strip()
    if v not in choices:
        raise _err(where, row, line, col, "one of " + ", ".join(choices), raw)
    return v


def _validate_row(where: str, row: int, line: int, cells: dict) -> Record:
    def text(col):
        return (cells.get(col) or "").strip()

    rid = text("id")
    if not rid:
        raise _err(where, row, line, "id", "a non-empty unique key", cells.get("id") or "")
    kind = _choice(where, row, line, "kind", cells["kind"] or "", KINDS)
    age_dist = _choice(where, row, line, "age_dist", cells["age_dist"] or "", AGE_DISTS)
    method = _choice(where, row, line, "method_class", cells["method_class"] or "", METHOD_CLASSES)
    conf = _choice(where, row, line, "confidence", cells["confidence"] or "", CONFIDENCES)
    side = _choice(where, row, line, "side", cells["side"] or "", SIDES)
    lat = _number(where, row, line, "site_lat_deg", cells["site_lat_deg"] or "", lo=-90.0, hi=90.0,
                  what="a latitude in degrees within [-90, 90] or blank")
    age = _number(where, row, line, "age_ga", cells["age_ga"] or "", required=True, lo=0.0,
                  what="an age in Ga >= 0")
    age_err = _number(where, row, line, "age_err_ga", cells["age_err_ga"] or "", lo=0.0,
                      what="an age uncertainty in Ga >= 0 or blank")
    b = _number(where, row, line, "b_ut", cells["b_ut"] or "", lo=0.0, what="a field in uT >= 0 or blank")
    b_low = _number(where, row, line, "b_low_ut", cells["b_low_ut"] or "", lo=0.0,
                    what="a field in uT >= 0 or blank")
    b_high = _number(where, row, line, "b_high_ut", cells["b_high_ut"] or "", lo=0.0,
                     what="a field in uT >= 0 or blank")
    need = f"for kind {kind}"
    if kind in ("value", "upper_limit", "lower_limit") and not b > 0.0:
        raise _err(where, row, line, "b_ut", f"a field in uT > 0 {need}", cells["b_ut"] or "")
    if kind == "range":
        if not b_low > 0.0:
            raise _err(where, row, line, "b_low_ut", f"a field in uT > 0 {need}", cells["b_low_ut"] or "")
        if not b_high > 0.0:
            raise _err(where, row, line, "b_high_ut", f"a field in uT > 0 {need}", cells["b_high_ut"] or "")
    if b_low > b_high:
        raise _err(where, row, line, "b_low_ut", f"b_low_ut <= b_high_ut = {b_high:g}", cells["b_low_ut"])
    if kind == "value":
        if b_low > b:
            raise _err(where, row, line, "b_low_ut", f"b_low_ut <= b_ut = {b:g}", cells["b_low_ut"])
        if b_high < b:
            raise _err(where, row, line, "b_high_ut", f"b_high_ut >= b_ut = {b:g}", cells["b_high_ut"])
    return Record(id=rid, sample=text("sample"), mission=text("mission"), side=side,
                  rock_type=text("rock_type"), site_lat_deg=lat, age_ga=age, age_err_ga=age_err,
                  age_dist=age_dist, b_ut=b, b_low_ut=b_low, b_high_ut=b_high, kind=kind,
                  method_class=method, reference=text("reference"), doi=text("doi"), confidence=conf,
                  note=text("note"), row=row)


def read_records(data=None) -> tuple[list[Record], str, str, bool]:
    """Read and validate every row of the shipped record (data=None) or of a user file.

    Returns (records in file order, path, sha256 of the file's bytes, shipped?).
    """
    shipped = data is None
    path = shipped_path() if shipped else Path(data)
    raw = _read_bytes(path)
    digest = hashlib.sha256(raw).hexdigest()
    where = str(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError(f"{where} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{where} is empty: expected a CSV header with columns {', '.join(COLUMNS)}") from None
    except csv.Error as e:
        raise UserError(f"{where}: line 1: not valid CSV ({e})") from None
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise UserError(f"{where}: header (line 1) lacks column(s) {', '.join(missing)}; expected the "
                        f"columns {', '.join(COLUMNS)}")
    records, seen = [], {}
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise UserError(f"{where}: line {reader.line_num}: not valid CSV ({e})") from None
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank line
        row += 1
        if len(cells) != len(header):
            raise UserError(f"{where}: row {row} (line {line}) has {len(cells)} column(s), expected "
                            f"{len(header)} as in the header (quote fields that contain commas)")
        rec = _validate_row(where, row, line, dict(zip(header, cells)))
        if rec.id in seen:
            raise _err(where, row, line, "id", f"a unique key (already used in row {seen[rec.id]})", rec.id)
        seen[rec.id] = row
        records.append(rec)
    if not records:
        raise UserError(f"{where} has a header but no records")
    return records, str(path), digest, shipped


# --------------------------------------------------------------------------------------------------
# selection


def _norm(s: str) -> str:
    return "".join(str(s).lower().replace("'", "").replace("\u2019", "").split())


def parse_selection(items) -> tuple[dict, tuple | None]:
    """``KEY=VALUE`` strings (or None) -> (filters key -> tuple of values, items as given).

    None or an empty list gives the default selection. ``all`` drops the defaults. A VALUE may hold
    several comma-separated values. Unknown keys, a missing ``=`` or an unknown value of a key with a
    fixed vocabulary (method_class, confidence, side) are one-line UserErrors.
    """
    if isinstance(items, str):
        items = [items]
    if not items:
        return dict(DEFAULT_SELECTION), None
    items = tuple(str(i) for i in items)
    given: dict = {}
    use_default = True
    for item in items:
        if item.strip().lower() == "all":
            use_default = False
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise UserError(f"--select expects KEY=VALUE (KEY one of {', '.join(SELECT_KEYS)}) or 'all', "
                            f"got {item!r}")
        if key not in SELECT_KEYS:
            raise UserError(f"--select {item!r}: unknown key '{key}', expected one of {', '.join(SELECT_KEYS)}")
        vocab = {"method_class": METHOD_CLASSES, "confidence": CONFIDENCES, "side": SIDES}.get(key)
        for v in (x.strip() for x in value.split(",")):
            if not v:
                raise UserError(f"--select {item!r}: empty value for '{key}'")
            if vocab is not None and v not in vocab:
                raise UserError(f"--select {item!r}: unknown {key} '{v}', expected one of {', '.join(vocab)}")
            given.setdefault(key, [])
            if v not in given[key]:
                given[key].append(v)
    sel = dict(DEFAULT_SELECTION) if use_default else {}
    sel.update({k: tuple(v) for k, v in given.items()})
    return sel, items


def _matches(record: Record, key: str, values) -> bool:
    have = _norm(getattr(record, key))
    for v in values:
        want = _norm(v)
        if have == want:
            return True
        if key == "mission" and str(getattr(record, key)).lower().startswith(str(v).lower().strip() + " "):
            return True
    return False


def apply_selection(records, selection: dict) -> list[Record]:
    """The records passing every key's filter (values of one key OR-ed, keys AND-ed)."""
    return [r for r in records if all(_matches(r, k, vals) for k, vals in selection.items())]


def selection_text(selection: dict, items=None) -> str:
    """Compact description, e.g. ``confidence=high,medium method_class=whole_rock,whole_rock_arm (default)``."""
    if not selection:
        return "all records"
    text = " ".join(f"{k}={','.join(v)}" for k, v in selection.items())
    return text + (" (default)" if items is None else "")


def load_observations(data=None, select=None) -> Observations:
    """The validated record (shipped or ``data``) with the selection applied.

    An ``id``/``mission`` value that matches no record, or a selection that leaves no record, is a
    one-line UserError naming it.
    """
    records, path, digest, shipped = read_records(data)
    selection, items = parse_selection(select)
    for key in ("id", "mission"):
        for v in selection.get(key, ()):
            if not any(_matches(r, key, (v,)) for r in records):
                known = sorted({getattr(r, key) for r in records})
                raise UserError(f"--select {key}={v}: no record in {path} has {key} '{v}' "
                                f"(known: {', '.join(known)})")
    chosen = apply_selection(records, selection)
    if not chosen:
        raise UserError(f"the selection {selection_text(selection, items)} leaves no record of {path}")
    return Observations(records=tuple(chosen), n_total=len(records), path=path, sha256=digest,
                        selection=selection, select_items=items, shipped=shipped)


def records_table(obs: Observations) -> list[list[str]]:
    """The selected records as text cells for ``lunadyn data`` (header first)."""
    def num(v, fmt="g"):
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, fmt)

    rows = [["id", "mission", "side", "lat", "age Ga", "+-", "dist", "kind", "B uT", "low", "high",
             "method", "conf"]]
    for r in obs.records:
        rows.append([r.id, r.mission, r.side, num(r.site_lat_deg, ".2f"), num(r.age_ga), num(r.age_err_ga),
                     r.age_dist, r.kind, num(r.b_ut), num(r.b_low_ut), num(r.b_high_ut), r.method_class,
                     r.confidence])
    return rows
