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

# Datelines: the outlet prefix of the first paragraph goes to metadata; the rest of the line stays.
EXPECTED_DATELINES = {
    "000_0f3b529dcd68b68e.txt": (10, "STO -"),
    "003_422881bb3c1792a4.txt": (7, "(TGAG)-"),
}

# Chrome strings that must not be in any cleaned text.
CHROME = [
    "Tổng số lượt truy cập",
    "Đang có 154",
    "Bình Luận",
    "Tin cùng chuyên mục",
    "« Quay lại",
    "Giấy phép xuất bản",
    "Email:",
    "Điện thoại:",
    "Tòa soạn",
    "Số lần xem",
    "Đã truy cập",
    "TIN NỔI BẬT",
    "Chính trị Chính trị",
    "Cơ quan chủ quản",
    "Website liên kết",
    "9068981",
]


@pytest.fixture(scope="module")
def built():
    return build_corpus(SEEDS)


def _raw_lines(name: str) -> list[str]:
    return (SEEDS / name).read_text(encoding="utf-8").split("\n")


@pytest.mark.parametrize("name", sorted(EXPECTED_REMOVED))
def test_removed_lines_match_the_hand_made_list(built, name):
    doc = next(d for d in built.documents if d.meta["source_file"] == name)
    removed = {r.line for r in built.removed[doc.id]}
    dateline = {EXPECTED_DATELINES[name][0]} if name in EXPECTED_DATELINES else set()
    assert removed == EXPECTED_REMOVED[name] | dateline


@pytest.mark.parametrize("name", sorted(EXPECTED_REMOVED))
def test_every_article_line_survives_verbatim(built, name):
    doc = next(d for d in built.documents if d.meta["source_file"] == name)
    for n, line in enumerate(_raw_lines(name), 1):
        line = unicodedata.normalize("NFC", line.strip())
        if name in EXPECTED_DATELINES and n == EXPECTED_DATELINES[name][0]:
            prefix = EXPECTED_DATELINES[name][1]
            assert line.startswith(prefix) and doc.text.split("\n\n")[1] == line[len(prefix) :].strip()
            continue
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
    assert meta["003"]["outlet"] == "TGAG" and meta["003"]["dateline"] == "(TGAG)"
    assert meta["000"]["dateline"] == "STO" and meta["000"]["outlet"] == "Báo Sóc Trăng"
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
        (
            "Đồng chí Nguyễn Văn Quận - Bí thư Thành ủy cho biết: “Trong quý II năm 2018, Thành ủy đã thực hiện “nhất thể hóa” "
            "Bí thư Đảng ủy đồng thời là Chủ tịch UBND Phường 6. Đây là phường thứ 2 của thành phố”. Hiện thành phố đang tập trung.",
            2,
        ),
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
    proc = _cli(
        "corpus",
        "build",
        str(tmp_path),
        "--out",
        str(tmp_path / "o.jsonl"),
        "--report",
        str(tmp_path / "r.jsonl"),
        "--strict",
        cwd=tmp_path,
    )
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
    assert text[spans[-2][0] : spans[-2][1]] == "Ông nói: “Đã sáp nhập. Xong.”"
    assert all(text[s:e] == sentence.strip() for s, e in spans[:20000])


# ---------------------------------------------------------------- other outlets (tests/fixtures/outlets)

OUTLETS = ROOT / "tests" / "fixtures" / "outlets"

# Per constructed article: the metadata, every removed line (number: reason), and the caption paragraphs.
OUTLET_EXPECTED = {
    "bna_bac_ninh.txt": {
        "meta": {
            "title": "Hợp nhất Sở Kế hoạch và Đầu tư với Sở Tài chính tỉnh",
            "section": "Chính trị",
            "updated": "2021-03-08T09:12:45",
            "dateline": "BNA",
            "outlet": "BNA",
            "author": "Trần Minh",
        },
        "removed": {
            1: "navigation",
            2: "metadata: section",
            6: "metadata: update stamp",
            8: "metadata: dateline",
            18: "metadata: byline",
            20: "navigation",
            22: "visitor counter",
            23: "visitor counter",
        },
        "captions": ["Đồng chí Nguyễn Văn Bình, Phó Bí thư Tỉnh ủy phát biểu tại hội nghị"],
    },
    "bao_tinh.txt": {
        "meta": {
            "updated": "2022-05-12T14:30",
            "dateline": "(Báo Tỉnh)",
            "outlet": "Báo Tỉnh",
            "author": "Hoàng Lộc",
            "site": "Báo Tỉnh điện tử",
            "date": None,
        },
        "removed": {
            3: "metadata: update stamp",
            5: "metadata: dateline",
            17: "metadata: byline",
            19: "footer",
            20: "footer",
            21: "footer",
        },
        "captions": [
            "Lãnh đạo huyện trao quyết định cho Giám đốc Trung tâm Văn hóa - Thông tin và Thể thao huyện (Ảnh: Hoàng Lộc)"
        ],
    },
    "hanoi_dateline.txt": {
        "meta": {
            "title": "Sáp nhập hai phường thành phường Hoàn Kiếm mới",
            "section": "Thời sự",
            "dateline": "HÀ NỘI",
            "outlet": None,
            "date": "2023-08-15T07:45",
            "author": "Lê Hương",
        },
        "removed": {
            1: "metadata: section",
            5: "metadata: byline",
            7: "metadata: date",
            9: "metadata: dateline",
            21: "navigation",
            22: "navigation",
        },
        "captions": ["Quang cảnh kỳ họp. Ảnh: Lê Hương", "Ảnh: Lê Hương"],
    },
    "chinhphu.txt": {
        "meta": {"updated": "2023-07-15T10:05", "dateline": "(Chinhphu.vn)", "outlet": "Chinhphu.vn", "author": "Thu Giang"},
        "removed": {3: "metadata: update stamp", 5: "metadata: dateline", 11: "visitor counter", 13: "metadata: byline"},
        "captions": ["Phó Thủ tướng phát biểu chỉ đạo tại cuộc họp. (Ảnh: VGP/Nhật Bắc)"],
    },
    "ha_tinh_byline.txt": {
        "meta": {"outlet": "Báo Hà Tĩnh", "date": "2017-06-02T16:20", "dateline": "HTO", "author": "Thanh Hà - Văn Chung"},
        "removed": {
            1: "navigation",
            2: "navigation",
            6: "metadata: source",
            7: "metadata: date",
            9: "metadata: dateline",
            17: "metadata: byline",
        },
        "captions": ["Đồng chí Lê Đình Sơn, Bí thư Tỉnh ủy kiểm tra mô hình tại xã Thạch Châu"],
    },
}

# Article paragraphs that begin with words a chrome rule knows: they must survive, as body.
CHROME_LIKE_BODY = [
    "Hôm nay, Tỉnh ủy cũng giao Ban Tổ chức Tỉnh ủy",
    "Lượt truy cập của người dân vào cổng dịch vụ công",
    "Hôm nay: các phòng, ban của huyện bắt đầu bàn giao",
    "Tuần này, huyện tiếp tục rà soát",
    "Lịch công tác của lãnh đạo huyện trong tuần",
    "Tất cả hồ sơ của người dân",
    "Số lượt online đạt cao nhất",
    "Tổng số lượt truy cập tăng gấp đôi",
]


@pytest.fixture(scope="module")
def outlets():
    return {name: ingest_file(OUTLETS / name) for name in OUTLET_EXPECTED}


@pytest.mark.parametrize("name", sorted(OUTLET_EXPECTED))
def test_other_outlets_metadata_and_removed_lines(outlets, name):
    result, want = outlets[name], OUTLET_EXPECTED[name]
    for key, value in want["meta"].items():
        assert result.document.meta.get(key) == value, (name, key)
    assert {r.line: r.reason for r in result.removed} == want["removed"]
    raw = (OUTLETS / name).read_text(encoding="utf-8").split("\n")
    for r in result.removed:  # the report quotes the raw line (or, for a dateline, its start)
        assert raw[r.line - 1].strip().startswith(r.text)


@pytest.mark.parametrize("name", sorted(OUTLET_EXPECTED))
def test_other_outlets_keep_every_article_line_and_mark_captions(outlets, name):
    doc, want = outlets[name].document, OUTLET_EXPECTED[name]
    removed = {r.line: r for r in outlets[name].removed}
    for n, line in enumerate((OUTLETS / name).read_text(encoding="utf-8").split("\n"), 1):
        line = line.strip()
        if not line:
            continue
        if n in removed and removed[n].reason == "metadata: dateline":
            line = line[len(removed[n].text) :].strip()
        elif n in removed:
            assert line not in doc.text.split("\n\n")
            continue
        assert line in doc.text.split("\n\n"), f"{name}:{n} lost"
    paras = [doc.text[s:e] for s, e in doc.paragraphs]
    captions = [p for i, p in enumerate(paras) if doc.paragraph_kind(i) == "caption"]
    assert captions == want["captions"]
    # captions keep their text and offsets: the paragraphs still tile the text as before
    assert "\n\n".join(paras) == doc.text
    record = doc.to_dict()
    assert [p for p in record["paragraphs"] if len(p) == 3] == [
        [s, e, "caption"] for s, e in doc.paragraphs if doc.text[s:e] in want["captions"]
    ]


def test_paragraphs_that_begin_with_chrome_words_survive_as_body(outlets):
    bodies = [
        doc.text[s:e]
        for r in outlets.values()
        for doc in [r.document]
        for i, (s, e) in enumerate(doc.paragraphs)
        if doc.paragraph_kind(i) == "body"
    ]
    for start in CHROME_LIKE_BODY:
        assert sum(p.startswith(start) for p in bodies) == 1, start


def test_counter_words_alone_need_a_counter_beside_them(tmp_path):
    text = (
        "Tiêu đề bài viết về sắp xếp bộ máy\n\nSáp nhập hai phòng thành một phòng, giảm 3 biên chế.\n\n"
        "Hôm nay\n\nTuần này\n\n2020\n\nPhòng mới bắt đầu hoạt động từ tháng 6.\n\n"
        "Thống kê truy cập\nHôm nay: 12\nTất cả\n2.345\n"
    )
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    result = ingest_file(tmp_path / "a.txt")
    assert {r.line: r.reason for r in result.removed} == {
        13: "visitor counter",
        14: "visitor counter",
        15: "visitor counter",
        16: "visitor counter",
    }
    assert "Hôm nay\n\nTuần này\n\n2020" in result.document.text  # no counter beside them: kept


def test_seed_paragraphs_are_all_body(built):
    for doc in built.documents:
        assert doc.paragraph_kinds == [] and all(len(p) == 2 for p in doc.to_dict()["paragraphs"])


def test_build_refuses_to_replace_a_corpus_with_nothing_and_backs_up_when_it_replaces(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "empty.txt").write_bytes(b"")
    out, report = tmp_path / "documents.jsonl", tmp_path / "removed.jsonl"
    args = ["corpus", "build", str(seeds), "--out", str(out), "--report", str(report)]
    out.write_text('{"id": "old"}\n', encoding="utf-8")
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode != 0 and "refusing to write an empty corpus" in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_text(encoding="utf-8") == '{"id": "old"}\n'
    (seeds / "a.txt").write_bytes((SEEDS / "004_ca2810c66ede54e7.txt").read_bytes())
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    backups = sorted(tmp_path.glob("documents.jsonl.bak-*"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == '{"id": "old"}\n'
    proc = _cli(*args, cwd=tmp_path)  # the same result again: nothing to back up
    assert proc.returncode == 0 and len(sorted(tmp_path.glob("documents.jsonl.bak-*"))) == 1


def test_unknown_paragraph_kind_is_a_clear_error(tmp_path):
    from vnreorg.jsonio import read_documents

    bad = tmp_path / "d.jsonl"
    bad.write_text(json.dumps({"id": "d1", "text": "Sáp nhập.", "paragraphs": [[0, 9, "photo"]]}) + "\n", encoding="utf-8")
    with pytest.raises(VnreorgError, match="d.jsonl:1 doc=d1.*kind 'photo'"):
        read_documents(bad)
