"""Gold as spaCy DocBin files, tokenized by the project tokenizer (`blank_vi()`).

Entities are set with strict alignment (an unaligned span is an error naming doc and offset, never
dropped); sentence starts come from the gold sentence offsets; relations and metadata travel in
`doc.user_data` (DocBin is saved with `store_user_data=True`):

- user_data["doc_id"]: the gold document id;
- user_data["relations"]: list of (head_start_char, head_end_char, child_start_char, child_end_char, label);
- user_data["span_ids"]: list of (start_char, end_char, span id) so gold ids survive the round trip.
"""
from __future__ import annotations

import os
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import write_atomic
from vnreorg.schema import Document


def to_spacy_doc(nlp, doc: Document):
    """One gold Document as a spaCy Doc with entities, sentence starts and relations."""
    sdoc = nlp.make_doc(doc.text)
    ents = []
    for span in sorted(doc.spans, key=lambda s: (s.start, s.end)):
        ent = sdoc.char_span(span.start, span.end, label=span.label, alignment_mode="strict")
        if ent is None:
            raise VnreorgError(f"span {doc.text[span.start:span.end]!r} [{span.start}, {span.end}) does not align "
                               "with the project tokenizer", f"doc={doc.id} span={span.id} offset={span.start}")
        ents.append(ent)
    try:
        sdoc.ents = ents
    except ValueError as exc:
        raise VnreorgError(f"overlapping spans: {exc}", f"doc={doc.id}") from None
    if doc.sentences:
        starts = {s for s, _ in doc.sentences}
        for i, tok in enumerate(sdoc):
            tok.is_sent_start = i == 0 or tok.idx in starts
    by_id = doc.span_by_id()
    sdoc.user_data["doc_id"] = doc.id
    sdoc.user_data["span_ids"] = [(s.start, s.end, s.id) for s in sorted(doc.spans, key=lambda s: s.start)]
    sdoc.user_data["relations"] = [
        (by_id[r.head].start, by_id[r.head].end, by_id[r.child].start, by_id[r.child].end, r.label)
        for r in doc.relations
    ]
    return sdoc


def docbin_bytes(docs: list[Document], nlp=None) -> bytes:
    from spacy.tokens import DocBin

    from vnreorg.corpus.tokenize import blank_vi

    nlp = nlp or blank_vi()
    db = DocBin(attrs=["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE", "SENT_START"], store_user_data=True)
    for doc in docs:
        db.add(to_spacy_doc(nlp, doc))
    return db.to_bytes()


def write_docbin(path: str | os.PathLike, docs: list[Document], nlp=None) -> Path:
    path = Path(path)
    write_atomic(path, docbin_bytes(docs, nlp))
    return path


def read_docbin(path: str | os.PathLike, nlp=None) -> list:
    """spaCy Docs from a DocBin file (with user_data)."""
    from spacy.tokens import DocBin

    from vnreorg.corpus.tokenize import blank_vi

    nlp = nlp or blank_vi()
    return list(DocBin(store_user_data=True).from_disk(path).get_docs(nlp.vocab))


def write_spacy_exports(docs: list[Document], folds: dict, out_dir: str | os.PathLike) -> list[Path]:
    """all.spacy plus folds/<fold>/{train,dev,test}.spacy; returns the paths written."""
    from vnreorg.corpus.tokenize import blank_vi

    nlp = blank_vi()
    out_dir = Path(out_dir)
    by_id = {d.id: d for d in docs}
    written = [write_docbin(out_dir / "all.spacy", docs, nlp)]
    for fold in folds["folds"]:
        for part in ("train", "dev", "test"):
            written.append(write_docbin(out_dir / "folds" / fold["name"] / f"{part}.spacy",
                                        [by_id[i] for i in fold[part]], nlp))
    return written
