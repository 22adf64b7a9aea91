"""Merge events among administrative units checked against the official 2025 old -> new mapping.

`models/resources/admin_mapping.tsv` says, for every pre-2025 province and commune, which post-2025 unit
it went into. A merge event whose sources are linked pre-2025 units gets a verdict:

- `confirmed`: every source maps to the linked target (or, without a linked target, all sources map to
  one and the same new unit);
- `contradicted`: a source maps elsewhere; the official record (old -> new) is shown;
- `not_covered`: an event dated before 2025 (earlier waves, such as the 2019-2020 commune mergers of all
  five seeds), a source the mapping does not hold, a target named in its old era, or nothing to compare.
Only participants that are units themselves count ("xã Vân Hà", not "Trạm Y tế xã Vân Hà").
Events that are not mergers of linked units get no verdict (None).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from vnreorg.models.resources import AdminMapping, Resources, load_resources

CHECKED_TYPES = frozenset({"merge"})


@lru_cache(maxsize=4)
def _mapping(res: Resources) -> dict[tuple[str, str], tuple[AdminMapping, ...]]:
    out: dict[tuple[str, str], list[AdminMapping]] = {}
    for row in res.admin_mapping:
        out.setdefault((row.level, row.old_code), []).append(row)
    return {k: tuple(v) for k, v in out.items()}


def _linked(participants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Links of participants that are units themselves (not bodies of units: "Trạm Y tế xã X")."""
    return [p["link"] for p in participants if (p.get("link") or {}).get("status") == "linked" and p["link"].get("whole", True)]


def _year(event: dict[str, Any]) -> int | None:
    for key in ("event_date", "article_date"):
        value = str(event.get(key) or "")
        if value[:4].isdigit():
            return int(value[:4])
    return None


def _record(rows: tuple[AdminMapping, ...]) -> list[dict[str, Any]]:
    return [
        {
            "old": f"{r.old_full_name} ({r.old_code}, {r.old_province})",
            "new": f"{r.new_full_name} ({r.new_code}, {r.new_province})",
            "new_code": r.new_code,
            "split": r.split,
        }
        for r in rows
    ]


def crosscheck_event(event: dict[str, Any], res: Resources | None = None) -> dict[str, Any] | None:
    """The verdict of one normalised event (with links on its participants), or None when not checkable."""
    if event.get("type") not in CHECKED_TYPES:
        return None
    sources = _linked(event.get("sources") or [])
    if not sources and not _linked(event.get("targets") or []):
        return None
    year = _year(event)
    if year is not None and year < 2025:
        return {"verdict": "not_covered", "why": f"dated {year}: before the 2025 wave the mapping describes"}
    if not sources:
        return {"verdict": "not_covered", "why": "no source is linked to an official unit"}
    res = res or load_resources()
    mapping = _mapping(res)
    targets = _linked(event.get("targets") or [])
    records, uncovered = [], []
    for src in sources:
        rows = mapping.get((src["level"], src["code"])) if src["era"] == "pre2025" else None
        if not rows:
            uncovered.append(src["name"])
        else:
            records.append((src, rows))
    if uncovered:
        return {"verdict": "not_covered", "why": f"not in the 2025 mapping: {', '.join(uncovered)}"}
    official = [_record(rows) for _, rows in records]
    if targets:
        new_targets = [t for t in targets if t["era"] == "post2025"]
        if not new_targets:
            return {"verdict": "not_covered", "why": "the target is named as a pre-2025 unit", "official": official}
        wanted = {t["code"] for t in new_targets}
        bad = [src["name"] for src, rows in records if not wanted & {r.new_code for r in rows}]
        if bad:
            return {"verdict": "contradicted", "why": f"officially {', '.join(bad)} went elsewhere", "official": official}
        return {"verdict": "confirmed", "official": official}
    if len(records) < 2:
        return {"verdict": "not_covered", "why": "one source and no linked target: nothing to compare", "official": official}
    common = set.intersection(*({r.new_code for r in rows} for _, rows in records))
    if common:
        return {"verdict": "confirmed", "why": "the sources went into one new unit", "official": official}
    return {"verdict": "contradicted", "why": "officially the sources went into different units", "official": official}
