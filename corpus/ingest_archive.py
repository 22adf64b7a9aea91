"""Corpus documents from archive inputs (.html/.htm, .jsonl, .parquet, .warc/.warc.gz), read by the same
readers as `vnreorg extract` (corpus/readers.py), so new HTML articles become documents to annotate.

For HTML the boilerplate-removal library (trafilatura) decides what is site chrome, not our line
rules: the removed-lines report holds one entry per page saying so, instead of listing lines. The
text is the library's paragraphs, each stripped, joined by a blank line (as for .txt articles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from vnreorg.corpus.ingest import IngestResult, RemovedLine
from vnreorg.corpus.parts import normalise
from vnreorg.corpus.readers import InputText, ReadOptions, UnreadableInput, plan_partitions, read_partition
from vnreorg.corpus.segment import count_words, paragraphs, sentences
from vnreorg.schema import Document

ARCHIVE_KINDS = ("html", "jsonl", "parquet", "warc")
HTML_REPORT = "boilerplate removed by trafilatura (the library decides; lines are not listed)"


def archive_files(folder: Path) -> list[Path]:
    from vnreorg.corpus.readers import kind_of

    return sorted(f for f in folder.glob("*") if f.is_file() and kind_of(f) in ARCHIVE_KINDS)


def ingest_item(item: InputText) -> IngestResult | str:
    """One document, or the reason it cannot be one."""
    if item.skipped is not None or item.chunks is None:
        return item.skipped or "nothing to read"
    try:
        raw = "".join(item.chunks())
    except UnreadableInput as exc:
        return exc.reason
    lines = [line.strip() for line in normalise(raw).split("\n")]
    text = "\n\n".join(line for line in lines if line)
    if not text:
        return "empty text"
    is_html = item.meta.get("boilerplate") == "removed by trafilatura"
    meta = {
        "source_file": item.source,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "title": item.meta.get("title") or text.split("\n", 1)[0],
        "outlet": item.meta.get("hostname"),
        "date": item.meta.get("date"),
        "author": item.meta.get("author"),
        "section": None,
    }
    if item.meta.get("url"):
        meta["url"] = item.meta["url"]
    removed = [RemovedLine(0, item.source, HTML_REPORT)] if is_html else []
    meta["n_words"] = count_words(text)
    meta["removed_lines"] = [{"line": r.line, "text": r.text, "reason": r.reason} for r in removed]
    paras = paragraphs(text)
    return IngestResult(Document(id=item.id, text=text, meta=meta, paragraphs=paras, sentences=sentences(text, paras)), removed)


def ingest_archive_files(
    files: list[Path], options: ReadOptions = ReadOptions()
) -> Iterator[tuple[InputText, IngestResult | str]]:
    parts, bad = plan_partitions([str(f) for f in files], options)
    for item in bad:
        yield item, item.skipped or "cannot be read"
    for part in parts:
        for item in read_partition(part, options):
            yield item, ingest_item(item)
