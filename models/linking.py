"""Link AGENCY mentions that name an administrative unit to the official unit: code, level, era.

A mention names a unit when it holds a unit's type-prefixed name ("xã Điền Công", "UBND huyện Can Lộc",
"TP. Sóc Trăng"; the rule in models/resources/README.md, "Links"). The forms come from
`models/resources/admin_units.tsv` through `Resources.unit_forms` (never a bare short name). Many names
recur ("Phường 6" is in dozens of towns; "xã Tân Phú" in many provinces) and most commune and province
names changed in 2025, so a link is chosen in two steps:

1. era: the only era that has the name, else the year the sentence states, else the year the document
   states most, else the article's date (before 2025: pre2025, after: post2025; in 2025 a merger's target
   is post2025 and everything else pre2025);
2. homonyms within the era: a province or district named in the mention itself, then in its sentence,
   then anywhere in the document; the best-supported candidate wins, a tie stays `unresolved` with the
   candidates listed.

Everything is read from the local resource files: linking makes no network call.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from vnreorg.errors import VnreorgError
from vnreorg.models.resources import AdminUnit, Resources, fold, load_resources

MAX_FORM_WORDS = 8
_NUMBER_AFTER = re.compile(r" \d+(?!\d|[/.,]\d)")  # "phường Hải Châu 1": the number belongs to the name
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


@dataclass(frozen=True)
class _Index:
    forms: dict[str, tuple[AdminUnit, ...]]  # folded type-prefixed form -> units
    provinces: dict[str, frozenset[str]]  # folded short province name -> province codes (both eras)
    districts: dict[str, frozenset[str]]  # district code -> folded names that identify it in context
    first_words: frozenset[str]


@lru_cache(maxsize=4)
def _index(res: Resources) -> _Index:
    forms: dict[str, list[AdminUnit]] = {}
    for unit in res.admin_units:
        for form in res.unit_forms(unit):
            units = forms.setdefault(fold(form), [])
            if unit not in units:
                units.append(unit)
    provinces: dict[str, set[str]] = {}
    districts = {}
    for unit in res.admin_units:
        if unit.level == "province":
            provinces.setdefault(fold(unit.name), set()).add(unit.province_code)
        elif unit.level == "district":
            # a bare number ("Quận 3") or one-syllable name says nothing alone: only its prefixed forms count
            names = {fold(f) for f in res.unit_forms(unit)}
            if not unit.name.isdigit() and " " in unit.name:
                names.add(fold(unit.name))
            districts[unit.code] = frozenset(names)
    first = frozenset(f.split(" ")[0] for f in forms)
    return _Index({k: tuple(v) for k, v in forms.items()}, {k: frozenset(v) for k, v in provinces.items()}, districts, first)


def _word_starts(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"\S+", text)]


def find_units(text: str, res: Resources | None = None) -> list[tuple[int, int, tuple[AdminUnit, ...]]]:
    """Type-prefixed unit names in a text, leftmost-longest, as (start, end, candidate units); offsets into
    the folded text (same length as the text except for collapsed spaces)."""
    idx = _index(res or load_resources())
    folded = fold(text)
    out = []
    pos = 0
    starts = _word_starts(folded)
    for i, start in enumerate(starts):
        if start < pos:
            continue
        first = re.match(r"\S+", folded[start:]).group(0)
        if first not in idx.first_words:  # abbreviated forms ("tp.vinh") are forms too
            continue
        best = None
        for k in range(min(MAX_FORM_WORDS, len(starts) - i), 0, -1):
            end = starts[i + k] if i + k < len(starts) else len(folded)
            candidate = folded[start:end].rstrip()
            for cut in _cuts(candidate):
                units = idx.forms.get(cut)
                after = start + len(cut)
                if units and (after >= len(folded) or not folded[after].isalnum()) and not _NUMBER_AFTER.match(folded, after):
                    best = (start, after, units)
                    break
            if best:
                break
        if best:
            out.append(best)
            pos = best[1]
    return out


def _cuts(candidate: str) -> list[str]:
    """The candidate and the candidate without trailing punctuation ("Phường 6." -> "phường 6")."""
    stripped = candidate.rstrip('.,;:)”"')
    return [candidate] if stripped == candidate else [candidate, stripped]


def _provinces_in(text: str, idx: _Index, most_only: bool = False) -> set[str]:
    """Province codes named in a text; `most_only`: only those named most often (a document that quotes
    "tư tưởng Hồ Chí Minh" once and names Sóc Trăng ten times is about Sóc Trăng)."""
    folded = fold(text)
    counts: dict[frozenset[str], int] = {}
    for name, codes in idx.provinces.items():
        if name in folded:
            n = len(re.findall(r"(?<!\w)" + re.escape(name) + r"(?!\w)", folded))
            if n:
                counts[codes] = counts.get(codes, 0) + n
    if not counts:
        return set()
    top = max(counts.values())
    return {c for codes, n in counts.items() if n == top or not most_only for c in codes}


def _names_in(text: str, names: set[str]) -> set[str]:
    folded = fold(text)
    return {n for n in names if re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", folded)}


def reference_year(sentence: str, document: str, meta: dict[str, Any] | None) -> int | None:
    """The year a mention is read in: stated in its sentence, else stated most in the document, else the
    article's date."""
    years = [int(y) for y in _YEAR.findall(sentence)]
    if years:
        return years[0]
    counts = Counter(int(y) for y in _YEAR.findall(document))
    if counts:
        return counts.most_common(1)[0][0]
    date = str((meta or {}).get("date") or "")
    m = _YEAR.match(date)
    return int(m.group(1)) if m else None


def choose_era(units: tuple[AdminUnit, ...], year: int | None, role: str | None) -> str | None:
    eras = {u.era for u in units}
    if len(eras) == 1:
        return next(iter(eras))
    if year is None:
        return None
    if year < 2025:
        return "pre2025"
    if year > 2025:
        return "post2025"
    return "post2025" if role == "target" else "pre2025"


def _unit_brief(u: AdminUnit) -> dict[str, Any]:
    return {
        "code": u.code,
        "level": u.level,
        "era": u.era,
        "name": u.full_name,
        "province_code": u.province_code,
        "province": u.province_name,
    }


def link_mention(
    mention: str,
    sentence: str,
    document: str,
    *,
    meta: dict[str, Any] | None = None,
    role: str | None = None,
    res: Resources | None = None,
) -> dict[str, Any] | None:
    """The link of one AGENCY mention, or None when it names no unit. `status` is `linked` (with code,
    level, era) or `unresolved` (with `candidates`)."""
    res = res or load_resources()
    idx = _index(res)
    found = find_units(mention, res)
    if not found:
        return None
    start, end, units = found[0]
    folded = fold(mention)
    rest = folded[:start] + " " + folded[end:]
    era = choose_era(units, reference_year(sentence, document, meta), role)
    pool = [u for u in units if era is None or u.era == era]
    scored = sorted(((_support(u, rest, sentence, document, idx), u) for u in pool), key=lambda su: -su[0])
    best = scored[0][0] if scored else 0
    if best == 0 and era is not None:
        # the year is a weak clue (an article dated after 2025 may retell the merger of old wards): when
        # nothing in the text supports a unit of that era but the text names one of the other era, take it
        other = sorted(((_support(u, rest, sentence, document, idx), u) for u in units if u.era != era), key=lambda su: -su[0])
        if other and other[0][0] > 0:
            scored, era = other, other[0][1].era
            best = other[0][0]
    top = [u for s, u in scored if s == best]
    # whole: the mention is the unit itself ("xã Vân Hà"), not a body of it ("Trạm Y tế xã Vân Hà")
    link: dict[str, Any] = {
        "form": folded[start:end],
        "era_basis": era,
        "whole": not folded[:start].strip() and not folded[end:].strip(" .,;:"),
    }
    named = _provinces_in(f"{rest} {sentence} {document}", idx)
    if best == 0 and named and all(u.level != "province" and u.province_code not in named for u in top):
        # the text names provinces, none of them this unit's: a namesake elsewhere, not this one
        link.update(
            {
                "status": "unresolved",
                "reason": "the text names other provinces",
                "n_candidates": len(top),
                "candidates": [_unit_brief(u) for u in top][:20],
            }
        )
        return link
    if len(top) == 1:
        link.update({"status": "linked", **_unit_brief(top[0]), "support": best})
    else:
        link.update({"status": "unresolved", "candidates": [_unit_brief(u) for u in top][:20], "n_candidates": len(top)})
    return link


def _support(unit: AdminUnit, mention_rest: str, sentence: str, document: str, idx: _Index) -> int:
    """How strongly the context names this unit's province (and district, for a commune): 4 in the
    mention, 2 in the sentence, 1 in the document (the best of the three, per place)."""
    score = 0
    if unit.level != "province":
        score += _place_support(
            lambda text, whole=False: unit.province_code in _provinces_in(text, idx, most_only=whole),
            mention_rest,
            sentence,
            document,
        )
    if unit.level == "commune" and unit.district_code in idx.districts:
        names = set(idx.districts[unit.district_code])
        score += _place_support(lambda text, whole=False: bool(_names_in(text, names)), mention_rest, sentence, document)
    return score


def _place_support(named, mention_rest: str, sentence: str, document: str) -> int:
    if named(mention_rest):
        return 4
    if named(sentence):
        return 2
    if named(document, True):
        return 1
    return 0


def link_document(
    text: str,
    spans: list[Any],
    sentences: list[tuple[int, int]],
    meta: dict[str, Any] | None = None,
    roles: dict[tuple[int, int], str] | None = None,
    res: Resources | None = None,
) -> list[dict[str, Any]]:
    """Links of every AGENCY span of a document (spans with start, end, label), keyed by span offsets."""
    res = res or load_resources()
    out = []
    for span in spans:
        label = span["label"] if isinstance(span, dict) else span.label
        if label != "AGENCY":
            continue
        start = span["start"] if isinstance(span, dict) else span.start
        end = span["end"] if isinstance(span, dict) else span.end
        sent = next(((a, b) for a, b in sentences if a <= start < b), (start, end))
        link = link_mention(
            text[start:end], text[sent[0] : sent[1]], text, meta=meta, role=(roles or {}).get((start, end)), res=res
        )
        if link is not None:
            out.append({"start": start, "end": end, "text": text[start:end], **link})
    return out


# --- measuring against the links gold --------------------------------------------------------------

LINK_GOLD_COLUMNS = ("doc_id", "start", "end", "text", "status", "code", "level", "era", "note")


def read_link_gold(path) -> dict[tuple[str, int, int], dict[str, str]]:
    """The hand-made links (corpus/gold/links.tsv), keyed by (doc id, start, end)."""
    from vnreorg.models.resources import read_table

    _, rows = read_table(path, LINK_GOLD_COLUMNS)
    out = {}
    for row in rows:
        v = row.values
        if v["status"] not in ("linked", "absent"):
            raise VnreorgError(f"status {v['status']!r} is not linked or absent", row.where)
        out[(v["doc_id"], int(v["start"]), int(v["end"]))] = dict(v)
    return out


def measure_links(docs, gold: dict[tuple[str, int, int], dict[str, str]], res: Resources | None = None) -> dict[str, Any]:
    """Precision and recall of the linker on the gold documents' AGENCY spans (roles from their relations).
    A predicted link is right when code, level and era equal the gold's; any link on an `absent` span, or
    on a span the gold does not link, is wrong; an unresolved mention is no link."""
    from vnreorg.metrics import prf

    res = res or load_resources()
    tp = fp = 0
    errors = []
    wanted = {k for k, v in gold.items() if v["status"] == "linked"}
    found = set()
    doc_ids = {k[0] for k in gold}
    for doc in docs:
        if doc.id not in doc_ids:
            continue
        spans = doc.span_by_id()
        roles = {(spans[r.child].start, spans[r.child].end): r.label for r in doc.relations if r.child in spans}
        for link in link_document(doc.text, doc.spans, doc.sentences, doc.meta, roles, res):
            if link["status"] != "linked":
                continue
            key = (doc.id, link["start"], link["end"])
            g = gold.get(key)
            ok = (
                bool(g)
                and g["status"] == "linked"
                and (g["code"], g["level"], g["era"]) == (link["code"], link["level"], link["era"])
            )
            if ok:
                tp += 1
                found.add(key)
            else:
                fp += 1
                errors.append(
                    {
                        "doc_id": doc.id,
                        "text": link["text"],
                        "predicted": [link["code"], link["level"], link["era"]],
                        "gold": [g["code"], g["level"], g["era"]] if g else None,
                    }
                )
    fn = len(wanted - found)
    errors += [
        {"doc_id": k[0], "text": gold[k]["text"], "predicted": None, "gold": [gold[k]["code"], gold[k]["level"], gold[k]["era"]]}
        for k in sorted(wanted - found)
    ]
    p, r, f = prf(tp, tp + fp, len(wanted))
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f, "gold_links": len(wanted), "errors": errors}
