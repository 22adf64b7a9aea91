"""Normalised restructuring events from `extract` output: typed, with normalised names, dates and provenance.

`extract` gives one raw event per action trigger (the trigger, its sources, targets and amounts, its
sentence). A researcher wants a table: what kind of action, which bodies under one spelling, when, reported
by whom, and where each fact came from. This module turns the raw events into such rows:

- the type comes from the trigger through `models/resources/event_triggers.tsv` (a data file, checked on load);
- names are normalised: abbreviations expanded from the resources (UBND -> Ủy ban nhân dân, TP. -> thành
  phố), spacing and tone placement normalised, the canonical spelling of a resource entry when the name is one;
- the event's own date when its sentence states one; the article's date, outlet and title from metadata;
- provenance: document id and source, sentence and offsets, the model's confidences.

`read_extraction` is the one reader: extract's JSONL today, or a Parquet dataset folder with the same record
fields (the archive output); both yield plain dicts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from vnreorg.errors import VnreorgError
from vnreorg.models.resources import RESOURCES_DIR, Resources, fold, load_resources, read_table

EVENT_TRIGGERS_FILE = "event_triggers.tsv"
EVENT_TRIGGER_COLUMNS = ("trigger", "type")
EVENT_TYPES = (
    "merge",
    "dissolve",
    "establish",
    "rename",
    "split",
    "transfer",
    "end_activity",
    "title_combination",
    "cut",
    "reorganise",
    "convert",
)
OTHER = "other"


# --- the trigger table -----------------------------------------------------------------------------


def load_event_triggers(path: str | Path | None = None) -> dict[str, str]:
    """Folded trigger -> type; a type outside EVENT_TYPES, an empty field or a repeated trigger is an
    error naming file and line."""
    return dict(_load_triggers(str(Path(path or RESOURCES_DIR / EVENT_TRIGGERS_FILE).resolve())))


@lru_cache(maxsize=4)
def _load_triggers(path: str) -> tuple[tuple[str, str], ...]:
    _, rows = read_table(path, EVENT_TRIGGER_COLUMNS)
    out: dict[str, str] = {}
    lines: dict[str, int] = {}
    for row in rows:
        trigger, kind = row.values["trigger"], row.values["type"]
        if not trigger or not kind:
            raise VnreorgError("empty trigger or type", row.where)
        if kind not in EVENT_TYPES:
            raise VnreorgError(f"type {kind!r} is not one of {', '.join(EVENT_TYPES)}", row.where)
        key = fold(trigger)
        if key in out:
            raise VnreorgError(f"duplicate trigger {key!r} (first on line {lines[key]})", row.where)
        out[key] = kind
        lines[key] = row.line
    return tuple(out.items())


def event_type(trigger: str, table: dict[str, str] | None = None) -> str:
    """The type of a trigger: the whole trigger, else the longest table entry it starts with on a word
    edge ("sáp nhập giảm" -> merge), else 'other'."""
    table = table if table is not None else load_event_triggers()
    key = fold(trigger).strip(' ,;:.“”"')
    if key in table:
        return table[key]
    best = ""
    for entry in table:
        if len(entry) > len(best) and (key.startswith(entry + " ") or key.startswith(entry + ",")):
            best = entry
    return table[best] if best else OTHER


# --- reading extract output ------------------------------------------------------------------------


def read_extraction(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records of `extract` output: a JSONL file (one record a line), or a Parquet file or dataset folder
    (archive output) with the same fields. Skipped inputs are passed through (they carry `skipped`)."""
    path = Path(path)
    if not path.exists():
        raise VnreorgError("no such file or folder", str(path))
    parquet = sorted(path.rglob("*.parquet")) if path.is_dir() else ([path] if path.suffix == ".parquet" else [])
    if path.is_dir() and not parquet:
        raise VnreorgError("folder holds no .parquet files (expected extract JSONL or a Parquet dataset)", str(path))
    if parquet:
        yield from _read_parquet(parquet)
        return
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise VnreorgError(f"not JSON ({exc.msg} at column {exc.colno})", f"{path}:{n}") from None
            if not isinstance(rec, dict):
                raise VnreorgError("a record must be a JSON object", f"{path}:{n}")
            rec.setdefault("_where", f"{path}:{n}")
            yield rec


def _read_parquet(files: list[Path]) -> Iterator[dict[str, Any]]:
    """Rows of a Parquet dataset. A records table (one row per text, nested fields) is read as is; an
    `events` table (one row per event with a `doc_id`/`id` column) is grouped back into records."""
    import pyarrow.parquet as pq

    events_tables = [f for f in files if f.parent.name == "events" or f.stem.startswith("events")]
    chosen = events_tables or files
    grouped: dict[str, dict[str, Any]] = {}
    for f in chosen:
        for n, row in enumerate(pq.read_table(f).to_pylist(), 1):
            row = {
                k: (json.loads(v) if isinstance(v, str) and k in ("meta", "sentence", "action") and v[:1] == "{" else v)
                for k, v in row.items()
            }
            if "events" in row or not events_tables:
                row.setdefault("_where", f"{f}:{n}")
                yield row
                continue
            doc = str(row.get("doc_id") or row.get("id") or "")
            rec = grouped.setdefault(
                doc, {"id": doc, "source": row.get("source"), "meta": row.get("meta"), "events": [], "_where": f"{f}:{n}"}
            )
            rec["events"].append(row)
    yield from grouped.values()


def read_documents_meta(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """Metadata by document id and by source-file stem from a corpus JSONL (`--docs`), for extract output
    of plain text files, which carries no metadata of its own."""
    if not path:
        return {}
    from vnreorg.jsonio import read_documents

    out: dict[str, dict[str, Any]] = {}
    for doc in read_documents(path):
        out[doc.id] = doc.meta
        if doc.meta.get("source_file"):
            out.setdefault(Path(str(doc.meta["source_file"])).stem, doc.meta)
    return out


# --- normalising names, amounts, dates -------------------------------------------------------------


@dataclass(frozen=True)
class _NameTables:
    expansions: tuple[tuple[re.Pattern, str], ...]
    canonical: dict[str, str]


@lru_cache(maxsize=4)
def _name_tables(res: Resources) -> _NameTables:
    """Abbreviation -> full form (agencies' short forms of one word, e.g. UBND, HĐND, MTTQ; unit type
    abbreviations, e.g. TP., TX.), and folded form -> canonical spelling (agency names, unit full names)."""
    pairs: dict[str, str] = {}
    for agency in res.agencies:
        for abbr in agency.abbreviations:
            if " " not in abbr and abbr.upper() == abbr and len(abbr) >= 2:
                pairs.setdefault(abbr, agency.name)
    for type_word, abbrs in res.unit_abbreviations.items():
        for abbr in abbrs:
            pairs.setdefault(abbr, type_word)
    expansions = []
    for abbr, full in sorted(pairs.items(), key=lambda kv: -len(kv[0])):
        tail = r"\s*" if abbr.endswith(".") else r"(?!\w)"
        expansions.append((re.compile(r"(?<!\w)" + re.escape(abbr) + tail), full + " " if abbr.endswith(".") else full))
    canonical: dict[str, str] = {}
    for agency in res.agencies:
        canonical.setdefault(fold(agency.name), agency.name)
    for unit in res.admin_units:
        canonical.setdefault(fold(unit.full_name), unit.full_name)
    return _NameTables(tuple(expansions), canonical)


def normalise_name(text: str, res: Resources | None = None) -> str:
    """One spelling for a body or title: abbreviations expanded, spaces single, tone placement new-style,
    the resources' canonical spelling when the whole name is an entry, else the first letter upper-case."""
    res = res or load_resources()
    tables = _name_tables(res)
    out = " ".join(text.split())
    for pattern, full in tables.expansions:
        out = pattern.sub(full, out)
    out = " ".join(out.split()).strip(" ,;:")
    folded = fold(out)
    if folded in tables.canonical:
        return tables.canonical[folded]
    # tone placement as fold() does it, case kept
    words = []
    for word in out.split(" "):
        low = fold(word)
        words.append(
            low
            if word == word.lower()
            else (low[:1].upper() + low[1:] if word[:1].isupper() and word[1:] == word[1:].lower() else word)
        )
    out = " ".join(words)
    return out[:1].upper() + out[1:] if out else out


_NUMBER = re.compile(r"(\d+(?:[.,]\d+)*)\s*(%|phần trăm)?")
_FRACTION = re.compile(r"^(\d+)\s*/\s*(\d+)$")


def normalise_amount(text: str) -> dict[str, Any]:
    """A number mention as value and kind: '10%' -> 10.0 percent, '7.739' -> 7739 count, '887/888' ->
    fraction 887 of 888, '2,5' -> 2.5."""
    t = " ".join(text.split())
    frac = _FRACTION.match(t)
    if frac:
        return {"text": text, "kind": "fraction", "value": int(frac.group(1)), "of": int(frac.group(2))}
    m = _NUMBER.search(t)
    if not m:
        return {"text": text, "kind": "other", "value": None}
    raw = m.group(1)
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", raw):
        value: float | int = int(raw.replace(".", ""))
    elif "," in raw:
        value = float(raw.replace(".", "").replace(",", "."))
    else:
        value = float(raw) if "." in raw else int(raw)
    return {"text": text, "kind": "percent" if m.group(2) else "count", "value": value}


_DATE_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*((?:19|20)\d{2})(?!\d)")
_DATE_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+((?:19|20)\d{2})", re.I)
_MONTH_YEAR = re.compile(r"tháng\s+(\d{1,2})\s*(?:/|năm)\s*((?:19|20)\d{2})", re.I)
_YEAR = re.compile(r"năm\s+((?:19|20)\d{2})(?!\d)", re.I)


def sentence_date(sentence: str) -> str | None:
    """The date a sentence states, as precise as it says it: 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY'."""
    for pattern in (_DATE_WORDS, _DATE_DMY):
        m = pattern.search(sentence)
        if m:
            d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
            if 1 <= d <= 31 and 1 <= mo <= 12:
                return f"{y}-{mo:02d}-{d:02d}"
    m = _MONTH_YEAR.search(sentence)
    if m and 1 <= int(m.group(1)) <= 12:
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    m = _YEAR.search(sentence)
    return m.group(1) if m else None


# --- building events -------------------------------------------------------------------------------


def _participant(item: dict[str, Any], res: Resources) -> dict[str, Any]:
    out = {
        "text": item.get("text", ""),
        "name": normalise_name(item.get("text", ""), res),
        "label": item.get("label"),
        "start": item.get("start"),
        "end": item.get("end"),
    }
    if item.get("score") is not None:
        out["score"] = item["score"]
    return out


def _amount(item: dict[str, Any]) -> dict[str, Any]:
    out = normalise_amount(item.get("text", ""))
    out.update({"start": item.get("start"), "end": item.get("end")})
    if item.get("score") is not None:
        out["score"] = item["score"]
    return out


def _doc_meta(rec: dict[str, Any], metas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    meta = dict(rec.get("meta") or {})
    for key in (str(rec.get("id") or ""), Path(str(rec.get("source") or "")).stem):
        if key and key in metas:
            meta = {**metas[key], **meta}
            break
    return meta


def document_key(rec: dict[str, Any], meta: dict[str, Any]) -> str:
    """A stable document id: the record's source-file stem when it names a file, else its id."""
    source = str(rec.get("source") or "")
    if source and source not in ("<stdin>", "-"):
        return Path(source).stem
    return str(rec.get("id") or meta.get("id") or "doc")


def events_of_record(
    rec: dict[str, Any], meta: dict[str, Any], res: Resources | None = None, table: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The normalised events of one extract record."""
    res = res or load_resources()
    table = table if table is not None else load_event_triggers()
    doc = document_key(rec, meta)
    out = []
    for raw in rec.get("events") or []:
        action = raw.get("action") or {}
        sentence = raw.get("sentence") or {}
        if "start" not in action or "end" not in action:
            raise VnreorgError("event without action offsets", rec.get("_where") or doc)
        scores = [
            x["score"] for slot in ("sources", "targets", "amounts") for x in raw.get(slot) or [] if x.get("score") is not None
        ]
        if action.get("score") is not None:
            scores.append(action["score"])
        article_date = meta.get("date")
        event = {
            "event_id": f"{doc}:{action['start']}",
            "doc_id": doc,
            "source_file": rec.get("source"),
            "type": event_type(action.get("text", ""), table),
            "trigger": action.get("text", ""),
            "trigger_start": action["start"],
            "trigger_end": action["end"],
            "sources": [_participant(x, res) for x in raw.get("sources") or []],
            "targets": [_participant(x, res) for x in raw.get("targets") or []],
            "amounts": [_amount(x) for x in raw.get("amounts") or []],
            "event_date": sentence_date(sentence.get("text", "")),
            "article_date": str(article_date)[:10] if article_date else None,
            "outlet": meta.get("outlet") or meta.get("site"),
            "title": meta.get("title"),
            "sentence": {"start": sentence.get("start"), "end": sentence.get("end"), "text": sentence.get("text", "")},
            "confidence": min(scores) if scores else None,
        }
        out.append(event)
    return out


def entities_links(rec: dict[str, Any], meta: dict[str, Any], context: str, res: Resources) -> list[dict[str, Any]]:
    """Links of every AGENCY entity of a record (not only event participants), keyed by offsets."""
    from vnreorg.models.linking import link_mention

    doc = document_key(rec, meta)
    sentences = [(ev.get("sentence") or {}) for ev in rec.get("events") or []]
    out = []
    for ent in rec.get("entities") or []:
        if ent.get("label") != "AGENCY":
            continue
        sent = next((s.get("text", "") for s in sentences if (s.get("start") or 0) <= ent["start"] < (s.get("end") or -1)), "")
        link = link_mention(ent.get("text", ""), sent, context, meta=meta, res=res)
        if link is not None:
            out.append({"doc_id": doc, "start": ent["start"], "end": ent["end"], "text": ent.get("text", ""), **link})
    return out


def records_from_documents(docs) -> Iterator[dict[str, Any]]:
    """Extract-shaped records from annotated documents (gold or synthetic as a perfect extractor), with
    their metadata: to run and measure the events stage without a model."""
    from vnreorg.models.extract import events_of

    for doc in docs:
        yield {
            "source": f"{doc.id}.txt",
            "id": doc.id,
            "meta": dict(doc.meta),
            "entities": [
                {"id": s.id, "start": s.start, "end": s.end, "label": s.label, "text": doc.text[s.start : s.end]}
                for s in doc.spans
            ],
            "relations": [r.to_dict() for r in doc.relations],
            "events": events_of(doc),
            "warnings": [],
        }


# --- the whole build: normalise, link, cross-check, deduplicate --------------------------------------


def _document_context(rec: dict[str, Any]) -> str:
    """What the extract record lets us see of its document: its event sentences and entity texts."""
    sentences = {}
    for ev in rec.get("events") or []:
        s = ev.get("sentence") or {}
        sentences[s.get("start")] = s.get("text", "")
    return "\n".join(list(sentences.values()) + [e.get("text", "") for e in rec.get("entities") or []])


def link_event(event: dict[str, Any], context: str, meta: dict[str, Any], res: Resources) -> None:
    from vnreorg.models.linking import link_mention

    for role, slot in (("source", "sources"), ("target", "targets")):
        for p in event[slot]:
            if p.get("label") in (None, "AGENCY"):
                link = link_mention(p["text"], event["sentence"]["text"], context, meta=meta, role=role, res=res)
                if link is not None:
                    p["link"] = link


class EventsBuild(NamedTuple):
    events: list[dict[str, Any]]  # one per trigger mention, normalised, linked, cross-checked
    actions: list[dict[str, Any]]  # events grouped by deduplication, with their mentions
    counts: dict[str, Any]
    entity_links: list[dict[str, Any]]  # links of every AGENCY entity


def build_events(
    records, metas: dict[str, dict[str, Any]] | None = None, res: Resources | None = None, progress=None
) -> EventsBuild:
    """Events, actions, counts and entity links from extract records."""
    from vnreorg.models.crosscheck import crosscheck_event
    from vnreorg.models.dedup import deduplicate

    res = res or load_resources()
    table = load_event_triggers()
    events: list[dict[str, Any]] = []
    entity_links: list[dict[str, Any]] = []
    counts = {"records": 0, "skipped": 0, "events": 0}
    for rec in records:
        if rec.get("skipped"):
            counts["skipped"] += 1
            continue
        counts["records"] += 1
        meta = _doc_meta(rec, metas or {})
        context = _document_context(rec)
        for event in events_of_record(rec, meta, res, table):
            link_event(event, context, meta, res)
            event["crosscheck"] = crosscheck_event(event, res)
            events.append(event)
        entity_links += entities_links(rec, meta, context, res)
        if progress:
            progress(1)
    actions = deduplicate(events)
    counts["events"] = len(events)
    counts["actions"] = len(actions)
    counts["types"] = _count(e["type"] for e in events)
    counts["verdicts"] = _count((e["crosscheck"] or {}).get("verdict", "none") for e in events)
    links = [p.get("link") for e in events for slot in ("sources", "targets") for p in e[slot] if p.get("link")]
    counts["links"] = _count(l["status"] for l in links)
    counts["entity_links"] = _count(l["status"] for l in entity_links)
    return EventsBuild(events, actions, counts, entity_links)


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def measure_typing(gold_path: str | Path, table: dict[str, str] | None = None) -> dict[str, Any]:
    """Accuracy of trigger typing on the hand-typed gold MERGE_ACTIONs (corpus/gold/event_types.tsv)."""
    _, rows = read_table(gold_path, ("doc_id", "span_id", "start", "end", "trigger", "type", "note"))
    table = table if table is not None else load_event_triggers()
    wrong = []
    for row in rows:
        if row.values["type"] not in EVENT_TYPES:
            raise VnreorgError(f"type {row.values['type']!r} is not one of {', '.join(EVENT_TYPES)}", row.where)
        got = event_type(row.values["trigger"], table)
        if got != row.values["type"]:
            wrong.append(
                {
                    "doc_id": row.values["doc_id"],
                    "span_id": row.values["span_id"],
                    "trigger": row.values["trigger"],
                    "gold": row.values["type"],
                    "predicted": got,
                }
            )
    n = len(rows)
    return {
        "actions": n,
        "right": n - len(wrong),
        "accuracy": (n - len(wrong)) / n if n else 0.0,
        "wrong": wrong,
        "per_type": _count(r.values["type"] for r in rows),
    }


def name_participants(events: list[dict[str, Any]], res: Resources | None = None) -> list[dict[str, Any]]:
    """Fill `name` (the normalised spelling) on participants that carry only `text` (constructed sets)."""
    res = res or load_resources()
    for ev in events:
        for slot in ("sources", "targets"):
            for p in ev.get(slot) or []:
                p.setdefault("name", normalise_name(p.get("text", ""), res))
    return events
