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
from vnreorg.jsonio import check_input_file
from vnreorg.schema import Document, check_id, hashed_id, nfc

# Chrome rules match a whole line of a known shape, with evidence where the shape alone is not enough;
# never a paragraph because of its first words ("Hôm nay, Tỉnh ủy ...", "Lượt truy cập của người dân
# ..." are article text).

# Visitor counters: a known label alone or with its count ("Hôm nay: 791"), or a bare count beside one.
_COUNTER_LABELS_SURE = (
    "Số lượt online",
    "Tổng số lượt truy cập",
    "Lượt truy cập",
    "Truy cập hiện tại",
    "Thống kê truy cập",
    "Đã truy cập",
    "Số lần xem các bài viết",
    "Đang online",
    "Đang truy cập",
    "Lượt xem",
)
# Labels that are also ordinary words: alone on a line they are a counter only beside another counter line.
_COUNTER_LABELS_PLAIN = ("Hôm nay", "Hôm qua", "Tuần này", "Tháng này", "Tất cả")
_COUNTER_LINE = re.compile(
    r"^(?P<label>" + "|".join(map(re.escape, _COUNTER_LABELS_SURE + _COUNTER_LABELS_PLAIN)) + r")\s*:?\s*(?P<n>\d[\d.,\s]*)?$",
    re.I,
)
_COUNT_ONLY = re.compile(r"^\d[\d.,\s]*$")
_ONLINE_GUESTS = re.compile(r"^Đang có\s+\d+\s+khách(?:\s+và\s+(?:\d+|không)\s+thành viên)?\s+đang online$", re.I)

CHROME_LINE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("navigation", re.compile(r"^«\s*Quay lại(?: trang trước)?$", re.I)),
    (
        "navigation",
        re.compile(
            r"^(Trang chủ|Quay lại|Về đầu trang|In bài|Chia sẻ|Tin nóng|Tin tiêu điểm|Tin liên quan|Tin khác|Website liên kết|Lịch công tác(?: trống)?|Tìm kiếm theo chuyên mục(?:\s*-\s*nội dung\s*-\s*ngày tháng)?|TIN NỔI BẬT|Tin nổi bật)$",
            re.I,
        ),
    ),
    ("comments", re.compile(r"^(Bình luận|Ý kiến bạn đọc|Gửi bình luận|Tin cùng chuyên mục)$", re.I)),
]

# A line that starts the page footer: it and everything after it are chrome, provided nothing after it
# reads as article prose (the evidence: a footer holds names, addresses and licences, not paragraphs).
FOOTER_START_PATTERNS: list[re.Pattern[str]] = [
    re.compile(r"^Bình luận$", re.I),
    re.compile(r"^Tin cùng chuyên mục$", re.I),
    re.compile(r"^TIN NỔI BẬT$"),
    re.compile(r"^Tìm kiếm theo chuyên mục(?:\s*-\s*nội dung\s*-\s*ngày tháng)?$"),
    re.compile(r"^Báo [^.,;:!?]{1,40} điện tử$"),
    re.compile(r"^CỔNG (GIAO TIẾP|THÔNG TIN) ĐIỆN TỬ[^a-zà-ỹđ]*$"),
    re.compile(
        r"^(Cơ quan chủ quản|Tổng Biên tập|Giấy phép( xuất bản)?( số)?|Tòa soạn|Toà soạn|Chịu trách nhiệm chính)\s*:", re.I
    ),
    re.compile(r"^Bản đồ hành chính"),
]

FOOTER_LINE_REASON = "footer"
_META_SOURCE = re.compile(r"^(?:[•·*-]\s*)?Nguồn\s*:\s*(?P<outlet>.+)$")
_WEEKDAY = r"(?:Thứ (?:Hai|Ba|Tư|Năm|Sáu|Bảy|hai|ba|tư|năm|sáu|bảy)|Chủ nhật|Chủ Nhật)"
_DMY = r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"
_HMS = r"(?P<hh>\d{1,2}):(?P<mm>\d{2})(?::(?P<ss>\d{2}))?"
_GMT = r"(?:\s*\(?GMT\s*\+\s*7\)?)?"
_META_DATE = re.compile(rf"^(?:[•·*-]\s*)?(?:{_WEEKDAY},?\s*)?{_DMY}(?:\s*[|,-]?\s*{_HMS})?{_GMT}$")
# Update and publication stamps: "Cập nhật lúc: 08/03/2021 09:12:45", "Cập nhật: 14:30 ngày 12/05/2022".
_STAMP_LABEL = r"(?P<label>Cập nhật(?: lúc| ngày)?|Ngày cập nhật|Đăng(?: lúc| ngày)?|Ngày đăng|Thời gian đăng|Ngày xuất bản|Xuất bản(?: lúc| ngày)?)"
_STAMP_DATE_FIRST = re.compile(
    rf"^(?:[•·*-]\s*)?{_STAMP_LABEL}\s*:?\s*(?:{_WEEKDAY},?\s*)?{_DMY}(?:\s*[|,-]?\s*(?:lúc\s*)?{_HMS})?{_GMT}$", re.I
)
_STAMP_TIME_FIRST = re.compile(
    rf"^(?:[•·*-]\s*)?{_STAMP_LABEL}\s*:?\s*{_HMS}{_GMT}\s*[|,-]?\s*(?:ngày\s*)?(?:{_WEEKDAY},?\s*)?{_DMY}$", re.I
)
# A byline line anywhere: "Bài và ảnh: Lê Hương", "Tác giả: ...".
_BYLINE_LINE = re.compile(
    r"^(?:Bài(?: và ảnh|, ảnh)?|Tác giả|Phóng viên|Nhóm phóng viên|Nhóm PV|Bài viết)\s*:\s*(?P<who>[^.!?:]{2,60})$", re.I
)
# An outlet or place dateline that opens the first paragraph: "BNA - ", "(Báo Tỉnh) - ", "HÀ NỘI - ",
# "(Chinhphu.vn) - ", "(TGAG)- ". Checked further in `_dateline`.
_DATELINE = re.compile(r"^(?:(?P<place>[^\s()\-–—][^()\-–—\n]{0,29}?)\s*)?(?:\((?P<tag>[^()\n]{2,40})\))?\s*[-–—]\s*(?=\S)")
# Photo captions: a credit ("Ảnh: Lê Hương", "(Ảnh: VGP/Nhật Bắc)") ending the line, or a short scene line.
_PHOTO_CREDIT = re.compile(r"(?:^|[\s.])\(?\s*Ảnh(?: minh họa| tư liệu)?\s*:\s*[^()]{1,60}\)?\s*$")
_CAPTION_SUBJECT = re.compile(
    r"^(?:Đồng chí|Các đồng chí|Ông|Bà|Lãnh đạo|Đại biểu|Các đại biểu|Quang cảnh|Toàn cảnh|Thủ tướng|Phó Thủ tướng|Bộ trưởng|Chủ tịch|Phó Chủ tịch|Bí thư|Phó Bí thư)\b"
)
_CAPTION_SCENE = re.compile(
    r"\b(?:phát biểu|trao|tặng|thăm|kiểm tra|chủ trì|chụp ảnh|tham quan|làm việc|khảo sát|biểu quyết|bỏ phiếu|dự|Quang cảnh|Toàn cảnh)\b"
)
_BULLET = re.compile(r"^[•·]\s*")
_HTML = re.compile(r"<\s*(html|body|div|p|head|!doctype)\b", re.I)
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


def _counter_kind(line: str) -> str | None:
    """ "sure" (a counter whatever stands around it), "plain" (a counter only beside one), or None."""
    if _ONLINE_GUESTS.match(line):
        return "sure"
    if m := _COUNTER_LINE.match(line):
        plain = m["label"].lower() in {w.lower() for w in _COUNTER_LABELS_PLAIN}
        return "sure" if (m["n"] or not plain) else "plain"
    if _COUNT_ONLY.match(line):
        return "plain"
    return None


def _counter_lines(lines: list[str]) -> set[int]:
    """Indexes of the visitor-counter lines: sure ones, and plain ones next to (blank lines apart) a
    counter line, so a lone "Hôm nay" or a number in the article stays."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    kinds = {i: _counter_kind(lines[i].strip()) for i in filled}
    out = {i for i in filled if kinds[i] == "sure"}
    # Spread from counter lines through runs of plain ones: downwards, then upwards (two linear passes).
    for order in (range(1, len(filled)), range(len(filled) - 2, -1, -1)):
        step = -1 if order.step == 1 else 1
        for k in order:
            if kinds[filled[k]] == "plain" and filled[k + step] in out:
                out.add(filled[k])
    return out


def _chrome_reason(line: str) -> str | None:
    for reason, pattern in CHROME_LINE_PATTERNS:
        if pattern.match(line):
            return reason
    if _doubled_phrase(line):
        return "navigation"
    return None


def _is_prose(line: str) -> bool:
    return len(line.split()) >= 20 and bool(re.search(r"[.!?…”]$", line))


def _footer_start(lines: list[str]) -> int | None:
    """The index of the line that starts the footer: a known footer line after which no line reads as prose."""
    prose_after = False
    start = None
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if not line:
            continue
        if any(p.match(line) for p in FOOTER_START_PATTERNS) and not prose_after:
            start = i
        if _is_prose(line):
            prose_after = True
    return start


def is_caption(line: str) -> bool:
    """A photo caption: a line ending with a photo credit, or a short scene line ("Đồng chí ... phát
    biểu tại hội nghị") with no sentence-final punctuation. Captions stay in the text as paragraphs of
    kind "caption" (`vnreorg.schema.PARAGRAPH_KINDS`)."""
    if _PHOTO_CREDIT.search(line):
        return True
    return (
        len(line) <= 200
        and not _SENTENCE_FINAL.search(line)
        and bool(_CAPTION_SUBJECT.match(line))
        and bool(_CAPTION_SCENE.search(line))
    )


def paragraph_kinds(text: str, paras: list[tuple[int, int]]) -> list[str]:
    """The kind of each paragraph of a cleaned text (empty when all are body). The first paragraph is
    the title and is never a caption."""
    kinds = ["caption" if k > 0 and is_caption(text[s:e]) else "body" for k, (s, e) in enumerate(paras)]
    return kinds if "caption" in kinds else []


def _dateline(paragraph: str) -> re.Match | None:
    """An outlet or place dateline opening the paragraph, followed by the start of a sentence: an
    outlet in brackets ("(Báo Tỉnh) - ") or a name in capitals of at most four words ("BNA - ",
    "HÀ NỘI - ")."""
    m = _DATELINE.match(paragraph)
    if not m or not (m["place"] or m["tag"]):
        return None
    place = (m["place"] or "").strip()
    if place and not (place == place.upper() and any(c.isalpha() for c in place) and len(place.split()) <= 4):
        return None
    if m["tag"] and (len(m["tag"].split()) > 4 or re.search(r"[,;:!?]", m["tag"])):
        return None
    first = paragraph[m.end() : m.end() + 1]
    return m if first.isupper() or first.isdigit() else None


def decode(raw: bytes, path: Path) -> str:
    if not raw.strip():
        raise VnreorgError("empty file", str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise VnreorgError(
            f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at byte offset {exc.start})", str(path)
        ) from None
    if _HTML.search(text[:2000]):
        raise VnreorgError("looks like HTML; save the article as plain text first", str(path))
    return text


def doc_id_for(raw: bytes) -> str:
    """Stable id: the same raw bytes always give the same id."""
    return hashed_id(raw)


def _iso_date(m: re.Match) -> str:
    date = f"{int(m['y']):04d}-{int(m['m']):02d}-{int(m['d']):02d}"
    if m["hh"]:
        date += f"T{int(m['hh']):02d}:{m['mm']}"
        if m.re.groupindex.get("ss") and m["ss"]:
            date += f":{m['ss']}"
    return date


def _stamp(line: str) -> tuple[str, str, str] | None:
    """(meta key, ISO date, reason) of an update or publication stamp line."""
    m = _STAMP_DATE_FIRST.match(line) or _STAMP_TIME_FIRST.match(line)
    if not m:
        return None
    if "cập nhật" in m["label"].lower():
        return "updated", _iso_date(m), "metadata: update stamp"
    return "date", _iso_date(m), "metadata: date"


def _is_section_line(line: str, next_line: str) -> bool:
    """A breadcrumb or section name above the title: a few words, no punctuation, a longer line below."""
    return len(line.split()) <= 4 and len(line) <= 30 and not re.search(r"[.,;:!?…]", line) and len(next_line) > len(line)


def ingest_text(raw_text: str, *, source_file: str, sha256: str, doc_id: str) -> IngestResult:
    """Clean one article's text; return the document and the report of removed lines."""
    check_id(doc_id, source_file)
    lines = nfc(raw_text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    removed: list[RemovedLine] = []
    meta: dict = {
        "source_file": source_file,
        "sha256": sha256,
        "title": None,
        "outlet": None,
        "date": None,
        "author": None,
        "section": None,
    }
    body: list[tuple[int, str]] = []  # (line number, stripped text)
    footer_at = _footer_start(lines)
    counters = _counter_lines(lines)
    footer_outlet = None
    authors: list[str] = []
    for idx, raw_line in enumerate(lines):
        n, line = idx + 1, raw_line.strip()
        if not line:
            continue
        if footer_at is not None and idx >= footer_at:
            if footer_outlet is None and re.match(r"^(Báo .+ điện tử|CỔNG (GIAO TIẾP|THÔNG TIN) ĐIỆN TỬ.*)$", line):
                footer_outlet = line
            removed.append(RemovedLine(n, line, FOOTER_LINE_REASON))
            continue
        if idx in counters:
            removed.append(RemovedLine(n, line, "visitor counter"))
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
        if stamp := _stamp(line):
            key, iso, why = stamp
            if key == "updated" or meta["date"] is None:
                meta[key] = iso
            removed.append(RemovedLine(n, line, why))
            continue
        if m := _BYLINE_LINE.match(line):
            authors.append(m["who"].strip())
            removed.append(RemovedLine(n, line, "metadata: byline"))
            continue
        body.append((n, line))

    if not body:
        raise VnreorgError("no article text left after removing site chrome", source_file)

    # Breadcrumbs: bullet lines before the title are navigation, a short line right before the
    # title (when a "Nguồn:" line follows the title, or when it is a few words above a longer line)
    # is the section.
    title_idx = 0
    if any(r.reason == "metadata: source" for r in removed):
        first_meta_line = min(r.line for r in removed if r.reason.startswith("metadata"))
        before = [i for i, (n, _) in enumerate(body) if n < first_meta_line]
        if before:
            title_idx = before[-1]
    while title_idx < len(body) and _BULLET.match(body[title_idx][1]) and title_idx + 1 < len(body):
        title_idx += 1
    while title_idx + 2 < len(body) and _is_section_line(body[title_idx][1], body[title_idx + 1][1]):
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

    # Byline: up to two short trailing lines without sentence-final punctuation (a caption is not one).
    byline: list[tuple[int, str]] = []
    while len(body) > 2 and len(byline) < 2:
        n, line = body[-1]
        if len(line) <= 100 and not _SENTENCE_FINAL.search(line) and not is_caption(line):
            byline.insert(0, body.pop())
        else:
            break
    if byline:
        authors += [line for _, line in byline]
        removed.extend(RemovedLine(n, line, "metadata: byline") for n, line in byline)
    if authors:
        meta["author"] = ", ".join(authors)

    # Dateline: an outlet or place prefix of the first paragraph goes to metadata, the sentence stays.
    if len(body) > 1 and (m := _dateline(body[1][1])):
        n, line = body[1]
        prefix = line[: m.end()].rstrip()
        meta["dateline"] = prefix.rstrip("-–— ").strip()
        if meta["outlet"] is None and m["tag"]:
            meta["outlet"] = m["tag"].strip()
        elif meta["outlet"] is None and m["place"] and re.fullmatch(r"[A-Z][A-Z0-9.]{1,9}", m["place"].strip()):
            meta["outlet"] = m["place"].strip()
        body[1] = (n, line[m.end() :])
        removed.append(RemovedLine(n, prefix, "metadata: dateline"))
    if meta["outlet"] is None and footer_outlet:
        meta["outlet"] = footer_outlet
    if footer_outlet:
        meta["site"] = footer_outlet

    text = "\n\n".join(line for _, line in body)
    paras = paragraphs(text)
    sents = sentences(text, paras)
    meta["n_words"] = count_words(text)
    removed.sort(key=lambda r: r.line)
    meta["removed_lines"] = [{"line": r.line, "text": r.text, "reason": r.reason} for r in removed]
    doc = Document(
        id=doc_id, text=text, meta=meta, paragraphs=paras, sentences=sents, paragraph_kinds=paragraph_kinds(text, paras)
    )
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
    """Ingest every .txt file of a folder (sorted by name), then its .html/.jsonl/.parquet/.warc files through
    the readers `extract` uses. Errors stop the build; warnings skip a file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise VnreorgError("not a folder", str(folder))
    from vnreorg.corpus.ingest_archive import archive_files, ingest_archive_files

    files = sorted(folder.glob("*.txt"))
    others = archive_files(folder)  # .html/.jsonl/.parquet/.warc: read by the readers `extract` uses
    if not files and not others:
        raise VnreorgError("no .txt (or .html, .jsonl, .parquet, .warc) files found", str(folder))
    docs: list[Document] = []
    removed: dict[str, list[RemovedLine]] = {}
    warnings: list[str] = []
    seen_text: dict[str, str] = {}
    for path in files:
        check_input_file(path)  # a FIFO or device named *.txt: an error, never a blocked read
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
    for item, result in ingest_archive_files(others):
        if isinstance(result, str):
            warnings.append(f"{item.source}: {result}, skipped")
            continue
        doc = result.document
        key = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        if key in seen_text:
            warnings.append(f"{item.source}: same article text as {seen_text[key]}, skipped as a duplicate")
            continue
        seen_text[key] = item.source
        docs.append(doc)
        removed[doc.id] = result.removed
    return BuildReport(docs, removed, warnings)
