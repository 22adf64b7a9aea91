"""Reports, cross-validation summaries, paired bootstrap and the `evaluate` command."""

from __future__ import annotations

import json
import random
import re
import statistics
import sys
import types

import numpy as np
import pytest
from conftest import doc_from_offsets
from typer.testing import CliRunner

from vnreorg.errors import VnreorgError
from vnreorg.eval.cv import paired_bootstrap, paired_bootstrap_documents, summarise_folds, write_cv_report
from vnreorg.eval.report import highlight_text, write_report
from vnreorg.eval.scoring import EvalResult, evaluate_documents
from vnreorg.jsonio import write_documents
from vnreorg.schema import ENTITY_LABELS, Document, Span

TEXT = (
    "Tỉnh đã sáp nhập Sở Kế hoạch và Đầu tư với Sở Tài chính. Giảm 12 đơn vị sự nghiệp. "
    "Bí thư Đảng ủy đồng thời là Chủ tịch UBND phường 6."
)


def _at(piece: str, label: str) -> tuple[int, int, str]:
    start = TEXT.index(piece)
    return start, start + len(piece), label


GOLD_SPANS = [
    _at("sáp nhập", "MERGE_ACTION"),
    _at("Sở Kế hoạch và Đầu tư", "AGENCY"),
    _at("Sở Tài chính", "AGENCY"),
    _at("Giảm", "MERGE_ACTION"),
    _at("12", "NUMBER"),
    _at("Bí thư Đảng ủy", "TITLE"),
    _at("đồng thời là", "MERGE_ACTION"),
    _at("Chủ tịch UBND phường 6", "TITLE"),
]
SENTENCES = [(0, TEXT.index("Giảm")), (TEXT.index("Giảm"), TEXT.index("Bí")), (TEXT.index("Bí"), len(TEXT))]


def make_doc(doc_id: str, spans, relations=()) -> Document:
    return doc_from_offsets(doc_id, TEXT, spans, relations, sentences=list(SENTENCES), prefix="T")


def gold_docs(n: int = 6):
    rels = [("T0", "T1", "source"), ("T0", "T2", "target"), ("T3", "T4", "amount")]
    return [make_doc(f"doc{i:02d}", GOLD_SPANS, rels) for i in range(n)]


def noisy(docs, seed: int, keep: float = 0.8):
    rng = random.Random(seed)
    out = []
    for d in docs:
        spans = []
        for s in d.spans:
            r = rng.random()
            if r > keep:
                continue
            lab = s.label if rng.random() < 0.85 else rng.choice(ENTITY_LABELS)
            spans.append(Span(s.id, s.start, s.end if rng.random() < 0.9 else s.end - 1, lab))
        ids = {s.id for s in spans}
        rels = [r for r in d.relations if r.head in ids and r.child in ids]
        out.append(Document(d.id, d.text, sentences=list(d.sentences), spans=spans, relations=rels))
    return out


def test_report_files_are_consistent_and_self_contained(tmp_path):
    gold = gold_docs()
    result = evaluate_documents(gold, noisy(gold, 1), n_boot=50)
    paths = write_report(result, tmp_path, title="Test report", meta={"model": "m1", "command": "vnreorg evaluate ..."})
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    md = paths["md"].read_text(encoding="utf-8")
    page = paths["html"].read_text(encoding="utf-8")
    f1 = data["entities"]["strict"]["micro"]["f1"]
    assert f1 == result.entities["strict"]["micro"]["f1"]
    assert f"**{f1:.3f}**" in md and f"{f1:.3f}" in page
    assert data["meta"]["model"] == "m1"
    # Self-contained: plots inline, no external resources.
    assert page.count("data:image/png;base64,") == 3
    assert not re.search(r'(src|href)="(https?:)?//', page)
    for kind_title in ("Missed spans", "Label confusion", "Relations"):
        assert kind_title in md and kind_title in page
    # JSON round trip rebuilds the same result (and so the same report).
    again = EvalResult.from_dict(data)
    assert again.to_dict() == data
    assert np.array_equal(again.doc_counts, result.doc_counts)


def test_highlight_marks_gold_and_prediction():
    err = {
        "sentence": {"start": 0, "end": 57, "text": TEXT[:57]},
        "gold": [{"start": 17, "end": 38, "label": "AGENCY"}],
        "pred": [{"start": 17, "end": 37, "label": "TITLE"}],
    }
    text = highlight_text(err)
    assert "⟦⟨Sở Kế hoạch và Đầu t⟩`pred:TITLE`ư⟧`gold:AGENCY`" in text


def test_summarise_folds_mean_sd_and_pooled():
    gold = gold_docs(9)
    pred = noisy(gold, 2, keep=0.7)
    folds = {f"fold{k}": evaluate_documents(gold[k::3], pred[k::3], n_boot=0) for k in range(3)}
    s = summarise_folds(folds)
    values = [folds[f].entities["strict"]["micro"]["f1"] for f in folds]
    assert s["n_folds"] == 3
    assert s["mean"]["entities.strict"] == pytest.approx(statistics.mean(values))
    assert s["sd"]["entities.strict"] == pytest.approx(statistics.stdev(values))
    whole = evaluate_documents(gold, pred, n_boot=0)
    for metric, f1 in whole.micro_f1s().items():
        assert s["pooled"][metric] == pytest.approx(f1)
    with pytest.raises(VnreorgError, match="test part of folds"):
        summarise_folds({"a": folds["fold0"], "b": folds["fold0"]})


def test_paired_bootstrap_delta():
    gold = gold_docs(12)
    good, bad = noisy(gold, 3, keep=0.95), noisy(gold, 4, keep=0.4)
    same = paired_bootstrap_documents(gold, good, good, n_boot=200)
    assert same["entities.strict"]["delta"] == 0 and same["entities.strict"]["ci95"] == [0.0, 0.0]
    assert same["entities.strict"]["p_value"] == 1.0
    diff = paired_bootstrap_documents(gold, good, bad, n_boot=200)
    e = diff["entities.strict"]
    assert e["delta"] == pytest.approx(e["a"] - e["b"]) and e["delta"] > 0
    assert 0 < e["ci95"][0] <= e["delta"] <= e["ci95"][1]
    assert e["p_value"] < 0.05
    with pytest.raises(VnreorgError, match="same documents"):
        paired_bootstrap(evaluate_documents(gold[:3], good[:3], n_boot=0), evaluate_documents(gold, good, n_boot=0))


def test_cv_report_compares_systems(tmp_path):
    gold = gold_docs(6)
    systems = {}
    for name, keep in (("rules", 0.5), ("ner", 0.8), ("full", 0.95)):
        pred = noisy(gold, 5, keep=keep)
        systems[name] = {f"fold{k}": evaluate_documents(gold[k::2], pred[k::2], n_boot=0) for k in range(2)}
    paths = write_cv_report(systems, tmp_path, title="CV", n_boot=100)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["reference"] == "rules" and set(data["deltas"]) == {"ner", "full"}
    assert data["systems"]["full"]["mean"]["entities.strict"] > data["systems"]["rules"]["mean"]["entities.strict"]
    md = paths["md"].read_text(encoding="utf-8")
    assert "± " in md and "Paired bootstrap against `rules`" in md
    assert "data:image/png;base64," in paths["html"].read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    gold = gold_docs(4)
    g, a, b = tmp_path / "gold.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_documents(g, gold)
    write_documents(a, noisy(gold, 6))
    write_documents(b, noisy(gold, 7, keep=0.5))
    return g, a, b


def _run(args):
    from vnreorg.cli import app

    return CliRunner().invoke(app, args)


def test_cli_evaluate_writes_report_with_provenance(files, tmp_path):
    g, a, b = files
    out = tmp_path / "rep"
    res = _run(["evaluate", "--gold", str(g), "--pred", str(a), "--compare", str(b), "--out", str(out), "--n-boot", "50"])
    assert res.exit_code == 0, res.output
    assert "entities strict P/R/F1" in res.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    import hashlib

    assert data["meta"]["corpus_version"]["sha256"] == hashlib.sha256(g.read_bytes()).hexdigest()
    assert data["meta"]["model"] is None and data["meta"]["pred"] == str(a)
    assert data["meta"]["command"] == (
        f"vnreorg evaluate --gold {g} --pred {a} --compare {b} --out {out} --seed 0 --n-boot 50 --max-errors 200"
    )
    cmp = data["comparison"]["entities.strict"]
    assert cmp["delta"] == pytest.approx(cmp["a"] - cmp["b"]) and cmp["a"] > cmp["b"]
    assert "Comparison:" in (out / "report.md").read_text(encoding="utf-8")
    assert (out / "report.md").exists() and (out / "report.html").exists()
    # `vnreorg eval render` re-renders from the JSON alone.
    (out / "report.md").unlink()
    res = _run(["eval", "render", str(out / "report.json")])
    assert res.exit_code == 0, res.output
    assert (out / "report.md").exists()


def test_cli_errors_are_one_line(files, monkeypatch, capsys):
    from vnreorg import cli

    g, a, _ = files
    monkeypatch.setattr(sys, "argv", ["vnreorg", "evaluate", "--gold", str(g)])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "exactly one of --pred FILE or --model MODEL" in err and "Traceback" not in err


def test_cli_model_not_available_is_a_clear_error(files):
    g, _, _ = files
    res = _run(["evaluate", "--gold", str(g), "--model", "no-such-model-anywhere", "--n-boot", "0"])
    assert isinstance(res.exception, VnreorgError)
    assert "no such model folder or installed model package" in str(res.exception)


def test_cli_model_sees_texts_only(files, tmp_path, monkeypatch):
    """--model runs the model on copies without spans/relations (no gold leaks into predictions)."""
    g, _, _ = files
    seen = []

    def predict_documents(model, docs):
        seen.extend(docs)
        # An "oracle" that re-finds the gold strings by search: a real function, not a stub of ours.
        return [
            Document(d.id, d.text, spans=[Span(f"p{i}", s, e, lab) for i, (s, e, lab) in enumerate(GOLD_SPANS)]) for d in docs
        ]

    module = types.ModuleType("vnreorg.models.predict")
    module.predict_documents = predict_documents
    monkeypatch.setitem(sys.modules, "vnreorg.models.predict", module)
    out = tmp_path / "m"
    res = _run(["evaluate", "--gold", str(g), "--model", "oracle", "--out", str(out), "--n-boot", "0"])
    assert res.exit_code == 0, res.output
    assert seen and all(not d.spans and not d.relations for d in seen)
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["meta"]["model"] == "oracle" and data["entities"]["strict"]["micro"]["f1"] == 1.0
    assert (out / "predictions.jsonl").exists()


def test_cv_report_summarises_long_meta(tmp_path):
    """The model stage passes fold id lists in `meta`: the tables stay readable, the JSON keeps them."""
    gold = gold_docs(4)
    systems = {"a": {f"f{k}": evaluate_documents(gold[k::2], gold[k::2], n_boot=0) for k in range(2)}}
    folds = [{"name": f"f{k}", "test": [f"doc{i:04d}" for i in range(200)]} for k in range(2)]
    paths = write_cv_report(systems, tmp_path, meta={"seed": 0, "folds": folds}, n_boot=0)
    md = paths["md"].read_text(encoding="utf-8")
    assert "| folds | (2 items; see the JSON) |" in md and "doc0150" not in md
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["meta"]["folds"] == folds


def test_paired_bootstrap_p_value_is_two_sided():
    """The p-value is where the interval reaches zero: the interval at level 1 - 1.2 p excludes zero and
    the one at level 1 - 0.8 p includes it (a one-sided, halved p would fail the first)."""
    gold = gold_docs(12)
    a, b = noisy(gold, 7, keep=0.9), noisy(gold, 8, keep=0.85)
    p = paired_bootstrap_documents(gold, a, b, n_boot=2000)["entities.strict"]["p_value"]
    assert 0.1 < p < 0.9  # a case in the middle, where halving would show
    ra, rb = evaluate_documents(gold, a, n_boot=0), evaluate_documents(gold, b, n_boot=0)
    lo, hi = paired_bootstrap(ra, rb, n_boot=2000, level=1 - 1.2 * p)["entities.strict"]["ci95"]
    assert not lo <= 0 <= hi
    lo, hi = paired_bootstrap(ra, rb, n_boot=2000, level=1 - 0.8 * p)["entities.strict"]["ci95"]
    assert lo <= 0 <= hi


def test_per_label_table_spread_over_folds():
    from vnreorg.eval.cv import per_label_table

    gold = gold_docs(9)
    pred = noisy(gold, 2, keep=0.7)
    folds = {f"fold{k}": evaluate_documents(gold[k::3], pred[k::3], n_boot=0) for k in range(3)}
    table = per_label_table({"sys": folds})["sys"]
    for label in ENTITY_LABELS:
        values = [folds[f].entities["strict"]["per_label"][label]["f1"] for f in folds]
        entry = table["entities"][label]
        assert entry["folds"] == dict(zip(folds, values))
        assert entry["mean"] == pytest.approx(statistics.fmean(values))
        assert entry["sd"] == pytest.approx(statistics.stdev(values))
    assert any(table["entities"][label]["sd"] > 0 for label in ENTITY_LABELS)  # the data has a spread to find


def test_markdown_and_html_show_the_same_tables():
    """Tables are built once (report_tables, cv_tables): every title, header and cell text is in both renderings."""
    import html as html_mod

    from vnreorg.eval import report
    from vnreorg.eval.cv import compare_systems

    gold = gold_docs()
    d = evaluate_documents(gold, noisy(gold, 1), n_boot=20).to_dict()
    d["meta"] = {"model": "m|1", "command": "vnreorg evaluate | head"}
    comparison = paired_bootstrap(
        evaluate_documents(gold, noisy(gold, 1), n_boot=0), evaluate_documents(gold, noisy(gold, 2), n_boot=0), n_boot=20
    )
    systems = {
        name: {f"f{k}": evaluate_documents(gold[k::2], noisy(gold, s)[k::2], n_boot=0) for k in range(2)}
        for name, s in (("rules", 3), ("ner", 4))
    }
    c = compare_systems(systems, n_boot=20)
    cases = [
        (
            report.report_tables(d, comparison),
            report.render_markdown(d, title="t", comparison=comparison),
            report.render_html(d, title="t", comparison=comparison),
        ),
        (
            report.cv_tables(c, {"seed": 0}),
            report.render_cv_markdown(c, title="t", meta={"seed": 0}),
            report.render_cv_html(c, title="t", meta={"seed": 0}),
        ),
    ]
    for tables, md, page in cases:
        assert len(tables) >= 5
        for t in tables.values():
            texts = [t.title.replace("`", ""), *t.header, *t.notes] + [
                cell.text if isinstance(cell, report.Cell) else str(cell) for row in t.rows for cell in row
            ]
            for text in filter(None, texts):
                assert text.replace("|", "\\|") in md.replace("`", ""), text
                assert html_mod.escape(text) in page.replace("<code>", "").replace("</code>", ""), text
    assert "| model | m\\|1 |" in cases[0][1]  # a pipe in a cell does not break the Markdown table
    assert "| command | `vnreorg evaluate \\| head` |" in cases[0][1]
