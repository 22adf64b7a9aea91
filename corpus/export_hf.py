"""Gold as a Hugging Face `datasets` dataset saved as Parquet, with one `train` split.

Two configurations of the same gold:
- `documents` (the default): one row per document, offsets into the document text;
- `sentences`: one row per sentence, offsets into the sentence text (`sentence_start` maps them back),
  the shape token-classification trainers with a length limit expect.

The features (and their ClassLabel names) derive from `vnreorg.schema`. The folder holds
`data/train-00000-of-00001.parquet`, `sentences/train-00000-of-00001.parquet` and a README.md (the dataset
card, written by `card.py`) whose YAML `configs`/`dataset_info` let `datasets.load_dataset("<folder>")`
load it offline.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from vnreorg.corpus.export_bio import bio_tags_for, doc_tokens, sentence_groups
from vnreorg.jsonio import write_atomic
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, bio_tags

PARQUET_NAME = "data/train-00000-of-00001.parquet"
SENTENCES_PARQUET_NAME = "sentences/train-00000-of-00001.parquet"
META_FIELDS = ("title", "outlet", "date", "source_file")


def _span_relation_features():
    from datasets import ClassLabel, List, Value

    spans = List(
        {
            "id": Value("string"),
            "start": Value("int32"),
            "end": Value("int32"),
            "text": Value("string"),
            "label": ClassLabel(names=list(ENTITY_LABELS)),
        }
    )
    relations = List(
        {
            "head": Value("string"),
            "child": Value("string"),
            "label": ClassLabel(names=list(RELATION_LABELS)),
        }
    )
    return spans, relations


def features():
    """Features of the `documents` configuration."""
    from datasets import ClassLabel, Features, List, Value

    spans, relations = _span_relation_features()
    fields = {
        "id": Value("string"),
        "text": Value("string"),
        "tokens": List(Value("string")),
        "token_starts": List(Value("int32")),
        "token_ends": List(Value("int32")),
        "ner_tags": List(ClassLabel(names=bio_tags())),
        "sentences": List({"start": Value("int32"), "end": Value("int32")}),
        "spans": spans,
        "relations": relations,
    }
    fields.update({name: Value("string") for name in META_FIELDS})
    return Features(fields)


def sentence_features():
    """Features of the `sentences` configuration."""
    from datasets import ClassLabel, Features, List, Value

    spans, relations = _span_relation_features()
    return Features(
        {
            "id": Value("string"),
            "doc_id": Value("string"),
            "sentence_start": Value("int32"),
            "text": Value("string"),
            "tokens": List(Value("string")),
            "token_starts": List(Value("int32")),
            "token_ends": List(Value("int32")),
            "ner_tags": List(ClassLabel(names=bio_tags())),
            "spans": spans,
            "relations": relations,
        }
    )


def _span_dicts(doc: Document, spans, shift: int = 0) -> list[dict]:
    return [
        {"id": s.id, "start": s.start - shift, "end": s.end - shift, "text": doc.text[s.start : s.end], "label": s.label}
        for s in sorted(spans, key=lambda s: (s.start, s.end))
    ]


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
        "spans": _span_dicts(doc, doc.spans),
        "relations": [{"head": r.head, "child": r.child, "label": r.label} for r in doc.relations],
    }
    for name in META_FIELDS:
        value = doc.meta.get(name)
        row[name] = None if value is None else str(value)
    return row


def to_sentence_rows(doc: Document) -> list[dict]:
    """One row per sentence; spans and relations inside it, offsets relative to the sentence text.

    Gold is validated first, so every span lies in one sentence and every relation stays in one.
    """
    tokens = doc_tokens(doc)
    tags = bio_tags_for(doc, tokens)
    rows = []
    for sent_id, idx in sentence_groups(doc, tokens):
        start, end = tokens[idx[0]].start, tokens[idx[-1]].end
        inside = [s for s in doc.spans if start <= s.start and s.end <= end]
        ids = {s.id for s in inside}
        sent_tags = [tags[i] for i in idx]
        if sent_tags and sent_tags[0].startswith("I-"):  # only if a span crosses a sentence (gold forbids it)
            sent_tags[0] = "B-" + sent_tags[0][2:]
        rows.append(
            {
                "id": sent_id,
                "doc_id": doc.id,
                "sentence_start": start,
                "text": doc.text[start:end],
                "tokens": [tokens[i].text for i in idx],
                "token_starts": [tokens[i].start - start for i in idx],
                "token_ends": [tokens[i].end - start for i in idx],
                "ner_tags": sent_tags,
                "spans": _span_dicts(doc, inside, start),
                "relations": [
                    {"head": r.head, "child": r.child, "label": r.label}
                    for r in doc.relations
                    if r.head in ids and r.child in ids
                ],
            }
        )
    return rows


def build_dataset(docs: list[Document]):
    """The `documents` configuration as a DatasetDict with one `train` split."""
    from datasets import Dataset, DatasetDict

    feats = features()
    rows = [feats.encode_example(to_row(d)) for d in sorted(docs, key=lambda d: d.id)]
    return DatasetDict({"train": Dataset.from_list(rows, features=feats)})


def build_sentence_dataset(docs: list[Document]):
    """The `sentences` configuration as a DatasetDict with one `train` split."""
    from datasets import Dataset, DatasetDict

    feats = sentence_features()
    rows = [feats.encode_example(r) for d in sorted(docs, key=lambda d: d.id) for r in to_sentence_rows(d)]
    return DatasetDict({"train": Dataset.from_list(rows, features=feats)})


def _parquet_bytes(dataset) -> bytes:
    import datasets

    buf = io.BytesIO()
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # one small file: a progress bar is noise
    try:
        dataset.to_parquet(buf)
    finally:
        if bars:
            datasets.enable_progress_bars()
    return buf.getvalue()


def write_parquet(docs: list[Document], out_dir: str | os.PathLike) -> dict:
    """Write both configurations under `out_dir`; return {config name: DatasetDict} as written."""
    written = {"documents": build_dataset(docs), "sentences": build_sentence_dataset(docs)}
    write_atomic(Path(out_dir) / PARQUET_NAME, _parquet_bytes(written["documents"]["train"]))
    write_atomic(Path(out_dir) / SENTENCES_PARQUET_NAME, _parquet_bytes(written["sentences"]["train"]))
    return written
