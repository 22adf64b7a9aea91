"""Exports derived from gold: Parquet dataset + card (loads offline), spaCy DocBin, CoNLL BIO, folds."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402
from conftest import doc_from_surfaces, doc_nhat_the_hoa  # noqa: E402
import yaml  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from vnreorg.corpus.export import export_all  # noqa: E402
from vnreorg.corpus.export_bio import bio_tags_for, doc_tokens, sentence_groups  # noqa: E402
from vnreorg.corpus.export_conll import read_conll  # noqa: E402
from vnreorg.corpus.export_folds import make_folds, read_folds  # noqa: E402
from vnreorg.corpus.tokenize import blank_vi  # noqa: E402
from vnreorg.docbin import OFFSET, document_to_docs, read_docbin, reassemble  # noqa: E402
from vnreorg.errors import VnreorgError  # noqa: E402
from vnreorg.jsonio import write_documents  # noqa: E402
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, Span, bio_tags  # noqa: E402


PROVENANCE = [{"who": "test", "pass": "fixture", "date": "2026-11-23"}]


def gold_docs() -> list[Document]:
    a = doc_nhat_the_hoa(
        "doc-a",
        provenance=PROVENANCE,
        meta={"title": "Tin A", "outlet": "Báo Sóc Trăng", "date": "2018-05-14T06:00", "source_file": "000_a.txt"},
    )
    b = doc_from_surfaces(
        "doc-b",
        "Sáp nhập Phòng Y tế vào Phòng Nội vụ thành phố; giải thể Trung tâm Dân số.",
        [
            ("MERGE_ACTION", "Sáp nhập"),
            ("AGENCY", "Phòng Y tế"),
            ("AGENCY", "Phòng Nội vụ thành phố"),
            ("MERGE_ACTION", "giải thể"),
            ("AGENCY", "Trung tâm Dân số"),
        ],
        [(0, 1, "source"), (0, 2, "target"), (3, 4, "source")],
        provenance=PROVENANCE,
        meta={"title": "Tin B", "outlet": None, "date": None, "source_file": "001_b.txt"},
    )
    c = doc_from_surfaces(
        "doc-c",
        "Xã Điền Công có 887/888 hộ đồng thuận.\n\nHội Chữ thập đỏ hoạt động hiệu quả.",
        [("AGENCY", "Xã Điền Công"), ("NUMBER", "887/888"), ("AGENCY", "Hội Chữ thập đỏ")],
        provenance=PROVENANCE,
        meta={"title": "Tin C", "source_file": "002_c.txt"},
    )
    return [c, a, b]  # not sorted: exports must not depend on gold order


AGREEMENT = {
    "documents": ["doc-a", "doc-b"],
    "spans_strict": {"AGENCY": {"f1": 0.9, "n": 10}, "TITLE": {"f1": 0.75, "n": 4}},
    "relations": {"f1": 0.6},
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    gold = root / "gold" / "gold.jsonl"
    write_documents(gold, gold_docs())
    (root / "gold" / "agreement.json").write_text(json.dumps(AGREEMENT), encoding="utf-8")
    (root / "gold" / "AGREEMENT.md").write_text(
        "# Agreement\n\n## How to read these figures\n\n- Both passes were made by one team.\n\n## Other\n\nx\n", encoding="utf-8"
    )
    (root / "gold" / "review.json").write_text(json.dumps({"doc-c": {"sentences": 4, "complete": True}}), encoding="utf-8")
    sources = root / "SOURCES.md"
    sources.write_text("# Sources\n\n- 000_a.txt: Báo Sóc Trăng, 14/05/2018\n", encoding="utf-8")
    written = export_all(gold, root / "export", sources_path=sources)
    return {"root": root, "gold": gold, "out": root / "export", "written": written}


@pytest.fixture(scope="module")
def hf_train(exported, tmp_path_factory):
    import datasets

    cache = tmp_path_factory.mktemp("hf-cache")
    dsd = datasets.load_dataset(str(exported["out"] / "hf"), cache_dir=str(cache))
    return dsd["train"]


def test_export_writes_every_kind(exported):
    out = exported["out"]
    assert (out / "hf" / "README.md").exists()
    assert (out / "hf" / "data" / "train-00000-of-00001.parquet").exists()
    assert (out / "hf" / "sentences" / "train-00000-of-00001.parquet").exists()
    assert (out / "spacy" / "all.spacy").exists() and (out / "conll" / "gold.conll").exists()
    assert (exported["root"] / "gold" / "folds.json").exists()
    for kind in ("folds", "hf", "spacy", "conll"):
        assert all(p.exists() for p in exported["written"][kind])
    assert len(exported["written"]["spacy"]) == 1 + 3 * 3  # all + (train, dev, test) per fold


def test_parquet_loads_offline_with_class_label_names(hf_train):
    feats = hf_train.features
    assert feats["ner_tags"].feature.names == bio_tags()
    assert feats["spans"].feature["label"].names == list(ENTITY_LABELS)
    assert feats["relations"].feature["label"].names == list(RELATION_LABELS)
    assert hf_train["id"] == ["doc-a", "doc-b", "doc-c"]
    assert len(hf_train) == 3


def test_parquet_tokens_offsets_spans_relations_reproduce_gold(hf_train):
    gold = {d.id: d for d in gold_docs()}
    span_names = hf_train.features["spans"].feature["label"].names
    rel_names = hf_train.features["relations"].feature["label"].names
    for row in hf_train:
        doc = gold[row["id"]]
        assert row["text"] == doc.text
        for tok, start, end in zip(row["tokens"], row["token_starts"], row["token_ends"], strict=True):
            assert doc.text[start:end] == tok
        spans = {(s["id"], s["start"], s["end"], span_names[s["label"]]) for s in row["spans"]}
        assert spans == {(s.id, s.start, s.end, s.label) for s in doc.spans}
        assert all(doc.text[s["start"] : s["end"]] == s["text"] for s in row["spans"])
        rels = [(r["head"], r["child"], rel_names[r["label"]]) for r in row["relations"]]
        assert rels == [(r.head, r.child, r.label) for r in doc.relations]
        assert [(s["start"], s["end"]) for s in row["sentences"]] == [tuple(s) for s in doc.sentences]
        assert row["source_file"] == doc.meta["source_file"]


def spans_from_bio(tags: list[str], starts: list[int], ends: list[int]) -> set[tuple[int, int, str]]:
    """Decode IOB2 back to character spans (the inverse the exports must satisfy)."""
    out, cur = set(), None
    for tag, s, e in zip(tags + ["O"], starts + [0], ends + [0]):
        if cur and not (tag.startswith("I-") and tag[2:] == cur[2]):
            out.add(tuple(cur))
            cur = None
        if tag.startswith("B-"):
            cur = [s, e, tag[2:]]
        elif tag.startswith("I-"):
            assert cur is not None, "I- tag without B-"
            cur[1] = e
    return out


def test_sentences_config_loads_and_maps_back_to_documents(exported, hf_train, tmp_path):
    import datasets

    sents = datasets.load_dataset(str(exported["out"] / "hf"), "sentences", cache_dir=str(tmp_path))["train"]
    assert sents.features["ner_tags"].feature.names == bio_tags()
    assert sents.features["spans"].feature["label"].names == list(ENTITY_LABELS)
    gold = {d.id: d for d in gold_docs()}
    assert len(sents) == sum(len(d.sentences) for d in gold.values())
    names = sents.features["spans"].feature["label"].names
    by_doc: dict[str, list] = {}
    for row in sents:
        by_doc.setdefault(row["doc_id"], []).append(row)
        for tok, start, end in zip(row["tokens"], row["token_starts"], row["token_ends"], strict=True):
            assert row["text"][start:end] == tok
        doc, shift = gold[row["doc_id"]], row["sentence_start"]
        assert doc.text[shift : shift + len(row["text"])] == row["text"]
        for sp in row["spans"]:
            assert doc.span_by_id()[sp["id"]].start == sp["start"] + shift
            assert row["text"][sp["start"] : sp["end"]] == sp["text"]
            assert doc.span_by_id()[sp["id"]].label == names[sp["label"]]
    for doc_row in hf_train:  # sentence rows, concatenated, are the document row
        rows = by_doc[doc_row["id"]]
        assert [t for r in rows for t in r["ner_tags"]] == doc_row["ner_tags"]
        assert [t for r in rows for t in r["tokens"]] == doc_row["tokens"]
        assert sorted(sp["id"] for r in rows for sp in r["spans"]) == sorted(sp["id"] for sp in doc_row["spans"])
        assert sum(len(r["relations"]) for r in rows) == len(doc_row["relations"])


def test_bio_tags_decode_back_to_every_gold_span(hf_train):
    names = hf_train.features["ner_tags"].feature.names
    gold = {d.id: d for d in gold_docs()}
    for row in hf_train:
        tags = [names[t] for t in row["ner_tags"]]
        decoded = spans_from_bio(tags, row["token_starts"], row["token_ends"])
        assert decoded == {(s.start, s.end, s.label) for s in gold[row["id"]].spans}


def test_docbin_bio_equals_parquet_bio_and_keeps_relations(exported, hf_train):
    names = hf_train.features["ner_tags"].feature.names
    parquet = {row["id"]: (row["tokens"], [names[t] for t in row["ner_tags"]]) for row in hf_train}
    gold = {d.id: d for d in gold_docs()}
    sdocs = read_docbin(exported["out"] / "spacy" / "all.spacy")
    documents = reassemble(sdocs)
    assert sorted(documents) == sorted(parquet)
    for doc_id, paras in documents.items():
        toks = [t for sdoc in paras for t in sdoc if not t.is_space]
        bio = [t.ent_iob_ + "-" + t.ent_type_ if t.ent_iob_ in ("B", "I") else "O" for t in toks]
        assert ([t.text for t in toks], bio) == parquet[doc_id]
        doc = gold[doc_id]
        by_id = doc.span_by_id()
        expected = [
            (by_id[r.head].start, by_id[r.head].end, by_id[r.child].start, by_id[r.child].end, r.label) for r in doc.relations
        ]
        got = [
            (h0 + p.user_data[OFFSET], h1 + p.user_data[OFFSET], c0 + p.user_data[OFFSET], c1 + p.user_data[OFFSET], lab)
            for p in paras
            for h0, h1, c0, c1, lab in p.user_data["relations"]
        ]
        assert sorted(got) == sorted(expected)
        assert [s.start_char + p.user_data[OFFSET] for p in paras for s in p.sents] == [s for s, _ in doc.sentences]


def test_conll_equals_parquet_bio_sentence_by_sentence(exported, hf_train):
    names = hf_train.features["ner_tags"].feature.names
    sents = read_conll((exported["out"] / "conll" / "gold.conll").read_text(encoding="utf-8"))
    gold = {d.id: d for d in gold_docs()}
    for row in hf_train:
        mine = [s for s in sents if s["doc_id"] == row["id"]]
        assert len(mine) == len(gold[row["id"]].sentences)
        assert [t for s in mine for t in s["tokens"]] == row["tokens"]
        assert [t for s in mine for t in s["tags"]] == [names[t] for t in row["ner_tags"]]
    text = (exported["out"] / "conll" / "gold.conll").read_text(encoding="utf-8")
    assert "# doc_id = doc-a\n# sent_id = doc-a-0\n" in text
    assert "phố\tI-AGENCY\n;\tO\n" in text  # the project tokenizer splits "phố;"


def test_folds_leave_one_document_out(exported):
    folds = read_folds(exported["root"] / "gold" / "folds.json")
    assert folds["scheme"] == "leave-one-document-out"
    ids = ["doc-a", "doc-b", "doc-c"]
    assert [f["test"] for f in folds["folds"]] == [[i] for i in ids]
    assert sorted(f["dev"][0] for f in folds["folds"]) == ids
    for f in folds["folds"]:
        assert f["name"] == f"fold-{f['test'][0]}"
        assert f["dev"] != f["test"]
        assert sorted(f["test"] + f["dev"] + f["train"]) == ids
    assert make_folds(list(reversed(ids))) == folds


def test_fold_docbins_hold_the_fold_documents(exported):
    folds = read_folds(exported["root"] / "gold" / "folds.json")
    nlp = blank_vi()
    for f in folds["folds"]:
        for part in ("train", "dev", "test"):
            sdocs = read_docbin(exported["out"] / "spacy" / "folds" / f["name"] / f"{part}.spacy", nlp)
            assert list(reassemble(sdocs)) == f[part]


def test_folds_need_three_documents():
    with pytest.raises(VnreorgError, match="at least 3"):
        make_folds(["x", "y"])


def test_card_yaml_and_sections(exported):
    card = (exported["out"] / "hf" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["language"] == ["vi"] and meta["license"] == "other"
    assert meta["task_categories"] == ["token-classification"]
    assert [c["config_name"] for c in meta["configs"]] == ["documents", "sentences"]
    assert meta["configs"][0]["default"] is True
    assert meta["configs"][0]["data_files"][0]["path"] == "data/train-*.parquet"
    assert meta["dataset_info"][0]["splits"][0]["num_examples"] == 3
    assert meta["dataset_info"][1]["splits"][0]["num_examples"] == 5  # sentences: 2 + 1 + 2
    assert "copyright" in card and "Báo Sóc Trăng, 14/05/2018" in card  # licence note and SOURCES.md
    assert "annotation/GUIDELINES.md" in card
    assert "| spans_strict.AGENCY" not in card  # grids render as tables, not dotted keys
    assert "| AGENCY | 0.900 | 10 |" in card and "**relations**\n\n| measure | value |\n|---|---|\n| f1 | 0.600 |" in card
    assert "| document | who | pass | date |\n|---|---|---|---|\n| doc-a | test | fixture | 2026-11-23 |" in card
    assert "| doc-c | 4 | True |" in card  # review.json rendered
    assert "(from AGREEMENT.md):\n\n- Both passes were made by one team.\n\n|" in card  # caveats, not the rest
    assert "## Other" not in card
    assert "0 of 3 documents have at least two annotation passes" in card  # fixture: one pass each
    assert "| fold-doc-a | doc-a | doc-b | doc-c |" in card


def test_export_is_reproducible(exported, tmp_path):
    again = export_all(
        exported["gold"], tmp_path / "export", folds_path=tmp_path / "folds.json", sources_path=exported["root"] / "SOURCES.md"
    )
    for kind in ("hf", "spacy", "conll"):
        for path in again[kind]:
            twin = exported["out"] / path.relative_to(tmp_path / "export")
            assert path.read_bytes() == twin.read_bytes(), path
    assert (tmp_path / "folds.json").read_bytes() == (exported["root"] / "gold" / "folds.json").read_bytes()


def test_export_rewrites_stale_folds(tmp_path):
    from vnreorg.corpus.export_folds import write_folds

    gold = tmp_path / "gold.jsonl"
    write_documents(gold, gold_docs())
    write_folds(tmp_path / "folds.json", make_folds(["doc-a", "doc-b", "doc-gone"]))
    stale = tmp_path / "export" / "spacy" / "folds" / "fold-doc-gone"
    stale.mkdir(parents=True)
    (stale / "train.spacy").write_bytes(b"")
    foreign = tmp_path / "export" / "spacy" / "folds" / "fold-mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not ours")
    export_all(gold, tmp_path / "export")
    assert read_folds(tmp_path / "folds.json") == make_folds(["doc-a", "doc-b", "doc-c"])
    assert not stale.exists()  # a fold folder we wrote for a document no longer in gold
    assert (foreign / "notes.txt").exists()  # a folder holding anything else is left alone


def test_export_refuses_invalid_gold_with_location(tmp_path):
    docs = gold_docs()
    docs[2].spans[1].end -= 1  # "Phòng Y t": ends inside a token
    gold = tmp_path / "gold.jsonl"
    write_documents(gold, docs)
    with pytest.raises(VnreorgError, match=r"doc=doc-b span=T2 offset=\d+"):
        export_all(gold, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_unaligned_span_is_an_error_in_every_token_export_never_dropped():
    doc = gold_docs()[1]
    doc.spans[0].end -= 2  # "Thành ủy Sóc Tră"
    with pytest.raises(VnreorgError, match=f"doc=doc-a span=T1 offset={doc.spans[0].start}"):
        bio_tags_for(doc, doc_tokens(doc))
    with pytest.raises(VnreorgError, match=f"doc=doc-a span=T1 offset={doc.spans[0].start}"):
        document_to_docs(blank_vi(), doc)


def test_tokens_outside_sentences_are_kept():
    doc = gold_docs()[0]
    doc.sentences = doc.sentences[1:]  # first sentence missing from the offsets
    groups = sentence_groups(doc, doc_tokens(doc))
    assert sum(len(idx) for _, idx in groups) == len(doc_tokens(doc))
    assert groups[0][0] == "doc-c-gap0"


@pytest.mark.e2e
def test_committed_exports_are_derived_from_current_gold(tmp_path):
    """corpus/export and corpus/gold/folds.json are exactly what `vnreorg corpus export` makes from gold now.

    If this fails, gold changed after the last export: run `vnreorg corpus export` and commit the result.
    """
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    committed = repo / "corpus" / "export"
    if not (committed / "hf" / "README.md").exists():
        pytest.fail("corpus/export is missing: run `vnreorg corpus export`")
    fresh = export_all(
        repo / "corpus" / "gold" / "gold.jsonl",
        tmp_path / "export",
        folds_path=tmp_path / "folds.json",
        sources_path=repo / "seeds" / "SOURCES.md",
    )
    rel = {str(p.relative_to(tmp_path / "export")): p for kind in ("hf", "spacy", "conll") for p in fresh[kind]}
    present = {str(p.relative_to(committed)) for p in committed.rglob("*") if p.is_file()}
    assert present == set(rel), f"files differ from a fresh export: {sorted(present ^ set(rel))}"
    stale = [name for name, p in rel.items() if (committed / name).read_bytes() != p.read_bytes()]
    assert stale == [], f"stale exports (run `vnreorg corpus export`): {stale}"
    assert (repo / "corpus" / "gold" / "folds.json").read_bytes() == (tmp_path / "folds.json").read_bytes()


@pytest.mark.e2e
def test_committed_parquet_dataset_loads_offline(tmp_path):
    """The committed dataset loads with `datasets.load_dataset("corpus/export/hf")`, one row per gold document."""
    from pathlib import Path

    import datasets

    from vnreorg.jsonio import read_documents

    repo = Path(__file__).resolve().parents[1]
    ds = datasets.load_dataset(str(repo / "corpus" / "export" / "hf"), cache_dir=str(tmp_path))["train"]
    gold = read_documents(repo / "corpus" / "gold" / "gold.jsonl")
    assert sorted(ds["id"]) == sorted(d.id for d in gold)
    assert ds.features["ner_tags"].feature.names == bio_tags()
    assert sum(len(s) for s in ds["spans"]) == sum(len(d.spans) for d in gold)
    assert sum(len(r) for r in ds["relations"]) == sum(len(d.relations) for d in gold)


def test_bio_matches_spacy_and_seqeval_peers():
    """Cross-check: our IOB2 equals spaCy's offsets_to_biluo_tags -> biluo_to_iob, and seqeval decodes it
    back to the gold spans (token indices)."""
    from seqeval.metrics.sequence_labeling import get_entities
    from spacy.training import biluo_to_iob, offsets_to_biluo_tags

    nlp = blank_vi()
    for doc in gold_docs():
        tokens = doc_tokens(doc)
        ours = bio_tags_for(doc, tokens)
        sdoc = nlp.make_doc(doc.text)
        peer = biluo_to_iob(offsets_to_biluo_tags(sdoc, [(s.start, s.end, s.label) for s in doc.spans]))
        assert [t for t, tok in zip(peer, sdoc, strict=True) if not tok.is_space] == ours
        index = {t.start: i for i, t in enumerate(tokens)}
        end_index = {t.end: i for i, t in enumerate(tokens)}
        expected = sorted((s.label, index[s.start], end_index[s.end]) for s in doc.spans)
        assert sorted(get_entities(ours)) == expected


ROUNDTRIP_TEXT = "Sáp nhập Phòng Y tế vào Phòng Nội vụ thành phố; giảm 03 tổ dân phố, 10% biên chế (năm 2018)."


@st.composite
def flat_spans(draw):
    """Random flat spans on token edges of ROUNDTRIP_TEXT, with random labels."""
    from vnreorg.corpus.tokenize import tokenize

    n = len(tokenize(ROUNDTRIP_TEXT))
    cuts = sorted(draw(st.sets(st.integers(0, n), max_size=12)))
    runs = [(a, b) for a, b in zip(cuts, cuts[1:]) if draw(st.booleans())]
    return [(a, b, draw(st.sampled_from(ENTITY_LABELS))) for a, b in runs]


@settings(max_examples=50, deadline=None)
@given(flat_spans())
def test_bio_round_trip_is_identity(runs):
    """Law: spans -> IOB2 -> spans is the identity for any flat spans on token edges."""
    doc = Document("rt", ROUNDTRIP_TEXT, sentences=[(0, len(ROUNDTRIP_TEXT))])
    tokens = doc_tokens(doc)
    doc.spans = [Span(f"T{i}", tokens[a].start, tokens[b - 1].end, lab) for i, (a, b, lab) in enumerate(runs)]
    tags = bio_tags_for(doc, tokens)
    decoded = spans_from_bio(tags, [t.start for t in tokens], [t.end for t in tokens])
    assert decoded == {(s.start, s.end, s.label) for s in doc.spans}
