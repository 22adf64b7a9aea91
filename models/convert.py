"""Corpus Documents <-> spaCy Docs, with every gold span aligned to the project's tokens.

A Document becomes one Doc per paragraph (training batches and shuffles better than five long
documents, and relations never cross a sentence). Each Doc records its document id and its
character offset in `doc.user_data`, so predictions map back to document offsets exactly.
A span that does not fall on token boundaries raises a VnreorgError naming the document and the
offset: a span is never dropped silently.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import write_atomic
from vnreorg.models import components  # noqa: F401  (registers doc._.rel)
from vnreorg.schema import Document, Relation, Span

DOC_ID = "vnreorg_doc_id"
OFFSET = "vnreorg_offset"


def units(document: Document) -> list[tuple[int, int]]:
    """The character ranges that become Docs: paragraphs, or the whole text when none are given."""
    return list(document.paragraphs) or ([(0, len(document.text))] if document.text else [])


def _set_sentences(doc, starts: list[int]) -> None:
    """Mark the token at (or just after) each sentence start offset; the first token always starts one.
    Written as one array (setting `token.is_sent_start` one by one is quadratic in spaCy)."""
    if not len(doc):
        return
    import numpy
    from spacy.attrs import SENT_START

    idxs = [t.idx for t in doc]
    values = numpy.full((len(doc), 1), -1, dtype="int32")
    values[0, 0] = 1
    for s in starts:
        values[min(bisect_left(idxs, s), len(doc) - 1), 0] = 1
    doc.from_array([SENT_START], values.astype("uint64"))  # spaCy's own arrays hold -1 wrapped as uint64


def _sentence_starts(document: Document, start: int, end: int) -> list[int]:
    return [s - start for s, e in document.sentences if start <= s < end]


def document_to_docs(nlp, document: Document, *, with_gold: bool = True) -> list:
    """One Doc per paragraph, gold entities and `doc._.rel` set when `with_gold`."""
    where = f"doc={document.id}"
    ranges = units(document)
    docs = []
    span_unit: dict[str, tuple[int, object]] = {}
    for u_start, u_end in ranges:
        doc = nlp.make_doc(document.text[u_start:u_end])
        doc.user_data[DOC_ID] = document.id
        doc.user_data[OFFSET] = u_start
        _set_sentences(doc, _sentence_starts(document, u_start, u_end))
        docs.append((u_start, u_end, doc))
    if not with_gold:
        return [d for _, _, d in docs]
    ents_per_doc: dict[int, list] = {i: [] for i in range(len(docs))}
    for span in sorted(document.spans, key=lambda s: (s.start, s.end)):
        idx = next((i for i, (a, b, _) in enumerate(docs) if a <= span.start and span.end <= b), None)
        if idx is None:
            raise VnreorgError(f"span {span.id} {span.label} [{span.start},{span.end}) crosses a paragraph boundary or lies outside the text", f"{where} offset={span.start}")
        u_start, _, doc = docs[idx]
        ent = doc.char_span(span.start - u_start, span.end - u_start, label=span.label, alignment_mode="strict")
        if ent is None:
            around = doc.char_span(span.start - u_start, span.end - u_start, alignment_mode="expand")
            tokens = [t.text for t in around] if around is not None else []
            raise VnreorgError(
                f"span {span.id} {span.label} {document.text[span.start:span.end]!r} [{span.start},{span.end}) does not align to token boundaries (tokens {tokens})",
                f"{where} offset={span.start}",
            )
        ents_per_doc[idx].append(ent)
        span_unit[span.id] = (idx, ent)
    for idx, ents in ents_per_doc.items():
        try:
            docs[idx][2].ents = ents
        except ValueError as exc:
            raise VnreorgError(f"overlapping spans cannot be entities: {exc}", f"{where} offset={docs[idx][0]}") from None
    rels: dict[int, dict] = {i: {} for i in range(len(docs))}
    for rel in document.relations:
        if rel.head not in span_unit or rel.child not in span_unit:
            missing = rel.head if rel.head not in span_unit else rel.child
            raise VnreorgError(f"relation {rel.label} refers to missing span {missing}", where)
        (h_idx, head), (c_idx, child) = span_unit[rel.head], span_unit[rel.child]
        if h_idx != c_idx:
            raise VnreorgError(f"relation {rel.label} {rel.head}->{rel.child} crosses paragraphs", f"{where} offset={docs[h_idx][0] + head.start_char}")
        rels[h_idx].setdefault((head.start, child.start), {})[rel.label] = 1.0
    for idx, (_, _, doc) in enumerate(docs):
        doc._.rel = rels[idx]
    return [d for _, _, d in docs]


def documents_to_docs(nlp, documents: Iterable[Document], *, with_gold: bool = True) -> list:
    out = []
    for document in documents:
        out.extend(document_to_docs(nlp, document, with_gold=with_gold))
    return out


def write_docbin(docs: list, path: str | Path) -> Path:
    """Save Docs (entities, sentence starts, `doc._.rel`, ids) as a DocBin, atomically."""
    from spacy.tokens import DocBin

    db = DocBin(attrs=["ENT_IOB", "ENT_TYPE", "SENT_START"], store_user_data=True, docs=docs)
    write_atomic(path, db.to_bytes())
    return Path(path)


def read_docbin(nlp, path: str | Path) -> list:
    from spacy.tokens import DocBin

    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def docs_to_document(document: Document, docs: list) -> Document:
    """A copy of `document` whose spans and relations are the Docs' predictions (ids p0, p1, ...)."""
    spans: list[Span] = []
    relations: list[Relation] = []
    for doc in docs:
        base = doc.user_data.get(OFFSET, 0)
        ids = {}
        for ent in doc.ents:
            sid = f"p{len(spans)}"
            score = doc.user_data.get(("vnreorg_ent_score", ent.start, ent.end))
            spans.append(Span(sid, base + ent.start_char, base + ent.end_char, ent.label_, score))
            ids[ent.start] = sid
        for (h, c), labels in sorted((doc._.rel or {}).items()):
            if h not in ids or c not in ids:
                continue
            for label, prob in sorted(labels.items()):
                relations.append(Relation(ids[h], ids[c], label, round(float(prob), 4)))
    return Document(
        id=document.id,
        text=document.text,
        meta=dict(document.meta),
        paragraphs=list(document.paragraphs),
        sentences=list(document.sentences),
        spans=spans,
        relations=relations,
        provenance=list(document.provenance),
    )
