"""Label Studio round trips without a server: config, the offset rule, conversion, diff, bad input.

The real-server tests are in test_annotation_server.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnreorg import schema
from vnreorg.annotation import server as ls_server
from vnreorg.annotation.client import resolve_connection
from vnreorg.annotation.convert import (
    Choice,
    convert_export,
    document_to_task,
    parse_export,
    read_export,
    results_to_annotation,
    tasks_for_documents,
)
from vnreorg.annotation.diff import diff_documents
from vnreorg.annotation.labelconfig import labeling_config
from vnreorg.annotation.offsets import OFFSET_FIELD, OFFSET_UNIT, OffsetMap
from vnreorg.annotation.pull import plan_pull, write_gold
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents, write_documents
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, Relation, Span, nfc, relation_allowed


def u16(s: str) -> int:
    """UTF-16 length computed independently of the code under test (as JavaScript's String.length)."""
    return len(s.encode("utf-16-le")) // 2


def span_at(doc: Document, sid: str, needle: str, label: str, nth: int = 0, score: float | None = None) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = doc.text.index(needle, start + 1)
    return Span(sid, start, start + len(needle), label, score)


def sample_doc() -> Document:
    text = nfc("😀 Sáp nhập Sở Nội vụ vào Sở Lao động 🇻🇳, giảm 12 đơn vị.\r\nBí thư Tỉnh ủy phát biểu. 👩‍💼")
    cut = text.index("\r\n")
    doc = Document(id="doc-1", text=text, meta={"title": "Thử nghiệm"}, sentences=[(0, cut), (cut + 2, len(text))])
    doc.spans = [
        span_at(doc, "a", "Sáp nhập", "MERGE_ACTION"),
        span_at(doc, "b", "Sở Nội vụ", "AGENCY"),
        span_at(doc, "c", "Sở Lao động", "AGENCY"),
        span_at(doc, "d", "12", "NUMBER"),
        span_at(doc, "e", "Bí thư Tỉnh ủy", "TITLE"),
    ]
    doc.relations = [Relation("a", "b", "source"), Relation("a", "c", "target"), Relation("a", "d", "amount")]
    return doc


def as_export(tasks: list[dict], *, annotator: int = 1, start_id: int = 1) -> list[dict]:
    """What Label Studio's JSON export returns for imported tasks (ids and bookkeeping added), via real JSON."""
    out = json.loads(json.dumps(tasks, ensure_ascii=False))
    for n, t in enumerate(out, start_id):
        t["id"] = n
        for k, a in enumerate(t.get("annotations", []), 1):
            a.update(
                id=n * 100 + k,
                completed_by=annotator,
                was_cancelled=False,
                created_at="2026-11-23T18:00:00Z",
                updated_at=f"2026-11-23T18:00:{k:02d}Z",
            )
        for k, p in enumerate(t.get("predictions", []), 1):
            p["id"] = n * 100 + k
    return out


# --------------------------------------------------------------------------- config


def test_config_derives_from_schema():
    root = ET.fromstring(labeling_config())
    labels = root.find("Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    assert [e.get("value") for e in labels.findall("Label")] == list(ENTITY_LABELS)
    assert [e.get("value") for e in root.find("Relations").findall("Relation")] == list(RELATION_LABELS)
    assert root.find("Text").get("value") == "$text"
    assert (
        root.find("Style").text.strip() == ".lsf-htx-richtext { white-space: pre-wrap; }"
    )  # the class 1.23.2 renders (test_browser checks it applies)


def test_config_follows_a_schema_change(monkeypatch):
    monkeypatch.setattr(schema, "ENTITY_LABELS", (*schema.ENTITY_LABELS, "PERSON"))
    monkeypatch.setattr(schema, "RELATION_LABELS", (*schema.RELATION_LABELS, "leader"))
    root = ET.fromstring(labeling_config())
    assert "PERSON" in [e.get("value") for e in root.find("Labels").findall("Label")]
    assert "leader" in [e.get("value") for e in root.find("Relations").findall("Relation")]


def test_config_parses_with_the_sdk():
    from label_studio_sdk.label_interface import LabelInterface

    li = LabelInterface(labeling_config())
    assert li.get_control("label").labels == list(ENTITY_LABELS)


# --------------------------------------------------------------------------- UTF-16 offsets


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_offset_map_matches_javascript_indices(text):
    omap = OffsetMap(text)
    assert omap.utf16_length == u16(text)
    for cp in range(len(text) + 1):
        unit = omap.to_utf16(cp)
        assert unit == u16(text[:cp])
        assert omap.from_utf16(unit) == cp


def test_offset_inside_a_surrogate_pair_is_refused():
    omap = OffsetMap("a😀b")
    assert omap.to_utf16(2) == 3
    with pytest.raises(ValueError, match="surrogate pair"):
        omap.from_utf16(2)
    with pytest.raises(ValueError, match="outside"):
        omap.from_utf16(5)


def test_task_offsets_are_code_points_marked_and_carry_their_text():
    """The measured rule (Label Studio 1.23.2's browser counts code points): pushed offsets are Python offsets."""
    doc = sample_doc()
    task = document_to_task(doc)
    assert task["data"][OFFSET_FIELD] == OFFSET_UNIT == "codepoint"
    regions = [r for r in task["annotations"][0]["result"] if r["type"] == "labels"]
    for span, region in zip(doc.spans, regions):
        assert (region["value"]["start"], region["value"]["end"]) == (span.start, span.end)
        assert region["value"]["text"] == doc.text[span.start : span.end]
    # After the leading emoji a code-point offset is one less than the UTF-16 one.
    assert regions[0]["value"]["start"] == u16(doc.text[: doc.spans[0].start]) - 1


def _legacy(task: dict, doc: Document, only: set[str] | None = None) -> dict:
    """A task as vnreorg wrote it before the code-point rule: no marker, UTF-16 offsets (for `only` regions)."""
    task["data"].pop(OFFSET_FIELD)
    for r in _regions(task):
        if only is None or r["id"] in only:
            s = next(x for x in doc.spans if x.id == r["id"])
            r["value"]["start"], r["value"]["end"] = u16(doc.text[: s.start]), u16(doc.text[: s.end])
    return task


def test_legacy_utf16_tasks_are_recognised_and_converted_even_when_mixed():
    doc = sample_doc()
    whole = _export_with(doc, lambda t: _legacy(t, doc))
    assert convert_export(whole).documents[0].spans == doc.spans
    # Some regions pushed under the old rule, others drawn since by the browser in code points.
    mixed = _export_with(doc, lambda t: _legacy(t, doc, only={"a", "c"}))
    assert convert_export(mixed).documents[0].spans == doc.spans


def test_a_legacy_region_that_fits_both_rules_is_refused():
    doc = Document("amb", "😀 BBB", spans=[Span("x", 2, 4, "AGENCY")])
    task = _export_with(doc, lambda t: _legacy(t, doc))
    assert _regions(task[0])[0]["value"]["start"] == 3  # "BB" as code points [3:5] too: which rule wrote it?
    with pytest.raises(VnreorgError, match="legacy task .*fits both"):
        convert_export(task)
    task[0]["data"][OFFSET_FIELD] = OFFSET_UNIT  # once marked, the rule is known
    assert convert_export(task).documents[0].spans == [Span("x", 3, 5, "AGENCY")]


def test_code_point_offsets_are_required_on_marked_tasks_with_a_hint_for_utf16():
    doc = sample_doc()
    utf16 = _export_with(doc, lambda t: (_legacy(t, doc), t["data"].update({OFFSET_FIELD: OFFSET_UNIT})))
    with pytest.raises(VnreorgError, match=r"offsets drifted.*read as UTF-16 units") as exc:
        convert_export(utf16)
    assert "task 1 doc=doc-1 annotation 101 region 'a' offset 3" in str(exc.value)


# --------------------------------------------------------------------------- the lossless round trip

FRAGMENTS = [
    "Sở",
    "Nội vụ",
    "sáp nhập",
    "hợp nhất",
    "Ủy ban",
    "Bộ",
    "Tỉnh ủy",
    "Đảng",
    "huyện",
    "12",
    "30%",
    "ABC",
    "x",
    " ",
    " ",
    ",",
    ".",
    "\n",
    "\r\n",
    "\t",
    "😀",
    "🇻🇳",
    "👩‍💼",
    "𝔸",
    "🙏🏽",
    "q\u0303",
    "\u00a0",
]
NFD_FRAGMENTS = [unicodedata.normalize("NFD", f) for f in ["Sở", "Nội vụ", "hợp nhất", "Ủy ban", "Đảng", "Tỉnh ủy", "ế", "ặ"]]


@st.composite
def documents(draw, scored: bool = False):
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(FRAGMENTS + NFD_FRAGMENTS),
                st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=3),
            ),
            min_size=1,
            max_size=25,
        )
    )
    text = nfc("".join(pieces))
    n = len(text)
    cuts = set(draw(st.lists(st.integers(0, n), max_size=12)))
    if draw(st.booleans()):
        cuts.add(0)  # a span at the very start
    if draw(st.booleans()):
        cuts.add(n)  # and at the very end
    cuts = sorted(cuts)
    keep = draw(st.lists(st.booleans(), min_size=max(len(cuts) - 1, 0), max_size=max(len(cuts) - 1, 0)))
    bounds = [(cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1) if keep[i]]  # adjacent spans happen too
    ids = draw(
        st.lists(
            st.text(alphabet="abcXYZ019_-:", min_size=1, max_size=10), min_size=len(bounds), max_size=len(bounds), unique=True
        )
    )
    score = st.floats(0, 1, allow_nan=False) if scored else st.none()
    spans = [Span(i, s, e, draw(st.sampled_from(ENTITY_LABELS)), draw(score)) for i, (s, e) in zip(ids, bounds)]
    relations = []
    for h in spans:
        for c in spans:
            allowed = [lab for lab in RELATION_LABELS if relation_allowed(lab, h.label, c.label)]
            if allowed and draw(st.booleans()):
                relations.append(Relation(h.id, c.id, draw(st.sampled_from(allowed)), draw(score)))
    doc_id = draw(st.text(alphabet="0123456789abcdef", min_size=4, max_size=16))
    return Document(
        id=doc_id, text=text, meta={"title": draw(st.sampled_from(["", "Tiêu đề 😀"]))}, spans=spans, relations=relations
    )


def _key(doc: Document):
    """What a round trip must keep; a span's recorded `text` is derived (converted spans always carry it)."""
    spans = [{k: v for k, v in s.to_dict().items() if k != "text"} for s in doc.spans]
    return (doc.id, doc.text, spans, [r.to_dict() for r in doc.relations])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_corpus_to_tasks_to_export_to_corpus_is_the_identity(doc):
    assert nfc(doc.text) == doc.text
    exported = as_export([document_to_task(doc)])
    result = convert_export(exported, base={doc.id: doc})
    if doc.spans or doc.relations:
        assert [_key(d) for d in result.documents] == [_key(doc)]
        assert result.documents[0].meta == doc.meta
    else:
        assert result.documents == [] and result.unannotated == [(1, doc.id)]
    # Without the corpus at hand (a hand export), ids, text, spans and relations still come back.
    rebuilt = convert_export(exported).documents
    assert [_key(d) for d in rebuilt] == ([_key(doc)] if doc.spans or doc.relations else [])


@settings(max_examples=60, deadline=None)
@given(documents(scored=True))
def test_predictions_round_trip_with_scores(doc):
    plain = Document(id=doc.id, text=doc.text, meta=doc.meta)
    task = document_to_task(plain, prediction=doc, model_version="m-1")
    assert "annotations" not in task
    pred = task["predictions"][0]
    assert pred["model_version"] == "m-1"
    scores = [x.score for x in [*doc.spans, *doc.relations]]
    assert (pred.get("score") is None) == (not scores)
    back = convert_export(as_export([task]), base={doc.id: plain}).predictions[doc.id]
    assert _key(back) == _key(doc)


# --------------------------------------------------------------------------- traps and bad input


def _export_with(doc: Document, mutate) -> list[dict]:
    exported = as_export([document_to_task(doc)])
    mutate(exported[0])
    return exported


def _regions(task):
    return [r for r in task["annotations"][0]["result"] if r["type"] == "labels"]


def test_region_text_that_disagrees_with_its_offsets_is_refused():
    doc = sample_doc()

    def drift(task):
        r = _regions(task)[1]
        r["value"]["start"] += 1
        r["value"]["end"] += 1

    with pytest.raises(VnreorgError, match="region 'b'.*differs from the text"):
        convert_export(_export_with(doc, drift))


def test_region_text_with_collapsed_whitespace_is_accepted_but_a_shift_is_not():
    doc = Document("ws", nfc("Sở  Nội\r\nvụ và Bộ Tài chính"), spans=[Span("x", 0, 11, "AGENCY")])
    task = as_export([document_to_task(doc)])
    _regions(task[0])[0]["value"]["text"] = "Sở Nội vụ"  # as a browser without pre-wrap saves it
    assert convert_export(task).documents[0].spans == doc.spans
    _regions(task[0])[0]["value"].update(start=1, end=12)  # same claim, offsets one further
    with pytest.raises(VnreorgError, match="offsets drifted"):
        convert_export(task)


def test_region_end_inside_a_surrogate_pair_is_refused():
    doc = Document("d", "🇻🇳 Bộ", spans=[Span("x", 0, 1, "AGENCY")])

    def split(task):
        _regions(task)[0]["value"].update(end=1, text="\ud83c")

    with pytest.raises(VnreorgError, match="offsets drifted"):
        convert_export(json.loads(json.dumps(_export_with(doc, split))))
    with pytest.raises(VnreorgError, match="legacy task .*neither as code points nor as UTF-16"):
        convert_export(json.loads(json.dumps(_export_with(doc, lambda t: (split(t), t["data"].pop(OFFSET_FIELD))))))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda t: _regions(t)[0]["value"].update(labels=["PERSON"]), "unknown label 'PERSON'"),
        (lambda t: _regions(t)[0]["value"].update(labels=["AGENCY", "TITLE"]), "exactly one label"),
        (
            lambda t: t["annotations"][0]["result"].append(
                {"type": "relation", "from_id": "a", "to_id": "zzz", "labels": ["source"]}
            ),
            "relation to a missing region 'zzz'",
        ),
        (
            lambda t: t["annotations"][0]["result"].append(
                {"type": "relation", "from_id": "b", "to_id": "c", "labels": ["source"]}
            ),
            "not allowed by the schema",
        ),
        (
            lambda t: t["annotations"][0]["result"].append(
                {"type": "relation", "from_id": "a", "to_id": "b", "labels": ["owns"]}
            ),
            "unknown relation label 'owns'",
        ),
        (
            lambda t: t["annotations"][0]["result"].append({"type": "relation", "from_id": "a", "to_id": "b", "labels": []}),
            "exactly one label",
        ),
        (
            lambda t: t["annotations"][0]["result"].append(
                {**copy.deepcopy(_regions(t)[1]), "id": "b2", "value": {**_regions(t)[1]["value"], "labels": ["TITLE"]}}
            ),
            "overlapping spans 'b'",
        ),
        (
            lambda t: t["annotations"][0]["result"].append({"type": "choices", "id": "q", "value": {"choices": ["x"]}}),
            "unexpected result type 'choices'",
        ),
        (lambda t: _regions(t)[0].update(from_name="ner"), "expected 'label' to 'text'"),
        (lambda t: _regions(t)[0]["value"].pop("text"), "no `text` to check"),
        (lambda t: t["data"].update(text=unicodedata.normalize("NFD", t["data"]["text"])), "not NFC"),
        (lambda t: t["data"].pop("doc_id"), "no `data.doc_id`"),
    ],
)
def test_bad_exports_raise_one_located_error(mutate, message):
    doc = sample_doc()
    with pytest.raises(VnreorgError, match=message) as exc:
        convert_export(_export_with(doc, mutate))
    assert "task 1" in str(exc.value)


def test_task_text_different_from_the_corpus_is_refused():
    doc = sample_doc()
    changed = copy.deepcopy(doc)
    changed.text = doc.text.replace("Sở Lao động", "Sở Lao đông")
    with pytest.raises(VnreorgError, match=r"task 1 doc=doc-1.*differs from the corpus text at offset \d+"):
        convert_export(as_export([document_to_task(doc)]), base={doc.id: changed})


def test_relation_drawn_backwards_is_read_by_its_direction():
    doc = sample_doc()

    def flip(task):
        rel = task["annotations"][0]["result"][-1]
        rel["from_id"], rel["to_id"], rel["direction"] = rel["to_id"], rel["from_id"], "left"

    assert convert_export(_export_with(doc, flip)).documents[0].relations == doc.relations

    def wrong_way(task):
        rel = task["annotations"][0]["result"][-1]
        rel["from_id"], rel["to_id"] = rel["to_id"], rel["from_id"]

    with pytest.raises(VnreorgError, match="amount relation from NUMBER to MERGE_ACTION is drawn the wrong way round: flip"):
        convert_export(_export_with(doc, wrong_way))

    def both_ways(task):
        task["annotations"][0]["result"][-1]["direction"] = "bi"

    assert convert_export(_export_with(doc, both_ways)).documents[0].relations == doc.relations


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"{not json", "not a JSON export"),
        (b'{"a": 1}', "expected a JSON list"),
        (b'[{"text": "x"}]', "no `data` object"),
    ],
)
def test_empty_or_malformed_export_files(tmp_path, content, message):
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(VnreorgError, match=message):
        read_export(path)


def test_bad_documents_are_refused_before_any_push():
    doc = sample_doc()
    nfd = Document("n", unicodedata.normalize("NFD", "Sở Nội vụ"))
    with pytest.raises(VnreorgError, match="doc=n.*not NFC"):
        tasks_for_documents([nfd])
    overlapping = copy.deepcopy(doc)
    overlapping.spans.append(Span("z", doc.spans[1].end - 1, doc.spans[1].end + 2, "TITLE"))  # one character shared
    with pytest.raises(VnreorgError, match="doc=doc-1.*overlapping spans 'b'"):
        tasks_for_documents([overlapping])
    adjacent = copy.deepcopy(doc)
    adjacent.spans.append(Span("z", doc.spans[1].end, doc.spans[1].end + 1, "TITLE"))
    tasks_for_documents([adjacent])
    dangling = copy.deepcopy(doc)
    dangling.relations.append(Relation("a", "gone", "target"))
    with pytest.raises(VnreorgError, match="relation to a missing span 'gone'"):
        tasks_for_documents([dangling])
    with pytest.raises(VnreorgError, match="duplicate document id"):
        tasks_for_documents([doc, doc])
    stray = Document("other", "x", spans=[Span("s", 0, 1, "NUMBER", 0.5)])
    with pytest.raises(VnreorgError, match="prediction for a document that is not being pushed"):
        tasks_for_documents([doc], predictions=[stray])


# --------------------------------------------------------------------------- several annotations, skipped tasks


def _two_annotators() -> tuple[Document, list[dict]]:
    doc = sample_doc()
    exported = as_export([document_to_task(doc)])
    second = copy.deepcopy(exported[0]["annotations"][0])
    second["result"] = [r for r in second["result"] if r.get("id") != "e"]  # annotator 2 dropped the TITLE
    second.update(id=999, completed_by=2, updated_at="2026-11-24T09:00:00Z")
    exported[0]["annotations"].append(second)
    return doc, exported


def test_several_annotations_need_an_explicit_choice():
    doc, exported = _two_annotators()
    with pytest.raises(VnreorgError, match=r"several annotations: task 1 doc=doc-1 \(a@x, b@x\).*--choose"):
        convert_export(exported, users={1: "a@x", 2: "b@x"})
    latest = convert_export(exported, choose=Choice.parse("latest"), users={1: "a@x", 2: "b@x"})
    assert latest.chosen[doc.id].annotator == "b@x" and len(latest.documents[0].spans) == 4
    assert len(latest.all_annotations) == 2 and latest.several == [(1, doc.id, ["a@x", "b@x"])]
    by_a = convert_export(exported, choose=Choice.parse("annotator:a@x"), users={1: "a@x", 2: "b@x"})
    assert len(by_a.documents[0].spans) == 5
    by_id = convert_export(exported, choose=Choice.parse("annotator:2"))
    assert by_id.chosen[doc.id].annotation_id == 999
    nobody = convert_export(exported, choose=Choice.parse("annotator:7"))
    assert nobody.documents == [] and nobody.not_by_annotator == [(1, doc.id)]
    with pytest.raises(VnreorgError, match="user id only"):
        convert_export(exported, choose=Choice.parse("annotator:a@x"))
    with pytest.raises(VnreorgError, match="unknown choice"):
        Choice.parse("first")


def test_scores_copied_from_predictions_into_annotations_stay_out_of_gold():
    doc = sample_doc()
    scored = copy.deepcopy(doc)
    for x in [*scored.spans, *scored.relations]:
        x.score = 0.8
    exported = as_export([document_to_task(scored)])  # as if the annotator accepted a scored prediction
    assert all("score" in r for r in exported[0]["annotations"][0]["result"])
    back = convert_export(exported).documents[0]
    assert _key(back) == _key(doc) and all(x.score is None for x in [*back.spans, *back.relations])


def test_skipped_and_unannotated_tasks_are_reported_not_converted():
    doc = sample_doc()
    other = Document("doc-2", "Bộ Nội vụ")
    exported = as_export([document_to_task(doc), document_to_task(other)])
    exported[0]["annotations"][0]["was_cancelled"] = True
    result = convert_export(exported)
    assert result.documents == []
    assert result.skipped == [(1, doc.id, ["1"])] and result.unannotated == [(2, "doc-2")]


def test_two_tasks_for_one_document_are_refused():
    doc = sample_doc()
    exported = as_export([document_to_task(doc), document_to_task(doc)])
    with pytest.raises(VnreorgError, match="two tasks carry the same document"):
        convert_export(exported)


# --------------------------------------------------------------------------- diff and pull


def test_diff_reports_added_removed_changed():
    old = sample_doc()
    new = copy.deepcopy(old)
    new.spans = [s for s in new.spans if s.id != "d"]  # NUMBER removed (and its relation)
    new.spans[1] = Span("b", new.spans[1].start, new.spans[1].end, "TITLE")  # label changed
    new.spans[2] = Span("c-redrawn", new.spans[2].start, new.spans[2].end, "AGENCY")  # same region, new id
    new.spans.append(span_at(new, "new1", "vào", "MERGE_ACTION"))
    new.relations = [Relation("a", "c-redrawn", "source")]
    d = diff_documents(old, new)
    assert [s.id for s in d.spans_added] == ["new1"]
    assert [s.id for s in d.spans_removed] == ["d"]
    assert [(a.label, b.label) for a, b in d.spans_changed] == [("AGENCY", "TITLE")]
    assert sorted(x[0] for x in d.relations_removed) == ["amount", "source"]
    assert [(o, n) for o, n, *_ in d.relations_changed] == [("target", "source")]
    assert not diff_documents(old, copy.deepcopy(old)).changed


def test_pull_plan_writes_only_changes_and_keeps_a_backup(tmp_path):
    doc = sample_doc()
    untouched = Document("doc-0", "Bộ Tài chính", sentences=[(0, 12)], spans=[Span("t", 0, 12, "AGENCY")])
    gold_path = tmp_path / "gold.jsonl"
    write_documents(gold_path, [untouched, doc])
    before = gold_path.read_bytes()
    edited = copy.deepcopy(doc)
    edited.spans.append(span_at(edited, "f", "giảm", "MERGE_ACTION"))
    newdoc = Document("doc-9", "Giải thể 3 ban.", meta={"title": "Mới"}, paragraphs=[(0, 15)])
    newdoc.spans = [Span("g", 0, 8, "MERGE_ACTION"), Span("h", 9, 10, "NUMBER")]
    newdoc.relations = [Relation("g", "h", "amount")]
    exported = as_export([document_to_task(x) for x in (untouched, edited, newdoc)])
    plan = plan_pull(
        exported,
        gold=read_documents(gold_path),
        documents=[Document("doc-9", newdoc.text, meta={"title": "Mới"}, paragraphs=[(0, 15)], sentences=[(0, 15)])],
        gold_path=gold_path,
    )
    assert plan.problems == []
    assert [d.doc_id for d in plan.changed] == ["doc-1", "doc-9"]
    assert gold_path.read_bytes() == before  # planning writes nothing
    saved = write_gold(gold_path, plan)
    assert saved is not None and saved.read_bytes() == before
    after = read_documents(gold_path)
    assert [d.id for d in after] == ["doc-0", "doc-1", "doc-9"]
    assert after[0].to_dict() == untouched.to_dict()  # unchanged document: byte-for-byte the same record
    assert "f" in after[1].span_by_id() and after[1].provenance[-1]["pass"] == "label-studio"
    assert after[2].paragraphs == [(0, 15)] and after[2].relations == newdoc.relations


def test_pull_refuses_to_write_what_the_gold_validator_rejects(tmp_path):
    doc = sample_doc()
    gold_path = tmp_path / "gold.jsonl"
    write_documents(gold_path, [doc])
    before = gold_path.read_bytes()
    edited = copy.deepcopy(doc)
    edited.spans.append(span_at(edited, "bad", "phát biể", "TITLE"))  # ends inside a word: not on a token edge
    plan = plan_pull(as_export([document_to_task(edited)]), gold=[doc], gold_path=gold_path, strict=True)
    assert [(p.doc_id, p.span_id) for p in plan.problems] == [("doc-1", "bad")]
    assert str(plan.problems[0]).startswith(f"{gold_path}:1 doc=doc-1 span=bad offset=")
    with pytest.raises(VnreorgError, match="1 problem.*gold not changed"):
        write_gold(gold_path, plan)
    assert gold_path.read_bytes() == before and not list(tmp_path.glob("*.bak-*"))
    # Not strict: the document is left out (gold unchanged for it) and reported with its task and annotation.
    lenient = plan_pull(as_export([document_to_task(edited)]), gold=[doc], gold_path=gold_path)
    assert not lenient.problems and not lenient.changed and lenient.gold == [doc]
    assert (
        len(lenient.bad) == 1 and lenient.bad[0].startswith("task 1 doc=doc-1 annotation 101: ") and "span=bad" in lenient.bad[0]
    )


def test_pull_applies_good_tasks_and_reports_each_bad_one(tmp_path):
    """One unlabelled relation and one drifted region: those two tasks are reported, the third is applied."""
    docs = [copy.deepcopy(sample_doc()) for _ in range(3)]
    for n, d in enumerate(docs):
        d.id = f"doc-{n}"
    tasks = as_export([document_to_task(d) for d in docs])
    tasks[0]["annotations"][0]["result"][-1]["labels"] = []  # a relation drawn but never labelled
    _regions(tasks[2])[1]["value"]["start"] += 1  # drifted region 'b'
    plan = plan_pull(tasks, gold=[], documents=docs)
    assert [d.id for d in plan.gold] == ["doc-1"] and not plan.problems
    assert len(plan.bad) == 2
    assert plan.bad[0].startswith(
        "export task 1 doc=doc-0 annotation 101 relation 'a'->'d': a relation must carry exactly one label"
    )
    assert (
        plan.bad[1].startswith("export task 3 doc=doc-2 annotation 301 region 'b' offset 12: ")
        and "offsets drifted" in plan.bad[1]
    )
    with pytest.raises(VnreorgError, match="task 1 doc=doc-0 .*exactly one label"):
        plan_pull(tasks, gold=[], documents=docs, strict=True)


# --------------------------------------------------------------------------- CLI and environment


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vnreorg.cli", "annotate", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_convert_both_ways_and_a_bad_export_leaves_gold_alone(tmp_path):
    doc = sample_doc()
    corpus = tmp_path / "gold.jsonl"
    write_documents(corpus, [doc])
    r = _cli("convert", str(corpus), str(tmp_path / "tasks.json"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    tasks = json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))
    (tmp_path / "export.json").write_text(json.dumps(as_export(tasks), ensure_ascii=False), encoding="utf-8")
    r = _cli("convert", str(tmp_path / "export.json"), str(tmp_path / "back.jsonl"), "--base", str(corpus), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [_key(d) for d in read_documents(tmp_path / "back.jsonl")] == [_key(doc)]
    # A broken export: exit 2, one line naming the task, document and offset; no output file, gold untouched.
    broken = as_export(tasks)
    broken[0]["annotations"][0]["result"][1]["value"]["labels"] = ["ORG"]
    (tmp_path / "bad.json").write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    before = corpus.read_bytes()
    r = _cli("convert", str(tmp_path / "bad.json"), str(corpus), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "task 1 doc=doc-1 annotation 101 region 'b' offset" in r.stderr
    assert "Traceback" not in r.stderr and corpus.read_bytes() == before


def test_cli_config_prints_the_generated_xml(tmp_path):
    r = _cli("config", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == labeling_config()


def test_missing_server_install_names_run_sh(monkeypatch, tmp_path):
    monkeypatch.delenv("VNREORG_LABEL_STUDIO", raising=False)
    monkeypatch.setattr(ls_server, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(VnreorgError, match=r"run \./run\.sh"):
        ls_server.find_label_studio()
    monkeypatch.setenv("VNREORG_LABEL_STUDIO", str(tmp_path / "nope"))
    with pytest.raises(VnreorgError, match="not an executable"):
        ls_server.find_label_studio()


def test_server_credentials_are_fixed_at_the_first_start(tmp_path):
    exe = tmp_path / "label-studio"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    first = ls_server.LabelStudioServer(tmp_path / "data", 18123, password="pw-1", executable=str(exe))
    first.credentials.save(first.data_dir)
    again = ls_server.LabelStudioServer(tmp_path / "data", 18123, executable=str(exe))
    assert again.credentials.token == first.credentials.token and again.credentials.password == "pw-1"
    with pytest.raises(VnreorgError, match="already has its API token"):
        ls_server.LabelStudioServer(tmp_path / "data", 18123, token="f" * 40, executable=str(exe))
    with pytest.raises(VnreorgError, match="already has its password"):
        ls_server.LabelStudioServer(tmp_path / "data", 18123, password="other", executable=str(exe))
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "label_studio.sqlite3").write_bytes(b"")
    with pytest.raises(VnreorgError, match="no vnreorg-server.json"):
        ls_server.LabelStudioServer(tmp_path / "bare", 18123, executable=str(exe))
    with pytest.raises(VnreorgError, match="must be an e-mail"):
        ls_server.LabelStudioServer(tmp_path / "new", 18123, username="admin", executable=str(exe))


def test_no_server_configured_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    with pytest.raises(VnreorgError, match="annotate serve"):
        resolve_connection(None, None, tmp_path)
    with pytest.raises(VnreorgError, match=r"--url http://127.0.0.1:8093 was given without --api-key.*--data-dir"):
        resolve_connection("http://127.0.0.1:8093", None, tmp_path)


def test_credentials_file_is_private_from_its_first_byte(tmp_path, monkeypatch):
    """The temporary file is created 600 before the secrets are written (checked at the moment of writing)."""
    import os as _os

    seen = []
    real_fdopen = _os.fdopen

    def spy(fd, *a, **k):
        seen.append(_os.fstat(fd).st_mode & 0o777)
        return real_fdopen(fd, *a, **k)

    monkeypatch.setattr(ls_server.os, "fdopen", spy)
    monkeypatch.setattr(ls_server.os, "umask", _os.umask)
    stale = tmp_path / f".{ls_server.CREDENTIALS_FILE}.99999.tmp"  # left by a killed start: it holds secrets
    stale.write_text("secret")
    (tmp_path / ".other.json.99999.tmp").write_text("not ours")
    old = _os.umask(0)
    try:
        path = ls_server.Credentials("u", "a@b.c", "pw", "t" * 40).save(tmp_path)
    finally:
        _os.umask(old)
    assert seen == [0o600] and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [".other.json.99999.tmp"]


def test_data_folder_is_made_private(tmp_path):
    data = tmp_path / "ls"
    (data / "media" / "upload").mkdir(parents=True)
    (data / "label_studio.sqlite3").write_bytes(b"x")
    (data / "media" / "upload" / "f.txt").write_text("x")
    (data / "not-ours.txt").write_text("x")
    (data / "not-ours.txt").chmod(0o644)
    ls_server.make_private(data)
    modes = {p.relative_to(data).as_posix(): p.stat().st_mode & 0o777 for p in [data, *data.rglob("*")]}
    assert modes == {
        ".": 0o700,
        "media": 0o700,
        "media/upload": 0o700,
        "label_studio.sqlite3": 0o600,
        "media/upload/f.txt": 0o600,
        "not-ours.txt": 0o644,
    }  # a mistaken --data-dir: other files keep their modes


def test_parse_export_accepts_a_single_task_object():
    doc = sample_doc()
    one = json.dumps(as_export([document_to_task(doc)])[0], ensure_ascii=False)
    assert len(parse_export(one, "x")) == 1
    spans, rels = results_to_annotation(doc.text, document_to_task(doc)["annotations"][0]["result"], "w")
    assert spans == doc.spans and rels == doc.relations


def test_instructions_come_from_the_guidelines_one_screen():
    from vnreorg.annotation.labelconfig import guideline_summary, instructions_html

    summary = guideline_summary()
    for label in ENTITY_LABELS:
        definition, rules = summary[label]
        assert definition and len(rules) == 3 and all(rules)
    assert len(summary["Relations"][1]) == len(RELATION_LABELS)
    page = instructions_html()
    visible = len(__import__("re").sub(r"<[^>]+>", "", page))
    assert visible < 3500 and all(label in page for label in ENTITY_LABELS) and "Alt+R" in page
    assert "A position held by a person" in page  # TITLE's definition, verbatim from GUIDELINES.md


def test_a_label_without_guidelines_is_an_error(monkeypatch):
    from vnreorg.annotation.labelconfig import guideline_summary

    monkeypatch.setattr(schema, "ENTITY_LABELS", (*schema.ENTITY_LABELS, "PERSON"))
    with pytest.raises(VnreorgError, match="no `## N. PERSON` section"):
        guideline_summary()
