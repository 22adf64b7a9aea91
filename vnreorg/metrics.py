"""What "correct" means, defined once: precision/recall/F1 from counts, the keys that make two spans or
two relations "the same", and the structural span check.

Used by inter-annotator agreement, threshold tuning and dev scores in training, the evaluator and the
Label Studio diff; the span check by the gold validator (every problem reported), the Label Studio
converter, the DocBin converter's callers and the evaluator (stop at the first problem, as one
`VnreorgError`). The checks that need the project tokenizer or sentences (token edges, span edges,
one sentence) stay in the validator (`vnreorg.corpus.validate`), which adds them to these.

(The relation components in `models/` score with spaCy's `PRFScore`: they are copied into the packaged
model, which carries no `vnreorg`; the formula is the same.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from vnreorg.errors import VnreorgError
from vnreorg.schema import ENTITY_LABELS, Document, Span

Ends = tuple[int, int]
SpanKey = tuple[int, int, str]
RelationKey = tuple[Ends, Ends, str]


class PRF(NamedTuple):
    precision: float
    recall: float
    f1: float


def prf(tp: float, n_pred: float, n_gold: float, tp_gold: float | None = None) -> PRF:
    """Precision tp/n_pred, recall tp_gold/n_gold (tp_gold defaults to tp; they differ when a match is
    counted on each side, as for overlap), F1 their harmonic mean; 0 where a denominator is 0."""
    p = tp / n_pred if n_pred else 0.0
    r = (tp if tp_gold is None else tp_gold) / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(p, r, f)


def prf_of_sets(gold: set, pred: set) -> PRF:
    """P/R/F1 of a predicted set of keys against a gold set (exact matches)."""
    return prf(len(gold & pred), len(pred), len(gold))


def span_key(span: Span) -> SpanKey:
    """Two spans are the same span when they have the same offsets and label."""
    return (span.start, span.end, span.label)


def relation_keys(doc: Document) -> set[RelationKey]:
    """Two relations are the same when their head and child offsets and their label are: span ids are
    names local to one annotation and never compared. A relation to a missing span has no key."""
    by_id = doc.span_by_id()
    keys = set()
    for r in doc.relations:
        h, c = by_id.get(r.head), by_id.get(r.child)
        if h is not None and c is not None:
            keys.add(((h.start, h.end), (c.start, c.end), r.label))
    return keys


# ------------------------------------------------------------------ the span check


@dataclass(frozen=True)
class SpanProblem:
    code: str  # span-id, span-offsets, span-label, span-overlap (the validator's codes)
    message: str
    span_id: str | None
    offset: int | None


def span_problems(text: str, spans: Iterable[Span], *, overlaps: bool = False) -> Iterator[SpanProblem]:
    """Every structural problem of a document's spans, in a fixed order: ids (present, unique), integer
    offsets, 0 <= start < end <= len(text), labels from the schema, and (unless `overlaps`) no two
    spans overlapping."""
    spans = list(spans)
    ids = Counter(s.id for s in spans)
    for s in spans:
        if not isinstance(s.id, str) or not s.id:
            yield SpanProblem("span-id", "span without an id", None, s.start if type(s.start) is int else None)
    for span_id, n in sorted(ids.items(), key=lambda kv: str(kv[0])):
        if n > 1 and span_id:
            offsets = [s.start for s in spans if s.id == span_id]
            yield SpanProblem("span-id", f"span id {span_id!r} used {n} times (at offsets {offsets})", span_id, offsets[1])
    in_range: list[Span] = []
    for s in spans:
        if s.label not in ENTITY_LABELS:
            yield SpanProblem(
                "span-label",
                f"unknown label {s.label!r} (expected one of {', '.join(ENTITY_LABELS)})",
                s.id,
                s.start if type(s.start) is int else None,
            )
        if not (type(s.start) is int and type(s.end) is int):  # bool is an int subclass: refuse it
            yield SpanProblem("span-offsets", f"offsets must be integers: start={s.start!r} end={s.end!r}", s.id, None)
            continue
        if not 0 <= s.start < s.end <= len(text):
            yield SpanProblem(
                "span-offsets",
                f"bad offsets [{s.start}, {s.end}): empty or outside the text of length {len(text)}",
                s.id,
                s.start,
            )
            continue
        in_range.append(s)
    if overlaps:
        return
    reach: Span | None = None
    for s in sorted(in_range, key=lambda s: (s.start, s.end)):
        if reach is not None and s.start < reach.end:
            yield SpanProblem(
                "span-overlap",
                f"overlapping spans {reach.id!r} [{reach.start}, {reach.end}) {reach.label} "
                f"{text[reach.start : reach.end]!r} and {s.id!r} [{s.start}, {s.end}) {s.label} "
                f"{text[s.start : s.end]!r}",
                s.id,
                s.start,
            )
        if reach is None or s.end > reach.end:
            reach = s


def check_spans(text: str, spans: Iterable[Span], where: str, *, overlaps: bool = False) -> None:
    """The span check in stop-at-first mode: raise the first problem as a VnreorgError located at
    `where` plus the span id and offset."""
    for p in span_problems(text, spans, overlaps=overlaps):
        at = (
            where
            + (f" span {p.span_id!r}" if p.span_id is not None else "")
            + (f" offset {p.offset}" if p.offset is not None else "")
        )
        raise VnreorgError(p.message, at.strip())
