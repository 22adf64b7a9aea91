"""Gold as spaCy DocBin files in the project's one DocBin format (`vnreorg/docbin.py`, the format the
models train on): one Doc per paragraph, tokenized by the project tokenizer (`blank_vi()`), with the
document id and the paragraph's offset in `user_data`, and relations in `doc._.rel` mirrored in
`user_data["relations"]`. An unaligned span is an error naming document, span and offset, never dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

from vnreorg.docbin import write_documents_docbin
from vnreorg.paths import safe_join
from vnreorg.schema import Document


def write_spacy_exports(docs: list[Document], folds: dict, out_dir: str | os.PathLike) -> list[Path]:
    """all.spacy plus folds/<fold>/{train,dev,test}.spacy; returns the paths written."""
    from vnreorg.corpus.tokenize import blank_vi

    nlp = blank_vi()
    out_dir = Path(out_dir)
    by_id = {d.id: d for d in docs}
    written = [write_documents_docbin(nlp, docs, out_dir / "all.spacy")]
    for fold in folds["folds"]:
        for part in ("train", "dev", "test"):
            written.append(
                write_documents_docbin(
                    nlp,
                    [by_id[i] for i in fold[part]],
                    safe_join(out_dir / "folds", fold["name"], what="fold name") / f"{part}.spacy",
                )
            )
    return written
