"""Corpus statistics: exact counts on a tiny gold, agreement read when present, table and JSON output."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from vnreorg.corpus.segment import sentences
from vnreorg.corpus.stats import agreement_table, corpus_stats, flatten, read_agreement, stats_tables
from vnreorg.corpus.tokenize import tokenize
from vnreorg.jsonio import write_documents
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, Relation, Span

TEXT_1 = "Thị xã giảm 03 tổ dân phố và 10% biên chế. Sáp nhập Phòng Y tế vào Phòng Nội vụ thành phố."
TEXT_2 = "Xã Điền Công có 887/888 hộ đồng thuận."


def span(doc_text: str, sid: str, surface: str, label: str) -> Span:
    start = doc_text.index(surface)
    return Span(sid, start, start + len(surface), label)


def docs() -> list[Document]:
    d1 = Document(
        "d1",
        TEXT_1,
        sentences=sentences(TEXT_1),
        spans=[
            span(TEXT_1, "T1", "giảm", "MERGE_ACTION"),
            span(TEXT_1, "T2", "03", "NUMBER"),
            span(TEXT_1, "T3", "10%", "NUMBER"),
            span(TEXT_1, "T4", "Sáp nhập", "MERGE_ACTION"),
            span(TEXT_1, "T5", "Phòng Y tế", "AGENCY"),
            span(TEXT_1, "T6", "Phòng Nội vụ thành phố", "AGENCY"),
        ],
        relations=[
            Relation("T1", "T2", "amount"),
            Relation("T1", "T3", "amount"),
            Relation("T4", "T5", "source"),
            Relation("T4", "T6", "target"),
        ],
    )
    d2 = Document(
        "d2",
        TEXT_2,
        sentences=sentences(TEXT_2),
        spans=[span(TEXT_2, "T1", "Xã Điền Công", "AGENCY"), span(TEXT_2, "T2", "887/888", "NUMBER")],
    )
    return [d1, d2]


def test_counts_are_exact():
    s = corpus_stats(docs())
    assert s["documents"] == 2 and s["sentences"] == 3
    assert s["tokens"] == len(tokenize(TEXT_1)) + len(tokenize(TEXT_2))
    assert s["spans_per_label"] == {"AGENCY": 3, "TITLE": 0, "MERGE_ACTION": 2, "NUMBER": 3}
    assert s["relations_per_label"] == {"source": 1, "target": 1, "amount": 2}
    assert s["spans"] == 8 and s["relations"] == 4
    assert list(s["spans_per_label"]) == list(ENTITY_LABELS)
    assert list(s["relations_per_label"]) == list(RELATION_LABELS)
    assert [d["id"] for d in s["per_document"]] == ["d1", "d2"]
    assert s["agreement"] is None


@settings(max_examples=20, deadline=None)
@given(st.permutations(range(2)))
def test_stats_do_not_depend_on_document_order(order):
    ds = docs()
    assert corpus_stats([ds[i] for i in order]) == corpus_stats(ds)


def test_agreement_is_read_beside_gold_and_rendered(tmp_path):
    gold = tmp_path / "gold.jsonl"
    write_documents(gold, docs())
    assert read_agreement(gold) is None
    agreement = {
        "span_f1": {"strict": {"AGENCY": 0.8125, "NUMBER": 1.0}, "overlap": {"AGENCY": 0.9}},
        "by_doc": {"d1": {"spans": {"AGENCY": {"f1": 0.5, "n": 3}}, "micro": {"f1": 0.25}}},
        "kappa": {"overall": 0.77, "tokens": 120},
        "note": "two documents",
        "docs": ["d1", "d2"],
        "documents": [{"id": "d1", "source_file": "a.txt"}, {"id": "d2"}],
    }
    (tmp_path / "agreement.json").write_text(json.dumps(agreement), encoding="utf-8")
    assert read_agreement(gold) == agreement
    table = agreement_table(agreement)
    assert "**span_f1**" in table and "| strict | 0.812 | 1.000 |" in table  # a grid: rows x columns
    assert "| overlap | 0.900 |  |" in table  # missing cell left empty
    # a grid with a summary record beside it becomes one table, titled by its dotted path
    assert "**by_doc.d1**\n\n|  | f1 | n |\n|---|---|---|\n| AGENCY | 0.500 | 3 |\n| micro | 0.250 |  |" in table
    assert "**kappa**\n\n| measure | value |" in table and "| overall | 0.770 |" in table  # a record
    assert "| id | source_file |" in table and "| d2 |  |" in table  # a list of records
    assert "| note | two documents |" in table and "| docs | d1, d2 |" in table  # scalars and lists


def test_flatten_keeps_leaves_and_order():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": [{"e": 3}]}) == [("a.b", 1), ("a.c", [1, 2]), ("d[0].e", 3)]


def test_cli_stats_table_and_json(tmp_path):
    from vnreorg.cli import app

    gold = tmp_path / "gold.jsonl"
    write_documents(gold, docs())
    runner = CliRunner()
    res = runner.invoke(app, ["corpus", "stats", str(gold)])
    assert res.exit_code == 0
    assert "| MERGE_ACTION | 2 |" in res.output and "| amount | 2 |" in res.output
    assert "not measured yet" in res.output
    res = runner.invoke(app, ["corpus", "stats", str(gold), "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["spans_per_label"]["NUMBER"] == 3


def test_stats_tables_mention_every_label():
    text = stats_tables(corpus_stats(docs()))
    for label in (*ENTITY_LABELS, *RELATION_LABELS):
        assert f"| {label} |" in text
