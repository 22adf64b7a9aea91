"""The one schema of the project: labels, relation types, and the data model.

Everything else (Label Studio config, spaCy label sets, `datasets` features, the validator,
the evaluator) derives from the constants here. Adding a label is one line here plus the
guidelines in annotation/GUIDELINES.md.

Offsets are Python code-point offsets into the NFC text, end exclusive.
"""

from __future__ import annotations

import hashlib
import re
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


# Optional links of AGENCY spans to official administrative units (models/linking.py): each link names
# its span by offsets; `linked` carries code, level and era, `unresolved` its candidates.
LINK_STATUSES: tuple[str, ...] = ("linked", "unresolved")
LINK_LEVELS: tuple[str, ...] = ("province", "district", "commune")
LINK_ERAS: tuple[str, ...] = ("pre2025", "post2025")


def bio_tags() -> list[str]:
    """IOB2 tag names in ClassLabel order: O, then B-/I- per entity label."""
    tags = ["O"]
    for label in ENTITY_LABELS:
        tags += [f"B-{label}", f"I-{label}"]
    return tags


def relation_allowed(label: str, head_label: str, child_label: str) -> bool:
    return label in RELATION_CHILD_LABELS and head_label in RELATION_HEAD_LABELS and child_label in RELATION_CHILD_LABELS[label]


# Identifiers (document ids, fold names, ...) become file and folder names, so they have one safe form:
# an ASCII letter or digit, then up to 127 letters, digits, ".", "_" or "-"; never containing "..".
# Names derived from ids (a fold is "fold-<id>") follow the same rule with room for the prefix, up to
# NAME_MAX characters (a file name's limit on common file systems).
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
ID_MAX = 128
NAME_MAX = 255


def id_problem(value: Any, max_len: int = ID_MAX) -> str | None:
    """Why `value` is not a valid identifier (or derived name, with `max_len`), or None when it is."""
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__} {value!r:.60}"
    if not ID_RE.fullmatch(value) or ".." in value or len(value) > max_len:
        return (
            f"{ascii(value)[:80]} is not a valid id: use 1-{max_len} characters from A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit, without '..'"
        )
    return None


def check_id(value: Any, where: str | None = None, what: str = "document id", max_len: int = ID_MAX) -> str:
    """Return `value` when it is a valid identifier; otherwise raise the project error naming `where`."""
    problem = id_problem(value, max_len)
    if problem:
        from vnreorg.errors import VnreorgError

        raise VnreorgError(f"{what} {problem}", where)
    return value


def hashed_id(source: str | bytes, length: int = 16) -> str:
    """A valid id derived from anything (a URL, an archive record key, raw bytes): its SHA-256, in hex."""
    raw = source.encode("utf-8") if isinstance(source, str) else source
    return hashlib.sha256(raw).hexdigest()[:length]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass
class Span:
    id: str
    start: int
    end: int
    label: str
    score: float | None = None  # model confidence; None (and omitted from JSON) in gold
    # The covered text, carried by gold so that an edit of the document text under a span is caught
    # (`vnreorg corpus validate` checks text == doc.text[start:end]). Not part of equality: a span is
    # its offsets and label. None (and omitted from JSON) where not recorded, e.g. model output.
    text: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = _without_empty_score(asdict(self))
        if d.get("text") is None:
            d.pop("text", None)
        return d


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
    links: list[dict[str, Any]] = field(default_factory=list)  # optional; omitted from JSON when empty

    def paragraph_kind(self, index: int) -> str:
        return self.paragraph_kinds[index] if index < len(self.paragraph_kinds) else DEFAULT_PARAGRAPH_KIND

    def body_paragraphs(self) -> list[tuple[int, int]]:
        """The paragraphs that are article body (captions left out)."""
        return [p for i, p in enumerate(self.paragraphs) if self.paragraph_kind(i) == DEFAULT_PARAGRAPH_KIND]

    def span_by_id(self) -> dict[str, Span]:
        return {s.id: s for s in self.spans}

    def span_text(self, span: Span) -> str:
        return self.text[span.start : span.end]

    def with_span_texts(self) -> "Document":
        """Record each span's covered text in the span (gold carries it); returns self."""
        for span in self.spans:
            span.text = self.text[span.start : span.end]
        return self

    def with_annotations(self, spans: list[Span], relations: list[Relation], *, paragraph_kinds: list | None = None) -> Document:
        """A copy of this document (text, metadata, layout, provenance, paragraph kinds) carrying the given
        spans and relations instead of its own; links, which name spans, are not carried over."""
        return Document(
            id=self.id,
            text=self.text,
            meta=dict(self.meta),
            paragraphs=list(self.paragraphs),
            sentences=list(self.sentences),
            spans=spans,
            relations=relations,
            provenance=list(self.provenance),
            paragraph_kinds=list(self.paragraph_kinds) if paragraph_kinds is None else paragraph_kinds,
        )

    def unannotated(self) -> Document:
        """What a model may see of this document: text, metadata, layout and paragraph kinds; no spans,
        relations, provenance or links."""
        bare = self.with_annotations([], [])
        bare.provenance = []
        return bare

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
            "paragraphs": [
                list(p) + ([self.paragraph_kind(i)] if self.paragraph_kind(i) != DEFAULT_PARAGRAPH_KIND else [])
                for i, p in enumerate(self.paragraphs)
            ],
            "sentences": [list(s) for s in self.sentences],
            "spans": [s.to_dict() for s in self.spans],
            "relations": [r.to_dict() for r in self.relations],
            "provenance": self.provenance,
            **({"links": self.links} if self.links else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Document":
        """A Document from its JSON record; a record of the wrong shape raises ValueError saying what."""
        _check_shape(data)
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
            links=list(data.get("links") or []),
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


def _check_shape(data: Any) -> None:
    """The JSON types a document record must have, checked before use (ValueError names the field)."""
    if not isinstance(data, dict):
        raise ValueError(f"a document record must be a JSON object, not {type(data).__name__}")
    problem = id_problem(data.get("id")) if "id" in data else "is missing"
    if problem:
        raise ValueError(f"document id {problem}")
    if not isinstance(data.get("text"), str):
        raise ValueError(f"document text must be a string, not {type(data.get('text')).__name__}")
    if data.get("meta") is not None and not isinstance(data["meta"], dict):
        raise ValueError("meta must be a JSON object")
    for key in ("paragraphs", "sentences", "spans", "relations", "provenance", "links"):
        value = data.get(key)
        if value is not None and not isinstance(value, list):
            raise ValueError(f"{key} must be a list, not {type(value).__name__}")
    for key in ("spans", "relations"):
        for item in data.get(key) or []:
            if not isinstance(item, dict):
                raise ValueError(f"{key} must hold JSON objects, not {item!r:.60}")
