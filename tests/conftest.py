"""Shared test builders: a Document from surface strings, or from offsets.

Import them in a test module with `from conftest import doc_from_surfaces, doc_from_offsets`
(pytest puts tests/ on the path)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from vnreorg.schema import Document, Relation, Span


def doc_from_surfaces(
    doc_id: str,
    text: str,
    spans: Sequence[tuple[str, str]] = (),
    relations: Iterable[tuple[int, int, str]] = (),
    *,
    sentences: list[tuple[int, int]] | str | None = "segment",
    paragraphs: list[tuple[int, int]] | None = None,
    meta: dict[str, Any] | None = None,
    provenance: list[dict[str, Any]] | None = None,
    first_id: int = 1,
    prefix: str = "T",
) -> Document:
    """Spans as (label, surface): the first occurrence of the surface at or after the end of the
    previous span, or `surface#k`: its k-th occurrence in the text. Relations as (head index, child
    index, label) into `spans`. Span ids are prefix + (first_id + index): T1, T2, ... by default.
    `sentences="segment"` takes the corpus segmenter's sentences; None leaves them empty."""
    if sentences == "segment":
        from vnreorg.corpus.segment import sentences as segment

        sentences = segment(text)
    doc = Document(id=doc_id, text=text, meta=dict(meta or {}), sentences=list(sentences or []),
                   paragraphs=list(paragraphs or []), provenance=list(provenance or []))
    pos = 0
    for i, (label, surface) in enumerate(spans):
        surface, _, nth = surface.partition("#")
        if nth:
            start = -1
            for _ in range(int(nth)):
                start = text.index(surface, start + 1)
        else:
            start = text.index(surface, pos)
        doc.spans.append(Span(f"{prefix}{first_id + i}", start, start + len(surface), label, text=surface))
        pos = start + len(surface)
    doc.relations = [Relation(f"{prefix}{first_id + h}", f"{prefix}{first_id + c}", lab) for h, c, lab in relations]
    return doc


def doc_from_offsets(
    doc_id: str,
    text: str,
    spans: Iterable[tuple[int, int, str]] = (),
    relations: Iterable[tuple[str, str, str]] = (),
    *,
    sentences: list[tuple[int, int]] | None = None,
    prefix: str = "s",
) -> Document:
    """Spans as (start, end, label) with ids prefix0, prefix1, ...; relations as (head id, child id, label)."""
    return Document(id=doc_id, text=text, sentences=list(sentences or []),
                    spans=[Span(f"{prefix}{i}", s, e, lab) for i, (s, e, lab) in enumerate(spans)],
                    relations=[Relation(h, c, lab) for h, c, lab in relations])
