"""Ingest: chrome removal against hand-made lists, metadata, NFC, stable ids, sentence splitting, bad input."""
from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from vnreorg.corpus.ingest import build_corpus, doc_id_for, ingest_file
from vnreorg.corpus.segment import sentences
from vnreorg.errors import VnreorgError

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"

# Hand-made, by reading each raw file: the line numbers (1-based) that are site chrome or metadata.
# Every other non-blank line is article text and must survive verbatim.
EXPECTED_REMOVED = {
    "000_0f3b529dcd68b68e.txt": {1, 3, 7, 8, 30, 32, 34, 35, 37, 38, 39, 40, 41, 42, 43, 44, 46},
    "001_cae5111245392743.txt": {1, 3, 5, 7, 47, 55, 57, 59, 60, 61, 62, 63},
    "002_53cd71505d5be632.txt": {3, 37, 40, 42, 43, 45, 47, 48, 49, 50},
    "003_422881bb3c1792a4.txt": {1, 3, 29, 30, 32, 33},
    "004_ca2810c66ede54e7.txt": {12},
}

# Chrome strings that must not be in any cleaned text.
CHROME = ["Tổng số lượt truy cập", "Đang có 154", "Bình Luận", "Tin cùng chuyên mục", "« Quay lại",
          "Giấy phép xuất bản", "Email:", "Điện thoại:", "Tòa soạn", "Số lần xem", "Đã truy cập", "TIN NỔI BẬT",
          "Chính trị Chính trị", "Cơ quan chủ quản", "Website liên kết", "9068981"]


@pytest.fixture(scope="module")
def built():
    return build_corpus(SEEDS)


def _raw_lines(name: str) -> list[str]:
    return (SEEDS / name).read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize("name", sorted(EXPECTED_REMOVED))
def test_removed_lines_match_the_hand_made_list(built, name):
    doc = next(d for d in built.documents if d.meta["source_file"] == name)
    removed = {r.line for r in built.removed[doc.id]}
    assert removed == EXPECTED_REMOVED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_REMOVED))
def test_every_article_line_survives_verbatim(built, name):
    doc = next(d for d in built.documents if d.meta["source_file"] == name)
    for n, line in enumerate(_raw_lines(name), 1):
        line = unicodedata.normalize("NFC", line.strip())
        if line and n not in EXPECTED_REMOVED[name]:
            assert line in doc.text, f"{name}:{n} lost: {line[:60]}"


def test_no_chrome_in_any_text(built):
    for doc in built.documents:
        for chrome in CHROME:
            assert chrome not in doc.text, (doc.meta["source_file"], chrome)


def test_five_documents_nfc_and_offsets(built):
    assert len(built.documents) == 5
    for doc in built.documents:
        assert unicodedata.is_normalized("NFC", doc.text)
        for start, end in doc.paragraphs + doc.sentences:
            assert 0 <= start < end <= len(doc.text)
            assert doc.text[start:end] == doc.text[start:end].strip()
        # sentences tile each paragraph: no character outside a sentence but whitespace
        for p_start, p_end in doc.paragraphs:
            inside = [(s, e) for s, e in doc.sentences if p_start <= s < p_end]
            assert inside[0][0] == p_start and inside[-1][1] == p_end
            for (_, e1), (s2, _) in zip(inside, inside[1:]):
                assert doc.text[e1:s2].strip() == ""


def test_metadata_as_the_texts_state_it(built):
    meta = {d.meta["source_file"][:3]: d.meta for d in built.documents}
    assert meta["000"]["title"] == "Quyết tâm đưa Nghị quyết số 18-NQ/TW vào cuộc sống"
    assert meta["000"]["outlet"] == "Báo Sóc Trăng"
    assert meta["000"]["date"] == "2018-05-14T06:00"
    assert meta["000"]["author"] == "H.Lan"
    assert meta["001"]["author"] == "Dương Thanh Hòa - Phó Bí thư Thường trực Thị ủy"
    assert meta["001"]["outlet"].startswith("CỔNG GIAO TIẾP ĐIỆN TỬ THỊ XÃ KỲ ANH")
    assert meta["002"]["date"] == "2020-09-18T10:09"
    assert meta["002"]["author"] == "PV"
    assert meta["003"]["outlet"] == "TGAG"
    assert meta["003"]["author"].startswith("THÁI HỮU PHÉP")
    assert meta["003"]["title"].startswith("Ngành tổ chức xây dựng Đảng")
    assert meta["004"]["author"] is None and meta["004"]["date"] is None
    for m in meta.values():
        assert len(m["sha256"]) == 64


def test_stable_id(tmp_path):
    raw = (SEEDS / "004_ca2810c66ede54e7.txt").read_bytes()
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_bytes(raw)
    b.write_bytes(raw)
    assert ingest_file(a).document.id == ingest_file(b).document.id == doc_id_for(raw)
    b.write_bytes(raw + "\nThêm.".encode("utf-8"))
    assert ingest_file(b).document.id != ingest_file(a).document.id


def _sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in sentences(text)]


@pytest.mark.parametrize(
    "text, n",
    [
        # "TP." abbreviation (000)
        ("Theo kế hoạch, dự kiến đến năm 2021, TP. Sóc Trăng sẽ cơ bản hoàn thành việc sắp xếp.", 1),
        # thousands separator (002)
        ("Từ năm 2015 đến 2019 có 133 người; 7.739 lượt cán bộ tham gia các lớp đào tạo.", 1),
        # dates and "Th.U" (001)
        ("Kết luận số 05-KL/TU ngày 29/6/2016 của Ban Thường vụ Tỉnh ủy. Chương trình số 22, 23 - CTr/Th.U đã ban hành.", 2),
        # "(khóa XII)" before the period, then a new sentence (003)
        ("Theo tinh thần Nghị quyết Trung ương 4 (khóa XII). Công tác đề bạt được thực hiện nghiêm túc.", 2),
        # quoted speech with an inner sentence stays in the quoting sentence (000)
        ("Đồng chí Nguyễn Văn Quận - Bí thư Thành ủy cho biết: “Trong quý II năm 2018, Thành ủy đã thực hiện “nhất thể hóa” "
         "Bí thư Đảng ủy đồng thời là Chủ tịch UBND Phường 6. Đây là phường thứ 2 của thành phố”. Hiện thành phố đang tập trung.", 2),
        # ellipsis then a capital starts a new sentence (002)
        ("Năng lực thực thi công vụ được nâng lên... Những kết quả quan trọng đó đã góp phần.", 2),
        # ordinal list item stays whole (001)
        ("Thứ nhất, cần tiếp tục làm tốt công tác tuyên truyền, quán triệt.", 1),
        # an initial in a byline-like name does not end a sentence
        ("Theo ông Nguyễn V. Quận, việc sắp xếp đã xong.", 1),
    ],
)
def test_sentence_splitting_on_real_sentences(text, n):
    got = _sentences_of(text)
    assert len(got) == n, got


def test_list_items_are_their_own_paragraphs(built):
    doc = next(d for d in built.documents if d.meta["source_file"].startswith("003"))
    starts = [doc.text[s:e] for s, e in doc.paragraphs]
    items = [p for p in starts if p.startswith("- ")]
    assert len(items) == 5
    sents = [doc.text[s:e] for s, e in doc.sentences]
    assert "Trọng tâm là:" in sents
    assert any(s.startswith("- Công tác đánh giá cán bộ") and s.endswith("bổ sung phù hợp.") for s in sents)


def test_seed_sentences_known_boundaries(built):
    doc = next(d for d in built.documents if d.meta["source_file"].startswith("000"))
    sents = [doc.text[s:e] for s, e in doc.sentences]
    assert sents[2].startswith("Đồng chí Nguyễn Văn Quận") and sents[2].endswith("thời gian tới”.")
    assert any(s.startswith("Theo kế hoạch, dự kiến đến năm 2021, TP. Sóc Trăng") for s in sents)


# ---------------------------------------------------------------- bad input

def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "vnreorg.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_non_utf8_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "bad.txt").write_bytes("Sáp nhập".encode("cp1258", errors="replace") + b"\xff\xfe")
    with pytest.raises(VnreorgError, match="bad.txt.*not UTF-8"):
        build_corpus(tmp_path)
    out = tmp_path / "out.jsonl"
    proc = _cli("corpus", "build", str(tmp_path), "--out", str(out), "--report", str(tmp_path / "r.jsonl"), cwd=tmp_path)
    assert proc.returncode != 0
    assert "bad.txt" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_html_is_an_error(tmp_path):
    (tmp_path / "page.txt").write_text("<!DOCTYPE html><html><body><p>Sáp nhập xã</p></body></html>", encoding="utf-8")
    with pytest.raises(VnreorgError, match="page.txt.*HTML"):
        build_corpus(tmp_path)


def test_empty_and_duplicate_files_are_warned_and_skipped(tmp_path):
    raw = (SEEDS / "004_ca2810c66ede54e7.txt").read_bytes()
    (tmp_path / "a.txt").write_bytes(raw)
    (tmp_path / "b.txt").write_bytes(raw.replace(b"TIN N", b"Tin n"))  # same article, different chrome
    (tmp_path / "c.txt").write_bytes(b"  \n\n")
    report = build_corpus(tmp_path)
    assert len(report.documents) == 1
    assert any("b.txt" in w and "duplicate" in w for w in report.warnings)
    assert any("c.txt" in w and "empty" in w for w in report.warnings)
    proc = _cli("corpus", "build", str(tmp_path), "--out", str(tmp_path / "o.jsonl"), "--report", str(tmp_path / "r.jsonl"),
                "--strict", cwd=tmp_path)
    assert proc.returncode != 0 and "b.txt" in proc.stderr


def test_nfd_input_becomes_nfc(tmp_path):
    text = "Tiêu đề bài\n\nThành phố đã sáp nhập xã Điền Công vào phường Trưng Vương. Đó là kết quả."
    (tmp_path / "nfd.txt").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    doc = build_corpus(tmp_path).documents[0]
    assert doc.text == unicodedata.normalize("NFC", text)
    assert len(doc.sentences) == 3


def test_committed_corpus_is_what_ingest_produces(built):
    committed = [json.loads(l) for l in (ROOT / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines() if l]
    assert [d["id"] for d in committed] == [d.id for d in built.documents]
    assert [d["text"] for d in committed] == [d.text for d in built.documents]
    assert [[list(s) for s in d["sentences"]] for d in committed] == [[list(s) for s in d.sentences] for d in built.documents]


def test_one_huge_line_of_many_sentences_splits_them_all():
    """A paragraph of one line with 20,000 sentences (as `vnreorg extract` may be given) splits into
    20,000 sentences, quotes still respected: the quote depth is counted once per character, not
    again from the paragraph start for every full stop (which took minutes here)."""
    sentence = "Sáp nhập Phòng Nội vụ vào Văn phòng HĐND. "
    text = sentence * 20000 + "Ông nói: “Đã sáp nhập. Xong.” Hết."
    spans = sentences(text)
    assert len(spans) == 20002
    assert text[spans[-2][0]:spans[-2][1]] == "Ông nói: “Đã sáp nhập. Xong.”"
    assert all(text[s:e] == sentence.strip() for s, e in spans[:20000])
