"""Corpus Documents <-> spaCy Docs for the model stage: the project's one converter and DocBin format
(`vnreorg/docbin.py`, the same one the corpus export writes), with `doc._.rel` registered so the
relation components read the relations the converter stores."""

from __future__ import annotations

from vnreorg.docbin import (  # noqa: F401  (the model stage's names for the shared converter)
    DOC_ID,
    OFFSET,
    docs_to_document,
    document_to_docs,
    documents_to_docs,
    read_docbin,
    units,
    write_docbin,
)
from vnreorg.models import components  # noqa: F401  (registers doc._.rel)
