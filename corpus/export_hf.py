"""Gold as a Hugging Face `datasets` dataset: one `train` split, one row per document, saved as Parquet.

The features (and their ClassLabel names) derive from `vnreorg.schema`. The folder holds
`data/train-00000-of-00001.parquet` and a README.md (the dataset card, written by `card.py`) whose
YAML `configs`/`dataset_info` let `datasets.load_dataset("<folder>")` load it offline.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

from vnreorg.corpus.export_bio import bio_tags_for, doc_tokens
from vnreorg.jsonio import write_atomic
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, bio_tags

PARQUET_NAME = "data/train-00000-of-00001.parquet"
META_FIELDS = ("title", "outlet", "date", "source_file")


def features():
    from datasets import ClassLabel, Features, List, Value

    fields = {
        "id": Value("string"),
        "text": Value("string"),
        "tokens": List(Value("string")),
        "token_starts": List(Value("int32")),
        "token_ends": List(Value("int32")),
        "ner_tags": List(ClassLabel(names=bio_tags())),
        "sentences": List({"start": Value("int32"), "end": Value("int32")}),
        "spans": List({
            "id": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "text": Value("string"),
            "label": ClassLabel(names=list(ENTITY_LABELS)),
        }),
        "relations": List({
            "head": Value("string"),
            "child": Value("string"),
            "label": ClassLabel(names=list(RELATION_LABELS)),
        }),
    }
    fields.update({name: Value("string") for name in META_FIELDS})
    return Features(fields)


def to_row(doc: Document) -> dict:
    """One document as a dataset row (labels as names; `datasets` encodes them to ClassLabel ids)."""
    tokens = doc_tokens(doc)
    tags = bio_tags_for(doc, tokens)
    row = {
        "id": doc.id,
        "text": doc.text,
        "tokens": [t.text for t in tokens],
        "token_starts": [t.start for t in tokens],
        "token_ends": [t.end for t in tokens],
        "ner_tags": tags,
        "sentences": [{"start": s, "end": e} for s, e in doc.sentences],
        "spans": [{"id": s.id, "start": s.start, "end": s.end, "text": doc.text[s.start:s.end], "label": s.label}
                  for s in sorted(doc.spans, key=lambda s: (s.start, s.end))],
        "relations": [{"head": r.head, "child": r.child, "label": r.label} for r in doc.relations],
    }
    for name in META_FIELDS:
        value = doc.meta.get(name)
        row[name] = None if value is None else str(value)
    return row


def build_dataset(docs: list[Document]):
    from datasets import Dataset, DatasetDict

    feats = features()
    rows = [feats.encode_example(to_row(d)) for d in sorted(docs, key=lambda d: d.id)]
    return DatasetDict({"train": Dataset.from_list(rows, features=feats)})


def write_parquet(docs: list[Document], out_dir: str | os.PathLike):
    """Write the Parquet file under `out_dir`; return the DatasetDict that was written."""
    import datasets

    dsd = build_dataset(docs)
    buf = io.BytesIO()
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one small file: a progress bar is noise
    try:
        dsd["train"].to_parquet(buf)
    finally:
        if bars:
            datasets.enable_progress_bars()
    write_atomic(Path(out_dir) / PARQUET_NAME, buf.getvalue())
    return dsd
