"""Events (issue 17): trigger typing, normalisation, reading extract output, linking, cross-check,
deduplication, the build command."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents
from vnreorg.models import crosscheck, dedup, events, linking
from vnreorg.models.resources import load_resources

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "corpus" / "gold" / "gold.jsonl"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def res():
    return load_resources()


def _table(tmp_path, body: str) -> Path:
    path = tmp_path / "event_triggers.tsv"
    path.write_text("# source: test\n# version: 1\ntrigger\ttype\n" + body, encoding="utf-8")
    return path


# --- typing --------------------------------------------------------------------------------------


def test_trigger_table_loads_and_types_by_whole_trigger_or_longest_prefix():
    table = events.load_event_triggers()
    assert set(table.values()) <= set(events.EVENT_TYPES)
    assert events.event_type("Hợp nhất", table) == "merge"
    assert events.event_type("sáp nhập giảm", table) == "merge"  # longest entry the trigger starts with
    assert events.event_type("chuyển chức năng, nhiệm vụ", table) == "transfer"
    assert events.event_type("nhất thể hoá", table) == "title_combination"  # old tone placement
    assert events.event_type("bãi bỏ", table) == events.OTHER


@pytest.mark.parametrize(
    "body, message",
    [
        ("giải thể\tabolish\n", "type 'abolish'"),
        ("giải thể\tdissolve\nGiải thể\tdissolve\n", "duplicate trigger"),
        ("giải thể\n", "expected 2 tab-separated fields"),
    ],
)
def test_trigger_table_errors_name_file_and_line(tmp_path, body, message):
    path = _table(tmp_path, body)
    with pytest.raises(VnreorgError) as err:
        events.load_event_triggers(path)
    assert message in str(err.value) and f"{path}:" in str(err.value)


def test_typing_measure_counts_a_wrong_type(tmp_path):
    gold = tmp_path / "types.tsv"
    gold.write_text(
        "# source: t\n# version: 1\ndoc_id\tspan_id\tstart\tend\ttrigger\ttype\tnote\n"
        "d\tT1\t0\t8\tgiải thể\tdissolve\t\nd\tT2\t9\t17\tsáp nhập\tsplit\t\n",
        encoding="utf-8",
    )
    result = events.measure_typing(gold)
    assert (result["actions"], result["right"]) == (2, 1) and result["wrong"][0]["predicted"] == "merge"


def test_seed_typing_gold_covers_every_gold_action():
    gold_actions = {(d.id, s.id) for d in read_documents(GOLD) for s in d.spans if s.label == "MERGE_ACTION"}
    result = events.measure_typing(ROOT / "corpus" / "gold" / "event_types.tsv")
    assert result["actions"] == len(gold_actions) and result["accuracy"] >= 0.9


# --- normalising ---------------------------------------------------------------------------------


def test_names_amounts_and_dates_are_normalised(res):
    assert events.normalise_name("UBND  TP. Sóc Trăng", res) == "Ủy ban nhân dân thành phố Sóc Trăng"
    assert events.normalise_name("Thành uỷ Sóc Trăng", res) == "Thành ủy Sóc Trăng"
    assert events.normalise_name("tỉnh đắk lắk", res) == "Tỉnh Đắk Lắk"  # canonical spelling of the unit
    assert events.normalise_amount("7.739") == {"text": "7.739", "kind": "count", "value": 7739}
    assert events.normalise_amount("887/888")["of"] == 888
    assert events.normalise_amount("2,5")["value"] == 2.5
    assert events.sentence_date("Ngày 10/12/2019, UBND huyện") == "2019-12-10"
    assert events.sentence_date("từ ngày 1 tháng 7 năm 2025") == "2025-07-01"
    assert events.sentence_date("Trong quý II năm 2018") == "2018"
    assert events.sentence_date("không có ngày") is None


SENTENCE = "Ngày 12/6/2025, sáp nhập tỉnh Phú Yên và tỉnh Đắk Lắk thành tỉnh Đắk Lắk."


def _record(doc_id="art-1", sentence=SENTENCE, base=100, meta=None, target=("tỉnh Đắk Lắk", 2)):
    def ent(surface, label, k=1):
        start = -1
        for _ in range(k):
            start = sentence.index(surface, start + 1)
        return {"text": surface, "label": label, "start": base + start, "end": base + start + len(surface), "score": 0.9}

    ev = {
        "action": ent("sáp nhập", "MERGE_ACTION"),
        "sources": [ent("tỉnh Phú Yên", "AGENCY"), ent("tỉnh Đắk Lắk", "AGENCY")],
        "targets": [ent(target[0], "AGENCY", target[1])],
        "amounts": [],
        "sentence": {"start": base, "end": base + len(sentence), "text": sentence},
    }
    rec = {
        "source": f"archive/{doc_id}.txt",
        "id": "text0",
        "entities": ev["sources"] + ev["targets"],
        "relations": [],
        "events": [ev],
        "warnings": [],
    }
    if meta:
        rec["meta"] = meta
    return rec


def test_reader_accepts_jsonl_and_parquet_with_the_same_fields(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = [_record("art-1"), {"source": "x.txt", "skipped": "empty input", "warnings": []}]
    jsonl = tmp_path / "out.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    folder = tmp_path / "ds"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(recs), folder / "part-0.parquet")
    from_jsonl = [{k: v for k, v in r.items() if k != "_where"} for r in events.read_extraction(jsonl)]
    from_parquet = [{k: v for k, v in r.items() if k != "_where"} for r in events.read_extraction(folder)]
    ev_j = events.events_of_record(from_jsonl[0], {})
    ev_p = events.events_of_record(from_parquet[0], {})
    assert ev_j == ev_p and ev_j[0]["type"] == "merge" and ev_j[0]["event_date"] == "2025-06-12"
    assert ev_j[0]["doc_id"] == "art-1" and ev_j[0]["confidence"] == 0.9


def test_reader_names_the_bad_line(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text(json.dumps(_record()) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(VnreorgError, match=r"out.jsonl:2"):
        list(events.read_extraction(path))


# --- linking -------------------------------------------------------------------------------------


def test_homonyms_resolved_by_context_or_left_unresolved(res):
    doc = "Thành ủy Sóc Trăng thực hiện ở Phường 3. TP. Sóc Trăng có 10 phường."
    link = linking.link_mention("Phường 3", "Thành ủy Sóc Trăng thực hiện ở Phường 3.", doc, meta={"date": "2018-05-14"}, res=res)
    assert link["status"] == "linked" and link["code"] == "31519" and link["era"] == "pre2025"
    bare = linking.link_mention(
        "Phường 3", "Thực hiện ở Phường 3.", "Thực hiện ở Phường 3.", meta={"date": "2018-05-14"}, res=res
    )
    assert bare["status"] == "unresolved" and bare["n_candidates"] > 1
    assert any(c["code"] == "31519" for c in bare["candidates"])
    assert linking.link_mention("Hợp Nhất", "Hợp Nhất", "Hợp Nhất", res=res) is None  # a bare name is never a form


def test_era_follows_the_year_and_the_role_in_2025(res):
    src = linking.link_mention("tỉnh Đắk Lắk", SENTENCE, SENTENCE, role="source", res=res)
    tgt = linking.link_mention("tỉnh Đắk Lắk", SENTENCE, SENTENCE, role="target", res=res)
    assert (src["era"], tgt["era"]) == ("pre2025", "post2025") and src["code"] == tgt["code"] == "66"
    assert linking.link_mention("tỉnh Phú Yên", SENTENCE, SENTENCE, role="target", res=res)["era"] == "pre2025"  # only era


def test_a_number_after_the_name_belongs_to_it(res):
    assert linking.link_mention("phường Hải Châu 1", "phường Hải Châu 1", "TP. Đà Nẵng năm 2023", res=res) is None


def test_linking_makes_no_network_call(monkeypatch, res):
    def refuse(*a, **k):
        raise AssertionError("linking opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    doc = read_documents(GOLD)[0]
    links = linking.link_document(doc.text, doc.spans, doc.sentences, doc.meta, res=res)
    assert links and all(l["status"] in ("linked", "unresolved") for l in links)


def test_links_measured_on_the_links_gold(res):
    gold = linking.read_link_gold(ROOT / "corpus" / "gold" / "links.tsv")
    seed = {k: v for k, v in gold.items() if not k[0].startswith("syn-")}
    result = linking.measure_links(read_documents(GOLD), seed, res)
    assert result["gold_links"] == 17 and result["precision"] >= 0.9 and result["recall"] >= 0.9
    wrong = {k: {**v, "code": "99999"} if v["status"] == "linked" else v for k, v in seed.items()}
    assert linking.measure_links(read_documents(GOLD), wrong, res)["tp"] == 0


def test_validator_checks_the_optional_links_field():
    from vnreorg.corpus.validate import validate_documents

    doc = read_documents(GOLD)[0]
    assert "links" not in doc.to_dict()  # gold without links is written as before
    agency = next(s for s in doc.spans if s.label == "AGENCY")
    doc.links = [
        {"start": agency.start, "end": agency.end, "status": "linked", "code": "94", "level": "province", "era": "pre2025"}
    ]
    assert not [p for p in validate_documents([doc]) if p.code == "link"]
    doc.links.append(
        {"start": agency.start, "end": agency.end, "status": "linked", "code": "94", "level": "county", "era": "pre2025"}
    )
    doc.links.append({"start": 0, "end": 1, "status": "maybe"})
    problems = [p for p in validate_documents([doc]) if p.code == "link"]
    assert len(problems) == 3  # bad level; not on an AGENCY span; bad status


# --- cross-check -------------------------------------------------------------------------------


def _merge_event(sources, targets):
    def part(code, level, era, name):
        return {"name": name, "link": {"status": "linked", "code": code, "level": level, "era": era, "name": name}}

    return {"type": "merge", "sources": [part(*s) for s in sources], "targets": [part(*t) for t in targets]}


def test_crosscheck_confirms_contradicts_and_says_not_covered(res):
    ok = _merge_event(
        [("54", "province", "pre2025", "Tỉnh Phú Yên"), ("66", "province", "pre2025", "Tỉnh Đắk Lắk")],
        [("66", "province", "post2025", "Tỉnh Đắk Lắk")],
    )
    assert crosscheck.crosscheck_event(ok, res)["verdict"] == "confirmed"
    # officially Phú Yên went into Đắk Lắk, not Gia Lai; Bến Tre and Trà Vinh went into Vĩnh Long
    wrong = _merge_event([("54", "province", "pre2025", "Tỉnh Phú Yên")], [("52", "province", "post2025", "Tỉnh Gia Lai")])
    verdict = crosscheck.crosscheck_event(wrong, res)
    assert verdict["verdict"] == "contradicted" and "Đắk Lắk" in verdict["official"][0][0]["new"]
    apart = _merge_event([("83", "province", "pre2025", "Tỉnh Bến Tre"), ("54", "province", "pre2025", "Tỉnh Phú Yên")], [])
    assert crosscheck.crosscheck_event(apart, res)["verdict"] == "contradicted"
    together = _merge_event([("83", "province", "pre2025", "Tỉnh Bến Tre"), ("84", "province", "pre2025", "Tỉnh Trà Vinh")], [])
    assert crosscheck.crosscheck_event(together, res)["verdict"] == "confirmed"
    old_wave = _merge_event(
        [("06826", "commune", "pre2025", "Phường Yên Thanh")], [("06820", "commune", "pre2025", "Phường Trưng Vương")]
    )
    assert crosscheck.crosscheck_event(old_wave, res)["verdict"] == "not_covered"
    assert crosscheck.crosscheck_event({"type": "dissolve", "sources": [], "targets": []}, res) is None
    assert crosscheck.crosscheck_event({**ok, "event_date": "2019"}, res)["verdict"] == "not_covered"  # an earlier wave
    bodies = _merge_event(
        [("54", "province", "pre2025", "Sở Tài chính tỉnh Phú Yên")],
        [("52", "province", "post2025", "Sở Tài chính tỉnh Gia Lai")],
    )
    for p in bodies["sources"] + bodies["targets"]:
        p["link"]["whole"] = False  # departments of the provinces, not the provinces
    assert crosscheck.crosscheck_event(bodies, res) is None


# --- deduplication -----------------------------------------------------------------------------


def test_dedup_on_the_constructed_duplicates_and_near_misses(res):
    evs = events.name_participants(
        [json.loads(l) for l in (FIXTURES / "dedup_events.jsonl").read_text(encoding="utf-8").splitlines()], res
    )
    scores = dedup.pair_scores(evs)
    assert scores["precision"] == 1.0 and scores["recall"] >= 0.8  # misses: the bodiless cut, a 1-of-3 source list
    merged = dedup.deduplicate(evs)
    first = next(a for a in merged if a["event_id"] == evs[0]["event_id"])
    assert first["n_articles"] == 3 and len(first["mentions"]) == 3


# --- the command -------------------------------------------------------------------------------


def test_build_command_writes_tables_and_page(tmp_path):
    from typer.testing import CliRunner

    from vnreorg.cli import app

    ext = tmp_path / "extract.jsonl"
    other = "Ngày 1/7/2025, hợp nhất tỉnh Phú Yên và tỉnh Đắk Lắk thành tỉnh Gia Lai."
    rec2 = _record("art-2", sentence=other.replace("hợp nhất", "sáp nhập"), target=("tỉnh Gia Lai", 1))
    ext.write_text(
        "".join(
            json.dumps(r, ensure_ascii=False) + "\n"
            for r in (_record("art-1", meta={"outlet": "Báo A", "date": "2025-06-13"}), _record("art-3"), rec2)
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["events", "build", str(ext), "--out", str(tmp_path / "ev"), "--no-progress"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "ev"
    evs = [json.loads(l) for l in (out / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    actions = [json.loads(l) for l in (out / "actions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(evs) == 3 and len(actions) == 2  # art-1 and art-3 report the same merger
    assert evs[0]["outlet"] == "Báo A" and evs[0]["sources"][0]["link"]["code"] == "54"
    assert [e["crosscheck"]["verdict"] for e in evs] == ["confirmed", "confirmed", "contradicted"]
    import pyarrow.parquet as pq

    assert pq.read_table(out / "events.parquet").num_rows == 3
    assert (out / "events.csv").read_text(encoding="utf-8").count("\n") == 4
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" in page and "http" not in page.split("<script", 1)[1]  # no remote resource


def test_events_on_a_small_archive_from_the_synthetic_corpus(tmp_path):
    """The archive path with fewer documents (the 1,000-document run is benchmarks/events_archive.py): one
    synthetic worksheet imported, each article published twice, gold as a perfect extractor."""
    from typer.testing import CliRunner

    from vnreorg.cli import app

    syn = tmp_path / "syn.jsonl"
    result = CliRunner().invoke(
        app, ["worksheet", "synthetic", str(ROOT / "corpus/synthetic/worksheets/b_02.txt"), "-o", str(syn), "--skip-invalid"]
    )
    assert result.exit_code == 0, result.output
    docs = read_documents(syn)
    records = []
    for copy in range(2):
        for rec in events.records_from_documents(docs):
            rec["source"] = f"arc-{copy}-{rec['id']}.txt"
            rec["meta"]["outlet"] = f"outlet-{copy}"
            records.append(rec)
    ext = tmp_path / "extract.jsonl"
    ext.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = CliRunner().invoke(app, ["events", "build", str(ext), "-o", str(tmp_path / "ev"), "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text(encoding="utf-8"))
    n_actions = sum(1 for d in docs for s in d.spans if s.label == "MERGE_ACTION")
    assert summary["records"] == 2 * len(docs) and summary["events"] == 2 * n_actions
    bare = sum(1 for e in events.records_from_documents(docs) for ev in e["events"] if not ev["sources"] and not ev["targets"])
    # every action with a named body reported by both outlets is one action; bodiless ones (a cut by a
    # number) are never merged, so each outlet's copy stays apart
    assert summary["actions"] <= n_actions + bare and summary["actions"] < summary["events"]
    assert summary["types"].get("other", 0) == 0 and summary["entity_links"].get("linked", 0) > 0
