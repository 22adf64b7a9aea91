"""The gold validator: every rule the exports and models rely on, checked before anything reads gold.

Each problem names the file and line, the document, the span or relation and the character offset,
so that a reviewer can jump to it. Rules (schema in `vnreorg.schema`):

- document ids unique; `text` is NFC; sentence offsets inside the text;
- document ids follow the id rule of `vnreorg.schema` (they become file names);
- span ids unique per document; labels from ENTITY_LABELS; 0 <= start < end <= len(text);
- each span carries its `text`, equal to text[start:end] (an edit of the document text is caught);
- span text has no leading or trailing whitespace or punctuation (a trailing "%" and a bracket that
  closes one opened inside the span are allowed: "10%", "Ủy ban nhân dân (UBND)");
- span edges fall on token edges of the project tokenizer (`vnreorg.corpus.tokenize.tokenize`);
- spans do not overlap and lie inside one sentence;
- no span inside a paragraph of kind "caption";
- relation labels from RELATION_LABELS, endpoints exist, argument types allowed by
  `relation_allowed`, head and child in the same sentence, no self-relation, no duplicate pair;
- a synthetic record (corpus/synthetic.py) carries its synthetic provenance and is never in gold.jsonl;
  synthetic.jsonl holds only synthetic records.
"""

from __future__ import annotations

import bisect
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vnreorg.corpus.synthetic import synthetic_problems
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_json_file, read_jsonl
from vnreorg.metrics import span_problems
from vnreorg.schema import (
    ENTITY_LABELS,
    LINK_ERAS,
    LINK_LEVELS,
    LINK_STATUSES,
    NAME_MAX,
    RELATION_LABELS,
    Document,
    Span,
    id_problem,
    nfc,
    relation_allowed,
)

DEFAULT_GOLD = Path("corpus/gold/gold.jsonl")

# Edge characters that are punctuation by Unicode category but belong to a well-formed span.
ALLOWED_TRAILING = frozenset("%‰")
BRACKETS = {"(": ")", "[": "]"}


@dataclass(frozen=True)
class Problem:
    """One violated rule, with where it is."""

    path: str
    line: int | None
    doc_id: str | None
    message: str
    span_id: str | None = None
    offset: int | None = None
    code: str = "invalid"

    @property
    def where(self) -> str:
        parts = [f"{self.path}:{self.line}" if self.line is not None else self.path]
        if self.doc_id is not None:
            parts.append(f"doc={self.doc_id}")
        if self.span_id is not None:
            parts.append(f"span={self.span_id}")
        if self.offset is not None:
            parts.append(f"offset={self.offset}")
        return " ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: [{self.code}] {self.message}"

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "doc_id": self.doc_id,
            "span_id": self.span_id,
            "offset": self.offset,
            "code": self.code,
            "message": self.message,
        }


class _Reporter:
    """Collects problems for one document, filling in file, line and doc id."""

    def __init__(self, problems: list[Problem], path: str, line: int | None, doc_id: str | None):
        self.problems, self.path, self.line, self.doc_id = problems, path, line, doc_id

    def __call__(self, code: str, message: str, span_id: str | None = None, offset: int | None = None) -> None:
        self.problems.append(Problem(self.path, self.line, self.doc_id, message, span_id, offset, code))


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _first_non_nfc_offset(text: str) -> int:
    """Offset of the first character whose neighbourhood changes under NFC (approximate but local)."""
    for i in range(len(text)):
        chunk = text[max(0, i - 1) : i + 2]
        if not unicodedata.is_normalized("NFC", chunk):
            return i
    return 0


def _edge_problem(text: str) -> str | None:
    """Why a span's text has a bad edge, or None."""
    if not text:
        return "empty span text"
    first, last = text[0], text[-1]
    if first.isspace() or last.isspace():
        return f"leading or trailing whitespace in {text!r}"
    if _is_punct(first) and not (first in BRACKETS and BRACKETS[first] in text[1:]):
        return f"leading punctuation {first!r} in {text!r}"
    if _is_punct(last) and last not in ALLOWED_TRAILING:
        opener = next((o for o, c in BRACKETS.items() if c == last), None)
        if opener is None or opener not in text[:-1]:
            return f"trailing punctuation {last!r} in {text!r}"
    return None


def _token_edges(text: str) -> tuple[set[int], set[int], list[tuple[str, int, int]]]:
    from vnreorg.corpus.tokenize import tokenize

    tokens = tokenize(text)
    return {t[1] for t in tokens}, {t[2] for t in tokens}, tokens


def _token_at(tokens: list[tuple[str, int, int]], offset: int) -> tuple[str, int, int] | None:
    starts = [t[1] for t in tokens]
    i = bisect.bisect_right(starts, offset) - 1
    if i >= 0 and tokens[i][1] <= offset < tokens[i][2]:
        return tokens[i]
    return None


def _check_sentences(doc: Document, report: _Reporter) -> None:
    prev_end = 0
    for i, sent in enumerate(doc.sentences):
        if len(sent) != 2 or not all(isinstance(x, int) for x in sent):
            report("sentence", f"sentence {i} is not a [start, end] pair of integers: {sent!r}")
            continue
        start, end = sent
        if not (0 <= start < end <= len(doc.text)):
            report("sentence", f"sentence {i} [{start}, {end}) outside text of length {len(doc.text)}", offset=start)
        elif start < prev_end:
            report("sentence", f"sentence {i} [{start}, {end}) overlaps or precedes the previous one", offset=start)
        else:
            prev_end = end


def _sentence_index(doc: Document, span: Span) -> int | None:
    for i, (start, end) in enumerate(doc.sentences):
        if start <= span.start and span.end <= end:
            return i
    return None


def _check_spans(doc: Document, report: _Reporter) -> dict[str, Span]:
    """Check spans one by one and pairwise; return the well-formed ones by id (for relation checks).

    The structural rules (ids, offsets, labels, overlaps) are the project's one span check
    (`vnreorg.metrics.span_problems`); the token, edge and sentence rules are added here."""
    text = doc.text
    ids = Counter(s.id for s in doc.spans)
    for p in span_problems(text, doc.spans):
        report(p.code, p.message, p.span_id, p.offset)
    starts, ends, tokens = _token_edges(text)
    good: dict[str, Span] = {}
    for span in doc.spans:
        sid = span.id
        if not (type(span.start) is int and type(span.end) is int and 0 <= span.start < span.end <= len(text)):
            continue
        covered = text[span.start : span.end]
        if span.text is None:
            report(
                "span-text",
                f"span [{span.start}, {span.end}) carries no `text` (gold records the covered "
                f"text, {covered!r}; re-import gold with `vnreorg worksheet import`)",
                sid,
                span.start,
            )
        elif span.text != covered:
            report(
                "span-text",
                f"span [{span.start}, {span.end}) records the text {span.text!r} but the document "
                f"has {covered!r} there: the text under the span was edited (offsets drifted)",
                sid,
                span.start,
            )
        edge = _edge_problem(covered)
        if edge:
            report("span-edge", edge, sid, span.start)
        if span.start not in starts:
            tok = _token_at(tokens, span.start)
            where = f"inside token {tok[0]!r} [{tok[1]}, {tok[2]})" if tok else "not at a token start"
            report("span-token", f"start {span.start} of {covered!r} is {where}", sid, span.start)
        if span.end not in ends:
            tok = _token_at(tokens, span.end - 1)
            where = f"inside token {tok[0]!r} [{tok[1]}, {tok[2]})" if tok else "not at a token end"
            report("span-token", f"end {span.end} of {covered!r} is {where}", sid, span.end)
        if doc.sentences and _sentence_index(doc, span) is None:
            report("span-sentence", f"{covered!r} [{span.start}, {span.end}) is not inside one sentence", sid, span.start)
        if ids[sid] == 1:
            good[sid] = span
    return good


def _check_relations(doc: Document, spans: dict[str, Span], report: _Reporter) -> None:
    first_start = {}
    for s in doc.spans:
        first_start.setdefault(s.id, s.start)
    seen_pairs: dict[tuple[str, str], str] = {}
    for i, rel in enumerate(doc.relations):
        name = f"relation {i} ({rel.head} -{rel.label}-> {rel.child})"
        off = first_start.get(rel.head)
        if rel.label not in RELATION_LABELS:
            report("relation-label", f"{name}: label {rel.label!r} not in {list(RELATION_LABELS)}", rel.head, off)
        missing = [x for x in (rel.head, rel.child) if x not in first_start]
        if missing:
            report("relation-endpoint", f"{name}: span id(s) {missing} do not exist", rel.head, off)
            continue
        if rel.head == rel.child:
            report("relation-self", f"{name}: head and child are the same span", rel.head, off)
        pair = (rel.head, rel.child)
        if pair in seen_pairs:
            kind = "duplicate" if seen_pairs[pair] == rel.label else f"conflicting (also {seen_pairs[pair]!r})"
            report("relation-duplicate", f"{name}: {kind} relation for the same head and child", rel.head, off)
        else:
            seen_pairs[pair] = rel.label
        head, child = spans.get(rel.head), spans.get(rel.child)
        if head is None or child is None:  # ambiguous id or bad offsets, already reported
            continue
        known = rel.label in RELATION_LABELS and head.label in ENTITY_LABELS and child.label in ENTITY_LABELS
        if known and not relation_allowed(rel.label, head.label, child.label):
            report("relation-type", f"{name}: {rel.label!r} not allowed from {head.label} to {child.label}", rel.head, head.start)
        if doc.sentences:
            hs, cs = _sentence_index(doc, head), _sentence_index(doc, child)
            if hs is not None and cs is not None and hs != cs:
                report(
                    "relation-sentence",
                    f"{name}: head in sentence {hs}, child in sentence {cs} (offset {child.start})",
                    rel.head,
                    head.start,
                )
        else:
            report("relation-sentence", f"{name}: document has no sentence offsets to check against", rel.head, off)


def _check_document(doc: Document, report: _Reporter) -> None:
    if not isinstance(doc.text, str) or not doc.text:
        report("text", "text is missing or empty")
        return
    if nfc(doc.text) != doc.text:
        off = _first_non_nfc_offset(doc.text)
        report("nfc", f"text is not NFC near {doc.text[max(0, off - 10) : off + 10]!r}", offset=off)
    _check_sentences(doc, report)
    spans = _check_spans(doc, report)
    _check_relations(doc, spans, report)
    _check_captions(doc, report)
    _check_links(doc, report)


def _check_captions(doc: Document, report: _Reporter) -> None:
    """Photo captions (paragraph kind "caption", guidelines v2 §6.2) are not annotated: no span in one."""
    captions = [(a, b) for i, (a, b) in enumerate(doc.paragraphs) if doc.paragraph_kind(i) == "caption"]
    for span in doc.spans:
        if any(a <= span.start < b for a, b in captions):
            report("caption", "span inside a photo caption (captions are not annotated)", span.id, span.start)


def _check_links(doc: Document, report: _Reporter) -> None:
    """The optional `links` field: each link on the offsets of an AGENCY span, with a known status; a
    `linked` one with a code, a level and an era from the schema."""
    agency = {(s.start, s.end) for s in doc.spans if s.label == "AGENCY"}
    for n, link in enumerate(doc.links):
        start, end = (link.get("start"), link.get("end")) if isinstance(link, dict) else (None, None)
        if not isinstance(start, int) or not isinstance(end, int):
            report("link", f"link {n}: needs integer start and end")
            continue
        if doc.spans and (start, end) not in agency:
            report("link", f"link {n} [{start}, {end}) is not on an AGENCY span", offset=start)
        status = link.get("status")
        if status not in LINK_STATUSES:
            report("link", f"link {n}: status {status!r} is not one of {', '.join(LINK_STATUSES)}", offset=start)
        elif status == "linked" and (
            not link.get("code") or link.get("level") not in LINK_LEVELS or link.get("era") not in LINK_ERAS
        ):
            report(
                "link",
                f"link {n}: a linked unit needs a code, a level ({', '.join(LINK_LEVELS)}) and an era ({', '.join(LINK_ERAS)})",
                offset=start,
            )


def validate_documents(
    docs: Iterable[Document],
    path: str | os.PathLike = "<documents>",
    lines: Sequence[int] | None = None,
) -> list[Problem]:
    """All problems in `docs`; `lines` gives each document's line number in `path` (default 1, 2, ...)."""
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    for i, doc in enumerate(docs):
        line = lines[i] if lines is not None else i + 1
        bad_id = id_problem(doc.id)
        report = _Reporter(problems, str(path), line, ascii(doc.id)[:60] if bad_id else doc.id)
        if bad_id:
            report("doc-id", f"document id {bad_id}")
        if not isinstance(doc.id, str):
            pass
        elif doc.id in first_line:
            report("doc-id", f"document id also used on line {first_line[doc.id]}")
        else:
            first_line[doc.id] = line
        _check_document(doc, report)
        for code, message in synthetic_problems(doc, path):
            report(code, message)
    return problems


def read_with_problems(path: str | os.PathLike) -> tuple[list[Document], list[int], list[Problem]]:
    """Read JSONL; records that cannot become a Document are problems, not crashes."""
    docs, lines, problems = [], [], []
    for lineno, record in read_jsonl(path):
        try:
            doc = Document.from_dict(record)
        except (KeyError, TypeError, ValueError) as exc:
            raw_id = record.get("id")
            doc_id = raw_id if id_problem(raw_id) is None else ascii(raw_id)[:60] if isinstance(raw_id, str) else None
            problems.append(
                Problem(str(path), lineno, doc_id, f"malformed document record ({type(exc).__name__}: {exc})", code="record")
            )
            continue
        docs.append(doc)
        lines.append(lineno)
    return docs, lines, problems


def check_folds(folds_path: str | os.PathLike, doc_ids: list[str]) -> list[Problem]:
    """folds.json beside gold must name exactly the gold documents, each tested once, dev apart from test."""
    import json

    where = str(folds_path)
    try:
        folds = read_json_file(folds_path)["folds"]
    except (VnreorgError, OSError, ValueError, KeyError, TypeError) as exc:
        return [Problem(where, None, None, f"unreadable folds file ({type(exc).__name__}: {exc})", code="folds")]
    problems = []
    tested = Counter(i for f in folds for i in f.get("test", []))
    known = set(doc_ids)
    if not isinstance(folds, list) or not all(isinstance(f, dict) for f in folds):
        return [Problem(where, None, None, "folds must be a list of JSON objects", code="folds")]
    for f in folds:
        name = f.get("name")
        bad_name = id_problem(name, NAME_MAX)
        if bad_name:
            problems.append(Problem(where, None, None, f"fold name {bad_name}", code="folds"))
        members = f.get("test", []) + f.get("dev", []) + f.get("train", [])
        unknown = sorted(set(members) - known)
        if unknown:
            problems.append(Problem(where, None, None, f"fold {name}: ids not in gold: {unknown}", code="folds"))
        if sorted(members) != sorted(known):
            problems.append(
                Problem(
                    where,
                    None,
                    None,
                    f"fold {name}: test + dev + train is not exactly the gold documents; run `vnreorg corpus folds`",
                    code="folds",
                )
            )
        if set(f.get("test", [])) & set(f.get("dev", [])):
            problems.append(Problem(where, None, None, f"fold {name}: a document is both test and dev", code="folds"))
    for doc_id in sorted(known):
        if tested[doc_id] != 1:
            problems.append(
                Problem(where, None, doc_id, f"document is the test set of {tested[doc_id]} folds, expected 1", code="folds")
            )
    return problems


def validate_path(path: str | os.PathLike = DEFAULT_GOLD, folds: bool = True) -> list[Problem]:
    """All problems in a gold JSONL file (a missing or unreadable file raises VnreorgError), and, with
    `folds`, in the folds.json beside it when there is one."""
    docs, lines, problems = read_with_problems(path)
    if not docs and not problems:
        problems.append(Problem(str(path), None, None, "no documents in file", code="empty"))
    problems += validate_documents(docs, path, lines)
    folds_path = Path(path).with_name("folds.json")
    if folds and folds_path.exists() and docs:
        problems += check_folds(folds_path, [d.id for d in docs])
    return problems


def load_valid(path: str | os.PathLike = DEFAULT_GOLD) -> list[Document]:
    """Read gold and refuse it, with the first problems located, unless it validates cleanly.

    folds.json is not checked here: the export that calls this rewrites it from the gold ids."""
    problems = validate_path(path, folds=False)
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more; run `vnreorg corpus validate {path}`)" if len(problems) > 5 else ""
        raise VnreorgError(f"gold does not validate: {len(problems)} problem(s): {shown}{more}", str(path))
    docs, _, _ = read_with_problems(path)
    return docs
