"""Synthetic worksheets -> the synthetic training corpus (corpus/synthetic/synthetic.jsonl).

The team writes synthetic articles sentence by sentence in the project's worksheet format with a
synthetic header (annotation/GUIDELINES.md sections 6 and 6.1). Here
each article becomes a Document: its text is its sentences, one paragraph per sentence, NFC; its
metadata comes from the header; its spans and relations are resolved by the same worksheet parser as
gold (`parse_worksheet`); its provenance says synthetic (writer, guidelines version, worksheet file).
The corpus validator then checks it like gold, and no sentence may share a run of 8 tokens with a
seed sentence.

Every problem is collected (not only the first) so a writer gets the whole list for a file: each
sentence block is also resolved on its own, so one bad line does not hide the next.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from vnreorg.annotation.worksheet import _BLOCK, _DOC, WorksheetDoc, parse_worksheet, read_worksheets
from vnreorg.corpus.segment import sentences_in
from vnreorg.errors import VnreorgError
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, nfc

DEFAULT_WORKSHEETS = Path("corpus/synthetic/worksheets")
DEFAULT_OUT = Path("corpus/synthetic/synthetic.jsonl")
REQUIRED_HEADER = ("synthetic", "annotator", "guidelines", "date", "level", "period", "title")
LEVELS = ("commune", "district", "province", "central")
PERIODS = ("2017-2019", "2020-2023", "2024-2025")
_ID = re.compile(r"^syn-([a-z0-9]+)-(\d{4})$")
_FILE = re.compile(r"^([a-z0-9]+)_\d+\.txt$")
_ODD_SPACE = re.compile(r"[^\S ]|  ")  # any whitespace but the ordinary space, or two spaces


@dataclass
class SyntheticImport:
    documents: list[Document] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file, "where: message")
    files: dict[str, dict] = field(default_factory=dict)  # per file: documents, sentences, invalid docs
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file, "where: message"), not blocking

    def error(self, path: Path, where: str, message: str) -> None:
        self.errors.append((str(path), f"{where}: {message}"))


def _sentence_lines(path: Path) -> dict[str, dict[int, list[tuple[int, str]]]]:
    """doc id -> block -> [(line number, sentence text)] for the `> ` lines the worksheet reader skips."""
    out: dict[str, dict[int, list[tuple[int, str]]]] = {}
    doc = block = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.rstrip()
        if m := _DOC.match(line):
            doc, block = m.group(1), None
            out.setdefault(doc, {})
        elif m := _BLOCK.match(line):
            block = int(m.group(1))
            if doc is not None:
                out[doc].setdefault(block, [])
        elif line.startswith(">") and doc is not None and block is not None:
            out[doc][block].append((n, line[2:] if line.startswith("> ") else line[1:].lstrip()))
    return out


def _header_problems(ws: WorksheetDoc, path: Path) -> list[str]:
    h = ws.header
    problems = [f"header '# {k}:' missing or empty" for k in REQUIRED_HEADER if not h.get(k)]
    if h.get("synthetic") and h["synthetic"].lower() != "true":
        problems.append(f"'# synthetic:' must be true, got {h['synthetic']!r}")
    if h.get("level") and h["level"] not in LEVELS:
        problems.append(f"'# level:' {h['level']!r} is not one of {', '.join(LEVELS)}")
    if h.get("date") and not re.match(r"^\d{4}-\d{2}-\d{2}$", h["date"]):
        problems.append(f"'# date:' {h['date']!r} is not an ISO date (YYYY-MM-DD)")
    if h.get("guidelines") and not re.match(r"^v\d", h["guidelines"]):
        problems.append(f"'# guidelines:' {h['guidelines']!r} is not a guidelines version (v2)")
    if h.get("period") and h["period"] not in PERIODS:
        problems.append(f"'# period:' {h['period']!r} is not one of {', '.join(PERIODS)}")
    m, f = _ID.match(ws.doc_id), _FILE.match(path.name)
    if not m:
        problems.append(f"doc id {ws.doc_id!r} is not syn-<writer>-<NNNN>")
    elif f and m.group(1) != f.group(1):
        problems.append(f"doc id {ws.doc_id!r} is not in writer {f.group(1)!r}'s range (file {path.name})")
    return problems


def _sentences(ws: WorksheetDoc, lines: dict[int, list[tuple[int, str]]], path: Path, imp: SyntheticImport) -> list[str] | None:
    """The article's sentences in block order, or None after recording why they cannot be used."""
    ok = True
    blocks = sorted(set(ws.blocks) | set(lines))
    if blocks != list(range(len(blocks))):
        imp.error(
            path,
            f"doc={ws.doc_id}",
            f"sentence blocks are not S0..S{len(blocks) - 1} in order: {', '.join(f'S{b}' for b in blocks)}",
        )
        ok = False
    sentences = []
    for b in blocks:
        found = lines.get(b, [])
        if len(found) != 1:
            imp.error(path, f"doc={ws.doc_id} S{b}", f"a block holds exactly one '> ' sentence line, found {len(found)}")
            ok = False
            continue
        n, text = found[0]
        where = f"{path}:{n} doc={ws.doc_id} S{b}"
        if not text.strip():
            imp.error(path, where, "empty sentence")
            ok = False
        elif nfc(text) != text:
            imp.error(path, where, "sentence is not NFC Unicode")
            ok = False
        elif _ODD_SPACE.search(text) or text != text.strip():
            m = _ODD_SPACE.search(text)
            imp.error(
                path,
                where,
                f"sentence holds a tab, no-break space, double space or edge space "
                f"(column {m.start() + 3 if m else 1}): ordinary single spaces only",
            )
            ok = False
        else:
            parts = sentences_in(text, 0, len(text))
            if len(parts) > 1:
                imp.warnings.append(
                    (
                        str(path),
                        f"{where}: the project segmenter reads {len(parts)} sentences here "
                        f"(second starts {text[parts[1][0] : parts[1][0] + 30]!r}); one sentence a line",
                    )
                )
        sentences.append(text)
    return sentences if ok else None


def build_document(ws: WorksheetDoc, sentences: list[str], path: Path) -> Document:
    """The bare document: sentences joined one per paragraph, metadata and provenance from the header."""
    starts, pos = [], 0
    for s in sentences:
        starts.append((pos, pos + len(s)))
        pos += len(s) + 1
    h = ws.header
    meta = {
        "title": h.get("title"),
        "date": h.get("date"),
        "level": h.get("level"),
        "period": h.get("period"),
        "writer": h.get("annotator"),
        "synthetic": True,
        "source_file": str(path),
    }
    provenance = [
        {
            "pass": "synthetic: written and annotated by the team",
            "synthetic": True,
            "writer": h.get("annotator"),
            "guidelines": h.get("guidelines"),
            "date": h.get("date"),
            "file": str(path),
            "method": "sentences written one by one (no program or template); spans and "
            "relations decided under the guidelines in the worksheet; imported by `vnreorg worksheet synthetic`",
        }
    ]
    return Document(
        id=ws.doc_id, text="\n".join(sentences), meta=meta, paragraphs=list(starts), sentences=list(starts), provenance=provenance
    )


def _block_errors(ws: WorksheetDoc, doc: Document, path: Path, imp: SyntheticImport, strict: bool) -> bool:
    """Resolve every block on its own (so each bad line is reported); True when all resolve."""
    ok = True
    for b, (s, e) in enumerate(doc.sentences):
        one = Document(id=doc.id, text=doc.text[s:e], sentences=[(0, e - s)])
        try:
            parse_worksheet(
                WorksheetDoc(ws.doc_id, ws.header, {0: ws.blocks.get(b, [])}), one, source=str(path), strict_occurrence=strict
            )
        except VnreorgError as exc:
            where = (exc.where or str(path)).replace(" S0", f" S{b}")
            imp.error(path, where, exc.message)
            ok = False
    return ok


def _import_document(
    ws: WorksheetDoc, lines: dict, path: Path, imp: SyntheticImport, index: dict, strict: bool
) -> Document | None:
    """One article: header, sentences, every block, the 8-token guard and the validator; None if any problem."""
    from vnreorg.corpus.synthetic import runs_in
    from vnreorg.corpus.validate import validate_documents

    n_err = len(imp.errors)
    for problem in _header_problems(ws, path):
        imp.error(path, f"{path} doc={ws.doc_id}", problem)
    sentences = _sentences(ws, lines, path, imp)
    if sentences is None:
        return None
    bare = build_document(ws, sentences, path)
    if not _block_errors(ws, bare, path, imp, strict) or len(imp.errors) > n_err:
        return None
    doc = parse_worksheet(ws, bare, source=str(path), strict_occurrence=strict)
    for hit in runs_in(doc, index):
        imp.error(
            path,
            f"{path} doc={doc.id} S{hit['sentence']}",
            f"shares a run of 8 tokens with seed {hit['seed']}: {hit['run']!r} (rewrite the sentence)",
        )
    for p in validate_documents([doc], path):
        sent = next((i for i, (a, b) in enumerate(doc.sentences) if p.offset is not None and a <= p.offset <= b), None)
        where = f" S{sent} (character {p.offset - doc.sentences[sent][0]} of the sentence)" if sent is not None else ""
        imp.error(path, f"{path} doc={doc.id}{where}", f"[{p.code}] {p.message}")
    return doc if len(imp.errors) == n_err else None


def import_synthetic(paths: list[Path], seeds: list[Document] | None = None, strict_occurrence: bool = True) -> SyntheticImport:
    """Read synthetic worksheet files (or folders of *.txt); collect documents and every problem.

    As for gold (GUIDELINES v2 section 6), a text that occurs more than once in its sentence needs `#k` on
    every line, `#1` included; `strict_occurrence=False` reads a bare repeated text as the first occurrence
    (to measure a batch before its writer has added the `#1`s)."""
    from vnreorg.corpus.synthetic import seed_ngrams

    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("*.txt")) if p.is_dir() else [p]
    if not files:
        raise VnreorgError("no synthetic worksheet files found", ", ".join(map(str, paths)))
    imp = SyntheticImport()
    seen: dict[str, str] = {}
    index = seed_ngrams(seeds) if seeds else {}
    for path in files:
        n_err = len(imp.errors)
        try:
            worksheets = read_worksheets(path)
        except VnreorgError as exc:
            imp.error(path, exc.where or str(path), exc.message)
            imp.files[str(path)] = {**counts([]), "invalid_documents": ["(file unreadable)"], "errors": 1}
            continue
        lines = _sentence_lines(path)
        valid, invalid = [], []
        for ws in worksheets:
            if ws.doc_id in seen:
                imp.error(path, f"{path} doc={ws.doc_id}", f"doc id also used in {seen[ws.doc_id]}")
                invalid.append(ws.doc_id)
                continue
            seen[ws.doc_id] = str(path)
            doc = _import_document(ws, lines.get(ws.doc_id, {}), path, imp, index, strict_occurrence)
            (valid.append(doc) if doc is not None else invalid.append(ws.doc_id))
        imp.documents += valid
        imp.files[str(path)] = {**counts(valid), "invalid_documents": invalid, "errors": len(imp.errors) - n_err}
    return imp


def counts(docs: list[Document]) -> dict:
    spans = Counter(s.label for d in docs for s in d.spans)
    rels = Counter(r.label for d in docs for r in d.relations)
    return {
        "documents": len(docs),
        "sentences": sum(len(d.sentences) for d in docs),
        "empty_sentences": sum(1 for d in docs for s, e in d.sentences if not any(s <= x.start < e for x in d.spans)),
        "spans": {lab: spans.get(lab, 0) for lab in ENTITY_LABELS},
        "relations": {lab: rels.get(lab, 0) for lab in RELATION_LABELS},
    }


DEFAULT_SECOND_PASS = Path("corpus/synthetic/second_pass")


def second_pass_documents(
    first: list[Document], paths: list[Path], strict_occurrence: bool = True
) -> tuple[list[Document], list[Document], list[tuple[str, str]]]:
    """The independent second pass resolved against the first pass's documents: (first-pass documents it
    covers, second-pass documents, problems). Its `> ` lines must be the first pass's sentences."""
    by_id = {d.id: d for d in first}
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("*.txt")) if p.is_dir() else [p]
    if not files:
        raise VnreorgError("no second-pass worksheet files found", ", ".join(map(str, paths)))
    a, b, problems = [], [], []
    for path in files:
        lines = _sentence_lines(path)
        for ws in read_worksheets(path):
            ref = by_id.get(ws.doc_id)
            if ref is None:
                problems.append((str(path), f"{path} doc={ws.doc_id}: not among the valid first-pass documents"))
                continue
            sentences = [text for _, found in sorted(lines.get(ws.doc_id, {}).items()) for _, text in found[:1]]
            if "\n".join(sentences) != ref.text:
                problems.append((str(path), f"{path} doc={ws.doc_id}: its sentences differ from the first pass's"))
                continue
            bare = Document(
                id=ref.id, text=ref.text, meta=dict(ref.meta), paragraphs=list(ref.paragraphs), sentences=list(ref.sentences)
            )
            try:
                other = parse_worksheet(ws, bare, source=str(path), strict_occurrence=strict_occurrence)
            except VnreorgError as exc:
                problems.append((str(path), f"{exc.where}: {exc.message}"))
                continue
            other.provenance = [
                {
                    "pass": "second (independent)",
                    "who": ws.header.get("annotator"),
                    "guidelines": ws.header.get("guidelines"),
                    "file": str(path),
                }
            ]
            a.append(ref)
            b.append(other)
    return a, b, problems


def second_pass_agreement(first: list[Document], paths: list[Path]) -> tuple[dict, list[Document], list[Document], list]:
    """Agreement of the first pass with the independent second pass on the articles both annotated."""
    from vnreorg.annotation.agreement import agreement

    a, b, problems = second_pass_documents(first, paths)
    if not a:
        raise VnreorgError("the second pass resolves no first-pass document", ", ".join(map(str, paths)))
    result = agreement(a, b)
    n_sent = sum(len(d.sentences) for d in a)
    total = sum(len(d.sentences) for d in first)
    result["coverage"] = {
        "documents": len(a),
        "sentences": n_sent,
        "corpus_documents": len(first),
        "corpus_sentences": total,
        "share_of_sentences": n_sent / total if total else 0.0,
    }
    result["documents"] = [
        {"id": d.id, "source_file": d.id, "second_pass": o.provenance[0]["who"], "second_pass_worksheet": o.provenance[0]["file"]}
        for d, o in zip(a, b)
    ]
    result["second_pass_problems"] = [p for _, p in problems]
    return result, a, b, problems
