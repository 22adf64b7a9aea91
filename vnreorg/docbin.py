"""The one Document <-> spaCy Doc converter and the one DocBin format of the project.

What we publish (`corpus/export/spacy/`) is what we train on (`models/train.py`): one Doc per
paragraph (training batches and shuffles better than a few long documents, and relations never
cross a sentence), tokenized by the project tokenizer, with

- entities: the gold spans, strictly aligned (a span that does not fall on token boundaries is a
  `VnreorgError` naming the document, the span and the offset; never dropped);
- sentence starts from the gold sentence offsets;
- `doc.user_data["doc_id"]`: the document id, and `doc.user_data["char_offset"]`: the paragraph's
  character offset in the document, so `reassemble()` (or a user) can put documents back together;
- `doc.user_data["span_ids"]`: [(start_char, end_char, span id)], so gold ids survive the round trip;
- relations twice: as `doc._.rel` ({(head_start_token, child_start_token): {label: prob}}, what the
  relation components train on; stored in `doc.user_data["vnreorg_rel"]`, the extension is
  registered by `vnreorg.models.docext`), and mirrored for a plain spaCy user in
  `doc.user_data["relations"]`: [(head_start_char, head_end_char, child_start_char, child_end_char,
  label)]. All character offsets in `user_data` are offsets into the Doc (the paragraph).
- invisible format characters (ZWJ, bidi marks, soft hyphen, BOM; `vnreorg/invisible.py`) are left out
  of the Doc, so no token, NORM or feature sees them, and their offsets in the paragraph are kept in
  `doc.user_data["vnreorg_invisible"]`; `docs_to_document` maps predictions back through them, so
  they change no result. A paragraph's document offsets are then its Doc offsets plus
  `char_offset`, plus one for each such character before them.

Shared by the corpus export and the model stage, so it imports only spaCy, numpy and `vnreorg`'s
shared modules.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.invisible import VisibleText
from vnreorg.jsonio import write_atomic
from vnreorg.schema import Document, Relation, Span

DOC_ID = "doc_id"
OFFSET = "char_offset"
SPAN_IDS = "span_ids"
RELATIONS = "relations"
# Storage of `doc._.rel` (see vnreorg/models/docext.py, which reads and writes the same key: a list
# of [head_token, child_token, {label: prob}], because msgpack cannot read back tuple dict keys).
REL_USER_DATA = "vnreorg_rel"
REMOVED = "vnreorg_invisible"  # offsets (in the paragraph) of the invisible characters left out of the Doc
ENT_SCORE_KEY = "vnreorg_ent_score"  # doc.user_data[(ENT_SCORE_KEY, start, end)]: an entity's confidence
DOCBIN_ATTRS = ["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE", "SENT_START"]


def units(document: Document) -> list[tuple[int, int]]:
    """The character ranges that become Docs: the body paragraphs (photo captions, paragraph kind
    "caption", are neither annotated nor extracted from), or the whole text when no paragraphs are given."""
    if document.paragraphs:
        return document.body_paragraphs()
    return [(0, len(document.text))] if document.text else []


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


def doc_relations(doc) -> dict:
    """The relations of a Doc as `doc._.rel` holds them, read from `user_data` (no extension needed)."""
    return {(h, c): dict(labels) for h, c, labels in doc.user_data.get(REL_USER_DATA, [])}


def set_doc_relations(doc, rels: dict) -> None:
    """Write `doc._.rel` storage and its plain mirror `user_data["relations"]` (character offsets)."""
    doc.user_data[REL_USER_DATA] = [[h, c, dict(labels)] for (h, c), labels in sorted(rels.items())]
    by_start = {e.start: e for e in doc.ents}
    mirror = []
    for (h, c), labels in sorted(rels.items()):
        head, child = by_start.get(h), by_start.get(c)
        if head is None or child is None:
            continue
        for label in sorted(labels):
            mirror.append((head.start_char, head.end_char, child.start_char, child.end_char, label))
    doc.user_data[RELATIONS] = mirror


def document_to_docs(nlp, document: Document, *, with_gold: bool = True) -> list:
    """One Doc per paragraph; gold entities, span ids and relations set when `with_gold`."""
    where = f"doc={document.id}"
    docs = []
    visible: list[VisibleText] = []
    for u_start, u_end in units(document):
        vis = VisibleText.of(document.text[u_start:u_end])
        doc = nlp.make_doc(vis.text)
        doc.user_data[DOC_ID] = document.id
        doc.user_data[OFFSET] = u_start
        if vis.removed:
            doc.user_data[REMOVED] = list(vis.removed)
        _set_sentences(doc, [vis.to_visible(s - u_start) for s, _ in document.sentences if u_start <= s < u_end])
        docs.append((u_start, u_end, doc))
        visible.append(vis)
    if not with_gold:
        return [d for _, _, d in docs]
    ents_per_doc: dict[int, list] = {i: [] for i in range(len(docs))}
    span_unit: dict[str, tuple[int, object]] = {}
    for span in sorted(document.spans, key=lambda s: (s.start, s.end)):
        at = f"{where} span={span.id} offset={span.start}"
        idx = next((i for i, (a, b, _) in enumerate(docs) if a <= span.start and span.end <= b), None)
        if idx is None:
            in_caption = any(
                document.paragraph_kind(i) == "caption" and a <= span.start < b for i, (a, b) in enumerate(document.paragraphs)
            )
            why = (
                "lies in a photo caption (captions are not annotated)"
                if in_caption
                else "crosses a paragraph boundary or lies outside the text"
            )
            raise VnreorgError(f"span {span.id} {span.label} [{span.start},{span.end}) {why}", at)
        u_start, _, doc = docs[idx]
        v_start, v_end = visible[idx].to_visible(span.start - u_start), visible[idx].to_visible(span.end - u_start)
        ent = doc.char_span(v_start, v_end, label=span.label, alignment_mode="strict")
        if ent is None:
            around = doc.char_span(v_start, v_end, alignment_mode="expand")
            tokens = [t.text for t in around] if around is not None else []
            raise VnreorgError(
                f"span {span.id} {span.label} {document.text[span.start : span.end]!r} [{span.start},{span.end}) "
                f"does not align to token boundaries of the project tokenizer (tokens {tokens})",
                at,
            )
        ents_per_doc[idx].append(ent)
        span_unit[span.id] = (idx, ent)
    for idx, ents in ents_per_doc.items():
        u_start, _, doc = docs[idx]
        try:
            doc.ents = ents
        except ValueError as exc:
            raise VnreorgError(f"overlapping spans cannot be entities: {exc}", f"{where} offset={u_start}") from None
        doc.user_data[SPAN_IDS] = [(e.start_char, e.end_char, sid) for sid, (i, e) in span_unit.items() if i == idx]
    rels: dict[int, dict] = {i: {} for i in range(len(docs))}
    for rel in document.relations:
        if rel.head not in span_unit or rel.child not in span_unit:
            missing = rel.head if rel.head not in span_unit else rel.child
            raise VnreorgError(f"relation {rel.label} refers to missing span {missing}", where)
        (h_idx, head), (c_idx, child) = span_unit[rel.head], span_unit[rel.child]
        if h_idx != c_idx:
            raise VnreorgError(
                f"relation {rel.label} {rel.head}->{rel.child} crosses paragraphs",
                f"{where} offset={docs[h_idx][0] + head.start_char}",
            )
        rels[h_idx].setdefault((head.start, child.start), {})[rel.label] = 1.0
    for idx, (_, _, doc) in enumerate(docs):
        set_doc_relations(doc, rels[idx])
    return [d for _, _, d in docs]


def documents_to_docs(nlp, documents: Iterable[Document], *, with_gold: bool = True) -> list:
    out = []
    for document in documents:
        out.extend(document_to_docs(nlp, document, with_gold=with_gold))
    return out


def reassemble(docs: Iterable) -> dict[str, list]:
    """{document id: its paragraph Docs in text order}: how to put the DocBin's documents back together
    (a paragraph's document offsets are its Doc offsets plus `user_data["char_offset"]`)."""
    out: dict[str, list] = {}
    for doc in docs:
        out.setdefault(doc.user_data[DOC_ID], []).append(doc)
    return {k: sorted(v, key=lambda d: d.user_data.get(OFFSET, 0)) for k, v in out.items()}


def docbin_bytes(docs: list) -> bytes:
    from spacy.tokens import DocBin

    return DocBin(attrs=DOCBIN_ATTRS, store_user_data=True, docs=docs).to_bytes()


def write_docbin(docs: list, path: str | os.PathLike) -> Path:
    """Save Docs (entities, sentence starts, relations, ids) as a DocBin, atomically."""
    write_atomic(path, docbin_bytes(docs))
    return Path(path)


def write_documents_docbin(nlp, documents: Iterable[Document], path: str | os.PathLike) -> Path:
    """Gold Documents as a DocBin in the project format, tokenized by `nlp` (the project's `blank_vi()`)."""
    return write_docbin(documents_to_docs(nlp, documents), path)


def read_docbin(path: str | os.PathLike, nlp=None) -> list:
    """spaCy Docs (with user_data) from a DocBin file; `nlp` gives the vocab (by default a fresh
    Vietnamese one, so lexical attributes such as `is_space` and `like_num` hold)."""
    from spacy.tokens import DocBin
    from spacy.util import get_lang_class
    from spacy.vocab import create_vocab

    vocab = nlp.vocab if nlp is not None else create_vocab("vi", get_lang_class("vi").Defaults)
    return list(DocBin(store_user_data=True).from_disk(path).get_docs(vocab))


def docs_to_document(document: Document, docs: list) -> Document:
    """A copy of `document` whose spans and relations are the Docs' predictions (ids p0, p1, ...)."""
    spans: list[Span] = []
    relations: list[Relation] = []
    for doc in docs:
        base = doc.user_data.get(OFFSET, 0)
        vis = VisibleText.from_removed(doc.user_data.get(REMOVED) or ())
        ids = {}
        for ent in doc.ents:
            sid = f"p{len(spans)}"
            score = doc.user_data.get((ENT_SCORE_KEY, ent.start, ent.end))
            start, end = base + vis.to_original_start(ent.start_char), base + vis.to_original_end(ent.end_char)
            spans.append(Span(sid, start, end, ent.label_, score))
            ids[ent.start] = sid
        for (h, c), labels in sorted(doc_relations(doc).items()):
            if h not in ids or c not in ids:
                continue
            for label, prob in sorted(labels.items()):
                relations.append(Relation(ids[h], ids[c], label, round(float(prob), 4)))
    return document.with_annotations(spans, relations)
