"""The gold validator: each rule fires on a tiny broken document, names where, and clean gold passes."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import TEXT_NHAT_THE_HOA, doc_from_surfaces, doc_nhat_the_hoa

from vnreorg.corpus.tokenize import tokenize
from vnreorg.corpus.validate import load_valid, validate_documents, validate_path
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import write_documents
from vnreorg.schema import Document, Relation, Span

TEXT_A = TEXT_NHAT_THE_HOA
TEXT_B = "Sáp nhập Phòng Y tế vào Phòng Nội vụ thành phố; giải thể Trung tâm Dân số (cũ)."


def doc_a() -> Document:
    return doc_nhat_the_hoa("a")


def doc_b() -> Document:
    return doc_from_surfaces(
        "b",
        TEXT_B,
        [
            ("MERGE_ACTION", "Sáp nhập"),
            ("AGENCY", "Phòng Y tế"),
            ("AGENCY", "Phòng Nội vụ thành phố"),
            ("MERGE_ACTION", "giải thể"),
            ("AGENCY", "Trung tâm Dân số (cũ)"),
        ],
        [(0, 1, "source"), (0, 2, "target"), (3, 4, "source")],
    )


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def test_clean_documents_have_no_problems():
    assert validate_documents([doc_a(), doc_b()]) == []


def test_offsets_out_of_range_are_reported_with_location():
    doc = doc_a()
    doc.spans[0].end = len(doc.text) + 5
    [p] = validate_documents([doc], path="g.jsonl")
    assert p.code == "span-offsets" and p.doc_id == "a" and p.span_id == "T1" and p.offset == 0
    assert str(p).startswith("g.jsonl:1 doc=a span=T1 offset=0: ")


def test_non_integer_offsets_are_reported():
    doc = doc_a()
    doc.spans[0].start, doc.spans[1].end = True, "12"
    problems = validate_documents([doc])
    assert [(p.code, p.span_id) for p in problems] == [("span-offsets", "T1"), ("span-offsets", "T2")]


def test_non_nfc_text_is_reported_at_its_offset():
    doc = doc_b()
    decomposed = unicodedata.normalize("NFD", "Dân")  # "D", "a", U+0302
    doc.text = doc.text.replace("Dân", decomposed)
    problems = validate_documents([doc])
    nfc = [p for p in problems if p.code == "nfc"]
    assert len(nfc) == 1
    assert nfc[0].offset == TEXT_B.index("Dân") + 1  # where the decomposed "â" starts


def test_trailing_punctuation_and_whitespace_are_reported():
    doc = doc_b()
    doc.spans[2].end += 1  # "Phòng Nội vụ thành phố;"
    doc.spans[1].start -= 1  # " Phòng Y tế"
    problems = validate_documents([doc])
    edge = {p.span_id: p.message for p in problems if p.code == "span-edge"}
    assert "trailing punctuation ';'" in edge["T3"]
    assert "whitespace" in edge["T2"]


def test_percent_and_balanced_bracket_at_the_edge_are_allowed_but_unbalanced_is_not():
    assert validate_documents([doc_b()]) == []  # "Trung tâm Dân số (cũ)" ends with ")"
    doc = doc_from_surfaces("c", TEXT_B, [("AGENCY", "Dân số (cũ)")])
    doc.spans[0].start = TEXT_B.index("cũ)")
    problems = validate_documents([doc])
    assert any(p.code == "span-edge" and "')'" in p.message for p in problems)


def test_span_not_on_token_edges_names_the_token():
    doc = doc_a()
    doc.spans[0].end -= 1  # "Thành ủy Sóc Trăn"
    doc.spans[2].start += 1  # "í thư Đảng ủy"
    problems = [p for p in validate_documents([doc]) if p.code == "span-token"]
    assert {(p.span_id, p.offset) for p in problems} == {("T1", doc.spans[0].end), ("T3", doc.spans[2].start)}
    assert "inside token 'Trăng'" in next(p.message for p in problems if p.span_id == "T1")


def test_overlapping_spans_are_reported():
    doc = doc_a()
    doc.spans.append(Span("T99", doc.spans[0].start, doc.spans[0].start + len("Thành ủy"), "AGENCY"))
    problems = [p for p in validate_documents([doc]) if p.code == "span-overlap"]
    assert len(problems) == 1 and problems[0].span_id == "T1" and "T99" in problems[0].message


def test_unknown_labels_are_reported():
    doc = doc_a()
    doc.spans[0].label = "ORG"
    doc.relations[0].label = "merges"
    assert set(codes(validate_documents([doc]))) == {"span-label", "relation-label"}


def test_relation_types_endpoints_sentence_self_and_duplicates():
    doc = doc_a()
    doc.relations += [
        Relation("T5", "T1", "amount"),  # amount to an AGENCY: type not allowed (same sentence? no: T5 in S1)
        Relation("T2", "T404", "source"),  # missing endpoint
        Relation("T2", "T2", "source"),  # self
        Relation("T2", "T3", "source"),  # duplicate
        Relation("T2", "T4", "target"),  # conflicting label for a pair
        Relation("T1", "T3", "source"),  # head is not a MERGE_ACTION
    ]
    problems = validate_documents([doc])
    got = codes(problems)
    assert got.count("relation-type") == 3  # amount->AGENCY, self (MERGE_ACTION child), AGENCY head
    assert got.count("relation-endpoint") == 1 and got.count("relation-self") == 1
    assert got.count("relation-duplicate") == 2
    assert got.count("relation-sentence") == 1  # T5 ("giảm") is in sentence 1, T1 in sentence 0
    dup = [p for p in problems if p.code == "relation-duplicate"]
    assert any("conflicting" in p.message for p in dup) and any("duplicate" in p.message for p in dup)
    assert all(p.span_id and p.offset is not None for p in problems)  # every relation problem is located


def test_span_crossing_a_sentence_boundary_is_reported():
    doc = doc_a()
    end = doc.text.index("Thị xã") + len("Thị xã")
    doc.spans.append(Span("T9", doc.text.index("Phường 6"), end, "AGENCY"))
    doc.spans[3].end = doc.spans[3].start + len("Chủ tịch UBND")
    assert "span-sentence" in codes(validate_documents([doc]))


def test_duplicate_span_and_document_ids():
    a1, a2 = doc_a(), doc_a()
    a2.spans[1].id = "T1"
    problems = validate_documents([a1, a2], path="g.jsonl", lines=[3, 7])
    doc_dup = [p for p in problems if p.code == "doc-id"]
    assert len(doc_dup) == 1 and doc_dup[0].line == 7 and "line 3" in doc_dup[0].message
    assert any(p.code == "span-id" and p.span_id == "T1" and p.line == 7 for p in problems)


def test_validate_path_reports_file_lines_and_malformed_records(tmp_path):
    path = tmp_path / "gold.jsonl"
    bad = doc_b()
    bad.spans[0].label = "ORG"
    lines = [
        json.dumps(doc_a().to_dict(), ensure_ascii=False),
        "",
        json.dumps(bad.to_dict(), ensure_ascii=False),
        json.dumps({"id": "broken", "text": "x", "spans": [{"id": "T1", "begin": 0}]}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = validate_path(path)
    assert [(p.line, p.doc_id, p.code) for p in problems] == [(4, "broken", "record"), (3, "b", "span-label")]
    assert str(problems[1]).startswith(f"{path}:3 doc=b span=T1 offset=0")
    with pytest.raises(VnreorgError, match="2 problem"):
        load_valid(path)


def test_folds_beside_gold_must_match_the_gold_documents(tmp_path):
    from vnreorg.corpus.export_folds import make_folds, write_folds

    gold = tmp_path / "gold.jsonl"
    c = doc_b()
    c.id = "c"
    write_documents(gold, [doc_a(), doc_b(), c])
    write_folds(tmp_path / "folds.json", make_folds(["a", "b", "c"]))
    assert validate_path(gold) == []
    write_folds(tmp_path / "folds.json", make_folds(["a", "b", "x"]))  # stale: "c" replaced by "x"
    problems = validate_path(gold)
    assert problems and all(p.code == "folds" and p.path == str(tmp_path / "folds.json") for p in problems)
    assert any("ids not in gold: ['x']" in p.message for p in problems)
    assert any(p.doc_id == "c" and "test set of 0 folds" in p.message for p in problems)


def test_validate_path_on_missing_file_raises():
    with pytest.raises(VnreorgError, match="file not found"):
        validate_path("/nonexistent/gold.jsonl")


def test_cli_validate_exit_codes_and_messages(tmp_path):
    from vnreorg.cli import app

    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    write_documents(good, [doc_a(), doc_b()])
    broken = doc_b()
    broken.spans[2].end += 1
    write_documents(bad, [doc_a(), broken])
    runner = CliRunner()
    ok = runner.invoke(app, ["corpus", "validate", str(good)])
    assert ok.exit_code == 0 and "ok (2 documents, 12 spans, 7 relations)" in ok.output
    res = runner.invoke(app, ["corpus", "validate", str(bad)])
    assert res.exit_code == 1
    assert f"{bad}:2 doc=b span=T3 offset={broken.spans[2].start}: [span-edge]" in res.output
    res = runner.invoke(app, ["corpus", "validate", str(bad), "--json"])
    assert res.exit_code == 1
    assert json.loads(res.stdout)[0]["span_id"] == "T3"


SENTENCE = "Ủy ban MTTQ thành phố, Phòng Nội vụ và Hội Chữ thập đỏ giảm 10% biên chế (năm 2018)."
TOKENS = tokenize(SENTENCE)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(0, len(TOKENS) - 1), st.integers(0, len(TOKENS) - 1))
def test_any_token_run_with_word_edges_validates(i, j):
    """Law: a span from a word token to a word token (same sentence) breaks no rule."""
    i, j = min(i, j), max(i, j)
    first, last = TOKENS[i], TOKENS[j]
    if not (first[0][0].isalnum() and (last[0][-1].isalnum() or last[0] == "%")):
        return
    doc = Document(
        "p",
        SENTENCE,
        sentences=[(0, len(SENTENCE))],
        spans=[Span("T1", first[1], last[2], "AGENCY", text=SENTENCE[first[1] : last[2]])],
    )
    assert validate_documents([doc]) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(SENTENCE)), st.integers(0, len(SENTENCE)))
def test_offsets_off_token_edges_are_always_reported(a, b):
    """Law: a span whose start is not a token start, or end not a token end, is always reported."""
    start, end = min(a, b), max(a, b)
    starts, ends = {t[1] for t in TOKENS}, {t[2] for t in TOKENS}
    doc = Document("p", SENTENCE, sentences=[(0, len(SENTENCE))], spans=[Span("T1", start, end, "NUMBER")])
    problems = validate_documents([doc])
    if start == end:
        assert codes(problems) == ["span-offsets"]
    elif start not in starts or end not in ends:
        assert "span-token" in codes(problems)


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.mark.e2e
def test_gold_corpus_validates():
    """CI runs the validator on the real gold: every rule holds."""
    gold = REPO / "corpus" / "gold" / "gold.jsonl"
    problems = validate_path(gold)
    assert problems == [], "\n".join(str(p) for p in problems[:20])
