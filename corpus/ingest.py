"""Ingest raw article files: remove site chrome, keep article text verbatim (NFC), find metadata.

Every removed line is reported with its reason, so a reader can check that no article sentence
was lost. The cleaned text is the article's paragraphs, each stripped of layout indentation, joined
by a blank line; nothing inside a paragraph is rewritten.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from vnreorg.corpus.segment import count_words, paragraphs, sentences
from vnreorg.errors import VnreorgError
from vnreorg.schema import Document, nfc

# Lines that are site chrome wherever they stand: (reason, pattern).
CHROME_LINE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("visitor counter", re.compile(r"^(Số lượt online|Tổng số lượt truy cập|Truy cập hiện tại|Thống kê truy cập|Hôm nay|Đã truy cập|Số lần xem các bài viết|Đang online|Lượt truy cập)\b.*$", re.I)),
    ("visitor counter", re.compile(r"^Đang có\s+\d+\s+khách.*$", re.I)),
    ("visitor counter", re.compile(r"^\d[\d.,\s]*$")),
    ("navigation", re.compile(r"^«\s*Quay lại.*$", re.I)),
    ("navigation", re.compile(r"^(Trang chủ|Quay lại|Về đầu trang|In bài|Chia sẻ|Tin nóng|Tin tiêu điểm|Tin liên quan|Tin khác|Website liên kết|Lịch công tác.*|Tìm kiếm theo chuyên mục.*|TIN NỔI BẬT|Tin nổi bật)$", re.I)),
    ("comments", re.compile(r"^(Bình luận|Ý kiến bạn đọc|Gửi bình luận|Tin cùng chuyên mục)$", re.I)),
]

# A line that starts the page footer: it and everything after it are chrome.
FOOTER_START_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"^Bình luận$", re.I),
    re.compile(r"^Tin cùng chuyên mục$", re.I),
    re.compile(r"^TIN NỔI BẬT$"),
    re.compile(r"^Tìm kiếm theo chuyên mục"),
    re.compile(r"^Báo .+ điện tử$"),
    re.compile(r"^CỔNG (GIAO TIẾP|THÔNG TIN) ĐIỆN TỬ"),
    re.compile(r"^(Cơ quan chủ quản|Tổng Biên tập|Giấy phép( xuất bản)?( số)?|Tòa soạn|Toà soạn|Chịu trách nhiệm chính)\s*:", re.I),
    re.compile(r"^Bản đồ hành chính"),
]

FOOTER_LINE_REASON = "footer"
_META_SOURCE = re.compile(r"^(?:[•·*-]\s*)?Nguồn\s*:\s*(?P<outlet>.+)$")
_WEEKDAY = r"(?:Thứ (?:Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ nhật|Chủ Nhật)"
_META_DATE = re.compile(
    rf"^(?:[•·*-]\s*)?(?:{_WEEKDAY},?\s*)?(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>\d{{4}})(?:\s*[|,-]?\s*(?P<hh>\d{{1,2}}):(?P<mm>\d{{2}}))?$"
)
_BULLET = re.compile(r"^[•·]\s*")
_HTML = re.compile(r"<\s*(html|body|div|p|head|!doctype)\b", re.I)
_DATELINE_OUTLET = re.compile(r"^\((?P<paren>[A-ZĐ]{2,10})\)\s*-|^(?P<bare>[A-ZĐ]{2,10})\s+-\s")
_SENTENCE_FINAL = re.compile(r"[.!?…:;”\"]$")


@dataclass
class RemovedLine:
    line: int  # 1-based line number in the raw file
    text: str
    reason: str


@dataclass
class IngestResult:
    document: Document
    removed: list[RemovedLine] = field(default_factory=list)


def _doubled_phrase(line: str) -> bool:
    """Menu items rendered twice ("Chính trị Chính trị", "Bản đồ hành chính Bản đồ hành chính")."""
    words = line.split()
    half = len(words) // 2
    return len(words) >= 2 and len(words) % 2 == 0 and words[:half] == words[half:] and len(line) < 80


def _chrome_reason(line: str) -> str | None:
    for reason, pattern in CHROME_LINE_PATTERNS:
        if pattern.match(line):
            return reason
    if _doubled_phrase(line):
        return "navigation"
    return None


def _is_footer_start(line: str) -> bool:
    return any(p.match(line) for p in FOOTER_START_PATTERNS)


def decode(raw: bytes, path: Path) -> str:
    if not raw.strip():
        raise VnreorgError("empty file", str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VnreorgError(f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at byte offset {exc.start})", str(path)) from None
    if _HTML.search(text[:2000]):
        raise VnreorgError("looks like HTML; save the article as plain text first", str(path))
    return text


def doc_id_for(raw: bytes) -> str:
    """Stable id: the same raw bytes always give the same id."""
    return hashlib.sha256(raw).hexdigest()[:16]


def _iso_date(m: re.Match) -> str:
    date = f"{int(m['y']):04d}-{int(m['m']):02d}-{int(m['d']):02d}"
    if m["hh"]:
        date += f"T{int(m['hh']):02d}:{m['mm']}"
    return date


def ingest_text(raw_text: str, *, source_file: str, sha256: str, doc_id: str) -> IngestResult:
    """Clean one article's text; return the document and the report of removed lines."""
    lines = nfc(raw_text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    removed: list[RemovedLine] = []
    meta: dict = {"source_file": source_file, "sha256": sha256, "title": None, "outlet": None,
                  "date": None, "author": None, "section": None}
    body: list[tuple[int, str]] = []  # (line number, stripped text)
    in_footer = False
    footer_outlet = None
    for n, raw_line in enumerate(lines, 1):
        line = raw_line.strip()
        if not line:
            continue
        if in_footer or _is_footer_start(line):
            if footer_outlet is None and re.match(r"^(Báo .+ điện tử|CỔNG (GIAO TIẾP|THÔNG TIN) ĐIỆN TỬ.*)$", line):
                footer_outlet = line
            in_footer = True
            removed.append(RemovedLine(n, line, FOOTER_LINE_REASON))
            continue
        reason = _chrome_reason(line)
        if reason:
            removed.append(RemovedLine(n, line, reason))
            continue
        if m := _META_SOURCE.match(line):
            meta["outlet"] = m["outlet"].strip()
            removed.append(RemovedLine(n, line, "metadata: source"))
            continue
        if m := _META_DATE.match(line):
            meta["date"] = _iso_date(m)
            removed.append(RemovedLine(n, line, "metadata: date"))
            continue
        body.append((n, line))

    if not body:
        raise VnreorgError("no article text left after removing site chrome", source_file)

    # Breadcrumbs: bullet lines before the title are navigation, a short line right before the
    # title (when a "Nguồn:" line follows the title) is the section.
    title_idx = 0
    if any(r.reason == "metadata: source" for r in removed):
        first_meta_line = min(r.line for r in removed if r.reason.startswith("metadata"))
        before = [i for i, (n, _) in enumerate(body) if n < first_meta_line]
        if before:
            title_idx = before[-1]
    while title_idx < len(body) and _BULLET.match(body[title_idx][1]) and title_idx + 1 < len(body):
        title_idx += 1
    for i in range(title_idx):
        n, line = body[i]
        if _BULLET.match(line):
            removed.append(RemovedLine(n, line, "navigation"))
        else:
            meta["section"] = line
            removed.append(RemovedLine(n, line, "metadata: section"))
    body = body[title_idx:]
    meta["title"] = body[0][1]

    # Byline: up to two short trailing lines without sentence-final punctuation.
    byline: list[tuple[int, str]] = []
    while len(body) > 2 and len(byline) < 2:
        n, line = body[-1]
        if len(line) <= 100 and not _SENTENCE_FINAL.search(line):
            byline.insert(0, body.pop())
        else:
            break
    if byline:
        meta["author"] = ", ".join(line for _, line in byline)
        removed.extend(RemovedLine(n, line, "metadata: byline") for n, line in byline)

    if meta["outlet"] is None:
        first_para = body[1][1] if len(body) > 1 else ""
        if m := _DATELINE_OUTLET.match(first_para):
            meta["outlet"] = m["paren"] or m["bare"]
        elif footer_outlet:
            meta["outlet"] = footer_outlet
    if footer_outlet:
        meta["site"] = footer_outlet

    text = "\n\n".join(line for _, line in body)
    paras = paragraphs(text)
    sents = sentences(text, paras)
    meta["n_words"] = count_words(text)
    removed.sort(key=lambda r: r.line)
    meta["removed_lines"] = [{"line": r.line, "text": r.text, "reason": r.reason} for r in removed]
    doc = Document(id=doc_id, text=text, meta=meta, paragraphs=paras, sentences=sents)
    return IngestResult(doc, removed)


def ingest_file(path: str | Path) -> IngestResult:
    path = Path(path)
    raw = path.read_bytes()
    text = decode(raw, path)
    sha = hashlib.sha256(raw).hexdigest()
    return ingest_text(text, source_file=path.name, sha256=sha, doc_id=doc_id_for(raw))


@dataclass
class BuildReport:
    documents: list[Document]
    removed: dict[str, list[RemovedLine]]
    warnings: list[str]


def build_corpus(folder: str | Path) -> BuildReport:
    """Ingest every .txt file of a folder (sorted by name). Errors stop the build; warnings skip a file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VnreorgError("not a folder", str(folder))
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise VnreorgError("no .txt files found", str(folder))
    docs: list[Document] = []
    removed: dict[str, list[RemovedLine]] = {}
    warnings: list[str] = []
    seen_text: dict[str, str] = {}
    for path in files:
        if path.stat().st_size == 0 or not path.read_bytes().strip():
            warnings.append(f"{path}: empty file, skipped")
            continue
        result = ingest_file(path)
        doc = result.document
        key = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        if key in seen_text:
            warnings.append(f"{path}: same article text as {seen_text[key]}, skipped as a duplicate")
            continue
        seen_text[key] = path.name
        docs.append(doc)
        removed[doc.id] = result.removed
    return BuildReport(docs, removed, warnings)
