"""Hostile ids at every entrance, safe paths, span texts (issue 12, points 1 and 7).

An id becomes a file or folder name (exports, folds, cross-validation outputs), so every entrance
refuses ids outside `[A-Za-z0-9][A-Za-z0-9._-]{0,127}` (and any with ".."), naming where it found one,
and no file is written outside the intended folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from test_corpus_export import gold_docs  # small valid gold (tests/ is on sys.path)  # noqa: E402
from vnreorg.corpus.export import export_all
from vnreorg.corpus.export_folds import make_folds, read_folds
from vnreorg.corpus.ingest import doc_id_for, ingest_text
from vnreorg.corpus.validate import check_folds, validate_path
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents, write_documents, write_jsonl
from vnreorg.paths import safe_join
from vnreorg.schema import check_id, hashed_id, id_problem

HOSTILE = [
    "a/../../x",
    "../outside",
    "/etc/passwd",
    "..",
    ".",
    "a\x00b",
    "a" * 129,
    "a\u2215b",  # DIVISION SLASH
    "a\uff0fb",  # FULLWIDTH SOLIDUS
    "a\\..\\b",
    "a..b",
    "-rf",
    "",
    "a b",
    "a\nb",
]
NOT_STRINGS = [5, ["x"], {"id": "x"}, None, True]


@pytest.mark.parametrize("bad", HOSTILE + NOT_STRINGS, ids=repr)
def test_the_id_rule_refuses_hostile_ids(bad):
    assert id_problem(bad) is not None
    with pytest.raises(VnreorgError, match="id"):
        check_id(bad, "here")


@pytest.mark.parametrize("good", ["a", "0", "doc-a", "7f3a9c0e11d2b4a5", "fold-x.y_z", "a" * 128])
def test_the_id_rule_accepts_ordinary_ids(good):
    assert id_problem(good) is None


def test_hashed_ids_from_urls_and_bytes_follow_the_rule():
    for source in ("https://example.vn/a/../../b?x=1", "ảnh/../..", b"\x00\xff", ""):
        assert id_problem(hashed_id(source)) is None
    assert hashed_id("x") == hashed_id(b"x") and hashed_id("x") != hashed_id("y")
    assert doc_id_for(b"raw article") == hashed_id(b"raw article")  # ingest ids are hashes (unchanged form)


def test_safe_join_stays_inside_the_base(tmp_path):
    assert safe_join(tmp_path, "fold-a", "x") == tmp_path / "fold-a" / "x"
    for bad in [x for x in HOSTILE if len(x) < 129] + ["a" * 256]:  # derived names may have 255 characters
        with pytest.raises(VnreorgError):
            safe_join(tmp_path, bad)
    (tmp_path / "link").symlink_to(tmp_path.parent)  # a valid name that leads outside through a link
    with pytest.raises(VnreorgError, match="outside the folder"):
        safe_join(tmp_path, "link", "x")


# --------------------------------------------------------------------------- entrances


@pytest.mark.parametrize("bad", HOSTILE[:6])
def test_ingest_refuses_a_hostile_id(bad):
    with pytest.raises(VnreorgError, match="document id"):
        ingest_text("Sở Nội vụ sáp nhập Phòng Y tế.", source_file="x.txt", sha256="0", doc_id=bad)


def _gold_with_id(path: Path, bad) -> None:
    """Valid gold, except the first document's id."""
    records = [d.to_dict() for d in gold_docs()]
    records[0]["id"] = bad
    write_jsonl(path, records)


@pytest.mark.parametrize("bad", HOSTILE + NOT_STRINGS, ids=repr)
def test_corpus_validate_reports_a_hostile_id_on_its_line(tmp_path, bad):
    gold = tmp_path / "gold.jsonl"
    _gold_with_id(gold, bad)
    problems = validate_path(gold)
    assert problems and problems[0].line == 1 and "id" in problems[0].message
    assert all("\n" not in str(p) for p in problems)  # one line each, even for an id holding a newline
    with pytest.raises(VnreorgError, match=r"gold\.jsonl:1"):
        read_documents(gold)


@pytest.mark.parametrize("bad", ["a/../../../../outside/X", "../x", "/tmp/x"])
def test_export_writes_nothing_outside_for_a_hostile_id(tmp_path, bad):
    gold = tmp_path / "gold" / "gold.jsonl"
    gold.parent.mkdir()
    _gold_with_id(gold, bad)
    out = tmp_path / "deep" / "er" / "export"
    with pytest.raises(VnreorgError):
        export_all(gold, out, sources_path=None)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gold"]


def test_folds_refuse_hostile_names(tmp_path):
    with pytest.raises(VnreorgError):
        make_folds(["a", "b", "../c"])
    folds = make_folds(["a", "b", "c"])
    folds["folds"][0]["name"] = "../../outside"
    path = tmp_path / "folds.json"
    path.write_text(json.dumps(folds), encoding="utf-8")
    with pytest.raises(VnreorgError, match="fold name"):
        read_folds(path)
    assert any("fold name" in p.message for p in check_folds(path, ["a", "b", "c"]))


def test_spacy_fold_paths_are_built_inside_the_folder(tmp_path):
    from vnreorg.corpus.export_spacy import write_spacy_exports

    docs = gold_docs()
    folds = make_folds([d.id for d in docs])
    folds["folds"][0]["name"] = "../../escaped"
    with pytest.raises(VnreorgError, match="fold name"):
        write_spacy_exports(docs, folds, tmp_path / "spacy")
    assert not (tmp_path / "escaped").exists()


def test_cross_validation_refuses_hostile_fold_and_system_names(tmp_path):
    from vnreorg.cv import cross_validate, load_folds

    docs = gold_docs()
    folds = [{"name": "../../escaped", "test": ["doc-a"], "train": ["doc-b", "doc-c"]}]
    path = tmp_path / "folds.json"
    path.write_text(json.dumps({"folds": folds}), encoding="utf-8")
    with pytest.raises(VnreorgError, match="fold name"):
        load_folds(docs, path)
    with pytest.raises(VnreorgError, match="fold name"):  # folds given directly: refused before training
        cross_validate(docs, tmp_path / "cv", folds=folds, systems={"rules": "rules"}, work_dir=tmp_path / "w")
    with pytest.raises(VnreorgError, match="system or fold name"):
        cross_validate(
            docs, tmp_path / "cv", folds=[{**folds[0], "name": "f"}], systems={"../x": "rules"}, work_dir=tmp_path / "w"
        )
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()


def test_worksheet_import_refuses_a_hostile_worksheet_id(tmp_path):
    from vnreorg.annotation.worksheet import read_worksheets

    ws = tmp_path / "ws_000.txt"
    ws.write_text("# doc: a/../../x\n# annotator: t\n\n## S0\n", encoding="utf-8")
    with pytest.raises(VnreorgError, match=r"ws_000\.txt:1.*worksheet document id"):
        read_worksheets(ws)


def test_worksheet_import_refuses_a_hostile_corpus_id(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from vnreorg.annotation.worksheet_cli import app

    documents = tmp_path / "documents.jsonl"
    _gold_with_id(documents, "a/../../x")
    ws = tmp_path / "ws_000.txt"
    ws.write_text("# doc: doc-a\n", encoding="utf-8")
    gold = tmp_path / "gold" / "gold.jsonl"
    result = CliRunner().invoke(
        app, ["import", str(ws), "--documents", str(documents), "--gold", str(gold), "--provenance", str(tmp_path / "prov.json")]
    )
    assert result.exit_code != 0 and isinstance(result.exception, VnreorgError)
    assert "documents.jsonl:1" in str(result.exception) and "document id" in str(result.exception)
    assert not gold.exists()


def _export_with_doc_id(doc_id) -> list[dict]:
    text = "Sở Nội vụ sáp nhập Phòng Y tế."
    return [
        {
            "id": 1,
            "data": {"text": text, "doc_id": doc_id, "title": ""},
            "annotations": [
                {
                    "id": 7,
                    "completed_by": 1,
                    "updated_at": "2026-11-30T00:00:00Z",
                    "result": [
                        {
                            "id": "r1",
                            "type": "labels",
                            "from_name": "label",
                            "to_name": "text",
                            "value": {"start": 0, "end": 9, "text": "Sở Nội vụ", "labels": ["AGENCY"]},
                        }
                    ],
                }
            ],
        }
    ]


@pytest.mark.parametrize("bad", HOSTILE[:6] + [5, ["x"]], ids=repr)
def test_pull_refuses_a_hostile_task_id_and_leaves_gold_alone(tmp_path, bad):
    """The pull path (`annotate pull --write` after the export is fetched) on a constructed export."""
    from vnreorg.annotation.cli import _apply

    gold = tmp_path / "gold.jsonl"
    write_documents(gold, [d.with_span_texts() for d in gold_docs()])
    before = gold.read_bytes()
    args = dict(
        gold=gold,
        documents=tmp_path / "none.jsonl",
        choose=None,
        write=True,
        all_annotations=None,
        quiet=True,
        users={},
        where="export",
    )
    if isinstance(bad, str):  # a hostile string id stops the whole pull
        with pytest.raises(VnreorgError, match="doc_id"):
            _apply(_export_with_doc_id(bad), **args)
    else:  # a non-string id makes that task bad: reported, left out, non-zero exit (issue 13's per-task pull)
        assert _apply(_export_with_doc_id(bad), **args) == 1
        with pytest.raises(VnreorgError, match="doc_id"):
            _apply(_export_with_doc_id(bad), **args, strict=True)
    assert gold.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "gold.jsonl"]  # the lock file only


def test_offline_convert_refuses_a_hostile_task_id(tmp_path):
    from typer.testing import CliRunner

    from vnreorg.annotation.cli import app

    export = tmp_path / "export.json"
    export.write_text(json.dumps(_export_with_doc_id("../../outside")), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["convert", str(export), str(out)])
    assert result.exit_code != 0 and "doc_id" in str(result.exception)
    assert not out.exists()
    export.write_text(json.dumps(_export_with_doc_id("doc-x")), encoding="utf-8")
    assert CliRunner().invoke(app, ["convert", str(export), str(out)]).exit_code == 0
    assert read_documents(out)[0].spans[0].text == "Sở Nội vụ"  # converted spans carry their text


# --------------------------------------------------------------------------- span texts


def test_a_drifted_span_is_reported_with_document_and_offsets(tmp_path):
    docs = [d.with_span_texts() for d in gold_docs()]
    records = [d.to_dict() for d in docs]
    # someone edits the text under doc-a's first span (same length: offsets still look fine)
    records[1]["text"] = records[1]["text"].replace("Sóc Trăng", "Sóc Trâng", 1)
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, records)
    problems = [p for p in validate_path(gold, folds=False) if p.code == "span-text"]
    assert len(problems) == 1
    p = problems[0]
    assert (p.line, p.doc_id, p.span_id, p.offset) == (2, "doc-a", "T1", 0)
    assert "[0, 18)" in p.message and "Sóc Trăng" in p.message and "Sóc Trâng" in p.message


def test_a_span_without_its_text_is_reported(tmp_path):
    records = [d.to_dict() for d in gold_docs()]
    del records[0]["spans"][0]["text"]
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, records)
    problems = validate_path(gold, folds=False)
    assert [(p.code, p.doc_id, p.span_id) for p in problems] == [("span-text", "doc-c", "T1")]


def test_committed_gold_spans_carry_their_text():
    repo = Path(__file__).resolve().parents[1]
    for doc in read_documents(repo / "corpus" / "gold" / "gold.jsonl"):
        assert all(s.text == doc.text[s.start : s.end] for s in doc.spans), doc.id


def test_span_text_is_not_part_of_span_equality():
    a, b = gold_docs()[0].spans[0], gold_docs()[0].spans[0]
    b.text = None
    assert a == b and "text" not in b.to_dict() and a.to_dict()["text"] == "Xã Điền Công"


def test_record_shapes_are_located_errors(tmp_path):
    good = gold_docs()[0].to_dict()
    for field, value in (("spans", {"a": 1}), ("spans", [5]), ("relations", "x"), ("text", 5), ("meta", [])):
        path = tmp_path / "d.jsonl"
        write_jsonl(path, [{**good, field: value}])
        with pytest.raises(VnreorgError, match=r"d\.jsonl:1"):
            read_documents(path)
    assert os.listdir(tmp_path) == ["d.jsonl"]
