"""Model stage: conversion and alignment, the relation component, training (really, tiny config),
reproducibility, prediction, cross-validation, extraction of bad input, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import doc_from_surfaces

from vnreorg.errors import VnreorgError
from vnreorg.schema import Document, Relation, Span, relation_allowed

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="session")
def synthetic():
    from vnreorg.models.fixtures import synthetic_documents

    return synthetic_documents(n_docs=4, sentences_per_doc=24, seed=1)


@pytest.fixture(scope="session")
def tiny_model(synthetic, tmp_path_factory):
    from vnreorg.models.train import train_model

    out = tmp_path_factory.mktemp("tiny") / "run"
    return train_model("tiny", synthetic[:3], out, seed=0, quiet=True)


@pytest.fixture(scope="session")
def blank():
    from vnreorg.corpus.tokenize import blank_vi

    return blank_vi()


# ------------------------------------------------------------------ conversion


def test_synthetic_documents_convert_with_every_span_and_relation(synthetic, blank):
    from vnreorg.models.components import relation_tuples
    from vnreorg.models.convert import documents_to_docs

    docs = documents_to_docs(blank, synthetic)
    assert sum(len(d.ents) for d in docs) == sum(len(d.spans) for d in synthetic)
    assert sum(len(relation_tuples(d)) for d in docs) == sum(len(d.relations) for d in synthetic)
    # Offsets map back exactly: each entity's text is the gold span's text.
    by_id = {d.id: d for d in synthetic}
    for doc in docs:
        source = by_id[doc.user_data["doc_id"]]
        base = doc.user_data["char_offset"]
        gold = {(s.start, s.end, s.label) for s in source.spans}
        for ent in doc.ents:
            assert (base + ent.start_char, base + ent.end_char, ent.label_) in gold


def test_span_inside_a_token_raises_with_doc_and_offset(blank):
    from vnreorg.models.convert import document_to_docs

    text = "Thành phố giải thể Phòng Nội vụ thành phố;"
    doc = Document(
        id="d1", text=text, paragraphs=[(0, len(text))], sentences=[(0, len(text))], spans=[Span("s1", 10, 13, "MERGE_ACTION")]
    )  # "giả": ends inside the token "giải"
    with pytest.raises(VnreorgError) as err:
        document_to_docs(blank, doc)
    assert "doc=d1" in str(err.value) and "offset=10" in str(err.value) and "does not align" in str(err.value)


def test_span_before_punctuation_aligns(blank):
    from vnreorg.models.convert import document_to_docs

    text = "Sáp nhập vào Phòng Nội vụ thành phố; giảm 10% biên chế."
    start = text.index("Phòng")
    end = text.index(";")
    doc = Document(
        id="d2",
        text=text,
        paragraphs=[(0, len(text))],
        sentences=[(0, len(text))],
        spans=[Span("a", start, end, "AGENCY"), Span("n", text.index("10%"), text.index("10%") + 3, "NUMBER")],
    )
    (out,) = document_to_docs(blank, doc)
    assert [e.text for e in out.ents] == ["Phòng Nội vụ thành phố", "10%"]


def test_relation_to_missing_span_raises(blank):
    from vnreorg.models.convert import document_to_docs

    text = "Giải thể Đài Truyền thanh."
    doc = Document(
        id="d3",
        text=text,
        paragraphs=[(0, len(text))],
        sentences=[(0, len(text))],
        spans=[Span("t", 0, 8, "MERGE_ACTION")],
        relations=[Relation("t", "zz", "source")],
    )
    with pytest.raises(VnreorgError, match="missing span zz"):
        document_to_docs(blank, doc)


def test_docbin_round_trip_keeps_entities_sentences_and_relations(synthetic, blank, tmp_path):
    from vnreorg.models.components import relation_tuples
    from vnreorg.models.convert import documents_to_docs, read_docbin, write_docbin

    docs = documents_to_docs(blank, synthetic[:1])
    write_docbin(docs, tmp_path / "x.spacy")
    back = read_docbin(tmp_path / "x.spacy", blank)
    assert len(back) == len(docs)
    for a, b in zip(docs, back):
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]
        assert [t.is_sent_start for t in a] == [t.is_sent_start for t in b]
        assert relation_tuples(a) == relation_tuples(b)
        assert b.user_data["doc_id"] == a.user_data["doc_id"]


# ------------------------------------------------------------------ rules


def test_rules_baseline_finds_triggers_agencies_and_relations():
    from vnreorg.corpus.tokenize import blank_vi
    from vnreorg.models.components import relation_tuples
    from vnreorg.models.rules import rule_patterns_list

    nlp2 = blank_vi()
    ruler = nlp2.add_pipe("entity_ruler")
    ruler.add_patterns(rule_patterns_list())
    nlp2.add_pipe("relation_rules")
    doc = nlp2("Thành phố sáp nhập Phòng Nội vụ thành phố vào Văn phòng HĐND và UBND thành phố, giảm 03 biên chế.")
    ents = {(e.text, e.label_) for e in doc.ents}
    assert ("sáp nhập", "MERGE_ACTION") in ents and ("giảm", "MERGE_ACTION") in ents
    assert ("Phòng Nội vụ thành phố", "AGENCY") in ents and ("03", "NUMBER") in ents
    rels = {(doc[h0:h1].text, doc[c0:c1].text, label) for h0, h1, _, c0, c1, _, label in relation_tuples(doc)}
    assert ("sáp nhập", "Phòng Nội vụ thành phố", "source") in rels
    assert ("giảm", "03", "amount") in rels
    assert any(h == "sáp nhập" and label == "target" for h, _, label in rels)


def test_rule_patterns_use_only_schema_labels():
    from vnreorg.models.rules import relation_schema_dict, rule_patterns_list
    from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS

    assert {p["label"] for p in rule_patterns_list()} <= set(ENTITY_LABELS)
    assert set(relation_schema_dict()) == set(RELATION_LABELS)


# ------------------------------------------------------------------ training and prediction


def test_tiny_training_learns_and_predicts(tiny_model, synthetic):
    from vnreorg.eval.scoring import evaluate_documents
    from vnreorg.models.predict import predict_documents

    assert (tiny_model.model_path / "meta.json").exists()
    meta = json.loads((tiny_model.model_path / "meta.json").read_text())
    assert meta["vnreorg"]["corpus_version"] and meta["vnreorg"]["relation_threshold"] is not None
    assert set(meta["labels"]["ner"]) >= {"AGENCY", "MERGE_ACTION"}
    held_out = synthetic[3:]
    pred = predict_documents(str(tiny_model.model_path), held_out)
    assert [d.id for d in pred] == [d.id for d in held_out]
    assert all(p.text == g.text for p, g in zip(pred, held_out))
    result = evaluate_documents(held_out, pred, n_boot=0)
    # Templated text is easy: a model that learned nothing would score near 0 here.
    assert result.entities["strict"]["micro"]["f1"] > 0.6
    assert result.relations["strict"]["micro"]["f1"] > 0.2
    assert all(r.score is not None and 0 < r.score <= 1 for d in pred for r in d.relations)
    for d in pred:  # predicted relations respect the schema
        spans = d.span_by_id()
        assert all(relation_allowed(r.label, spans[r.head].label, spans[r.child].label) for r in d.relations)


def test_same_seed_same_scores(tiny_model, synthetic, tmp_path):
    from vnreorg.models.train import train_model

    again = train_model("tiny", synthetic[:3], tmp_path / "again", seed=0, quiet=True)
    assert again.dev_scores == tiny_model.dev_scores
    assert again.threshold == tiny_model.threshold


def test_trained_model_loads_with_plain_spacy_load(tiny_model):
    import spacy

    from vnreorg.models.predict import predict_documents

    nlp = spacy.load(tiny_model.model_path)
    assert nlp.pipe_names == ["tok2vec", "entity_ruler", "lexicon_matcher", "ner", "relation_extractor"]
    text = "Huyện quyết định sáp nhập Phòng Nội vụ vào Văn phòng HĐND và UBND huyện, giảm 03 biên chế."
    doc = nlp(text)
    starts = {e.start: e for e in doc.ents}
    rels = {(starts[h].text, starts[c].text, label) for (h, c), labels in doc._.rel.items() for label in labels}
    assert rels, "the trained model finds relations in a templated sentence"
    assert all(starts[h].label_ == "MERGE_ACTION" for h, _ in doc._.rel)
    # plain spacy.load gives what the project's own prediction path gives
    (pred,) = predict_documents(nlp, [Document("x", text, paragraphs=[(0, len(text))], sentences=[(0, len(text))])])
    by_id = pred.span_by_id()
    assert {
        (text[by_id[r.head].start : by_id[r.head].end], text[by_id[r.child].start : by_id[r.child].end], r.label)
        for r in pred.relations
    } == rels


def test_tune_threshold_picks_the_best_dev_threshold(tiny_model, synthetic, blank):
    """The tuned threshold is the lowest of those with the best strict relation F1 when the pipeline
    itself runs at each threshold of the grid (here not 0.5, so a constant would be caught)."""
    import spacy
    from spacy.training import Example

    from vnreorg.models.components import score_relations
    from vnreorg.models.convert import documents_to_docs
    from vnreorg.models.train import THRESHOLD_GRID, _predict_docs, tune_threshold

    nlp = spacy.load(tiny_model.model_path)
    rel = nlp.get_pipe("relation_extractor")
    dev = documents_to_docs(blank, synthetic[:3])
    f1 = {}
    for t in THRESHOLD_GRID:
        rel.cfg["threshold"] = t
        f1[t] = score_relations([Example(p, g) for p, g in zip(_predict_docs(nlp, dev), dev)])["rel_micro_f"]
    best = min(t for t in THRESHOLD_GRID if f1[t] >= max(f1.values()) - 1e-9)
    assert best != 0.5
    assert tune_threshold(nlp, dev) == best


def test_rules_make_an_agency_just_before_the_trigger_its_source():
    """Entities set by hand (no ruler): the agency right before the trigger is its source, the one
    after the cue "vào" its target."""
    from vnreorg.corpus.tokenize import blank_vi

    nlp = blank_vi()
    rules = nlp.add_pipe("relation_rules")
    text = "Ban Tổ chức sáp nhập vào Văn phòng Thành ủy."
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(0, 11, "AGENCY"), doc.char_span(12, 20, "MERGE_ACTION"), doc.char_span(25, 43, "AGENCY")]
    doc = rules(doc)
    by_start = {e.start: e.text for e in doc.ents}
    found = {(by_start[h], by_start[c], label) for (h, c), labels in doc._.rel.items() for label in labels}
    assert found == {("sáp nhập", "Ban Tổ chức", "source"), ("sáp nhập", "Văn phòng Thành ủy", "target")}


def test_unknown_config_is_a_clear_error():
    from vnreorg.models.train import config_path

    with pytest.raises(VnreorgError, match="no such config"):
        config_path("nonexistent-config")


def test_cross_validation_writes_report(synthetic, tmp_path):
    from vnreorg.cv import cross_validate, derive_folds

    docs = synthetic[:3]
    folds = derive_folds(docs)
    assert [f["test"] for f in folds] == [[d.id] for d in docs]
    summary = cross_validate(
        docs,
        tmp_path / "cv",
        folds=folds,
        systems={"rules": "rules", "tiny": "tiny"},
        work_dir=tmp_path / "work",
        n_boot=50,
        log=lambda *_: None,
    )
    assert set(summary["results"]) == {"rules", "tiny"}
    assert set(summary["results"]["tiny"]) == {f["name"] for f in folds}
    assert sorted(p.name for p in (tmp_path / "cv").glob("cv_*")) == ["cv_report.html", "cv_report.json", "cv_report.md"]
    md = (tmp_path / "cv" / "cv_report.md").read_text()
    assert "MERGE_ACTION" in md and "| rules |" in md and "| tiny |" in md and "per label" in md
    data = json.loads((tmp_path / "cv" / "cv_report.json").read_text())
    assert data["pooled_per_label"] == summary["pooled"]
    # pooled = every test document scored once: the evaluator on all the fold predictions at once
    from vnreorg.eval.scoring import evaluate_documents
    from vnreorg.jsonio import read_documents

    preds = read_documents(tmp_path / "cv" / "predictions-tiny.jsonl")
    whole = evaluate_documents(docs, preds, n_boot=0)
    assert data["pooled_per_label"]["tiny"]["entities"]["micro"] == pytest.approx(whole.entities["strict"]["micro"]["f1"])
    assert data["pooled_per_label"]["tiny"]["relations"]["micro"] == pytest.approx(whole.relations["strict"]["micro"]["f1"])


def test_folds_file_is_checked(synthetic, tmp_path):
    from vnreorg.cv import load_folds

    bad = tmp_path / "folds.json"
    bad.write_text(json.dumps({"folds": [{"name": "f", "test": ["nope"], "train": []}]}))
    with pytest.raises(VnreorgError, match="not in gold"):
        load_folds(synthetic, bad)
    assert len(load_folds(synthetic, tmp_path / "absent.json")) == len(synthetic)


# ------------------------------------------------------------------ extract


def test_extract_bad_inputs_are_skipped_with_reasons(tiny_model, tmp_path):
    from vnreorg.models.extract import extract

    good = tmp_path / "good.txt"
    good.write_text("Thành phố đã sáp nhập Phòng Nội vụ thành phố vào Văn phòng HĐND và UBND thành phố.\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin1.txt").write_bytes("Thành phố".encode("cp1258", errors="replace") + b"\xff\xfe bad")
    (tmp_path / "english.txt").write_text("The city merged two departments into one office last year.", encoding="utf-8")
    huge = "Huyện đã giảm 12 biên chế của Đài Truyền thanh và sáp nhập Trung tâm Y tế huyện vào Phòng Nội vụ thành phố " * 1000
    (tmp_path / "huge.txt").write_text(huge, encoding="utf-8")  # one line of ~100,000 characters, no sentence end
    out = tmp_path / "out.jsonl"
    counts = extract(str(tiny_model.model_path), [str(tmp_path)], str(out), progress=False)
    records = {Path(r["source"]).name: r for r in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert records["empty.txt"]["skipped"] == "empty input"
    assert "not UTF-8" in records["latin1.txt"]["skipped"]
    assert "does not look Vietnamese" in records["english.txt"]["skipped"]
    assert "skipped" not in records["huge.txt"] and records["huge.txt"]["warnings"]
    assert records["huge.txt"]["entities"]
    g = records["good.txt"]
    assert any(e["label"] == "MERGE_ACTION" and e["text"] == "sáp nhập" for e in g["entities"])
    ev = [e for e in g["events"] if e["action"]["text"] == "sáp nhập"]
    assert ev and ev[0]["sentence"]["text"].startswith("Thành phố đã sáp nhập")
    assert counts["skipped"] == 3 and counts["texts"] == 2


def test_extract_cli_reads_stdin(tiny_model, tmp_path):
    text = "Tỉnh đã giải thể Trung tâm Y tế huyện. Thị xã tinh giản 45 cán bộ của Hội Chữ thập đỏ."
    proc = subprocess.run(
        [sys.executable, "-m", "vnreorg.cli", "extract", "-", "--model", str(tiny_model.model_path), "--no-progress"],
        input=text.encode(),
        capture_output=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    (record,) = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert record["source"] == "<stdin>" and record["events"]
    assert record["entities"] and all(e.keys() >= {"start", "end", "label", "text"} for e in record["entities"])
    assert "extracted 1 texts" in proc.stderr.decode()


def test_extract_cli_missing_model_is_one_clear_line(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Thành phố sáp nhập hai phòng.", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "vnreorg.cli", "extract", str(f), "--model", str(tmp_path / "nomodel")],
        capture_output=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    err = proc.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "no such model" in err[0]


def test_extract_with_two_processes_equals_one(tiny_model, tmp_path):
    from vnreorg.models.extract import extract

    (tmp_path / "in").mkdir()  # inputs apart from the outputs: a folder's .jsonl files are inputs too
    for i, text in enumerate(
        [
            "Thành phố đã sáp nhập Phòng Nội vụ thành phố vào Văn phòng HĐND và UBND thành phố.",
            "Thị xã tinh giản 45 cán bộ của Hội Chữ thập đỏ. Tỉnh đã giải thể Trung tâm Y tế huyện.",
        ]
    ):
        (tmp_path / "in" / f"in{i}.txt").write_text(text, encoding="utf-8")
    extract(str(tiny_model.model_path), [str(tmp_path / "in")], str(tmp_path / "one.jsonl"), progress=False)
    extract(str(tiny_model.model_path), [str(tmp_path / "in")], str(tmp_path / "two.jsonl"), n_process=2, progress=False)
    one = (tmp_path / "one.jsonl").read_text(encoding="utf-8")
    assert one == (tmp_path / "two.jsonl").read_text(encoding="utf-8")
    assert '"relations": [{' in one  # relations survive the trip between processes


@pytest.mark.e2e
def test_every_gold_span_aligns_to_project_tokens(blank):
    """The real corpus: every gold span and relation converts (conversion raises on any misaligned span)."""
    from vnreorg.jsonio import read_documents
    from vnreorg.models.components import relation_tuples
    from vnreorg.models.convert import documents_to_docs

    gold = read_documents(Path(__file__).resolve().parents[1] / "corpus" / "gold" / "gold.jsonl")
    docs = documents_to_docs(blank, gold)
    assert sum(len(d.ents) for d in docs) == sum(len(g.spans) for g in gold) > 0
    assert sum(len(relation_tuples(d)) for d in docs) == sum(len(g.relations) for g in gold)


def test_training_never_wipes_a_foreign_folder(synthetic, tmp_path):
    from vnreorg.models.train import train_model

    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(VnreorgError, match="not overwriting"):
        train_model("rules", synthetic[:1], tmp_path, quiet=True)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


# ------------------------------------------------------------------ span and relation scorers


def _doc(text: str, spans: list[tuple[str, str]], relations=(), doc_id="d") -> Document:
    """A one-paragraph Document whose spans are given as (surface, label) (first match after the last)."""
    cut = text.index(". ") + 1 if ". " in text else len(text)
    sentences = [(0, cut), (cut + 1, len(text))] if cut < len(text) else [(0, len(text))]
    return doc_from_surfaces(
        doc_id,
        text,
        [(label, surface) for surface, label in spans],
        relations,
        sentences=sentences,
        paragraphs=[(0, len(text))],
        prefix="s",
        first_id=0,
    )


def _cut_corpus(n: int, offset: int = 0) -> list[Document]:
    """'tinh giản' is an action when a count follows it, not in the slogan 'tinh giản biên chế';
    the agency names run past the ruler's span ('Trung tâm Dịch vụ công ích đô thị')."""
    units = [
        "Trung tâm Dịch vụ công ích đô thị",
        "Trung tâm Văn hóa thể thao và du lịch",
        "Trung tâm Quản lý đất đai và môi trường",
        "Trung tâm Phát triển quỹ đất và hạ tầng",
        "Trung tâm Dịch vụ nông nghiệp và khuyến nông",
    ]
    docs = []
    for i in range(n):
        k = i + offset
        unit = units[k % len(units)]
        count = f"{10 + k:02d}"
        text = (
            f"Huyện đã tinh giản {count} biên chế của {unit} trong năm. "
            f"Các cơ quan tiếp tục tinh giản biên chế theo chủ trương chung."
        )
        docs.append(
            _doc(
                text,
                [("tinh giản", "MERGE_ACTION"), (count, "NUMBER"), (unit, "AGENCY")],
                [(0, 1, "amount"), (0, 2, "source")],
                doc_id=f"cut{k}",
            )
        )
    return docs


def test_span_and_relation_scorers_learn_what_the_rules_get_wrong(tmp_path):
    from vnreorg.eval.scoring import evaluate_documents
    from vnreorg.models.predict import predict_documents
    from vnreorg.models.train import train_model

    train = _cut_corpus(12)
    test = _cut_corpus(5, offset=100)  # other counts; the same unit names in other rows
    rules = train_model("rules", train, tmp_path / "rules", seed=0, quiet=True)
    scored = train_model("scored", train, tmp_path / "scored", seed=0, quiet=True, dev_fraction=0)
    r_rules = evaluate_documents(test, predict_documents(str(rules.model_path), test), n_boot=0)
    pred = predict_documents(str(scored.model_path), test)
    r_scored = evaluate_documents(test, pred, n_boot=0)
    # The ruler cuts the names short and takes the slogan's "tinh giản"; the scorers learnt otherwise.
    assert r_rules.entities["strict"]["per_label"]["AGENCY"]["f1"] < 0.5
    assert r_rules.entities["strict"]["per_label"]["MERGE_ACTION"]["precision"] <= 0.5
    assert r_scored.entities["strict"]["micro"]["f1"] == 1.0
    assert r_scored.relations["strict"]["micro"]["f1"] == 1.0
    assert all(r.score is not None and 0.5 <= r.score <= 1 for d in pred for r in d.relations)
    # Every entity carries its confidence (start probability times end probability).
    assert all(s.score is not None and 0 < s.score <= 1 for d in pred for s in d.spans)


def test_scorers_round_trip_through_disk_and_bytes(tmp_path):
    import spacy

    from vnreorg.models.train import train_model

    scored = train_model("scored", _cut_corpus(8), tmp_path / "scored", seed=0, quiet=True, dev_fraction=0)
    nlp = spacy.load(scored.model_path)
    assert nlp.pipe_names == ["entity_ruler", "lexicon_matcher", "span_scorer", "relation_scorer"]
    cfg = nlp.get_pipe("span_scorer").cfg
    assert cfg["start_weights"] and cfg["end_weights"] and cfg["heads"]["AGENCY"]
    assert nlp.get_pipe("relation_scorer").cfg["weights"]["amount"]
    text = "Huyện đã tinh giản 07 biên chế của Trung tâm Dịch vụ công ích đô thị trong năm."
    doc = nlp(text)
    again = spacy.load(scored.model_path).from_bytes(nlp.to_bytes())(text)
    assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in again.ents]
    assert doc._.rel == again._.rel and doc._.rel


def test_span_scorer_without_both_classes_is_a_clear_error(tmp_path):
    from vnreorg.models.train import train_model

    empty = [_doc("Huyện đã tinh giản biên chế theo chủ trương chung.", [], doc_id="e1")]
    with pytest.raises(ValueError, match="span_scorer"):
        train_model("scored", empty, tmp_path / "e", seed=0, quiet=True, dev_fraction=0)


def test_guideline_direction_reads_the_sentence(blank):

    from vnreorg.models.components import guideline_direction

    def direction(text: str, head: str, child: str, others=()) -> str:
        doc = blank(text)
        spans = []
        for surface, label in [(head, "MERGE_ACTION"), (child, "AGENCY"), *others]:
            start = text.index(surface)
            spans.append(doc.char_span(start, start + len(surface), label=label))
        doc.ents = sorted(spans, key=lambda s: s.start)
        h = next(e for e in doc.ents if e.text == head)
        c = next(e for e in doc.ents if e.text == child)
        return guideline_direction(doc, h, c)

    assert (
        direction("sáp nhập xã Điền Công vào phường Trưng Vương.", "sáp nhập", "phường Trưng Vương", [("xã Điền Công", "AGENCY")])
        == "target"
    )
    assert (
        direction("sáp nhập xã Điền Công vào phường Trưng Vương.", "sáp nhập", "xã Điền Công", [("phường Trưng Vương", "AGENCY")])
        == "source"
    )
    assert direction("thành lập Trung tâm Y tế huyện.", "thành lập", "Trung tâm Y tế huyện") == "target"
    assert direction("giải thể Trung tâm Y tế huyện.", "giải thể", "Trung tâm Y tế huyện") == "source"
    # "Thành" inside a name ("Thành ủy") is not the cue "thành".
    assert (
        direction(
            "hợp nhất Ban Tổ chức Thành ủy với Phòng Nội vụ thành phố.",
            "hợp nhất",
            "Phòng Nội vụ thành phố",
            [("Ban Tổ chức Thành ủy", "AGENCY")],
        )
        == "source"
    )
    assert direction("Phòng Nội vụ được sáp nhập.", "sáp nhập", "Phòng Nội vụ") == "source"


def test_relation_scorer_direction_setting_is_checked():
    from vnreorg.models.components import RelationScorer

    with pytest.raises(ValueError, match="direction"):
        RelationScorer(direction="sideways")


def test_guideline_direction_agrees_with_gold_directions(blank):
    """The claim in models/README.md: on gold entities the rule gives 94 of the 96 gold directions."""
    from vnreorg.jsonio import read_documents
    from vnreorg.models import components
    from vnreorg.models.convert import documents_to_docs

    REPO = Path(__file__).resolve().parents[1]
    agree = total = 0
    for doc in documents_to_docs(blank, read_documents(REPO / "corpus/gold/gold.jsonl")):
        starts = {e.start: e for e in doc.ents}
        for (h, c), labels in components.doc_rels(doc).items():
            label = max(labels, key=labels.get)
            if label in components.DIRECTED:
                total += 1
                agree += components.guideline_direction(doc, starts[h], starts[c]) == label
    assert (agree, total) == (94, 96)


def test_predict_cli_writes_corpus_format_for_pre_annotation(synthetic, tmp_path):
    """`vnreorg model predict`: corpus documents in, predicted documents out (the format `annotate push
    --predictions` reads), gold spans never carried over, every span and relation scored."""
    from vnreorg.annotation.convert import tasks_for_documents
    from vnreorg.jsonio import read_documents, write_documents
    from vnreorg.models.train import train_model

    scored = train_model("scored", synthetic[:3], tmp_path / "scored", seed=0, quiet=True, dev_fraction=0)
    docs = tmp_path / "docs.jsonl"
    write_documents(docs, synthetic[3:])
    out = tmp_path / "preds.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "vnreorg.cli",
        "model",
        "predict",
        str(docs),
        "--model",
        str(scored.model_path),
        "--out",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    preds = read_documents(out)
    assert [p.id for p in preds] == [d.id for d in synthetic[3:]] and all(p.text == d.text for p, d in zip(preds, synthetic[3:]))
    assert sum(len(p.spans) for p in preds) > 0
    assert all(s.score is not None for p in preds for s in p.spans) and all(
        r.score is not None for p in preds for r in p.relations
    )
    tasks = tasks_for_documents(synthetic[3:], predictions=preds, model_version="scored", annotate=False)
    assert tasks and all(t["predictions"] for t in tasks)
    # The input file is never the output.
    again = subprocess.run(cmd[:-1] + [str(docs)], capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode != 0 and "never overwrite" in again.stderr and len(again.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ the published DocBin


@pytest.mark.slow
def test_relation_component_trains_on_the_published_docbin(tmp_path):
    """What we publish is what we train on: the committed corpus export carries every gold relation in
    `doc._.rel`, and the tiny config's relation extractor trains on it (one epoch) and learns its labels."""
    import spacy
    from spacy.cli.train import train as spacy_train

    from vnreorg.models.components import relation_tuples
    from vnreorg.models.convert import read_docbin
    from vnreorg.models.train import config_path
    from vnreorg.schema import RELATION_LABELS

    published = Path(__file__).resolve().parents[1] / "corpus" / "export" / "spacy" / "all.spacy"
    gold_lines = (Path(__file__).resolve().parents[1] / "corpus" / "gold" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    n_gold = sum(len(json.loads(line)["relations"]) for line in gold_lines if line.strip())
    docs = read_docbin(published)
    assert n_gold > 0 and sum(len(relation_tuples(d)) for d in docs) == n_gold
    assert sum(len(d.user_data["relations"]) for d in docs) == n_gold
    spacy_train(
        config_path("tiny"),
        tmp_path / "out",
        overrides={"paths.train": str(published), "paths.dev": str(published), "training.max_epochs": 1},
    )
    nlp = spacy.load(tmp_path / "out" / "model-last")
    assert set(nlp.get_pipe("relation_extractor").labels) == set(RELATION_LABELS)


def test_generated_configs_are_fresh_and_complete():
    """configs/<name>.cfg = configs/full.cfg + configs/overrides/<name>.cfg (regenerate with
    `python -m vnreorg.models.configgen`), and each is a complete config spaCy fills and validates."""
    from spacy.util import load_model_from_config

    from vnreorg.models.configgen import CONFIG_DIR, config_text, generated_names

    assert set(generated_names()) == {"ner", "rules_rel", "scored_rel", "spancat", "tiny"}
    for name in generated_names():
        path = CONFIG_DIR / f"{name}.cfg"
        assert path.read_text(encoding="utf-8") == config_text(name), f"{path} is stale"
        from thinc.api import Config

        nlp = load_model_from_config(Config().from_disk(path), auto_fill=True, validate=True)
        assert nlp.pipe_names == Config().from_disk(path)["nlp"]["pipeline"]


# ------------------------------------------------------------------ the spancat system (issue 15)


def test_spans_to_ents_takes_the_most_confident_spans_without_overlap(blank):
    """spancat proposes overlapping scored spans; the entities are the most confident ones that do not
    overlap a span already taken, each with its score as the entity's confidence."""
    import numpy
    from spacy.tokens import Span as SpacySpan

    from vnreorg.models.components import ENT_SCORE_KEY
    from vnreorg.models.spans_ents import SpansToEnts

    proposed = [
        (0, 2, "MERGE_ACTION", 0.9),
        (2, 5, "AGENCY", 0.8),  # Sở Tài chính
        (2, 12, "AGENCY", 0.6),  # overlaps the one above, less confident: dropped
        (6, 12, "AGENCY", 0.7),  # Sở Kế hoạch và Đầu tư
        (4, 7, "TITLE", 0.95),  # most confident: taken, and it blocks both agencies it overlaps
        (9, 10, "NUMBER", 0.2),  # below the threshold
    ]

    def resolve(spans):
        doc = blank("Sáp nhập Sở Tài chính và Sở Kế hoạch và Đầu tư")
        doc.spans["sc"] = [SpacySpan(doc, s, e, label=lab) for s, e, lab, _ in spans]
        doc.spans["sc"].attrs["scores"] = numpy.array([p for *_, p in spans], dtype="f")
        return SpansToEnts("spans_to_ents", "sc", 0.5)(doc)

    doc = resolve(proposed)
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [(0, 2, "MERGE_ACTION"), (4, 7, "TITLE")]
    assert doc.user_data[(ENT_SCORE_KEY, 4, 7)] == pytest.approx(0.95)
    doc = resolve([p for p in proposed if p[2] != "TITLE"])  # without the title: both agencies, in text order
    assert [(e.start, e.end, e.label_) for e in doc.ents] == [(0, 2, "MERGE_ACTION"), (2, 5, "AGENCY"), (6, 12, "AGENCY")]


@pytest.mark.slow
def test_spancat_system_learns_from_the_gold_entities(synthetic, tmp_path):
    """The spancat config trains (a few steps) on corpus Documents: spancat learns its labels from the
    gold entities (copied into doc.spans for it), and the saved model predicts entities through
    spans_to_ents and loads with plain spacy.load."""
    import spacy

    from vnreorg.models.train import train_model

    result = train_model(
        "spancat",
        synthetic[:2],
        tmp_path / "sc",
        seed=0,
        quiet=True,
        overrides={"training.max_steps": 4, "training.eval_frequency": 2},
    )
    nlp = spacy.load(result.model_path)
    assert nlp.pipe_names == ["tok2vec", "spancat", "spans_to_ents", "relation_extractor"]
    assert set(nlp.get_pipe("spancat").labels) == {s.label for d in synthetic[:2] for s in d.spans}
    corpus = (tmp_path / "sc" / "corpus" / "train.spacy").read_bytes()
    from spacy.tokens import DocBin

    docs = list(DocBin().from_bytes(corpus).get_docs(nlp.vocab))
    assert all([(s.start, s.end, s.label_) for s in d.spans["sc"]] == [(e.start, e.end, e.label_) for e in d.ents] for d in docs)
    assert sum(len(d.ents) for d in docs) > 0
    doc = nlp(synthetic[0].text[:300])
    assert all(a.end <= b.start for a, b in zip(doc.ents, doc.ents[1:], strict=False))
