"""Generate the administrative-unit resource files from a pinned `vietnamadminunits` release.

`vietnamadminunits` (MIT) ships a SQLite table of units before and after the 2025 reorganisation and
a JSON map from old to new units. We read those two data files directly, at generation time only:
the committed TSV files are what the rules, features and the wheel use, so neither the run nor the
wheel needs the package (or its geopy/shapely). Its `convert_address` is never called (it can
reach an online geocoder).

`vnreorg model resources build` runs this; the version is pinned and checked, so the files are
reproducible byte for byte.
"""

from __future__ import annotations

import json
import sqlite3
from importlib import metadata
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import write_atomic
from vnreorg.models.resources import (
    ADMIN_MAPPING_COLUMNS,
    ADMIN_MAPPING_FILE,
    ADMIN_UNIT_COLUMNS,
    ADMIN_UNITS_FILE,
    RESOURCES_DIR,
)

PACKAGE = "vietnamadminunits"
PINNED_VERSION = "1.0.4"
LICENCE = "MIT"

# Unit type words as the package spells them (capitalised) -> the type word we record (lower case).
_TYPE_WORDS = ("thành phố", "tỉnh", "huyện", "quận", "thị xã", "thị trấn", "phường", "xã", "đặc khu")


def _check_version() -> Path:
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise VnreorgError(
            f"{PACKAGE} is not installed; it is needed only to regenerate the resources: "
            f"pip install 'vnreorg[resources]' (pins {PACKAGE}=={PINNED_VERSION})"
        ) from None
    if version != PINNED_VERSION:
        raise VnreorgError(
            f"{PACKAGE} {version} is installed, the resources are pinned to {PINNED_VERSION}: "
            f"pip install {PACKAGE}=={PINNED_VERSION}"
        )
    import importlib.util

    spec = importlib.util.find_spec(PACKAGE)  # locate the data without importing the package (geopy, shapely)
    if spec is None or not spec.submodule_search_locations:
        raise VnreorgError(f"{PACKAGE} {version} is installed but its folder was not found")
    data = Path(list(spec.submodule_search_locations)[0]) / "data"
    for name in ("dataset.db", "converter_2025.json"):
        if not (data / name).exists():
            raise VnreorgError(f"{PACKAGE} {version}: data file missing", str(data / name))
    return data


def _type_word(full_name: str) -> str:
    low = full_name.lower()
    for word in _TYPE_WORDS:
        if low.startswith(word + " "):
            return word
    raise VnreorgError(f"{PACKAGE}: unit name {full_name!r} does not start with a known type word")


def _unit(code, full_name, short, province_code, province_short, level, era, district_code="") -> dict:
    type_word = _type_word(full_name)
    # The name is the full name after its type word: the package's short names carry disambiguation
    # ("Kỳ Anh (Huyện)") or repeat the type of numbered units ("Phường 6").
    name = full_name[len(type_word) + 1 :]
    return {
        "code": code,
        "type": type_word,
        "name": name,
        "full_name": full_name,
        "province_code": province_code,
        "province_name": province_short,
        "district_code": district_code,
        "level": level,
        "era": era,
    }


def _rows(conn: sqlite3.Connection, sql: str) -> list[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    return list(conn.execute(sql))


def admin_units(data: Path) -> tuple[list[dict], dict]:
    """All units of both eras, plus key -> unit look-ups for the mapping (old 'prov_dist_ward' keys,
    new (province key, ward key))."""
    units: list[dict] = []
    old_by_key: dict[str, dict] = {}
    new_by_key: dict[tuple[str, str], dict] = {}
    prov_by_key: dict[tuple[str, str], dict] = {}
    with sqlite3.connect(data / "dataset.db") as conn:
        legacy = _rows(conn, "SELECT * FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode")
        current = _rows(conn, "SELECT * FROM admin_units ORDER BY provinceCode, wardCode")
    seen: set[tuple[str, str, str]] = set()

    def add(unit: dict) -> dict:
        key = (unit["era"], unit["level"], unit["code"])
        if key not in seen:
            seen.add(key)
            units.append(unit)
        return unit

    for r in legacy:
        p = add(
            _unit(
                r["provinceCode"], r["province"], r["provinceShort"], r["provinceCode"], r["provinceShort"], "province", "pre2025"
            )
        )
        prov_by_key[("pre2025", r["provinceKey"])] = p
        d = add(
            _unit(
                r["districtCode"], r["district"], r["districtShort"], r["provinceCode"], r["provinceShort"], "district", "pre2025"
            )
        )
        old_by_key[f"{r['provinceKey']}_{r['districtKey']}_"] = d  # island districts without communes
        if r["ward"]:
            w = add(
                _unit(
                    r["wardCode"],
                    r["ward"],
                    r["wardShort"],
                    r["provinceCode"],
                    r["provinceShort"],
                    "commune",
                    "pre2025",
                    r["districtCode"],
                )
            )
            old_by_key[f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"] = w
    for r in current:
        p = add(
            _unit(
                r["provinceCode"],
                r["province"],
                r["provinceShort"],
                r["provinceCode"],
                r["provinceShort"],
                "province",
                "post2025",
            )
        )
        prov_by_key[("post2025", r["provinceKey"])] = p
        w = add(_unit(r["wardCode"], r["ward"], r["wardShort"], r["provinceCode"], r["provinceShort"], "commune", "post2025"))
        new_by_key[(r["provinceKey"], r["wardKey"])] = w
    order = {"province": 0, "district": 1, "commune": 2}
    units.sort(key=lambda u: (u["era"] != "pre2025", order[u["level"]], u["code"]))
    return units, {"old": old_by_key, "new": new_by_key, "province": prov_by_key}


def admin_mapping(data: Path, keys: dict) -> tuple[list[dict], list[str]]:
    """Old -> new rows (provinces and communes); the old keys the package maps but cannot resolve."""
    conv = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))
    rows: list[dict] = []
    unresolved: list[str] = []

    def row(level, old, new, split, default):
        return {
            "level": level,
            "old_code": old["code"],
            "old_full_name": old["full_name"],
            "old_province": old["province_name"],
            "new_code": new["code"],
            "new_full_name": new["full_name"],
            "new_province": new["province_name"],
            "split": "1" if split else "0",
            "default": "1" if default else "0",
        }

    for new_prov, olds in conv["DICT_PROVINCE"].items():
        new = keys["province"][("post2025", new_prov)]
        for old_prov in olds:
            rows.append(row("province", keys["province"][("pre2025", old_prov)], new, False, True))
    for new_prov, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, olds in wards.items():
            new = keys["new"][(new_prov, new_ward)]
            for old_key in olds:
                if old_key not in keys["old"]:
                    unresolved.append(old_key)
                    continue
                old = keys["old"][old_key]
                rows.append(row("commune" if old["level"] == "commune" else "district", old, new, False, True))
    for new_prov, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in olds.items():
            if old_key not in keys["old"]:
                unresolved.append(old_key)
                continue
            for t in targets:
                new = keys["new"][(new_prov, t["newWardKey"])]
                rows.append(row("commune", keys["old"][old_key], new, True, bool(t["isDefaultNewWard"])))
    order = {"province": 0, "district": 1, "commune": 2}
    rows.sort(key=lambda r: (order[r["level"]], r["old_code"], r["new_code"]))
    return rows, sorted(set(unresolved))


def _tsv(header: list[str], columns: tuple[str, ...], rows: list[dict]) -> str:
    lines = [f"# {h}" for h in header] + ["\t".join(columns)]
    lines += ["\t".join(str(r[c]) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def build_admin_resources(out_dir: Path = RESOURCES_DIR) -> dict[str, int]:
    """Write admin_units.tsv and admin_mapping.tsv; return row counts."""
    data = _check_version()
    units, keys = admin_units(data)
    mapping, unresolved = admin_mapping(data, keys)
    source = f"source: {PACKAGE}=={PINNED_VERSION} ({LICENCE}), data/dataset.db tables admin_units_legacy and admin_units"
    common = [f"version: {PINNED_VERSION}", "generated-by: vnreorg model resources build (do not edit by hand)"]
    write_atomic(
        out_dir / ADMIN_UNITS_FILE,
        _tsv(
            [
                source,
                *common,
                "era: pre2025 = 63 provinces / districts / communes before 2025-07-01; post2025 = 34 provinces "
                "and communes after",
                "type words are lower case; full_name is the package's own spelling",
            ],
            ADMIN_UNIT_COLUMNS,
            units,
        ),
    )
    write_atomic(
        out_dir / ADMIN_MAPPING_FILE,
        _tsv(
            [
                f"source: {PACKAGE}=={PINNED_VERSION} ({LICENCE}), data/converter_2025.json (old -> new, keyed by "
                "accent-free names, resolved here to official codes)",
                *common,
                "level: province, commune, or district (island districts that became special zones); split = 1: the old commune was divided; default = 1: the package's default new unit",
                f"unresolved old keys (in the package's map, not in its unit table): {len(unresolved)}: {', '.join(unresolved)}",
            ],
            ADMIN_MAPPING_COLUMNS,
            mapping,
        ),
    )
    return {"admin_units": len(units), "admin_mapping": len(mapping), "unresolved": len(unresolved)}
