"""Run a model on raw text files (or stdin) and write JSONL: entities, relations, restructuring events.

One output record per input text: the entities (with offsets into the NFC text), the relations
(with probabilities) and one event per action trigger: the action, its sources, targets and
amounts, and the sentence it stands in. Inputs that cannot be used are not fatal: an empty file,
bytes that are not UTF-8, or text that is not Vietnamese yield a record with `skipped` and the
reason, and the run goes on; a huge single line is cut into pieces at sentence ends (or, failing
that, at spaces) and the record says so in `warnings`.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import check_input_file
from vnreorg.schema import Document, nfc

# Letters only Vietnamese uses among Latin scripts (with tone marks in NFC), and very common words.
_VI_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
_VI_WORDS = frozenset("của và các được là những trong cho với đã có không này một người theo tại để từ".split())
MAX_PIECE_CHARS = 20_000  # a paragraph longer than this is cut (spaCy's limit is 1,000,000 per Doc)


@dataclass
class TextInput:
    source: str
    text: str | None = None
    skipped: str | None = None
    warnings: list[str] = field(default_factory=list)


def is_vietnamese(text: str) -> tuple[bool, str]:
    """A cheap language check: Vietnamese-only letters or common Vietnamese words among the words."""
    words = re.findall(r"\w+", text[:200_000].lower())
    letters = [w for w in words if not w.isdigit()]
    if not letters:
        return False, "no words (only digits, punctuation or symbols)"
    vi_words = sum(1 for w in letters if w in _VI_WORDS or _VI_LETTERS.search(w))
    share = vi_words / len(letters)
    if share < 0.15:
        return False, f"does not look Vietnamese ({share:.0%} of {len(letters)} words have Vietnamese letters or are common Vietnamese words)"
    return True, ""


def decode_input(source: str, raw: bytes) -> TextInput:
    if not raw.strip():
        return TextInput(source, skipped="empty input")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return TextInput(source, skipped=f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at byte offset {exc.start})")
    text = nfc(text.replace("\r\n", "\n").replace("\r", "\n"))
    ok, why = is_vietnamese(text)
    if not ok:
        return TextInput(source, skipped=why)
    from vnreorg.corpus.tokenize import invisible_warning

    invisible = invisible_warning(text)  # the model ignores them (models/convert.py); the user should know
    return TextInput(source, text=text, warnings=[invisible] if invisible else [])


def iter_inputs(paths: list[str], stdin: TextIO | None = None) -> Iterator[TextInput]:
    """Each file (folders: their *.txt files, sorted), or stdin for "-"."""
    for p in paths:
        if p == "-":
            raw = (stdin or sys.stdin).buffer.read() if hasattr(stdin or sys.stdin, "buffer") else (stdin or sys.stdin).read().encode()
            yield decode_input("<stdin>", raw)
            continue
        path = Path(p)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*.txt") if f.is_file())
            if not files:
                yield TextInput(str(path), skipped="folder holds no .txt files")
            for f in files:
                yield decode_input(str(f), f.read_bytes())
        else:  # a missing path, a FIFO or a device is the user's mistake, not an unusable text: stop
            yield decode_input(str(path), check_input_file(path).read_bytes())


def _cut(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces of at most `limit` characters, at a space where possible."""
    pieces = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def to_document(item: TextInput, doc_id: str, limit: int = MAX_PIECE_CHARS) -> Document:
    """Paragraphs and sentences by the corpus segmenter; over-long paragraphs cut into pieces."""
    from vnreorg.corpus.ingest import paragraph_kinds
    from vnreorg.corpus.segment import paragraphs, sentences

    text = item.text or ""
    paras = []
    sents = sentences(text, paragraphs(text))
    for p_start, p_end in paragraphs(text):
        if p_end - p_start <= limit:
            paras.append((p_start, p_end))
            continue
        item.warnings.append(f"paragraph at offset {p_start} has {p_end - p_start} characters; cut into pieces of at most {limit}")
        inner = [s for s in sents if p_start <= s[0] < p_end]
        cur_start, cur_end = p_start, p_start
        for s_start, s_end in inner:
            if s_end - cur_start > limit and cur_end > cur_start:
                paras.extend(_cut(text, cur_start, cur_end, limit))
                cur_start = s_start
            cur_end = s_end
        paras.extend(_cut(text, cur_start, max(cur_end, p_end), limit))
    # Sentences must not cross a piece: clip them to the pieces.
    clipped = []
    for s_start, s_end in sents:
        for a, b in paras:
            lo, hi = max(a, s_start), min(b, s_end)
            if hi > lo:
                clipped.append((lo, hi))
    return Document(id=doc_id, text=text, meta={"source": item.source}, paragraphs=paras, sentences=clipped,
                    paragraph_kinds=paragraph_kinds(text, paras))  # photo captions are not extracted from


def events_of(document: Document) -> list[dict[str, Any]]:
    """One event per action trigger: its sources, targets and amounts, and its sentence."""
    spans = document.span_by_id()

    def brief(span, score=None) -> dict[str, Any]:
        out = {"text": document.span_text(span), "label": span.label, "start": span.start, "end": span.end}
        if score is not None:
            out["score"] = score
        return out

    by_head: dict[str, list] = {}
    for rel in document.relations:
        by_head.setdefault(rel.head, []).append(rel)
    sent_starts = [s for s, _ in document.sentences]
    slot = {"source": "sources", "target": "targets", "amount": "amounts"}
    events = []
    for span in document.spans:
        if span.label != "MERGE_ACTION":
            continue
        k = bisect_right(sent_starts, span.start) - 1
        sentence = document.sentences[k] if k >= 0 and span.start < document.sentences[k][1] else (span.start, span.end)
        ev: dict[str, Any] = {"action": brief(span), "sources": [], "targets": [], "amounts": [],
                              "sentence": {"start": sentence[0], "end": sentence[1], "text": document.text[sentence[0]:sentence[1]]}}
        for rel in by_head.get(span.id, []):
            if rel.child in spans:
                ev.setdefault(slot.get(rel.label, rel.label + "s"), []).append(brief(spans[rel.child], rel.score))
        events.append(ev)
    return events


def _span_record(document: Document, s) -> dict[str, Any]:
    out = {"id": s.id, "start": s.start, "end": s.end, "label": s.label, "text": document.text[s.start:s.end]}
    if s.score is not None:
        out["score"] = s.score
    return out


def record_of(item: TextInput, predicted: Document | None) -> dict[str, Any]:
    if predicted is None:
        return {"source": item.source, "skipped": item.skipped, "warnings": item.warnings}
    return {
        "source": item.source,
        "id": predicted.id,
        "characters": len(predicted.text),
        "entities": [_span_record(predicted, s) for s in predicted.spans],
        "relations": [{"head": r.head, "child": r.child, "label": r.label, "score": r.score} for r in predicted.relations],
        "events": events_of(predicted),
        "warnings": item.warnings,
    }


class _AtomicOut:
    """Write lines to a temporary file beside the target and rename at the end (stdout: directly)."""

    def __init__(self, path: str | None):
        self.path = Path(path) if path and path != "-" else None
        if self.path and self.path.is_dir():
            raise VnreorgError("is a folder; --out needs a file name", str(self.path))
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            self.fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        else:
            self.fh = sys.stdout

    def write(self, record: dict) -> None:
        self.fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self, ok: bool) -> None:
        if not self.path:
            self.fh.flush()
            return
        self.fh.close()
        try:
            if ok:
                os.replace(self.tmp, self.path)
        finally:
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)


def _batches(items: Iterable[TextInput], size: int) -> Iterator[list[TextInput]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def extract(
    model: str,
    paths: list[str],
    out: str | None = None,
    *,
    n_process: int = 1,
    batch_files: int = 32,
    progress: bool = True,
    stdin: TextIO | None = None,
) -> dict[str, int]:
    """Extract from every input; returns counts (texts, skipped, entities, relations, events, words)."""
    from tqdm import tqdm

    from vnreorg.corpus.segment import count_words
    from vnreorg.models.predict import _cached_model, load_model, predict_documents

    for p in paths:  # usage errors before the model loads
        if p != "-" and not Path(p).is_dir():
            check_input_file(p)
    if out and out != "-" and Path(out).is_dir():
        raise VnreorgError("is a folder; --out needs a file name", str(out))
    nlp = load_model(model) if not isinstance(model, str) or not Path(model).exists() else _cached_model(str(model))
    items = list(iter_inputs(paths, stdin))
    if not items:
        raise VnreorgError("no inputs given")
    counts = {"texts": 0, "skipped": 0, "entities": 0, "relations": 0, "events": 0, "words": 0}
    writer = _AtomicOut(out)
    ok = False
    try:
        bar = tqdm(total=len(items), unit="text", disable=not progress or len(items) < 2, file=sys.stderr)
        for n, batch in enumerate(_batches(items, batch_files)):
            usable = [i for i in batch if i.text is not None]
            docs = [to_document(i, f"text{n * batch_files + k}") for k, i in enumerate(usable)]
            preds = iter(predict_documents(nlp, docs, n_process=n_process)) if docs else iter(())
            for item in batch:
                if item.text is None:
                    counts["skipped"] += 1
                    if progress:
                        tqdm.write(f"skipped {item.source}: {item.skipped}", file=sys.stderr)
                    writer.write(record_of(item, None))
                    continue
                predicted = next(preds)
                for w in item.warnings:
                    tqdm.write(f"warning: {item.source}: {w}", file=sys.stderr)
                rec = record_of(item, predicted)
                writer.write(rec)
                counts["texts"] += 1
                counts["entities"] += len(rec["entities"])
                counts["relations"] += len(rec["relations"])
                counts["events"] += len(rec["events"])
                counts["words"] += count_words(predicted.text)
            bar.update(len(batch))
        bar.close()
        ok = True
    finally:
        writer.close(ok)
    return counts
