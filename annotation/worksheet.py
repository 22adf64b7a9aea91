"""Annotation worksheets: a plain-text record of an annotator's decisions, sentence by sentence.

An annotator reads each sentence block and writes span lines (`LABEL | exact text[#k]`) and relation
lines (`label | head text[#k] -> child text[#k]`). Writing the surface text rather than offsets keeps the
decision readable and reviewable; `parse_worksheet` resolves texts to offsets inside the sentence and
rejects anything missing, ambiguous, overlapping or of the wrong type, naming the worksheet line.
See annotation/GUIDELINES.md section 6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_text_file
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, Relation, Span, check_id, relation_allowed

_BLOCK = re.compile(r"^## S(\d+)\s*$")
_DOC = re.compile(r"^# doc:\s*(\S+)")
_OCC = re.compile(r"^(.*?)\s*#(\d+)$")


def template(doc: Document) -> str:
    """A blank worksheet for one document: a header and one block per sentence."""
    lines = [
        f"# doc: {doc.id}",
        f"# source_file: {doc.meta.get('source_file', '')}",
        "# annotator: ",
        "# guidelines: ",
        "# date: ",
        "",
    ]
    captions = caption_sentences(doc)
    for i, (s, e) in enumerate(doc.sentences):
        lines.append(f"## S{i}")
        lines.append("> " + doc.text[s:e].replace("\n", " "))
        if i in captions:
            lines.append(CAPTION_MARK)
        lines.append("")
    return "\n".join(lines)


# Guidelines v2 §6.2: the comment line that marks a photo caption's block (kept, not annotated). The
# template writes it for the captions ingest recognised; the annotator's worksheet decides: gold
# paragraphs whose sentences are all marked get kind "caption".
CAPTION_MARK = "// caption (v2: not annotated)"


def caption_sentences(doc: Document) -> set[int]:
    """Indexes of the sentences that lie in a caption paragraph of `doc` (schema PARAGRAPH_KINDS)."""
    caps = [p for i, p in enumerate(doc.paragraphs) if doc.paragraph_kind(i) == "caption"]
    return {k for k, (s, e) in enumerate(doc.sentences) if any(a <= s and e <= b for a, b in caps)}


@dataclass
class WorksheetDoc:
    doc_id: str
    header: dict[str, str] = field(default_factory=dict)
    blocks: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # sentence -> [(line no, line)]
    captions: set[int] = field(default_factory=set)  # blocks marked with CAPTION_MARK


def read_worksheets(path: str | Path) -> list[WorksheetDoc]:
    """Split a worksheet file (one or more documents) into per-document blocks."""
    path = Path(path)
    docs: list[WorksheetDoc] = []
    current: WorksheetDoc | None = None
    block: int | None = None
    for n, raw in enumerate(read_text_file(path).splitlines(), 1):
        line = raw.rstrip()
        if m := _DOC.match(line):
            current = WorksheetDoc(check_id(m.group(1), f"{path}:{n}", "worksheet document id"))
            docs.append(current)
            block = None
            continue
        if current is None:
            if line.strip():
                raise VnreorgError("content before the first '# doc:' header", f"{path}:{n}")
            continue
        if m := _BLOCK.match(line):
            block = int(m.group(1))
            if block in current.blocks:
                raise VnreorgError(f"sentence block S{block} appears twice", f"{path}:{n}")
            current.blocks[block] = []
            continue
        if line.startswith("# ") and block is None:
            key, _, value = line[2:].partition(":")
            current.header[key.strip()] = value.strip()
            continue
        if line.strip() == CAPTION_MARK and block is not None:
            current.captions.add(block)
            continue
        if not line.strip() or line.startswith(">") or line.startswith("//"):
            continue
        if block is None:
            raise VnreorgError("annotation line outside a sentence block", f"{path}:{n}")
        current.blocks[block].append((n, line))
    return docs


def _split_occ(text: str) -> tuple[str, int]:
    m = _OCC.match(text)
    if m and m.group(1):
        return m.group(1), int(m.group(2))
    return text, 1


def _occurrences(sentence: str, needle: str, count_all: bool = False) -> list[tuple[int, int]]:
    """(start, end) inside the sentence of needle on word edges; a space in needle matches any
    whitespace run (the text may hold no-break spaces or double spaces the annotator cannot see).

    `#k` counts occurrences on word edges (guidelines v1.1). With count_all, `#k` counts every
    occurrence, inside longer words too (how one annotator read v1.0); a match inside a word is then
    returned as None so that choosing it fails loudly."""
    pattern = re.escape(needle)
    if not re.search(pattern, sentence):  # the annotator could not see a no-break or double space
        pattern = r"\s+".join(re.escape(part) for part in needle.split())
    found = []
    for m in re.finditer(pattern, sentence):
        i, j = m.start(), m.end()
        before = sentence[i - 1] if i > 0 else " "
        after = sentence[j] if j < len(sentence) else " "
        if (before.isalnum() and needle[0].isalnum()) or (after.isalnum() and needle[-1].isalnum()):
            if count_all:
                found.append(None)
            continue
        found.append((i, j))
    return found


def parse_worksheet(
    ws: WorksheetDoc, doc: Document, *, source: str = "worksheet", strict_occurrence: bool = True, count_all: bool | None = None
) -> Document:
    """Resolve one worksheet document against the cleaned document; return a Document with spans and relations."""
    if ws.doc_id != doc.id:
        raise VnreorgError(f"worksheet is for {ws.doc_id}, document is {doc.id}", source)
    if count_all is None:
        count_all = ws.header.get("occurrences", "edges").strip() == "all"
    missing = [i for i in range(len(doc.sentences)) if i not in ws.blocks]
    if missing:
        raise VnreorgError(
            f"sentence blocks missing (not reviewed): {', '.join(f'S{i}' for i in missing[:10])}", f"{source} doc={doc.id}"
        )
    spans: list[Span] = []
    relations: list[Relation] = []
    captions = ws.captions
    for sent_idx, lines in sorted(ws.blocks.items()):
        if sent_idx >= len(doc.sentences):
            raise VnreorgError(f"block S{sent_idx} but the document has {len(doc.sentences)} sentences", f"{source} doc={doc.id}")
        if sent_idx in captions and lines:
            raise VnreorgError(
                f"S{sent_idx} is marked as a photo caption: captions are not annotated", f"{source}:{lines[0][0]} doc={doc.id}"
            )
        s_start, s_end = doc.sentences[sent_idx]
        sentence = doc.text[s_start:s_end]
        by_key: dict[tuple[str, int], Span] = {}
        pending_rel: list[tuple[int, str, str, str]] = []
        for n, line in lines:
            where = f"{source}:{n} doc={doc.id} S{sent_idx}"
            if "|" not in line:
                raise VnreorgError("expected 'LABEL | text' or 'label | head -> child'", where)
            label, _, rest = (p.strip() for p in line.partition("|"))
            if label in RELATION_LABELS:
                if "->" not in rest:
                    raise VnreorgError("relation line needs 'head -> child'", where)
                head, _, child = (p.strip() for p in rest.partition("->"))
                pending_rel.append((n, label, head, child))
                continue
            if label not in ENTITY_LABELS:
                raise VnreorgError(f"unknown label {label!r}", where)
            text, occ = _split_occ(rest)
            starts = _occurrences(sentence, text, count_all)
            if not starts:
                raise VnreorgError(f"text {text!r} not found in the sentence", where)
            if occ > len(starts):
                raise VnreorgError(f"text {text!r} occurs {len(starts)} time(s), #{occ} asked", where)
            if strict_occurrence and len(starts) > 1 and not rest.endswith(f"#{occ}"):
                raise VnreorgError(f"text {text!r} occurs {len(starts)} times in the sentence: add #k", where)
            if starts[occ - 1] is None:
                raise VnreorgError(f"occurrence #{occ} of {text!r} is inside a longer word", where)
            off, off_end = starts[occ - 1]
            span = Span(
                id="", start=s_start + off, end=s_start + off_end, label=label, text=doc.text[s_start + off : s_start + off_end]
            )
            key = (text, occ)
            if key in by_key:
                raise VnreorgError(f"span {text!r}#{occ} given twice", where)
            for other in by_key.values():
                if span.start < other.end and other.start < span.end:
                    raise VnreorgError(f"span {text!r} overlaps {doc.text[other.start : other.end]!r}", where)
            by_key[key] = span
            spans.append(span)
        for n, label, head, child in pending_rel:
            where = f"{source}:{n} doc={doc.id} S{sent_idx}"
            h = by_key.get(_split_occ(head))
            c = by_key.get(_split_occ(child))
            if h is None:
                raise VnreorgError(f"relation head {head!r} is not a span of this sentence", where)
            if c is None:
                raise VnreorgError(f"relation child {child!r} is not a span of this sentence", where)
            if not relation_allowed(label, h.label, c.label):
                raise VnreorgError(f"relation {label} not allowed from {h.label} to {c.label}", where)
            relations.append(Relation(head=f"{h.start}:{h.end}", child=f"{c.start}:{c.end}", label=label))
    spans.sort(key=lambda s: (s.start, s.end))
    ids = {}
    for i, span in enumerate(spans):
        key = f"{span.start}:{span.end}"
        span.id = f"T{i + 1}"
        ids[key] = span.id
    seen = set()
    rels = []
    for r in relations:
        rel = Relation(head=ids[r.head], child=ids[r.child], label=r.label)
        k = (rel.head, rel.child, rel.label)
        if k in seen:
            raise VnreorgError(f"relation {rel.label} {r.head}->{r.child} given twice", f"{source} doc={doc.id}")
        seen.add(k)
        rels.append(rel)
    return doc.with_annotations(spans, rels, paragraph_kinds=_marked_paragraph_kinds(doc, captions, f"{source} doc={doc.id}"))


def _marked_paragraph_kinds(doc: Document, captions: set[int], where: str) -> list[str]:
    """Paragraph kinds as the worksheet decides them: a paragraph whose sentences are all marked as
    caption is a caption; one marked only in part is an error (a caption is a whole paragraph)."""
    kinds = []
    for p_start, p_end in doc.paragraphs:
        inside = [k for k, (s, e) in enumerate(doc.sentences) if p_start <= s and e <= p_end]
        marked = [k for k in inside if k in captions]
        if marked and len(marked) != len(inside):
            unmarked = [f"S{k}" for k in inside if k not in captions]
            raise VnreorgError(
                f"S{marked[0]} is marked as a caption but {', '.join(unmarked)} of the same paragraph "
                "is not: mark every sentence of a caption paragraph, or none",
                where,
            )
        kinds.append("caption" if inside and marked else "body")
    return kinds if "caption" in kinds else []
