"""Worksheets (the annotators' record), gold import, and agreement figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vnreorg.annotation.agreement import agreement
from vnreorg.annotation.worksheet import parse_worksheet, read_worksheets, template
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents
from vnreorg.schema import Document, Relation, Span

ROOT = Path(__file__).resolve().parents[1]
TEXT = (
    "Sáp nhập xã Điền Công vào phường Trưng Vương. Thành ủy giải thể Phòng Dân tộc; Bí thư Thành ủy đồng thời là Chủ tịch HĐND."
)


def _doc() -> Document:
    return Document(id="d1", text=TEXT, sentences=[(0, 45), (46, len(TEXT))], paragraphs=[(0, len(TEXT))])


def _ws(tmp_path, body: str) -> Path:
    p = tmp_path / "ws_d1.txt"
    p.write_text("# doc: d1\n# annotator: test\n\n" + body, encoding="utf-8")
    return p


GOOD = """## S0
> ...
MERGE_ACTION | Sáp nhập
AGENCY | xã Điền Công
AGENCY | phường Trưng Vương
source | Sáp nhập -> xã Điền Công
target | Sáp nhập -> phường Trưng Vương
## S1
AGENCY | Thành ủy #1
MERGE_ACTION | giải thể
AGENCY | Phòng Dân tộc
source | giải thể -> Phòng Dân tộc
TITLE | Bí thư Thành ủy
MERGE_ACTION | đồng thời là
TITLE | Chủ tịch HĐND
source | đồng thời là -> Bí thư Thành ủy
source | đồng thời là -> Chủ tịch HĐND
"""


def test_template_has_a_block_per_sentence():
    text = template(_doc())
    assert text.count("## S") == 2 and "> Sáp nhập xã" in text


def test_parse_resolves_offsets_and_relations(tmp_path):
    ws = read_worksheets(_ws(tmp_path, GOOD))[0]
    doc = parse_worksheet(ws, _doc())
    got = [(doc.text[s.start : s.end], s.label) for s in doc.spans]
    assert ("xã Điền Công", "AGENCY") in got and ("Thành ủy", "AGENCY") in got
    thanh_uy = next(s for s in doc.spans if doc.text[s.start : s.end] == "Thành ủy")
    assert thanh_uy.start == TEXT.index("Thành ủy giải thể")
    assert len(doc.relations) == 5
    ids = doc.span_by_id()
    assert {
        (doc.text[ids[r.head].start : ids[r.head].end], r.label, doc.text[ids[r.child].start : ids[r.child].end])
        for r in doc.relations
    } >= {("Sáp nhập", "target", "phường Trưng Vương")}


@pytest.mark.parametrize(
    "bad, message",
    [
        ("## S0\nAGENCY | xã Điền Khê\n## S1\n", "not found"),
        ("## S0\n## S1\nAGENCY | Thành ủy\n", "occurs 2 times"),
        ("## S0\nPERSON | xã Điền Công\n## S1\n", "unknown label"),
        ("## S0\nAGENCY | xã Điền Công\nsource | xã Điền Công -> xã Điền Công\n## S1\n", "not allowed"),
        ("## S0\nMERGE_ACTION | Sáp nhập\nsource | Sáp nhập -> phường Trưng Vương\n## S1\n", "not a span"),
        ("## S0\nAGENCY | xã Điền Công\nAGENCY | Điền Công\n## S1\n", "overlaps"),
        ("## S0\n", "missing"),
    ],
)
def test_bad_worksheets_fail_naming_the_line(tmp_path, bad, message):
    ws = read_worksheets(_ws(tmp_path, bad))[0]
    with pytest.raises(VnreorgError, match=message) as err:
        parse_worksheet(ws, _doc(), source="ws_d1.txt")
    assert "doc=d1" in str(err.value)


def test_invisible_no_break_space_is_accepted(tmp_path):
    text = "Tỉnh \u00a0ủy đã họp."
    doc = Document(id="d1", text=text, sentences=[(0, len(text))])
    ws = read_worksheets(_ws(tmp_path, "## S0\nAGENCY | Tỉnh ủy\n"))[0]
    parsed = parse_worksheet(ws, doc)
    assert parsed.text[parsed.spans[0].start : parsed.spans[0].end] == "Tỉnh \u00a0ủy"


def _d(spans, rels=()):
    return Document(
        id="x",
        text=TEXT,
        sentences=[(0, 45), (46, len(TEXT))],
        spans=[Span(f"T{i}", s, e, l) for i, (s, e, l) in enumerate(spans)],
        relations=[Relation(h, c, l) for h, c, l in rels],
    )


def test_agreement_identical_is_one_and_partial_is_between():
    a = _d([(0, 8, "MERGE_ACTION"), (9, 21, "AGENCY"), (26, 44, "AGENCY")], [("T0", "T1", "source")])
    same = agreement([a], [a])
    assert same["spans"]["micro"]["strict_f1"] == 1.0 and same["token_kappa"]["overall"] == 1.0
    b = _d([(0, 8, "MERGE_ACTION"), (12, 21, "AGENCY")], [("T0", "T1", "source")])
    res = agreement([a], [b])
    ag = res["spans"]["per_label"]["AGENCY"]
    assert ag["strict_f1"] == 0.0 and ag["overlap_f1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert res["relations"]["micro"]["f1"] == 0.0  # the child span differs
    assert 0 < res["token_kappa"]["AGENCY"] < 1


def test_committed_gold_is_exactly_the_adjudicated_worksheets(tmp_path):
    """Gold is never edited by hand: re-importing the adjudicated worksheets reproduces it byte for byte."""
    out = tmp_path / "gold.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vnreorg.cli",
            "worksheet",
            "import",
            "annotation/worksheets/adjudicated",
            "--gold",
            str(out),
            "--provenance",
            "corpus/gold/provenance.json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == (ROOT / "corpus/gold/gold.jsonl").read_text(encoding="utf-8")


def test_gold_covers_every_sentence_and_has_provenance():
    gold = read_documents(ROOT / "corpus/gold/gold.jsonl")
    review = json.loads((ROOT / "corpus/gold/review.json").read_text(encoding="utf-8"))
    corpus = read_documents(ROOT / "corpus/documents.jsonl")
    assert [d.id for d in gold] == [d.id for d in corpus]
    for g, c in zip(gold, corpus):
        assert g.text == c.text and g.sentences == c.sentences
        assert review[g.id]["complete"] and review[g.id]["reviewed_sentences"] == len(g.sentences)
        assert any(p["pass"] == "adjudication" for p in g.provenance)
        assert all("manual" in p.get("method", "") or p["pass"] == "adjudication" for p in g.provenance)


CAPTION_MARK = "// caption (v2: not annotated)"


def test_caption_sentences_hold_no_gold():
    """Guidelines v2 §0/§6.2: a sentence marked as a photo caption in the adjudicated worksheets keeps its
    block but holds no annotation line, and gold has no span inside it."""
    import re

    gold = {d.id: d for d in read_documents(ROOT / "corpus/gold/gold.jsonl")}
    captions = []
    for path in sorted((ROOT / "annotation/worksheets/adjudicated").glob("ws_*.txt")):
        doc_id, block, lines = None, None, {}
        for raw in path.read_text(encoding="utf-8").splitlines():
            if m := re.match(r"^# doc:\s*(\S+)", raw):
                doc_id = m.group(1)
            elif m := re.match(r"^## S(\d+)\s*$", raw):
                block = int(m.group(1))
                lines[(doc_id, block)] = []
            elif block is not None and raw.strip() and not raw.startswith(">"):
                lines[(doc_id, block)].append(raw.rstrip())
        for (doc_id, i), body in lines.items():
            if CAPTION_MARK in body:
                captions.append((path.name, i))
                assert body == [CAPTION_MARK], f"{path.name} S{i}: a caption block holds annotation lines"
                start, end = gold[doc_id].sentences[i]
                assert not [s for s in gold[doc_id].spans if start <= s.start < end], f"{path.name} S{i}: gold span in a caption"
    assert captions == [("ws_000.txt", 11), ("ws_002.txt", 5), ("ws_002.txt", 11), ("ws_002.txt", 27)]  # GUIDELINES.md §7.2


def test_import_refuses_to_overwrite_different_gold_without_force(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "old"}\n', encoding="utf-8")
    args = [sys.executable, "-m", "vnreorg.cli", "worksheet", "import", "annotation/worksheets/adjudicated", "--gold", str(gold)]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and "--force" in proc.stderr
    assert gold.read_text(encoding="utf-8") == '{"id": "old"}\n'
    proc = subprocess.run(args + ["--force"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.glob("gold.jsonl.bak-*"))


# ---------------------------------------------------------------- provenance from the worksheet header


def _import(tmp_path, header: str, provenance: Path):
    from vnreorg.jsonio import write_documents

    write_documents(
        tmp_path / "documents.jsonl",
        [
            Document(
                id="d1",
                text=TEXT,
                sentences=[(0, 45), (46, len(TEXT))],
                paragraphs=[(0, len(TEXT))],
                meta={"source_file": "d1.txt"},
            )
        ],
    )
    ws = tmp_path / "ws" / "ws_d1.txt"
    ws.parent.mkdir(exist_ok=True)
    ws.write_text(header + "\n" + GOOD, encoding="utf-8")
    gold = tmp_path / "gold" / "gold.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vnreorg.cli",
            "worksheet",
            "import",
            str(ws.parent),
            "--documents",
            str(tmp_path / "documents.jsonl"),
            "--gold",
            str(gold),
            "--provenance",
            str(provenance),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    return proc, gold, ws


def test_import_without_provenance_file_records_the_worksheet_header(tmp_path):
    provenance = tmp_path / "gold" / "provenance.json"
    header = "# doc: d1\n# source_file: d1.txt\n# annotator: annotator-D\n# guidelines: v1.2\n# date: 2026-11-30\n"
    proc, gold, ws = _import(tmp_path, header, provenance)
    assert proc.returncode == 0, proc.stderr
    want = [
        {
            "pass": "annotation",
            "who": "annotator-D",
            "guidelines": "v1.2",
            "date": "2026-11-30",
            "method": "manual: worksheet imported by `vnreorg worksheet import`",
            "worksheet": str(ws.parent / "ws_d1.txt"),
        }
    ]
    assert read_documents(gold)[0].provenance == want
    assert json.loads(provenance.read_text(encoding="utf-8")) == {"d1": {"source_file": "d1.txt", "passes": want}}
    # a second import reads the file it created: same gold, file unchanged
    before = provenance.read_text(encoding="utf-8")
    proc, gold2, _ = _import(tmp_path, header, provenance)
    assert proc.returncode == 0, proc.stderr
    assert provenance.read_text(encoding="utf-8") == before and read_documents(gold2)[0].provenance == want


@pytest.mark.parametrize("missing", ["annotator", "guidelines", "date"])
def test_import_refuses_a_worksheet_header_without_a_provenance_field(tmp_path, missing):
    provenance = tmp_path / "gold" / "provenance.json"
    fields = {"annotator": "annotator-D", "guidelines": "v1.2", "date": "2026-11-30"}
    header = "# doc: d1\n" + "".join(f"# {k}: {'' if k == missing else v}\n" for k, v in fields.items())
    proc, gold, ws = _import(tmp_path, header, provenance)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert str(ws) in proc.stderr and f"'# {missing}:'" in proc.stderr
    assert not gold.exists() and not provenance.exists()


def test_template_header_asks_for_annotator_guidelines_and_date():
    head = template(_doc()).split("## S0")[0]
    assert "# annotator: \n# guidelines: \n# date: " in head
