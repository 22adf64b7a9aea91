"""The synthetic training corpus: worksheets -> documents (annotation/synthetic.py), the validator's
synthetic rules, the 8-token overlap guard against the seeds, the exports, and the folds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vnreorg.annotation.synthetic import import_synthetic
from vnreorg.corpus.synthetic import is_synthetic, shared_runs
from vnreorg.corpus.validate import validate_documents
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents, write_documents

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "data" / "synthetic" / "x_01.txt"
GOLD = REPO / "corpus" / "gold" / "gold.jsonl"
SYNTHETIC = REPO / "corpus" / "synthetic" / "synthetic.jsonl"
WORKSHEETS = REPO / "corpus" / "synthetic" / "worksheets"


@pytest.fixture(scope="module")
def fixture_docs():
    imp = import_synthetic([FIXTURE])
    assert imp.errors == []
    return imp.documents


def test_worksheets_become_synthetic_documents(fixture_docs):
    doc = fixture_docs[0]
    assert [d.id for d in fixture_docs] == ["syn-x-0001", "syn-x-0002"]
    assert doc.text.split("\n")[1] == "Buổi lễ diễn ra ngắn gọn tại hội trường lớn."
    assert doc.paragraphs == doc.sentences and len(doc.sentences) == 4
    assert all(doc.text[e : e + 1] in ("\n", "") for _, e in doc.sentences)
    assert doc.meta["synthetic"] is True and doc.meta["level"] == "province" and doc.meta["period"] == "2024-2025"
    prov = doc.provenance[0]
    assert prov["synthetic"] is True and prov["guidelines"] == "v2" and prov["writer"].startswith("writer-x")
    assert prov["file"].endswith("x_01.txt")
    texts = [(doc.text[s.start : s.end], s.label) for s in doc.spans]
    assert ("Sở Nông nghiệp và Môi trường", "AGENCY") in texts and ("Phó Giám đốc Sở Nội vụ", "TITLE") in texts
    # "Sở Nội vụ #2" is the second occurrence on word edges (the first lies inside the TITLE)
    second = [s for s in doc.spans if doc.text[s.start : s.end] == "Sở Nội vụ"]
    assert len(second) == 1 and second[0].start > doc.text.index("cho biết")
    by_id = doc.span_by_id()
    rels = {
        (doc.text[by_id[r.head].start : by_id[r.head].end], r.label, doc.text[by_id[r.child].start : by_id[r.child].end])
        for r in doc.relations
    }
    assert ("hợp nhất", "target", "Sở Nông nghiệp và Môi trường") in rels
    assert validate_documents(fixture_docs, "synthetic.jsonl") == []


def _write(tmp_path: Path, text: str, name: str = "x_01.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_line_is_reported_with_file_and_line(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8")
    text = text.replace("AGENCY | Sở Tài nguyên và Môi trường\n", "AGENCY | Sở Tài nguyên môi trường\n")  # line 17
    text = text.replace("NUMBER | 19\n", "NUMBER | 91\n")  # line 30
    path = _write(tmp_path, text)
    imp = import_synthetic([path])
    messages = [e for _, e in imp.errors]
    assert any(f"{path}:17 doc=syn-x-0001 S0" in m and "not found" in m for m in messages), messages
    assert any(f"{path}:30 doc=syn-x-0001 S2" in m for m in messages), messages
    assert [d.id for d in imp.documents] == ["syn-x-0002"]  # the valid article is kept, the other listed
    assert imp.files[str(path)]["invalid_documents"] == ["syn-x-0001"]


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("# synthetic: true\n", "", "'# synthetic:' missing"),
        ("# level: province\n", "# level: region\n", "'# level:' 'region'"),
        ("# doc: syn-x-0002", "# doc: syn-y-0002", "not in writer 'x'"),
        ("# doc: syn-x-0002", "# doc: syn-x-0001", "also used in"),
        ("> Buổi lễ", ">  Buổi lễ", "ordinary single spaces"),
        ("> Buổi lễ diễn ra", "> Buổi lễ\u00a0diễn ra", "no-break space"),
        ("## S1\n", "## S4\n", "not S0..S3"),
        ("# date: 2026-11-30\n# level: province", "# date: 30/11/2026\n# level: province", "not an ISO date"),
        ("AGENCY | Sở Nội vụ #2", "AGENCY | Sở Nội vụ", "occurs 2 times in the sentence: add #k"),
        ("## S2\n> Sau", "## S2\n> Thêm một câu.\n> Sau", "exactly one '> ' sentence line"),
    ],
)
def test_header_and_sentence_problems(tmp_path, old, new, message):
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text
    imp = import_synthetic([_write(tmp_path, text.replace(old, new, 1))])
    assert any(message in e for _, e in imp.errors), imp.errors


def test_two_sentences_on_one_line_are_a_warning(tmp_path):
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "> Buổi lễ diễn ra ngắn gọn tại hội trường lớn.", "> Buổi lễ diễn ra ngắn gọn. Hội trường chật kín người."
    )
    imp = import_synthetic([_write(tmp_path, text)])
    assert imp.errors == [] and len(imp.documents) == 2
    assert any("syn-x-0001 S1" in w and "2 sentences" in w for _, w in imp.warnings), imp.warnings


def test_validator_rejects_synthetic_without_provenance_or_inside_gold(fixture_docs, tmp_path):
    doc = fixture_docs[0]
    stripped = type(doc)(**{**doc.__dict__, "provenance": []})
    assert is_synthetic(stripped)
    codes = [p.code for p in validate_documents([stripped], tmp_path / "synthetic.jsonl")]
    assert codes == ["provenance"]
    codes = [p.code for p in validate_documents([doc], tmp_path / "gold.jsonl")]
    assert codes == ["synthetic-in-gold"]
    real = read_documents(GOLD)[0]
    codes = [p.code for p in validate_documents([real], tmp_path / "synthetic.jsonl")]
    assert codes == ["not-synthetic"]


def test_a_sentence_copied_from_a_seed_is_caught(fixture_docs, tmp_path):
    seed = read_documents(GOLD)[0]
    s, e = next((s, e) for s, e in seed.sentences if e - s > 80)
    copied = seed.text[s:e].upper()  # case-folded comparison
    text = FIXTURE.read_text(encoding="utf-8").replace("> Buổi lễ diễn ra ngắn gọn tại hội trường lớn.", "> " + copied)
    imp = import_synthetic([_write(tmp_path, text)], seeds=[seed])
    assert any("shares a run of 8 tokens" in e and "syn-x-0001 S1" in e for _, e in imp.errors), imp.errors
    assert "syn-x-0001" not in [d.id for d in imp.documents]


def _synthetic_sets(fixture_docs):
    sets = [("fixture", fixture_docs)]
    if SYNTHETIC.exists():
        sets.append((str(SYNTHETIC), read_documents(SYNTHETIC)))
    if WORKSHEETS.is_dir() and list(WORKSHEETS.glob("*.txt")):
        sets.append((str(WORKSHEETS), import_synthetic([WORKSHEETS]).documents))
    return sets


def test_no_synthetic_sentence_shares_8_tokens_with_any_seed_sentence(fixture_docs):
    seeds = read_documents(GOLD)
    for name, docs in _synthetic_sets(fixture_docs):
        assert shared_runs(docs, seeds) == [], name


def test_synthetic_ids_never_in_gold_or_folds(fixture_docs):
    gold_ids = {d.id for d in read_documents(GOLD)}
    folds = json.loads((GOLD.parent / "folds.json").read_text(encoding="utf-8"))["folds"]
    in_folds = {i for f in folds for part in ("train", "dev", "test") for i in f[part]}
    for name, docs in _synthetic_sets(fixture_docs):
        ids = {d.id for d in docs}
        assert not ids & gold_ids and not ids & in_folds, name
    assert not any(i.startswith("syn-") for i in in_folds | gold_ids)


def test_export_writes_the_synthetic_config_docbin_and_card(fixture_docs, tmp_path):
    from vnreorg.corpus.export import export_all
    from vnreorg.docbin import read_docbin

    gold_dir = tmp_path / "corpus" / "gold"
    gold_dir.mkdir(parents=True)
    shutil.copy(GOLD, gold_dir / "gold.jsonl")
    write_documents(tmp_path / "corpus" / "synthetic" / "synthetic.jsonl", fixture_docs)
    out = tmp_path / "export"
    export_all(gold_dir / "gold.jsonl", out, sources_path=None)
    folds = json.loads((gold_dir / "folds.json").read_text(encoding="utf-8"))
    assert not any(i.startswith("syn-") for f in folds["folds"] for p in ("train", "dev", "test") for i in f[p])
    card = (out / "hf" / "README.md").read_text(encoding="utf-8")
    assert "config_name: synthetic" in card and "## Synthetic training corpus" in card
    assert "Second pass: not measured yet" in card  # no corpus/synthetic/agreement.json beside it
    import datasets

    ds = datasets.load_dataset(str(out / "hf"), "synthetic")["train"]
    assert sorted(ds["id"]) == ["syn-x-0001", "syn-x-0002"]
    assert len(datasets.load_dataset(str(out / "hf"))["train"]) == len(read_documents(GOLD))  # default: gold only
    docs = read_docbin(out / "spacy" / "synthetic.spacy")
    assert list(dict.fromkeys(d.user_data["doc_id"] for d in docs)) == ["syn-x-0001", "syn-x-0002"]  # one Doc per paragraph
    assert not any("syn-" in p.name for p in (out / "spacy" / "folds").rglob("*"))


def test_cli_writes_nothing_on_errors_and_never_into_gold(tmp_path):
    from typer.testing import CliRunner

    from vnreorg.cli import app

    bad = _write(tmp_path, FIXTURE.read_text(encoding="utf-8").replace("NUMBER | 19\n", "NUMBER | 91\n"))
    out = tmp_path / "synthetic.jsonl"
    result = CliRunner().invoke(app, ["worksheet", "synthetic", str(bad), "--out", str(out), "--gold", str(GOLD)])
    assert result.exit_code != 0 and not out.exists()
    result = CliRunner().invoke(app, ["worksheet", "synthetic", str(bad), "--out", str(out), "--skip-invalid"])
    assert result.exit_code == 0 and [d.id for d in read_documents(out)] == ["syn-x-0002"]
    result = CliRunner().invoke(app, ["worksheet", "synthetic", str(FIXTURE), "--out", str(tmp_path / "gold.jsonl")])
    assert result.exit_code != 0 and not (tmp_path / "gold.jsonl").exists()


def test_second_pass_agreement_on_the_articles_both_annotated(fixture_docs, tmp_path):
    from vnreorg.annotation.synthetic import second_pass_agreement
    from vnreorg.corpus.synthetic import agreement_text

    second = REPO / "tests" / "data" / "synthetic_second" / "second_pass.txt"
    result, a, b, problems = second_pass_agreement(fixture_docs, [second])
    assert problems == [] and [d.id for d in a] == [d.id for d in b] == ["syn-x-0001"]
    cov = result["coverage"]
    assert (cov["documents"], cov["sentences"], cov["corpus_sentences"]) == (1, 4, 6)
    spans = result["spans"]["micro"]
    assert spans["strict_f1"] == pytest.approx(2 * 13 / (14 + 14))  # 14 spans, one AGENCY differs ("UBND" vs the full name)
    assert spans["overlap_f1"] == 1.0
    assert result["relations"]["per_label"]["amount"]["f1"] == pytest.approx(2 * 2 / (3 + 2))
    text = agreement_text(result)
    assert "1 of the 2 articles" in text and "meets the bar" in text
    changed = tmp_path / "second.txt"
    changed.write_text(second.read_text(encoding="utf-8").replace("Buổi lễ diễn ra", "Buổi họp diễn ra"), encoding="utf-8")
    with pytest.raises(VnreorgError, match="resolves no first-pass document"):
        second_pass_agreement(fixture_docs, [changed])
    _, _, _, problems = second_pass_agreement(fixture_docs, [changed, second])
    assert any("sentences differ" in p for _, p in problems)
