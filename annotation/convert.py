"""Conversion between corpus documents and Label Studio tasks and exports; no server needed.

Corpus -> tasks: one task per document, keyed by `data.doc_id`; spans and relations become an
annotation (gold) or a prediction (model output, with scores and a model version). Offsets follow the
one rule of `offsets.py` (code points, as the measured browser counts them), and every task carries
the rule's marker.

Export -> corpus: every region's offsets are read by that rule (legacy UTF-16 tasks are recognised)
and its `text` is checked against the slice it claims (exported offsets can drift from the text: label-studio issues 4929,
2007); relations are kept (the official converters drop them: issues 1777, 4144). Anything we cannot
convert exactly raises one VnreorgError naming the task, document, annotation, region and offset.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vnreorg.annotation.labelconfig import FROM_NAME, ID_FIELD, TEXT_FIELD, TITLE_FIELD, TO_NAME
from vnreorg.annotation.offsets import LEGACY_UNIT, OFFSET_FIELD, OFFSET_UNIT, OffsetMap, task_offset_unit, to_label_studio
from vnreorg.errors import VnreorgError
from vnreorg.metrics import check_spans
from vnreorg.jsonio import check_input_file
from vnreorg.schema import (
    ENTITY_LABELS,
    RELATION_CHILD_LABELS,
    RELATION_HEAD_LABELS,
    RELATION_LABELS,
    Document,
    Relation,
    Span,
    check_id,
    nfc,
    relation_allowed,
)


# --------------------------------------------------------------------------- validation


def check_text(text: Any, where: str) -> None:
    if not isinstance(text, str):
        raise VnreorgError("text is missing or not a string", where)
    if nfc(text) != text:
        first = first_difference(text, nfc(text))
        raise VnreorgError(f"text is not NFC (first difference at offset {first}); run it through the corpus builder", where)


def check_annotation(text: str, spans: list[Span], relations: list[Relation], where: str) -> None:
    """Spans inside the text, known labels, unique ids, no overlaps; relations between existing spans, allowed by the schema."""
    check_spans(text, spans, where)  # the project's one span check, stopping at the first problem
    seen: dict[str, Span] = {s.id: s for s in spans}
    keys = set()
    for r in relations:
        at = f"{where} relation {r.label} {r.head!r}->{r.child!r}"
        if r.label not in RELATION_LABELS:
            raise VnreorgError(f"unknown relation label {r.label!r} (expected one of {', '.join(RELATION_LABELS)})", at)
        for end in (r.head, r.child):
            if end not in seen:
                raise VnreorgError(f"relation to a missing span {end!r}", at)
        head, child = seen[r.head], seen[r.child]
        if not relation_allowed(r.label, head.label, child.label):
            raise VnreorgError(
                f"relation {r.label} from {head.label} to {child.label} is not allowed by the schema "
                f"(head must be {'/'.join(sorted(RELATION_HEAD_LABELS))}, child {'/'.join(sorted(RELATION_CHILD_LABELS[r.label]))})",
                f"{at} offset {head.start}",
            )
        key = (r.head, r.child, r.label)
        if key in keys:
            raise VnreorgError("duplicate relation", at)
        keys.add(key)


def check_document(doc: Document, where: str = "") -> None:
    at = f"{where} doc={doc.id}".strip()
    if not isinstance(doc.id, str) or not doc.id:
        raise VnreorgError("document without an id", where or None)
    check_text(doc.text, at)
    check_annotation(doc.text, doc.spans, doc.relations, at)


# --------------------------------------------------------------------------- corpus -> tasks


def task_data(doc: Document) -> dict[str, Any]:
    """The task's `data`: the text, the document id (the key for re-pushes), a title for the header, and
    the offset rule its regions follow (so that a task pushed under another rule is recognised)."""
    return {TEXT_FIELD: doc.text, ID_FIELD: doc.id, TITLE_FIELD: str(doc.meta.get("title") or ""), OFFSET_FIELD: OFFSET_UNIT}


def result_items(doc: Document, spans: list[Span], relations: list[Relation]) -> list[dict[str, Any]]:
    """Label Studio result items for spans (offsets by the one rule, with their text) and relations (head -> child)."""
    items: list[dict[str, Any]] = []
    for s in spans:
        start, end = to_label_studio(doc.text, s.start, s.end)
        item: dict[str, Any] = {
            "id": s.id,
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "value": {"start": start, "end": end, "text": doc.text[s.start : s.end], "labels": [s.label]},
        }
        if s.score is not None:
            item["score"] = s.score
        items.append(item)
    for r in relations:
        item = {"type": "relation", "from_id": r.head, "to_id": r.child, "direction": "right", "labels": [r.label]}
        if r.score is not None:
            item["score"] = r.score
        items.append(item)
    return items


def prediction_score(doc: Document) -> float | None:
    """Task-level prediction score: the mean confidence of the predicted spans and relations (None if unscored)."""
    scores = [x.score for x in [*doc.spans, *doc.relations] if x.score is not None]
    return round(sum(scores) / len(scores), 6) if scores else None


def prediction_body(pred: Document, model_version: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model_version": model_version, "result": result_items(pred, pred.spans, pred.relations)}
    score = prediction_score(pred)
    if score is not None:
        body["score"] = score
    return body


def document_to_task(
    doc: Document, *, annotate: bool = True, prediction: Document | None = None, model_version: str = "model"
) -> dict[str, Any]:
    """One importable task. A document with spans or relations goes in with them as an annotation
    (unless `annotate` is false); `prediction` (same id and text) goes in as a pre-annotation."""
    check_document(doc)
    task: dict[str, Any] = {"data": task_data(doc)}
    if annotate and (doc.spans or doc.relations):
        task["annotations"] = [{"result": result_items(doc, doc.spans, doc.relations)}]
    if prediction is not None:
        check_prediction_matches(doc, prediction)
        task["predictions"] = [prediction_body(prediction, model_version)]
    return task


def check_prediction_matches(doc: Document, pred: Document) -> None:
    check_document(pred, "predictions")
    if pred.id != doc.id:
        raise VnreorgError(f"prediction for document {pred.id!r} given with document {doc.id!r}", f"doc={doc.id}")
    if pred.text != doc.text:
        raise VnreorgError(
            f"the model output's text differs from the corpus text at offset {first_difference(pred.text, doc.text)}",
            f"predictions doc={doc.id}",
        )


def first_difference(a: str, b: str) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


# --------------------------------------------------------------------------- export -> corpus


def same_region_text(claimed: str, actual: str) -> bool:
    """The region's saved text against the slice of its offsets. Equal, or equal once runs of whitespace
    are read as one space: without `white-space: pre-wrap` the browser collapses them in the saved
    text while the offsets still count every character (label-studio issue 3078)."""
    return claimed == actual or re.sub(r"\s+", " ", claimed) == re.sub(r"\s+", " ", actual)


def results_to_annotation(
    text: str, result: Any, where: str, scores: bool = True, unit: str = OFFSET_UNIT
) -> tuple[list[Span], list[Relation]]:
    """Spans and relations from one annotation's (or prediction's) `result`, offsets in code points.

    `unit` is the task's offset rule (`offsets.task_offset_unit`). `scores=False` for annotations: a
    region accepted from a prediction may still carry the model's score, which has no place in gold."""
    if not isinstance(result, list):
        raise VnreorgError("`result` is not a list", where)
    omap = OffsetMap(text) if unit == LEGACY_UNIT else None
    spans: list[Span] = []
    raw_relations: list[dict[str, Any]] = []
    for n, item in enumerate(result):
        if not isinstance(item, dict):
            raise VnreorgError(f"result item {n} is not an object", where)
        kind = item.get("type")
        if kind == "relation":
            raw_relations.append(item)
            continue
        rid = item.get("id")
        at = f"{where} region {rid!r}"
        if kind != "labels":
            raise VnreorgError(f"unexpected result type {kind!r} (this project only has labels and relations)", at)
        if item.get("from_name") != FROM_NAME or item.get("to_name") != TO_NAME:
            raise VnreorgError(
                f"region from {item.get('from_name')!r} to {item.get('to_name')!r}; expected {FROM_NAME!r} to {TO_NAME!r}"
                " (was the project created with another labeling config?)",
                at,
            )
        value = item.get("value")
        if not isinstance(value, dict):
            raise VnreorgError("region without a value", at)
        start_ls, end_ls, labels = value.get("start"), value.get("end"), value.get("labels")
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start_ls, end_ls)):
            raise VnreorgError(f"region offsets are not integers: start={start_ls!r} end={end_ls!r}", at)
        at = f"{at} offset {start_ls}"
        if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
            raise VnreorgError(f"a region must carry exactly one label, found {labels!r}", at)
        if labels[0] not in ENTITY_LABELS:
            raise VnreorgError(f"unknown label {labels[0]!r} (expected one of {', '.join(ENTITY_LABELS)})", at)
        claimed = value.get("text")
        if not isinstance(claimed, str):
            raise VnreorgError("region has no `text` to check its offsets against", at)
        start, end = region_offsets(text, start_ls, end_ls, claimed, omap, at)
        score = item.get("score") if scores else None
        spans.append(
            Span(
                id=str(rid) if rid is not None else "",
                start=start,
                end=end,
                label=labels[0],
                score=float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
            )
        )
        if not spans[-1].id:
            raise VnreorgError("region without an id", at)
    by_id = {s.id: s for s in spans}
    relations = [_relation(item, by_id, where, scores) for item in raw_relations]
    check_annotation(text, spans, relations, where)
    return spans, relations


def _cut(text: str, start: int, end: int, claimed: str) -> bool:
    return 0 <= start < end <= len(text) and same_region_text(claimed, text[start:end])


def region_offsets(text: str, start: int, end: int, claimed: str, legacy: OffsetMap | None, at: str) -> tuple[int, int]:
    """Code-point offsets of one stored region, checked against the text it claims.

    Marked tasks: code points, as the browser counts. Legacy tasks (`legacy` given: pushed under the old
    UTF-16 rule, possibly with regions drawn since in code points): the reading that cuts exactly the
    claimed text, refused when both readings do at different places or neither does."""
    as_utf16: tuple[int, int] | None = None
    if legacy is not None:
        try:
            as_utf16 = legacy.from_utf16(start), legacy.from_utf16(end)
        except ValueError:
            as_utf16 = None
    cp_ok = _cut(text, start, end, claimed)
    u16_ok = as_utf16 is not None and _cut(text, *as_utf16, claimed)
    if legacy is None:
        if cp_ok:
            return start, end
        if not 0 <= start < end <= len(text):
            raise VnreorgError(f"region [{start}:{end}] is empty or outside the text (length {len(text)} code points)", at)
        hint = ""
        try:
            u = OffsetMap(text)
            if _cut(text, u.from_utf16(start), u.from_utf16(end), claimed):
                hint = (
                    " (it matches if the offsets are read as UTF-16 units: was this task made under the old rule"
                    f" while marked `{OFFSET_FIELD}: {OFFSET_UNIT}`, or by another tool?)"
                )
        except ValueError:
            pass
        raise VnreorgError(
            f"region text {claimed!r} differs from the text at [{start}:{end}], {text[start:end]!r}: offsets drifted{hint}", at
        )
    if cp_ok and u16_ok and as_utf16 != (start, end):
        raise VnreorgError(
            f"legacy task (no `data.{OFFSET_FIELD}`): region [{start}:{end}] {claimed!r} fits both as "
            "code points and as UTF-16 units; cannot tell which rule wrote it: fix the region in Label Studio",
            at,
        )
    if cp_ok:
        return start, end
    if u16_ok:
        return as_utf16  # type: ignore[return-value]
    raise VnreorgError(
        f"legacy task (no `data.{OFFSET_FIELD}`): region text {claimed!r} matches the text at [{start}:{end}] "
        "neither as code points nor as UTF-16 units: offsets drifted",
        at,
    )


def _relation(item: dict[str, Any], by_id: dict[str, Span], where: str, scores: bool = True) -> Relation:
    a, b = item.get("from_id"), item.get("to_id")
    at = f"{where} relation {a!r}->{b!r}"
    for end in (a, b):
        if end not in by_id:
            raise VnreorgError(f"relation to a missing region {end!r}", at)
    labels = item.get("labels")
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str):
        raise VnreorgError(f"a relation must carry exactly one label ({', '.join(RELATION_LABELS)}), found {labels!r}", at)
    label = labels[0]
    if label not in RELATION_LABELS:
        raise VnreorgError(f"unknown relation label {label!r} (expected one of {', '.join(RELATION_LABELS)})", at)
    direction = item.get("direction", "right")
    if direction == "right":
        head, child = a, b
    elif direction == "left":
        head, child = b, a
    elif direction == "bi":
        # Only a MERGE_ACTION can be a head and it is never a child: the schema orients the arrow.
        fits = [(h, c) for h, c in ((a, b), (b, a)) if relation_allowed(label, by_id[h].label, by_id[c].label)]
        if len(fits) != 1:
            raise VnreorgError(f"bidirectional {label} relation that the schema cannot orient", at)
        head, child = fits[0]
    else:
        raise VnreorgError(f"unknown relation direction {direction!r}", at)
    h, c = by_id[head], by_id[child]
    if not relation_allowed(label, h.label, c.label) and relation_allowed(label, c.label, h.label):
        raise VnreorgError(
            f"{label} relation from {h.label} to {c.label} is drawn the wrong way round: "
            f"flip its arrow in Label Studio so that it starts at the {c.label}",
            f"{at} offset {h.start}",
        )
    score = item.get("score") if scores else None
    return Relation(
        head=head,
        child=child,
        label=label,
        score=float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
    )


@dataclass(frozen=True)
class Choice:
    """How to pick one annotation when a task has several: refuse ("only"), "latest", or by annotator."""

    mode: str = "only"
    annotator: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> "Choice":
        if text is None or text == "" or text == "only":
            return cls()
        if text == "latest":
            return cls("latest")
        if text.startswith("annotator:") and len(text) > len("annotator:"):
            return cls("annotator", text.split(":", 1)[1])
        raise VnreorgError(f"unknown choice {text!r}: use 'latest' or 'annotator:<e-mail or user id>'", "--choose")

    def __str__(self) -> str:
        return self.mode if self.mode != "annotator" else f"annotator:{self.annotator}"


@dataclass
class AnnotationRecord:
    task_id: Any
    doc_id: str
    annotation_id: Any
    annotator: str  # e-mail when known, else the user id
    updated_at: str
    spans: list[Span]
    relations: list[Relation]


@dataclass
class ExportResult:
    """What an export holds, per task: the chosen annotation as a document, and everything reported."""

    documents: list[Document] = field(default_factory=list)
    chosen: dict[str, AnnotationRecord] = field(default_factory=dict)
    all_annotations: list[AnnotationRecord] = field(default_factory=list)
    several: list[tuple[Any, str, list[str]]] = field(default_factory=list)  # (task, doc, annotators)
    skipped: list[tuple[Any, str, list[str]]] = field(default_factory=list)  # cancelled only
    unannotated: list[tuple[Any, str]] = field(default_factory=list)
    not_by_annotator: list[tuple[Any, str]] = field(default_factory=list)
    predictions: dict[str, Document] = field(default_factory=dict)  # doc id -> first prediction with a full body
    bad: list[tuple[Any, str | None, VnreorgError]] = field(default_factory=list)  # (task, doc, error) when not strict


def read_export(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Parse a Label Studio JSON export (a list of tasks); empty or malformed files raise."""
    path = check_input_file(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise VnreorgError("the export is empty", str(path))
    return parse_export(raw, str(path))


def parse_export(raw: bytes | str, where: str) -> list[dict[str, Any]]:
    try:
        tasks = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VnreorgError(f"not a JSON export ({exc})", where) from None
    except RecursionError:
        raise VnreorgError("not a JSON export (nested too deeply)", where) from None
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise VnreorgError("expected a JSON list of tasks (Label Studio 'JSON' export)", where)
    for n, task in enumerate(tasks):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise VnreorgError(f"task #{n} has no `data` object (is this a JSON_MIN or CSV export? use JSON)", where)
    return tasks


def _annotator(ann: dict[str, Any], users: dict[int, str] | None) -> str:
    who = ann.get("completed_by")
    if isinstance(who, dict):
        return str(who.get("email") or who.get("id"))
    if users and who in users:
        return users[who]
    return str(who)


def _annotator_matches(ann: dict[str, Any], wanted: str, users: dict[int, str] | None, where: str) -> bool:
    who = ann.get("completed_by")
    ids = {str(who.get("id")), str(who.get("email"))} if isinstance(who, dict) else {str(who)}
    if isinstance(who, int) and users and who in users:
        ids.add(users[who])
    if "@" in wanted and not isinstance(who, dict) and not users:
        raise VnreorgError(
            f"this export names annotators by user id only; choose with annotator:<id> instead of {wanted!r}", where
        )
    return wanted in ids


def convert_export(
    tasks: list[dict[str, Any]],
    *,
    base: dict[str, Document] | None = None,
    choose: Choice = Choice(),
    users: dict[int, str] | None = None,
    where: str = "export",
    strict: bool = True,
) -> ExportResult:
    """Convert exported tasks back to corpus documents.

    `strict` stops at the first task that cannot be converted exactly; otherwise each such task is left
    out and reported in `result.bad` (its task, document, and the error naming the region and reason).

    `base` maps document ids to the documents the tasks were made from (gold or the cleaned corpus):
    their text must equal the task text (otherwise offsets would drift), and their metadata, layout and
    provenance are kept. Tasks whose documents are not in `base` are rebuilt from the task data.
    """
    base = base or {}
    result = ExportResult()
    ambiguous: list[str] = []
    seen_docs: dict[str, Any] = {}
    for n, task in enumerate(tasks):
        tid = task.get("id", f"#{n}") if isinstance(task, dict) else f"#{n}"
        data = task.get("data") if isinstance(task, dict) else None
        doc_id = data.get(ID_FIELD) if isinstance(data, dict) else None
        if isinstance(doc_id, str) and doc_id:
            check_id(doc_id, f"{where} task {tid}", f"data.{ID_FIELD}")  # a hostile id stops everything, strict or not
        try:
            _convert_task(n, task, base, choose, users, where, result, ambiguous, seen_docs)
        except VnreorgError as exc:
            if strict:
                raise
            doc_id = (task.get("data") or {}).get(ID_FIELD) if isinstance(task, dict) else None
            result.bad.append((tid, doc_id if isinstance(doc_id, str) else None, exc))
    if ambiguous:
        raise VnreorgError(
            f"{len(ambiguous)} task(s) have several annotations: {'; '.join(ambiguous[:5])}"
            f"{' ...' if len(ambiguous) > 5 else ''}. All are kept on the server; choose which becomes gold "
            "with --choose latest or --choose annotator:<e-mail or id>",
            where,
        )
    return result


def _convert_task(
    n: int,
    task: dict[str, Any],
    base: dict[str, Document],
    choose: Choice,
    users: dict[int, str] | None,
    where: str,
    result: ExportResult,
    ambiguous: list[str],
    seen_docs: dict[str, Any],
) -> None:
    """One task into `result` (a document, or a reason it has none); VnreorgError when it cannot be converted."""
    tid = task.get("id", f"#{n}")
    data = task.get("data") or {}
    doc_id = data.get(ID_FIELD)
    at = f"{where} task {tid}"
    if not isinstance(doc_id, str) or not doc_id:
        raise VnreorgError(f"task has no `data.{ID_FIELD}` (was it imported by hand, not by `vnreorg annotate push`?)", at)
    at = f"{at} doc={doc_id}"
    if doc_id in seen_docs:
        raise VnreorgError(f"two tasks carry the same document (tasks {seen_docs[doc_id]} and {tid})", at)
    seen_docs[doc_id] = tid
    text = data.get(TEXT_FIELD)
    check_text(text, at)
    known = base.get(doc_id)
    if known is not None and known.text != text:
        raise VnreorgError(
            f"the task text differs from the corpus text at offset {first_difference(text, known.text)}: "
            "offsets would drift; re-push the document or convert against the corpus it was pushed from",
            at,
        )
    try:
        unit = task_offset_unit(data)
    except ValueError as exc:
        raise VnreorgError(str(exc), at) from None
    _collect_predictions(task, text, doc_id, known, at, result, unit)
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        raise VnreorgError("`annotations` is not a list", at)
    valid = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    cancelled = [a for a in annotations if isinstance(a, dict) and a.get("was_cancelled")]
    if not annotations:
        result.unannotated.append((tid, doc_id))
        return
    if not valid:
        result.skipped.append((tid, doc_id, [_annotator(a, users) for a in cancelled]))
        return
    records = []
    for ann in valid:
        aat = f"{at} annotation {ann.get('id')}"
        spans, relations = results_to_annotation(text, ann.get("result"), aat, scores=False, unit=unit)
        records.append(
            (
                ann,
                AnnotationRecord(
                    tid,
                    doc_id,
                    ann.get("id"),
                    _annotator(ann, users),
                    str(ann.get("updated_at") or ann.get("created_at") or ""),
                    spans,
                    relations,
                ),
            )
        )
    result.all_annotations.extend(r for _, r in records)
    if len(valid) > 1:
        result.several.append((tid, doc_id, [r.annotator for _, r in records]))
    if choose.mode == "annotator":
        records = [(a, r) for a, r in records if _annotator_matches(a, choose.annotator or "", users, at)]
        if not records:
            result.not_by_annotator.append((tid, doc_id))
            return
    elif choose.mode == "only" and len(records) > 1:
        ambiguous.append(f"task {tid} doc={doc_id} ({', '.join(r.annotator for _, r in records)})")
        return
    chosen = max(records, key=lambda ar: (ar[1].updated_at, str(ar[1].annotation_id)))[1]
    result.chosen[doc_id] = chosen
    result.documents.append(_document(known, doc_id, text, data, chosen.spans, chosen.relations))


def _document(
    known: Document | None, doc_id: str, text: str, data: dict[str, Any], spans: list[Span], relations: list[Relation]
) -> Document:
    """The converted document; its spans record their covered text, as gold spans do."""
    if known is not None:
        return known.with_annotations(spans, relations).with_span_texts()
    meta = {"title": data[TITLE_FIELD]} if data.get(TITLE_FIELD) else {}
    return Document(id=doc_id, text=text, meta=meta, spans=spans, relations=relations).with_span_texts()


def _collect_predictions(
    task: dict[str, Any], text: str, doc_id: str, known: Document | None, at: str, result: ExportResult, unit: str = OFFSET_UNIT
) -> None:
    """Predictions with full bodies (our own task files; server exports hold only ids) become scored documents."""
    for pred in task.get("predictions") or []:
        if isinstance(pred, dict) and "result" in pred:
            spans, relations = results_to_annotation(
                text, pred["result"], f"{at} prediction {pred.get('id', '')}".rstrip(), unit=unit
            )
            doc = _document(known, doc_id, text, task.get("data") or {}, spans, relations)
            doc.meta = {**doc.meta, "model_version": pred.get("model_version")}
            result.predictions.setdefault(doc_id, doc)


def tasks_for_documents(
    docs: list[Document], *, predictions: list[Document] | None = None, model_version: str = "model", annotate: bool = True
) -> list[dict[str, Any]]:
    """Importable tasks for documents; each prediction must match a document by id and text."""
    ids = Counter(d.id for d in docs)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        raise VnreorgError(f"duplicate document id {dupes[0]!r}", "documents")
    by_id = {d.id: d for d in docs}
    preds: dict[str, Document] = {}
    for p in predictions or []:
        if p.id not in by_id:
            raise VnreorgError("prediction for a document that is not being pushed", f"predictions doc={p.id}")
        if p.id in preds:
            raise VnreorgError("two predictions for the same document", f"predictions doc={p.id}")
        preds[p.id] = p
    return [document_to_task(d, annotate=annotate, prediction=preds.get(d.id), model_version=model_version) for d in docs]
