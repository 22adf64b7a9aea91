"""Invisible format characters (ZWJ, ZWNJ, bidi marks, soft hyphen, BOM) are kept in the text and in
every offset but change no result: extraction on a text sprinkled with them equals extraction on the
same text without them, once the offsets are mapped back; `corpus validate` and `extract` warn."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vnreorg.corpus.segment import sentences
from vnreorg.corpus.tokenize import INVISIBLE_FORMAT_CHARS, VisibleText, invisible_offsets, without_invisible

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ROOT = Path(__file__).resolve().parents[1]
INVISIBLE = sorted(INVISIBLE_FORMAT_CHARS)


def sprinkle(text: str, n: int, seed: int) -> str:
    """`text` with `n` invisible characters inserted at seeded random places (inside words too)."""
    rng = random.Random(seed)
    places = sorted(rng.randrange(len(text) + 1) for _ in range(n))
    out, last = [], 0
    for p in places:
        out.append(text[last:p])
        out.append(rng.choice(INVISIBLE))
        last = p
    out.append(text[last:])
    return "".join(out)


def test_visible_text_maps_offsets_both_ways():
    clean = "Sáp nhập Phòng Nội vụ. Hôm nay họp."
    for seed in range(20):
        dirty = sprinkle(clean, 15, seed)
        vis = VisibleText.of(dirty)
        assert vis.text == clean and without_invisible(dirty) == clean
        assert list(vis.removed) == invisible_offsets(dirty) and len(vis.removed) == 15
        for s in range(len(clean)):
            for e in range(s + 1, len(clean) + 1):
                o_s, o_e = vis.to_original_start(s), vis.to_original_end(e)
                assert without_invisible(dirty[o_s:o_e]) == clean[s:e]
                assert dirty[o_s] not in INVISIBLE_FORMAT_CHARS and dirty[o_e - 1] not in INVISIBLE_FORMAT_CHARS
                assert (vis.to_visible(o_s), vis.to_visible(o_e)) == (s, e)


def test_sentence_boundaries_ignore_invisible_characters():
    clean = "Sáp nhập Phòng Nội vụ. Hôm nay họp tại TP. Sóc Trăng. “Giảm biên chế. Tinh gọn.” Xong."
    want = [clean[s:e] for s, e in sentences(clean)]
    for seed in range(30):
        dirty = sprinkle(clean, 12, seed)
        assert [without_invisible(dirty[s:e]) for s, e in sentences(dirty)] == want


@pytest.fixture(scope="module")
def gold_texts():
    from vnreorg.jsonio import read_documents

    return [d.text for d in read_documents(ROOT / "corpus" / "gold" / "gold.jsonl")]


@pytest.fixture(scope="module")
def rules_model(tmp_path_factory):
    """The rules pipeline (entity ruler from the guidelines + relation rules), initialised as trained."""
    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.models.train import train_model

    out = tmp_path_factory.mktemp("rules") / "run"
    return train_model("rules", synthetic_documents(n_docs=2, sentences_per_doc=8, seed=3), out, quiet=True).model_path


def _extract(model, folder: Path, tmp_path: Path, name: str) -> list[dict]:
    from vnreorg.models.extract import extract

    out = tmp_path / f"{name}.jsonl"
    extract(str(model), [str(folder)], str(out), progress=False)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _mapped(record: dict, vis: VisibleText) -> tuple[set, set]:
    """Entities and relations of an extraction record in the coordinates of the visible text."""
    ents = {e["id"]: (vis.to_visible(e["start"]), vis.to_visible(e["end"]), e["label"]) for e in record["entities"]}
    rels = {(ents[r["head"]], ents[r["child"]], r["label"]) for r in record["relations"]}
    return set(ents.values()), rels


@pytest.mark.e2e
def test_extraction_on_seed_text_with_invisible_characters_equals_extraction_without(gold_texts, rules_model, tmp_path):
    clean_dir, dirty_dir = tmp_path / "clean", tmp_path / "dirty"
    clean_dir.mkdir()
    dirty_dir.mkdir()
    dirty_texts = []
    for i, text in enumerate(gold_texts):
        (clean_dir / f"{i}.txt").write_text(text, encoding="utf-8")
        dirty = sprinkle(text, len(text) // 40, seed=i)
        dirty_texts.append(dirty)
        (dirty_dir / f"{i}.txt").write_text(dirty, encoding="utf-8")
    clean = _extract(rules_model, clean_dir, tmp_path, "clean")
    dirty = _extract(rules_model, dirty_dir, tmp_path, "dirty")
    n_ents = 0
    for c_rec, d_rec, d_text in zip(clean, dirty, dirty_texts):
        assert d_rec["characters"] == len(d_text)  # kept in the text
        vis = VisibleText.of(d_text)
        c_ents, c_rels = _mapped(c_rec, VisibleText(""))
        d_ents, d_rels = _mapped(d_rec, vis)
        assert d_ents == c_ents and d_rels == c_rels
        for e in d_rec["entities"]:
            assert e["text"] == d_text[e["start"] : e["end"]]
        assert any("invisible format character" in w for w in d_rec["warnings"])
        n_ents += len(c_ents)
    assert n_ents > 100  # the rules find a real number of entities in the seeds


def test_extract_and_validate_warn_with_document_and_offsets(rules_model, tmp_path):
    from vnreorg.cli import app
    from vnreorg.jsonio import write_documents
    from vnreorg.schema import Document, Span

    text = "Sáp nhập Phòng Nội\u200d vụ vào Văn phòng\u200f UBND thành phố."
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["extract", str(tmp_path / "a.txt"), "--model", str(rules_model), "--out", str(tmp_path / "out.jsonl"), "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    assert f"warning: {tmp_path / 'a.txt'}: 2 invisible format character(s)" in result.output
    assert "offset(s) 18, 36" in result.output
    record = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert any("offset(s) 18, 36" in w for w in record["warnings"])

    doc = Document("d1", text, sentences=sentences(text), spans=[Span("T1", 0, 8, "MERGE_ACTION")]).with_span_texts()
    write_documents(tmp_path / "gold.jsonl", [doc])
    checked = CliRunner().invoke(app, ["corpus", "validate", str(tmp_path / "gold.jsonl")])
    assert checked.exit_code == 0, checked.output  # a warning, not a problem
    assert "doc=d1: 2 invisible format character(s)" in checked.output and "offset(s) 18, 36" in checked.output
    doc.text = without_invisible(text)
    doc.sentences = sentences(doc.text)
    write_documents(tmp_path / "gold.jsonl", [doc])
    checked = CliRunner().invoke(app, ["corpus", "validate", str(tmp_path / "gold.jsonl")])
    assert checked.exit_code == 0 and "invisible" not in checked.output


def test_project_tokens_and_model_docs_ignore_invisible_characters(gold_texts):
    """`tokenize` (validator, token exports) and the model stage's Docs see the same tokens with or
    without invisible characters: the Docs a trained model reads are identical (ORTH and NORM)."""
    from vnreorg.corpus.tokenize import blank_vi, tokenize
    from vnreorg.docbin import document_to_docs
    from vnreorg.schema import Document

    nlp = blank_vi()
    for seed, clean in enumerate(gold_texts):
        dirty = sprinkle(clean, len(clean) // 40, seed=100 + seed)
        vis = VisibleText.of(dirty)
        mapped = [(without_invisible(t), vis.to_visible(s), vis.to_visible(e)) for t, s, e in tokenize(dirty)]
        assert mapped == tokenize(clean)
        docs = {}
        for name, text in (("clean", clean), ("dirty", dirty)):
            d = Document("d", text)
            docs[name] = [[(t.text, t.norm_, t.is_sent_start) for t in doc] for doc in document_to_docs(nlp, d, with_gold=False)]
        assert docs["dirty"] == docs["clean"]


def test_gold_with_invisible_characters_validates_and_exports(tmp_path):
    from vnreorg.cli import app
    from vnreorg.corpus.tokenize import blank_vi
    from vnreorg.docbin import REMOVED, docs_to_document, document_to_docs
    from vnreorg.corpus.validate import validate_documents
    from vnreorg.schema import Document, Span

    text = "Sáp nhập Phòng Nội vụ\u200e. Giảm\u00ad 03\u200d biên chế."
    spans = [Span("T1", 0, 8, "MERGE_ACTION"), Span("T2", 9, 21, "AGENCY"), Span("T3", 30, 35, "NUMBER")]
    spans[2] = Span("T3", text.index("03"), text.index("03") + 2, "NUMBER")
    assert [text[s.start : s.end] for s in spans] == ["Sáp nhập", "Phòng Nội vụ", "03"]
    doc = Document("d1", text, sentences=sentences(text), spans=spans).with_span_texts()
    assert validate_documents([doc], "gold.jsonl") == []
    # the exported (and trained-on) Doc holds the visible text; the dropped characters' offsets travel with it
    (sdoc,) = document_to_docs(blank_vi(), doc)
    assert sdoc.text == without_invisible(text) and sdoc.user_data[REMOVED] == invisible_offsets(text)
    assert [(e.text, e.label_) for e in sdoc.ents] == [("Sáp nhập", "MERGE_ACTION"), ("Phòng Nội vụ", "AGENCY"), ("03", "NUMBER")]
    back = docs_to_document(doc, [sdoc])
    assert [(s.start, s.end, s.label) for s in back.spans] == [(s.start, s.end, s.label) for s in spans]
