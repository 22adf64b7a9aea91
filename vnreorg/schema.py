"""The one schema of the project: labels, relation types, and the data model.

Everything else (Label Studio config, spaCy label sets, `datasets` features, the validator,
the evaluator) derives from the constants here. Adding a label is one line here plus the
guidelines in annotation/GUIDELINES.md.

Offsets are Python code-point offsets into the NFC text, end exclusive.
"""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"

# Span labels, in a fixed order (ClassLabel ids and BIO tags derive from this order).
ENTITY_LABELS: tuple[str, ...] = ("AGENCY", "TITLE", "MERGE_ACTION", "NUMBER")

ENTITY_DESCRIPTIONS: dict[str, str] = {
    "AGENCY": "a specific organisation or unit of the political system or public sector",
    "TITLE": "a position held by a person, with its body when contiguous",
    "MERGE_ACTION": "the trigger of a concrete restructuring action",
    "NUMBER": "a quantity: count, percentage, fraction, money",
}

# Directed relations: head is always a MERGE_ACTION; child types allowed per relation label.
RELATION_LABELS: tuple[str, ...] = ("source", "target", "amount")
RELATION_HEAD_LABELS: frozenset[str] = frozenset({"MERGE_ACTION"})
RELATION_CHILD_LABELS: dict[str, frozenset[str]] = {
    "source": frozenset({"AGENCY", "TITLE"}),
    "target": frozenset({"AGENCY", "TITLE"}),
    "amount": frozenset({"NUMBER"}),
}

# What a paragraph of an article is. A caption (of a photo) stays in the text, with its offsets, but
# is not annotated and not extracted from as a body sentence. "body" is the default and is not written
# out: a paragraph is `[start, end]`, or `[start, end, kind]` for any other kind.
PARAGRAPH_KINDS: tuple[str, ...] = ("body", "caption")
DEFAULT_PARAGRAPH_KIND = "body"

# Colours for the Label Studio config and reports (one place).
LABEL_COLOURS: dict[str, str] = {
    "AGENCY": "#1f77b4",
    "TITLE": "#2ca02c",
    "MERGE_ACTION": "#d62728",
    "NUMBER": "#9467bd",
}


def bio_tags() -> list[str]:
    """IOB2 tag names in ClassLabel order: O, then B-/I- per entity label."""
    tags = ["O"]
    for label in ENTITY_LABELS:
        tags += [f"B-{label}", f"I-{label}"]
    return tags


def relation_allowed(label: str, head_label: str, child_label: str) -> bool:
    return (
        label in RELATION_CHILD_LABELS
        and head_label in RELATION_HEAD_LABELS
        and child_label in RELATION_CHILD_LABELS[label]
    )


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass
class Span:
    id: str
    start: int
    end: int
    label: str
    score: float | None = None  # model confidence; None (and omitted from JSON) in gold

    def to_dict(self) -> dict[str, Any]:
        return _without_empty_score(asdict(self))


@dataclass
class Relation:
    head: str
    child: str
    label: str
    score: float | None = None  # model confidence; None (and omitted from JSON) in gold

    def to_dict(self) -> dict[str, Any]:
        return _without_empty_score(asdict(self))


def _without_empty_score(d: dict[str, Any]) -> dict[str, Any]:
    if d.get("score") is None:
        d.pop("score", None)
    return d


@dataclass
class Document:
    """One document: NFC text, metadata, layout offsets, and (for gold) spans and relations."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    paragraphs: list[tuple[int, int]] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    # One kind per paragraph (PARAGRAPH_KINDS), parallel to `paragraphs`; empty means all "body".
    paragraph_kinds: list[str] = field(default_factory=list)

    def paragraph_kind(self, index: int) -> str:
        return self.paragraph_kinds[index] if index < len(self.paragraph_kinds) else DEFAULT_PARAGRAPH_KIND

    def body_paragraphs(self) -> list[tuple[int, int]]:
        """The paragraphs that are article body (captions left out)."""
        return [p for i, p in enumerate(self.paragraphs) if self.paragraph_kind(i) == DEFAULT_PARAGRAPH_KIND]

    def span_by_id(self) -> dict[str, Span]:
        return {s.id: s for s in self.spans}

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]

    def sentence_of(self, offset: int) -> tuple[int, int] | None:
        for start, end in self.sentences:
            if start <= offset < end:
                return (start, end)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "meta": self.meta,
            "paragraphs": [list(p) + ([self.paragraph_kind(i)] if self.paragraph_kind(i) != DEFAULT_PARAGRAPH_KIND else [])
                           for i, p in enumerate(self.paragraphs)],
            "sentences": [list(s) for s in self.sentences],
            "spans": [s.to_dict() for s in self.spans],
            "relations": [r.to_dict() for r in self.relations],
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Document":
        paragraphs, kinds = _paragraphs_from_json(data.get("paragraphs") or [])
        return cls(
            id=data["id"],
            text=data["text"],
            meta=dict(data.get("meta") or {}),
            paragraphs=paragraphs,
            paragraph_kinds=kinds,
            sentences=[tuple(s) for s in data.get("sentences") or []],
            spans=[Span(**s) for s in data.get("spans") or []],
            relations=[Relation(**r) for r in data.get("relations") or []],
            provenance=list(data.get("provenance") or []),
        )


def _paragraphs_from_json(items: list) -> tuple[list[tuple[int, int]], list[str]]:
    """`[start, end]` or `[start, end, kind]` -> offsets and kinds (empty when every paragraph is body)."""
    paragraphs, kinds = [], []
    for i, item in enumerate(items):
        if not isinstance(item, (list, tuple)) or len(item) not in (2, 3):
            raise ValueError(f"paragraph {i} must be [start, end] or [start, end, kind], got {item!r}")
        kind = item[2] if len(item) == 3 else DEFAULT_PARAGRAPH_KIND
        if kind not in PARAGRAPH_KINDS:
            raise ValueError(f"paragraph {i} has kind {kind!r}; known kinds: {', '.join(PARAGRAPH_KINDS)}")
        paragraphs.append((item[0], item[1]))
        kinds.append(kind)
    if all(k == DEFAULT_PARAGRAPH_KIND for k in kinds):
        kinds = []
    return paragraphs, kinds
