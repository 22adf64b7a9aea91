"""Photo captions: paragraphs of kind "caption" keep their text and offsets, are marked in worksheet
templates, cannot be annotated there, and are not extracted from (predict, extract)."""

from __future__ import annotations

import json

import pytest

from vnreorg.annotation.worksheet import CAPTION_MARK, parse_worksheet, read_worksheets, template
from vnreorg.corpus.ingest import ingest_text
from vnreorg.errors import VnreorgError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ARTICLE = (
    "Sáp nhập Phòng Nội vụ vào Văn phòng HĐND và UBND huyện\n\n"
    "Huyện đã sáp nhập Phòng Nội vụ vào Văn phòng HĐND và UBND huyện, giảm 03 biên chế.\n\n"
    "Đồng chí Bí thư Huyện ủy phát biểu tại hội nghị sáp nhập Phòng Y tế vào Phòng Nội vụ\n\n"
    "Huyện cũng sáp nhập Phòng Y tế vào Phòng Nội vụ trong tháng 6.\n"
)


@pytest.fixture(scope="module")
def doc():
    return ingest_text(ARTICLE, source_file="a.txt", sha256="0" * 64, doc_id="d1").document


def test_caption_is_a_paragraph_of_kind_caption_with_its_text(doc):
    assert [doc.paragraph_kind(i) for i in range(len(doc.paragraphs))] == ["body", "body", "caption", "body"]
    s, e = doc.paragraphs[2]
    assert doc.text[s:e].startswith("Đồng chí Bí thư Huyện ủy phát biểu")
    assert any(a == s and b == e for a, b in doc.sentences)  # still a sentence of the text


def test_template_marks_caption_sentences_and_import_refuses_spans_there(doc, tmp_path):
    """Guidelines v2 §6.2: the template marks the caption's block; a span line there is refused."""
    text = template(doc)
    blocks = text.split("## S")
    marked = [b.split("\n")[0] for b in blocks[1:] if CAPTION_MARK in b]
    assert marked == ["2"]
    ws_path = tmp_path / "ws.txt"
    ws_path.write_text(text.replace(CAPTION_MARK, CAPTION_MARK + "\nAGENCY | Phòng Y tế"), encoding="utf-8")
    with pytest.raises(VnreorgError, match="S2 is marked as a photo caption"):
        parse_worksheet(read_worksheets(ws_path)[0], doc, source=str(ws_path))
    ws_path.write_text(
        text.replace("## S1\n", "## S1\n").replace(
            "## S3\n> Huyện cũng sáp nhập Phòng Y tế vào Phòng Nội vụ trong tháng 6.\n",
            "## S3\n> Huyện cũng sáp nhập Phòng Y tế vào Phòng Nội vụ trong tháng 6.\nAGENCY | Phòng Y tế\n",
        ),
        encoding="utf-8",
    )
    gold = parse_worksheet(read_worksheets(ws_path)[0], doc, source=str(ws_path))
    assert len(gold.spans) == 1 and gold.paragraph_kinds == doc.paragraph_kinds
    assert gold.to_dict()["paragraphs"][2][2] == "caption"


@pytest.fixture(scope="module")
def rules_model(tmp_path_factory):
    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.models.train import train_model

    out = tmp_path_factory.mktemp("rules") / "run"
    return train_model("rules", synthetic_documents(n_docs=2, sentences_per_doc=8, seed=3), out, quiet=True).model_path


def test_predict_and_extract_skip_captions(doc, rules_model, tmp_path):
    from vnreorg.models.extract import extract
    from vnreorg.models.predict import predict_documents

    cap_start, cap_end = doc.paragraphs[2]
    predicted = predict_documents(str(rules_model), [doc])[0]
    assert predicted.spans and not [s for s in predicted.spans if cap_start <= s.start < cap_end]
    as_body = type(doc)(doc.id, doc.text, doc.meta, doc.paragraphs, doc.sentences)  # same text, no kinds
    assert [s for s in predict_documents(str(rules_model), [as_body])[0].spans if cap_start <= s.start < cap_end]

    (tmp_path / "a.txt").write_text(doc.text, encoding="utf-8")
    extract(str(rules_model), [str(tmp_path / "a.txt")], str(tmp_path / "out.jsonl"), progress=False)
    record = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert record["entities"] and not [e for e in record["entities"] if cap_start <= e["start"] < cap_end]


def test_the_worksheet_decides_which_paragraphs_are_captions(doc, tmp_path):
    """The annotator may remove a wrong mark (the paragraph is then body in gold) or add a missing one;
    marking part of a paragraph is an error."""
    text = template(doc)
    ws_path = tmp_path / "ws.txt"
    ws_path.write_text(text.replace(CAPTION_MARK + "\n", ""), encoding="utf-8")
    assert parse_worksheet(read_worksheets(ws_path)[0], doc, source=str(ws_path)).paragraph_kinds == []
    marked_s3 = text.replace("trong tháng 6.\n", "trong tháng 6.\n" + CAPTION_MARK + "\n")
    ws_path.write_text(marked_s3, encoding="utf-8")
    gold = parse_worksheet(read_worksheets(ws_path)[0], doc, source=str(ws_path))
    assert gold.paragraph_kinds == ["body", "body", "caption", "caption"]
    two = ingest_text(
        "Tiêu đề bài viết\n\nSáp nhập hai phòng. Giảm 3 biên chế.\n", source_file="b.txt", sha256="0" * 64, doc_id="d2"
    ).document
    ws_path.write_text(
        template(two).replace("## S1\n> Sáp nhập hai phòng.\n", "## S1\n> Sáp nhập hai phòng.\n" + CAPTION_MARK + "\n"),
        encoding="utf-8",
    )
    with pytest.raises(VnreorgError, match="S1 is marked as a caption but S2 of the same paragraph"):
        parse_worksheet(read_worksheets(ws_path)[0], two, source=str(ws_path))


def test_seed_gold_carries_the_captions_marked_in_the_adjudicated_worksheets():
    from pathlib import Path

    from vnreorg.jsonio import read_documents

    gold = read_documents(Path(__file__).resolve().parents[1] / "corpus" / "gold" / "gold.jsonl")
    captions = [
        (d.meta["source_file"][:3], d.text[s:e][:30])
        for d in gold
        for i, (s, e) in enumerate(d.paragraphs)
        if d.paragraph_kind(i) == "caption"
    ]
    assert captions == [
        ("000", "Phường 6 được thành phố chọn t"),
        ("002", "TBT Nguyễn Phú Trọng thăm mô h"),
        ("002", "Lãnh đạo thành phố trao quyết "),
        ("002", "Trên địa bàn thành phố, 100/10"),
    ]


def test_a_gold_span_in_a_caption_is_a_clear_error_for_the_model_stage(doc):
    from vnreorg.corpus.tokenize import blank_vi
    from vnreorg.models.convert import document_to_docs
    from vnreorg.schema import Span

    start = doc.text.index("Phòng Y tế")
    bad = type(doc)(
        doc.id,
        doc.text,
        doc.meta,
        doc.paragraphs,
        doc.sentences,
        [Span("T1", start, start + 10, "AGENCY")],
        paragraph_kinds=doc.paragraph_kinds,
    )
    with pytest.raises(VnreorgError, match="lies in a photo caption"):
        document_to_docs(blank_vi(), bad)


def test_copies_made_for_prediction_and_label_studio_pulls_keep_the_caption_kinds(doc):
    from vnreorg.annotation.convert import _document
    from vnreorg.eval.cli import strip_annotations

    assert strip_annotations([doc])[0].paragraph_kinds == doc.paragraph_kinds == ["body", "body", "caption", "body"]
    pulled = _document(doc, doc.id, doc.text, {}, [], [])
    assert pulled.to_dict()["paragraphs"] == doc.to_dict()["paragraphs"]


def test_model_predict_cli_keeps_captions_out(doc, rules_model, tmp_path):
    import subprocess
    import sys

    from vnreorg.jsonio import read_documents, write_documents

    write_documents(tmp_path / "docs.jsonl", [doc])
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vnreorg.cli",
            "model",
            "predict",
            str(tmp_path / "docs.jsonl"),
            "--model",
            str(rules_model),
            "--out",
            str(tmp_path / "preds.jsonl"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    pred = read_documents(tmp_path / "preds.jsonl")[0]
    cap_start, cap_end = doc.paragraphs[2]
    assert pred.paragraph_kinds == doc.paragraph_kinds
    assert pred.spans and not [s for s in pred.spans if cap_start <= s.start < cap_end]


def test_validator_reports_a_span_in_a_caption(doc):
    from vnreorg.corpus.validate import validate_documents
    from vnreorg.schema import Span

    start = doc.text.index("Phòng Y tế")
    spans = [Span("T1", start, start + 10, "AGENCY", text="Phòng Y tế")]
    bad = type(doc)(doc.id, doc.text, doc.meta, doc.paragraphs, doc.sentences, spans, paragraph_kinds=doc.paragraph_kinds)
    problems = validate_documents([bad], "gold.jsonl")
    assert [(p.code, p.span_id, p.offset) for p in problems] == [("caption", "T1", start)]
    later = doc.text.index("Phòng Y tế", doc.paragraphs[3][0])
    ok = type(doc)(
        doc.id,
        doc.text,
        doc.meta,
        doc.paragraphs,
        doc.sentences,
        [Span("T1", later, later + 10, "AGENCY", text="Phòng Y tế")],
        paragraph_kinds=doc.paragraph_kinds,
    )
    assert validate_documents([ok], "gold.jsonl") == []


def test_a_title_shaped_like_a_caption_stays_body():
    text = (
        "Chủ tịch UBND tỉnh kiểm tra việc sắp xếp bộ máy\n\nTỉnh đã giảm 4 sở.\n\nĐồng chí Chủ tịch phát biểu tại buổi làm việc\n"
    )
    d = ingest_text(text, source_file="t.txt", sha256="0" * 64, doc_id="t").document
    assert d.paragraph_kinds == ["body", "body", "caption"]
