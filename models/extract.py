"""Run a model on raw text (files, folders, stdin) and write JSONL: entities, relations, events.

One output record per input text: the entities (with offsets into the NFC text), the relations
(with probabilities) and one event per action trigger: the action, its sources, targets and
amounts, and the sentence it stands in. Inputs that cannot be used are not fatal: an empty file,
bytes that are not UTF-8, or text that is not Vietnamese yield a record with `skipped` and the
reason, and the run goes on.

Linear in the input and bounded in memory: inputs are streamed (standard input too) and a text of
more than 1,000,000 characters is processed in parts cut at line ends (corpus/parts.py), one record
per part with a `part` field ({index, start, end}) and every offset relative to the whole text;
nothing is skipped or truncated for its length. A paragraph longer than 20,000 characters is cut into
pieces at sentence ends (or, failing that, at spaces) and the record says so in `warnings`.

Memory stays bounded on real text too: spaCy keeps every new string (a number, a date, a name) in the
model's StringStore and vocab for the life of the process, so with one process (`--n-process 1`, the
default, and every archive partition) the texts go through the pipeline in groups of about
1,000,000 characters (whole parts), each inside `nlp.memory_zone()`, which frees the strings and lexemes
the group added (and the lexicon component its cache entries). A group's records are plain Python built
inside its zone (no Doc, Span, Token or string hash outlives it). The first ~1,000,000 characters a
process gives a pipeline run outside a zone, to fill spaCy's tokenizer cache (a zone does not): their
strings stay, a fixed amount. With `--n-process` > 1 all texts flow through one `nlp.pipe` with no
zone (its processes start once; a zone would restart them per group), and the strings grow as before.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import threading
import weakref
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vnreorg.corpus.parts import PART_CHARS, Part, iter_parts
from vnreorg.corpus.readers import InputText, ReadOptions, UnreadableInput, iter_inputs
from vnreorg.errors import VnreorgError
from vnreorg.fileset import hold_temp, remove_stale_temps
from vnreorg.schema import Document

# Letters only Vietnamese uses among Latin scripts (with tone marks in NFC), and very common words.
_VI_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
_VI_WORDS = frozenset("của và các được là những trong cho với đã có không này một người theo tại để từ".split())
MAX_PIECE_CHARS = 20_000  # a paragraph longer than this is cut (spaCy's limit is 1,000,000 per Doc)
LANGUAGE_SAMPLE = 200_000  # characters of a text's first part read by the language check


def is_vietnamese(text: str) -> tuple[bool, str]:
    """A cheap language check: Vietnamese-only letters or common Vietnamese words among the words."""
    words = re.findall(r"\w+", text[:LANGUAGE_SAMPLE].lower())
    letters = [w for w in words if not w.isdigit()]
    if not letters:
        return False, "no words (only digits, punctuation or symbols)"
    vi_words = sum(1 for w in letters if w in _VI_WORDS or _VI_LETTERS.search(w))
    share = vi_words / len(letters)
    if share < 0.15:
        return (
            False,
            f"does not look Vietnamese ({share:.0%} of {len(letters)} words have Vietnamese letters or are common Vietnamese words)",
        )
    return True, ""


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


def _pieces_of(text: str, p_start: int, p_end: int, sents: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """An over-long paragraph as pieces of at most `limit` characters, cut at sentence ends."""
    pieces: list[tuple[int, int]] = []
    cur_start, cur_end = p_start, p_start
    for s_start, s_end in sents:
        if s_end - cur_start > limit and cur_end > cur_start:
            pieces.extend(_cut(text, cur_start, cur_end, limit))
            cur_start = s_start
        cur_end = s_end
    pieces.extend(_cut(text, cur_start, max(cur_end, p_end), limit))
    return pieces


def _clip(sents: list[tuple[int, int]], pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentences clipped to the pieces (both sorted): a sentence never crosses a piece."""
    out, k = [], 0
    for s_start, s_end in sents:
        while k < len(pieces) and pieces[k][1] <= s_start:
            k += 1
        j = k
        while j < len(pieces) and pieces[j][0] < s_end:
            lo, hi = max(pieces[j][0], s_start), min(pieces[j][1], s_end)
            if hi > lo:
                out.append((lo, hi))
            j += 1
    return out


def segment_text(
    text: str,
    doc_id: str,
    meta: dict | None = None,
    warnings: list[str] | None = None,
    limit: int = MAX_PIECE_CHARS,
    offset: int = 0,
) -> Document:
    """Paragraphs and sentences by the corpus segmenter, each paragraph read once; over-long
    paragraphs cut into pieces (a warning names the offset, plus `offset` for a part of a text)."""
    from vnreorg.corpus.segment import paragraphs, sentences

    paras: list[tuple[int, int]] = []
    sents: list[tuple[int, int]] = []
    all_paras = paragraphs(text)
    all_sents = sentences(text, all_paras)  # one call: it maps invisible characters once for the whole text
    k = 0
    for p_start, p_end in all_paras:
        first = k
        while k < len(all_sents) and all_sents[k][0] < p_end:
            k += 1
        inner = all_sents[first:k]
        if p_end - p_start <= limit:
            paras.append((p_start, p_end))
            sents.extend(inner)
            continue
        if warnings is not None:
            warnings.append(
                f"paragraph at offset {offset + p_start} has {p_end - p_start} characters; cut into pieces of at most {limit}"
            )
        pieces = _pieces_of(text, p_start, p_end, inner, limit)
        paras.extend(pieces)
        sents.extend(_clip(inner, pieces))
    return Document(
        id=doc_id,
        text=text,
        meta=dict(meta or {}),
        paragraphs=paras,
        sentences=sents,
        paragraph_kinds=_kinds(text, paras, first_is_title=offset == 0),
    )


def _kinds(text: str, paras: list[tuple[int, int]], first_is_title: bool) -> list[str]:
    """Photo captions are not extracted from (corpus/ingest.py decides what a caption is; the first
    paragraph of a text is its title, never a caption)."""
    from vnreorg.corpus.ingest import is_caption

    kinds = ["caption" if (k > 0 or not first_is_title) and is_caption(text[s:e]) else "body" for k, (s, e) in enumerate(paras)]
    return kinds if "caption" in kinds else []


def _invisible_warning(text: str, base: int) -> str | None:
    """The invisible-character warning of a text or part, offsets relative to the whole text."""
    from vnreorg.invisible import invisible_offsets, invisible_warning

    if not base:
        return invisible_warning(text)
    offsets = invisible_offsets(text)
    if not offsets:
        return None
    msg = invisible_warning(text) or ""
    listed = ", ".join(str(o) for o in offsets[:10])
    return msg.replace(f"offset(s) {listed}", "offset(s) " + ", ".join(str(o + base) for o in offsets[:10]), 1)


def to_document(text: str, doc_id: str, warnings: list[str] | None = None, limit: int = MAX_PIECE_CHARS) -> Document:
    """A whole (short) text as a Document: kept for callers that hold the text."""
    return segment_text(text, doc_id, warnings=warnings, limit=limit)


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
        ev: dict[str, Any] = {
            "action": brief(span),
            "sources": [],
            "targets": [],
            "amounts": [],
            "sentence": {"start": sentence[0], "end": sentence[1], "text": document.text[sentence[0] : sentence[1]]},
        }
        for rel in by_head.get(span.id, []):
            if rel.child in spans:
                ev.setdefault(slot.get(rel.label, rel.label + "s"), []).append(brief(spans[rel.child], rel.score))
        events.append(ev)
    return events


def _span_record(document: Document, s) -> dict[str, Any]:
    out = {"id": s.id, "start": s.start, "end": s.end, "label": s.label, "text": document.text[s.start : s.end]}
    if s.score is not None:
        out["score"] = s.score
    return out


def _renumber(document: Document, base: int) -> None:
    """Span ids p0, p1, ... of a part continue the numbering of the parts before it."""
    if not base:
        return
    new = {sp.id: f"p{int(sp.id[1:]) + base}" for sp in document.spans}
    for sp in document.spans:
        sp.id = new[sp.id]
    for rel in document.relations:
        rel.head, rel.child = new.get(rel.head, rel.head), new.get(rel.child, rel.child)


def _shift(obj: Any, delta: int) -> Any:
    """Every `start`/`end` in a record fragment moved by `delta` (a part's offset in the whole text)."""
    if not delta:
        return obj
    if isinstance(obj, list):
        return [_shift(x, delta) for x in obj]
    if isinstance(obj, dict):
        return {k: (v + delta if k in ("start", "end") and isinstance(v, int) else _shift(v, delta)) for k, v in obj.items()}
    return obj


def skipped_record(item: InputText, reason: str, warnings: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"source": item.source, "id": item.id, "skipped": reason, **extra, "warnings": list(warnings or [])}


def record_of(
    item: InputText, predicted: Document, part: Part | None = None, warnings: list[str] | None = None
) -> dict[str, Any]:
    """The output record of a text, or of one part of a long text (offsets relative to the whole text)."""
    delta = part.start if part is not None else 0
    rec: dict[str, Any] = {"source": item.source, "id": item.id}
    if part is not None:
        rec["part"] = {"index": part.index, "start": part.start, "end": part.end}
    rec.update(
        {
            "characters": len(predicted.text),
            "entities": _shift([_span_record(predicted, s) for s in predicted.spans], delta),
            "relations": [{"head": r.head, "child": r.child, "label": r.label, "score": r.score} for r in predicted.relations],
            "events": _shift(events_of(predicted), delta),
            "warnings": list(warnings or []),
        }
    )
    if item.meta:
        rec["meta"] = item.meta
    return rec


class _AtomicOut:
    """Write lines to a temporary file beside the target and rename at the end (stdout: directly)."""

    def __init__(self, path: str | None):
        self.path = Path(path) if path and path != "-" else None
        if self.path:
            if self.path.is_dir():
                raise VnreorgError("--out is a folder; give a file name", str(self.path))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for line in remove_stale_temps(self.path.parent, [self.path.name]):  # a killed run's, of this output only
                print(line, file=sys.stderr)
            fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            hold_temp(fd)  # a run started meanwhile does not take it for stale
            self.fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        else:
            self.fh = sys.stdout

    def write(self, record: dict) -> None:
        self.fh.write(json.dumps(record, ensure_ascii=False))  # no `+ "\n"`: a part's line is megabytes
        self.fh.write("\n")

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


@dataclass
class _PartJob:
    """One part on its way through the pipeline. Its Docs come back in order; each one's predictions
    are kept (spans and relations, small) and the Doc is let go, so memory does not grow with a part."""

    item: InputText
    part: Part
    document: Document  # the part's text, paragraphs and sentences; predictions are gathered into it
    whole: bool  # the text has this one part only: the record carries no `part` field
    warnings: list[str]
    next_span: list[int]  # shared by the parts of one text: span ids p0, p1, ... continue across them


@dataclass
class _Plan:
    """What the pipeline's input generator decided, in input order: records to write as they are
    (skipped inputs) and Docs whose predictions come back from `nlp.pipe` in the same order."""

    queue: deque = field(default_factory=deque)  # ("record", dict, ends_input) | ("doc", _PartJob, is_last_doc)
    words: int = 0


GROUP_CHARS = 50_000  # Docs are made this many characters of paragraphs at a time, as the pipeline asks


def _lazy_docs(nlp, document: Document, on_doc: Callable[[bool], None], group_chars: int = GROUP_CHARS) -> Iterator[Any]:
    """The part's Docs (one per body paragraph or piece; captions have none) made a group at a time;
    `on_doc(is_last)` is called just before each is given. A group is a Document sharing the part's
    text, holding only its own paragraphs and sentences (so finding a paragraph's sentences never scans
    the whole part). No Doc stays referenced here once given: after a part's last Doc, a memory zone
    may end (`iter_records`)."""
    from bisect import bisect_left

    from vnreorg.models.convert import document_to_docs

    paras, sents = document.body_paragraphs(), document.sentences
    sent_starts = [s for s, _ in sents]
    i = 0
    while i < len(paras):
        j, size = i, 0
        while j < len(paras) and (j == i or size + paras[j][1] - paras[j][0] <= group_chars):
            size += paras[j][1] - paras[j][0]
            j += 1
        lo, hi = bisect_left(sent_starts, paras[i][0]), bisect_left(sent_starts, paras[j - 1][1])
        group = Document(id=document.id, text=document.text, paragraphs=paras[i:j], sentences=sents[lo:hi])
        docs = deque(document_to_docs(nlp, group, with_gold=False))
        while docs:
            on_doc(j == len(paras) and len(docs) == 1)
            yield docs.popleft()
        i = j


def _text_parts(item: InputText, plan: _Plan, nlp, limit: int) -> Iterator[Any]:
    """Docs of one input text, part by part; skipped texts become records in the plan."""
    from vnreorg.corpus.segment import count_words

    if item.skipped is not None or item.chunks is None:
        plan.queue.append(("record", skipped_record(item, item.skipped or "nothing to read"), True))
        return
    decided, given, reached, next_span = False, 0, 0, [0]
    parts = iter_parts(item.chunks(), limit)
    while True:
        try:
            part = next(parts, None)
        except UnreadableInput as exc:
            reason = (
                exc.reason if not given else f"{exc.reason}; its first {reached:,} characters were extracted in {given} part(s)"
            )
            plan.queue.append(("record", skipped_record(item, reason), True))
            return
        if part is None:
            if not decided:
                plan.queue.append(("record", skipped_record(item, "empty input"), True))
            return
        if not decided:
            if not part.text.strip():
                if part.last:
                    plan.queue.append(("record", skipped_record(item, "empty input"), True))
                    return
                continue
            ok, why = is_vietnamese(part.text)
            if not ok:
                plan.queue.append(("record", skipped_record(item, why), True))
                return
            decided = True
        whole = part.last and part.index == 0
        warnings = list(part.warnings)
        if part.index == 0 and not part.last:
            warnings.append(
                f"text longer than {limit:,} characters: processed in parts cut at line ends; offsets are relative to the whole text"
            )
        invisible = _invisible_warning(part.text, part.start)  # the model ignores them; the user should know
        if invisible:
            warnings.append(invisible)
        document = segment_text(part.text, item.id, warnings=warnings, offset=part.start)
        plan.words += count_words(part.text)
        job = _PartJob(item, part, document, whole, warnings, next_span)
        given, reached = given + 1, part.end
        if not document.body_paragraphs():  # only blank lines or captions: nothing to extract from
            plan.queue.append(("record", record_of(item, document, None if whole else part, warnings), part.last))

        def queue_doc(last: bool, job: _PartJob = job) -> None:
            plan.queue.append(("doc", job, last))

        yield from _lazy_docs(nlp, document, queue_doc)
        if part.last:
            return


def _docs_stream(items: Iterable[InputText], plan: _Plan, nlp, limit: int) -> Iterator[Any]:
    for item in items:
        yield from _text_parts(item, plan, nlp, limit)


def _gather(job: _PartJob, doc) -> None:
    """Add one processed Doc's entities and relations to its part (span ids continue the text's)."""
    from vnreorg.models.convert import docs_to_document

    predicted = docs_to_document(Document(id=job.document.id, text=""), [doc])
    _renumber(predicted, job.next_span[0])
    job.next_span[0] += len(predicted.spans)
    job.document.spans.extend(predicted.spans)
    job.document.relations.extend(predicted.relations)


# Characters of text (whole parts) processed inside one memory zone: one part of a long text (at most
# 1,000,000 characters, cut at a line end, so usually a little less) fills a group by itself.
ZONE_CHARS = 900_000
# spaCy's tokenizer does not fill its cache inside a zone (tokenizing took ~6x longer there, ~25% of the
# run with the shipped model): a pipeline's first group(s), this many characters, warm it outside a zone.
# Their strings stay, a fixed amount per process (a few thousand), however long it runs.
WARM_CHARS = 900_000
_ZONE_LOCK = threading.Lock()  # zones must not nest: threads sharing a process (and its model) take turns
_ZONE_OWNER: list[int | None] = [None]


@contextmanager
def _zone_turn() -> Iterator[None]:
    """This thread's turn to run a group (in a zone or warming up). A run this thread left unfinished
    (an iterator of `iter_records` neither exhausted nor closed) holds the turn: an error, not a hang."""
    if _ZONE_OWNER[0] == threading.get_ident():
        raise VnreorgError("an earlier extraction in this thread was left unfinished (close its iterator first)")
    with _ZONE_LOCK:
        _ZONE_OWNER[0] = threading.get_ident()
        try:
            yield
        finally:
            _ZONE_OWNER[0] = None


_WARMED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # pipeline -> characters run outside zones


@dataclass
class _Group:
    """What `_until_full` gave: characters of the parts it completed, and whether the stream ran out."""

    chars: int = 0
    ended: bool = False


def _until_full(stream: Iterator[Any], plan: _Plan, zone_chars: int, group: _Group) -> Iterator[Any]:
    """Docs from `stream` until at least `zone_chars` characters were given and a part is complete.
    Nothing is read past the group's last Doc, so the next group's Docs are made in the next zone."""
    for doc in stream:
        _, job, ends_part = plan.queue[-1]  # the entry `_text_parts` queued for this very Doc
        yield doc
        if ends_part:
            group.chars += job.part.end - job.part.start
            if group.chars >= zone_chars:
                return
    group.ended = True


def iter_records(
    nlp,
    items: Iterable[InputText],
    *,
    n_process: int = 1,
    batch_size: int = 64,
    part_chars: int = PART_CHARS,
    plan: _Plan | None = None,
    zone_chars: int = ZONE_CHARS,
) -> Iterator[tuple[dict[str, Any], bool]]:
    """The output records of the inputs, in input order, with whether each one ends its input (a
    long text gives one record per part). `plan.words` counts the words read so far. With one
    process the Docs go through the pipeline in groups of whole parts of about `zone_chars`
    characters, each group inside `nlp.memory_zone()` (0: no zones, as with `n_process` > 1), but
    for a pipeline's first `WARM_CHARS` characters in this process."""
    plan = plan if plan is not None else _Plan()
    stream = _docs_stream(items, plan, nlp, part_chars)

    def records_first() -> Iterator[tuple[dict[str, Any], bool]]:
        while plan.queue and plan.queue[0][0] == "record":
            _, rec, ends = plan.queue.popleft()
            yield rec, ends

    def run(docs: Iterable[Any], n: int) -> Iterator[tuple[dict[str, Any], bool]]:
        for doc in nlp.pipe(docs, batch_size=batch_size, n_process=n):
            yield from records_first()
            _, job, last_doc = plan.queue.popleft()
            _gather(job, doc)
            if last_doc:
                yield record_of(job.item, job.document, None if job.whole else job.part, job.warnings), job.part.last
            del job, doc  # the finished part is not held while the next batch runs through the pipeline
        yield from records_first()

    if n_process != 1 or zone_chars <= 0 or not hasattr(nlp, "memory_zone"):
        yield from run(stream, n_process)
        return
    group = _Group()
    while not group.ended:
        group.chars = 0
        with _zone_turn():
            warmed = _WARMED.get(nlp, 0)
            if warmed < WARM_CHARS:  # the tokenizer's cache is filled outside zones only
                yield from run(_until_full(stream, plan, zone_chars, group), 1)
                _WARMED[nlp] = warmed + group.chars
                continue
            with nlp.memory_zone():
                yield from run(_until_full(stream, plan, zone_chars, group), 1)


def check_inputs(paths: Iterable[str]) -> None:
    """A missing path, a FIFO or a device is the user's mistake, not an unusable text: one error
    before any work (a folder is searched; "-" is standard input). URLs (s3://, gs://, memory://,
    file://) are read through fsspec: a scheme whose driver package is missing is one error naming it."""
    from vnreorg.corpus.storage import check_url, exists, is_url
    from vnreorg.jsonio import check_input_file

    paths = list(paths)
    for p in paths:  # every URL's driver first: a missing package is named before any network call
        check_url(p)
    for p in paths:
        if is_url(p):
            if not exists(p):
                raise VnreorgError("no such file or folder (or nothing matches the glob)", p)
        elif p != "-" and not Path(p).is_dir():
            check_input_file(p)


def resolve_model(model: Any):
    """A loaded pipeline, a pipeline folder or an installed package name -> the pipeline, loaded once
    per process (the cache is what makes a Dask worker load the model once)."""
    from vnreorg.models.predict import _cached_model

    if hasattr(model, "pipe_names"):
        return model
    return _cached_model(str(model))


def extract(
    model: Any,
    paths: list[str],
    out: str | None = None,
    *,
    n_process: int = 1,
    batch_size: int = 64,
    progress: bool = True,
    stdin: TextIO | None = None,
    part_chars: int = PART_CHARS,
    read_options: ReadOptions | None = None,
    zone_chars: int = ZONE_CHARS,
) -> dict[str, int]:
    """Extract from every input (`model`: a path, a package name or a loaded pipeline) into one JSONL
    stream; returns counts (texts, skipped, entities, relations, events, words). `zone_chars`: text
    per memory zone with one process (0: none)."""
    from tqdm import tqdm

    if not paths:
        raise VnreorgError("no inputs given")
    check_inputs(paths)  # usage errors before the model loads
    if out and out != "-":
        from vnreorg.corpus.storage import local_output

        out = local_output(out)
    if out and out != "-" and Path(out).is_dir():
        raise VnreorgError("is a folder; --out needs a file name", str(out))
    nlp = resolve_model(model)
    exclude = frozenset({Path(out).resolve()}) if out and out != "-" else frozenset()  # the output is not an input
    items = iter_inputs(paths, stdin, read_options or ReadOptions(), exclude)  # read lazily, one document at a time
    counts = {"texts": 0, "skipped": 0, "entities": 0, "relations": 0, "events": 0, "words": 0}
    plan = _Plan()
    writer = _AtomicOut(out)
    ok = False
    bar = tqdm(unit="text", disable=not progress, file=sys.stderr)
    in_parts: set[tuple[str, str]] = set()
    try:
        for rec, ends_input in iter_records(
            nlp, items, n_process=n_process, batch_size=batch_size, part_chars=part_chars, plan=plan, zone_chars=zone_chars
        ):
            writer.write(rec)
            if "skipped" in rec:
                counts["skipped"] += 1
                if progress:
                    tqdm.write(f"skipped {rec['source']}: {rec['skipped']}", file=sys.stderr)
            else:
                for w in rec["warnings"]:
                    tqdm.write(f"warning: {rec['source']}: {w}", file=sys.stderr)
                if "part" not in rec or (rec["source"], rec["id"]) not in in_parts:
                    counts["texts"] += 1
                    if "part" in rec:  # only texts cut in parts are remembered
                        in_parts.add((rec["source"], rec["id"]))
                counts["entities"] += len(rec["entities"])
                counts["relations"] += len(rec["relations"])
                counts["events"] += len(rec["events"])
            if ends_input:
                bar.update(1)
                bar.set_postfix(words_s=f"{plan.words / max(bar.format_dict['elapsed'], 1e-9):,.0f}", refresh=False)
            del rec  # a part's record is megabytes: not held while the next part is processed
        counts["words"] = plan.words
        bar.close()
        ok = True
    finally:
        writer.close(ok)
    return counts
