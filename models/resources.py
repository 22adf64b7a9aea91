"""Knowledge resources: administrative units, official agency names, titles, as data files.

The files live in `models/resources/` (the model stage owns them; the wheel carries a copy). Each is
UTF-8 TSV: `# key: value` header lines (at least `source` and `version`), one column-name line, then
one entry a line. Nothing here hard-codes a list: every name, abbreviation and title comes from a file,
and every check a file fails names the file and line.

- admin_units.tsv / admin_mapping.tsv: generated from a pinned `vietnamadminunits` release
  (`vnreorg model resources build`, models/resources_build.py);
- unit_abbreviations.tsv, agencies.tsv, titles.tsv: written by the team from public facts.

Matching forms are always type-prefixed or official: "xã Hợp Nhất", "TP. Vinh", "Sở GD-ĐT". A bare short
unit name ("Hợp Nhất" is also a commune) is never a form, and a form equal to an action trigger
(`vnreorg.models.rules.ACTION_TRIGGERS`) is an error.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from vnreorg.errors import VnreorgError

RESOURCES_DIR = Path(__file__).parent / "resources"

ADMIN_UNITS_FILE = "admin_units.tsv"
ADMIN_MAPPING_FILE = "admin_mapping.tsv"
UNIT_ABBREVIATIONS_FILE = "unit_abbreviations.tsv"
AGENCIES_FILE = "agencies.tsv"
TITLES_FILE = "titles.tsv"

ADMIN_UNIT_COLUMNS = ("code", "type", "name", "full_name", "province_code", "province_name", "district_code", "level", "era")
ADMIN_MAPPING_COLUMNS = (
    "level",
    "old_code",
    "old_full_name",
    "old_province",
    "new_code",
    "new_full_name",
    "new_province",
    "split",
    "default",
)
UNIT_ABBREVIATION_COLUMNS = ("type", "abbreviation")
AGENCY_COLUMNS = ("name", "abbreviations", "kind", "scope", "era")
TITLE_COLUMNS = ("form", "kind", "position")

LEVELS = ("province", "district", "commune")
ERAS = ("pre2025", "post2025")
AGENCY_ERAS = ("pre2025", "post2025", "both")
TITLE_KINDS = ("head", "modifier", "membership")
POSITIONS = ("prefix", "suffix", "-")
REQUIRED_HEADER = ("source", "version")


@dataclass(frozen=True)
class AdminUnit:
    code: str
    type: str  # lower-case type word: xã, phường, thị trấn, huyện, quận, thị xã, thành phố, tỉnh, đặc khu
    name: str  # the short name: never matched alone
    full_name: str
    province_code: str
    province_name: str
    district_code: str
    level: str
    era: str


@dataclass(frozen=True)
class AdminMapping:
    level: str
    old_code: str
    old_full_name: str
    old_province: str
    new_code: str
    new_full_name: str
    new_province: str
    split: bool
    default: bool


@dataclass(frozen=True)
class Agency:
    name: str
    abbreviations: tuple[str, ...]
    kind: str
    scope: str
    era: str

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.name, *self.abbreviations)


@dataclass(frozen=True)
class Title:
    form: str
    kind: str  # head | modifier | membership
    position: str  # prefix | suffix for modifiers, "-" otherwise


@dataclass(frozen=True, eq=False)  # hashed by identity: the cached loaders return one object
class Resources:
    admin_units: tuple[AdminUnit, ...]
    admin_mapping: tuple[AdminMapping, ...]
    unit_abbreviations: dict[str, tuple[str, ...]]
    agencies: tuple[Agency, ...]
    titles: tuple[Title, ...]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # file name -> header

    def unit_forms(self, unit: AdminUnit) -> tuple[str, ...]:
        """Type-prefixed forms of a unit: the full name, with a lower-case type word, and abbreviated
        ("TP. Vinh", "TP.Vinh"). Never the bare short name."""
        forms = [unit.full_name, f"{unit.type} {unit.name}"]
        for abbr in self.unit_abbreviations.get(unit.type, ()):
            forms += [f"{abbr} {unit.name}", f"{abbr}{unit.name}"]
        return tuple(dict.fromkeys(forms))

    def sizes(self) -> dict[str, int]:
        return {
            "admin_units": len(self.admin_units),
            "admin_mapping": len(self.admin_mapping),
            "unit_abbreviations": sum(len(v) for v in self.unit_abbreviations.values()),
            "agencies": len(self.agencies),
            "agency_abbreviations": sum(len(a.abbreviations) for a in self.agencies),
            "titles": len(self.titles),
            "agency_forms": len(self.agency_forms()),
            "title_forms": len(self.title_forms()),
        }

    def agency_forms(self) -> frozenset[str]:
        """Every form an AGENCY mention may take, case-folded: agency names and abbreviations, units."""
        return _agency_forms(self)

    def title_forms(self) -> frozenset[str]:
        return frozenset(fold(t.form) for t in self.titles if t.kind != "modifier")

    def titles_of(self, kind: str) -> tuple[Title, ...]:
        return tuple(t for t in self.titles if t.kind == kind)


@lru_cache(maxsize=8)
def _agency_forms(res: Resources) -> frozenset[str]:
    forms = {fold(f) for a in res.agencies for f in a.forms}
    forms |= {fold(f) for u in res.admin_units for f in res.unit_forms(u)}
    return frozenset(forms)


def _tone_placements() -> dict[str, str]:
    """Old-style tone placement ("uỷ", "hoá") -> new style ("ủy", "hóa"): news uses both."""
    tones = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # grave, acute, hook, tilde, dot below
    out = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in tones:
            old = unicodedata.normalize("NFC", first + second + tone)
            out[old] = unicodedata.normalize("NFC", first + tone + second)
    return out


_TONE_PLACEMENT = _tone_placements()


def fold(text: str) -> str:
    """Case-folded, NFC, single spaces, one tone placement ("Thị uỷ" = "thị ủy"): how forms are compared."""
    text = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    for old, new in _TONE_PLACEMENT.items():
        if old in text:
            text = text.replace(old, new)
    return text


# --- reading ---------------------------------------------------------------------------------------


@dataclass
class _Row:
    path: Path
    line: int
    values: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def read_table(path: str | os.PathLike, columns: tuple[str, ...]) -> tuple[dict[str, str], list[_Row]]:
    """Header and rows of one resource file; malformed lines raise VnreorgError naming file:line."""
    path = Path(path)
    if not path.exists():
        raise VnreorgError("resource file not found", str(path))
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise VnreorgError(f"not UTF-8 (byte {exc.start})", str(path)) from None
    header: dict[str, str] = {}
    rows: list[_Row] = []
    seen_columns = False
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if not seen_columns and line.startswith("#"):
            key, sep, value = line.lstrip("#").partition(":")
            if sep:
                header.setdefault(key.strip(), value.strip())
            continue
        if not seen_columns:
            missing = [k for k in REQUIRED_HEADER if k not in header]
            if missing:
                raise VnreorgError(
                    f"header lacks {', '.join(f'# {k}: ...' for k in missing)} before the column line", f"{path}:{n}"
                )
            if tuple(line.split("\t")) != columns:
                raise VnreorgError(f"expected the column line {' <TAB> '.join(columns)!r}, got {line!r}", f"{path}:{n}")
            seen_columns = True
            continue
        if line.startswith("#"):
            continue  # a comment between entries
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise VnreorgError(
                f"expected {len(columns)} tab-separated fields ({', '.join(columns)}), got {len(fields)}", f"{path}:{n}"
            )
        for col, value in zip(columns, fields):
            if value != value.strip():
                raise VnreorgError(f"field {col!r} has leading or trailing spaces: {value!r}", f"{path}:{n}")
            if unicodedata.normalize("NFC", value) != value:
                raise VnreorgError(f"field {col!r} is not NFC: {value!r}", f"{path}:{n}")
        rows.append(_Row(path, n, dict(zip(columns, fields))))
    if not seen_columns:
        raise VnreorgError("no column line (empty resource file?)", str(path))
    return header, rows


def _require(row: _Row, names: Iterable[str]) -> None:
    for name in names:
        if not row.values[name]:
            raise VnreorgError(f"field {name!r} is empty", row.where)


def _one_of(row: _Row, name: str, allowed: tuple[str, ...]) -> str:
    value = row.values[name]
    if value not in allowed:
        raise VnreorgError(f"field {name!r} is {value!r}, expected one of {', '.join(allowed)}", row.where)
    return value


def _no_duplicates(rows: list[_Row], key: Callable[[_Row], object], what: str) -> None:
    first: dict[object, _Row] = {}
    for row in rows:
        k = key(row)
        if k in first:
            raise VnreorgError(f"duplicate {what} {k!r} (first on line {first[k].line})", row.where)
        first[k] = row


def _check_triggers(row: _Row, forms: Iterable[str], triggers: frozenset[str]) -> None:
    for form in forms:
        if fold(form) in triggers:
            raise VnreorgError(f"form {form!r} is an action trigger word: it would turn every trigger into a name", row.where)


def action_triggers() -> frozenset[str]:
    from vnreorg.models.rules import ACTION_TRIGGERS

    return frozenset(fold(t) for t in ACTION_TRIGGERS)


def _admin_units(path: Path, triggers: frozenset[str], abbreviations: dict[str, tuple[str, ...]]):
    header, rows = read_table(path, ADMIN_UNIT_COLUMNS)
    units = []
    for row in rows:
        _require(row, ("code", "type", "name", "full_name", "province_code", "level", "era"))
        v = row.values
        _one_of(row, "level", LEVELS)
        _one_of(row, "era", ERAS)
        if fold(v["full_name"]) != fold(f"{v['type']} {v['name']}"):
            raise VnreorgError(
                f"full name {v['full_name']!r} is not its type word {v['type']!r} followed by its name "
                f"{v['name']!r} (a bare name never matches)",
                row.where,
            )
        unit = AdminUnit(**v)
        forms = [unit.full_name, f"{unit.type} {unit.name}"]
        forms += [f"{a} {unit.name}" for a in abbreviations.get(unit.type, ())]
        _check_triggers(row, forms, triggers)
        units.append(unit)
    _no_duplicates(rows, lambda r: (r.values["era"], r.values["level"], r.values["code"]), "unit (era, level, code)")
    return header, tuple(units)


def _admin_mapping(path: Path):
    header, rows = read_table(path, ADMIN_MAPPING_COLUMNS)
    out = []
    for row in rows:
        _require(row, ADMIN_MAPPING_COLUMNS)
        _one_of(row, "level", LEVELS)
        _one_of(row, "split", ("0", "1"))
        _one_of(row, "default", ("0", "1"))
        v = dict(row.values)
        out.append(AdminMapping(**{**v, "split": v["split"] == "1", "default": v["default"] == "1"}))
    _no_duplicates(rows, lambda r: (r.values["level"], r.values["old_code"], r.values["new_code"]), "mapping")
    return header, tuple(out)


def _unit_abbreviations(path: Path, triggers: frozenset[str]):
    header, rows = read_table(path, UNIT_ABBREVIATION_COLUMNS)
    out: dict[str, list[str]] = {}
    for row in rows:
        _require(row, UNIT_ABBREVIATION_COLUMNS)
        _check_triggers(row, [row.values["abbreviation"]], triggers)
        out.setdefault(row.values["type"], []).append(row.values["abbreviation"])
    _no_duplicates(rows, lambda r: (r.values["type"], r.values["abbreviation"]), "abbreviation")
    return header, {k: tuple(v) for k, v in out.items()}


def _agencies(path: Path, triggers: frozenset[str]):
    header, rows = read_table(path, AGENCY_COLUMNS)
    out = []
    form_line: dict[str, _Row] = {}
    for row in rows:
        _require(row, ("name", "kind", "scope", "era"))
        _one_of(row, "era", AGENCY_ERAS)
        abbrs = tuple(a.strip() for a in row.values["abbreviations"].split(";")) if row.values["abbreviations"] else ()
        if any(not a for a in abbrs):
            raise VnreorgError("empty abbreviation between ';'", row.where)
        agency = Agency(row.values["name"], abbrs, row.values["kind"], row.values["scope"], row.values["era"])
        _check_triggers(row, agency.forms, triggers)
        for form in dict.fromkeys(fold(f) for f in agency.forms):
            if form in form_line:
                raise VnreorgError(f"duplicate agency form {form!r} (first on line {form_line[form].line})", row.where)
            form_line[form] = row
        out.append(agency)
    return header, tuple(out)


def _titles(path: Path, triggers: frozenset[str]):
    header, rows = read_table(path, TITLE_COLUMNS)
    out = []
    for row in rows:
        _require(row, TITLE_COLUMNS)
        kind = _one_of(row, "kind", TITLE_KINDS)
        position = _one_of(row, "position", POSITIONS)
        if (kind == "modifier") != (position != "-"):
            raise VnreorgError("a modifier has position prefix or suffix; other titles have '-'", row.where)
        _check_triggers(row, [row.values["form"]], triggers)
        out.append(Title(**row.values))
    _no_duplicates(rows, lambda r: fold(r.values["form"]), "title")
    return header, tuple(out)


def load_resources(directory: str | os.PathLike | None = None) -> Resources:
    """All resources of a folder (default: the package's models/resources), cached per folder."""
    return _load(str(Path(directory or RESOURCES_DIR).resolve()))


@lru_cache(maxsize=4)
def _load(directory: str) -> Resources:
    d = Path(directory)
    triggers = action_triggers()
    headers = {}
    headers[UNIT_ABBREVIATIONS_FILE], abbreviations = _unit_abbreviations(d / UNIT_ABBREVIATIONS_FILE, triggers)
    headers[ADMIN_UNITS_FILE], units = _admin_units(d / ADMIN_UNITS_FILE, triggers, abbreviations)
    headers[ADMIN_MAPPING_FILE], mapping = _admin_mapping(d / ADMIN_MAPPING_FILE)
    headers[AGENCIES_FILE], agencies = _agencies(d / AGENCIES_FILE, triggers)
    headers[TITLES_FILE], titles = _titles(d / TITLES_FILE, triggers)
    return Resources(units, mapping, abbreviations, agencies, titles, headers)


# --- measuring -------------------------------------------------------------------------------------


def agency_coverage(docs, resources: Resources) -> dict:
    """Share of AGENCY spans a resource form covers: exactly (the whole span is a form), or at its head
    (the span starts with a form on a word edge: "Sở Nội vụ tỉnh Sóc Trăng", "UBND huyện")."""
    forms = resources.agency_forms()
    total = exact = head = 0
    missed: dict[str, int] = {}
    for doc in docs:
        for span in doc.spans:
            if span.label != "AGENCY":
                continue
            total += 1
            raw = doc.text[span.start : span.end]
            text = fold(raw)
            words = text.split(" ")
            if text in forms:
                exact += 1
                head += 1
            elif any(" ".join(words[:k]) in forms for k in range(len(words) - 1, 0, -1)):
                head += 1
            else:
                missed[raw] = missed.get(raw, 0) + 1
    return {
        "agency_spans": total,
        "exact": exact,
        "head_or_exact": head,
        "exact_share": exact / total if total else 0.0,
        "head_or_exact_share": head / total if total else 0.0,
        "missed_most_common": sorted(missed.items(), key=lambda kv: (-kv[1], kv[0]))[:15],
    }
