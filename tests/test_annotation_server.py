"""Round trips through a real Label Studio server (session-scoped: started once, ~35 s on first start).

The server comes from .venv-ls (./run.sh) or $VNREORG_LABEL_STUDIO. In CI (CI=true) a server that
cannot be found or started fails the suite; elsewhere a missing install skips these tests, and a
server that is installed but does not start fails them.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from vnreorg.annotation.cli import app as annotate_app
from vnreorg.annotation.client import LabelStudioSession, push, resolve_connection
from vnreorg.annotation.convert import convert_export, results_to_annotation, tasks_for_documents
from vnreorg.annotation.labelconfig import labeling_config
from vnreorg.annotation.server import LabelStudioServer, find_label_studio, free_port
from vnreorg.corpus.ingest import build_corpus
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents, write_documents
from vnreorg.schema import Document, Relation, Span, nfc

from test_annotation import documents  # the property test's generator (tests/ is on sys.path)  # noqa: E402

pytestmark = pytest.mark.server
REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PROJECT = "vnreorg round trip"


# ls_server and session: tests/conftest.py (shared with tests/test_browser.py)


def u16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def find(doc: Document, sid: str, needle: str, label: str, score: float | None = None) -> Span:
    start = doc.text.index(needle)
    return Span(sid, start, start + len(needle), label, score)


def seed_documents() -> list[Document]:
    docs = build_corpus(REPO / "seeds").documents
    assert len(docs) >= 3
    text = nfc("👍 Hợp nhất Sở Kế hoạch và Đầu tư với Sở Tài chính 🇻🇳\r\ngiảm 2 sở.")
    cut = text.index("\r\n")
    emoji = Document("emoji-crlf", text, meta={"title": "Thử nghiệm emoji"}, sentences=[(0, cut), (cut + 2, len(text))])
    return [*docs, emoji]


def test_push_annotate_pull_through_the_real_server(session, ls_server, tmp_path):
    docs = seed_documents()
    d0, d1, d2, emoji = docs[0], docs[1], docs[2], docs[-1]
    d0.spans = [
        find(d0, "a1", "Thành ủy Sóc Trăng", "AGENCY"),
        find(d0, "a2", "nhất thể hóa", "MERGE_ACTION"),
        find(d0, "a3", "Bí thư Thành ủy", "TITLE"),
    ]
    d0.relations = [Relation("a2", "a3", "source")]
    model_out = Document(
        d1.id,
        d1.text,
        spans=[find(d1, "p1", "sáp nhập", "MERGE_ACTION", 0.91), find(d1, "p2", "Thị xã Kỳ Anh", "AGENCY", 0.62)],
        relations=[Relation("p1", "p2", "target", 0.4)],
    )
    gold_path, docs_path = tmp_path / "gold.jsonl", tmp_path / "documents.jsonl"
    write_documents(gold_path, [d0])
    write_documents(docs_path, [Document(d.id, d.text, d.meta, d.paragraphs, d.sentences) for d in docs])

    # Push gold as annotations and model output as predictions; a second push changes nothing.
    first = push(session, docs, project=PROJECT, predictions=[model_out], model_version="test-model-1")
    assert (first.project_created, first.tasks_created, first.annotations_created, first.predictions_created) == (
        True,
        len(docs),
        1,
        1,
    )
    again = push(session, docs, project=PROJECT, predictions=[model_out], model_version="test-model-1")
    assert (again.tasks_created, again.tasks_existing, again.annotations_created) == (0, len(docs), 0)
    assert again.annotations_kept == [d0.id] and again.predictions_replaced == 1
    pid = first.project_id
    tasks = session.export(pid)
    assert sorted(t["data"]["doc_id"] for t in tasks) == sorted(d.id for d in docs)
    task_of = {t["data"]["doc_id"]: t["id"] for t in tasks}
    assert [len(t["annotations"]) for t in tasks if t["data"]["doc_id"] == d0.id] == [1]

    preds = session.predictions(pid)
    assert [(p.task, p.model_version) for p in preds] == [(task_of[d1.id], "test-model-1")]
    assert preds[0].score == pytest.approx((0.91 + 0.62 + 0.4) / 3)
    assert sorted(r.get("score") for r in preds[0].result) == [0.4, 0.62, 0.91]
    # Another model version sits beside it; re-pushing version 1 replaces only version 1.
    push(session, [d1], project=PROJECT, predictions=[model_out], model_version="test-model-2", annotate=False)
    third = push(session, [d1], project=PROJECT, predictions=[model_out], model_version="test-model-1", annotate=False)
    assert third.predictions_replaced == 1 and third.tasks_created == 0
    assert sorted(p.model_version for p in session.predictions(pid) if p.task == task_of[d1.id]) == [
        "test-model-1",
        "test-model-2",
    ]

    # As the annotator's browser (1.23.2) posts: code-point offsets and a relation (ids made by the frontend).
    # tests/test_browser.py checks this rule with real mouse selections.
    text = emoji.text

    def region(rid, needle, label):
        s = text.index(needle)
        return {
            "id": rid,
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "origin": "manual",
            "value": {"start": s, "end": s + len(needle), "text": needle, "labels": [label]},
        }

    browser_result = [
        region("Xk3_p9QwLm", "Hợp nhất", "MERGE_ACTION"),
        region("b7HqZ2s-0e", "Sở Kế hoạch và Đầu tư", "AGENCY"),
        region("R2d2C3poAa", "Sở Tài chính", "AGENCY"),
        region("n0mB3r_x1y", "2", "NUMBER"),
        {"type": "relation", "from_id": "Xk3_p9QwLm", "to_id": "b7HqZ2s-0e", "direction": "right", "labels": ["source"]},
        {"type": "relation", "from_id": "Xk3_p9QwLm", "to_id": "R2d2C3poAa", "direction": "right", "labels": ["target"]},
    ]
    assert browser_result[2]["value"]["start"] == u16(text[: text.index("Sở Tài chính")]) - 1  # past the astral emoji
    resp = httpx.post(
        f"{ls_server.url}/api/tasks/{task_of[emoji.id]}/annotations/?project={pid}",
        headers={"Authorization": f"Token {ls_server.credentials.token}"},
        json={"result": browser_result, "lead_time": 41.5, "project": str(pid), "draft_id": 0, "parent_prediction": None},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text

    # A second annotator on d0 drops the TITLE (and its relation); d2 is skipped.
    annotator = session.client.users.create(username="ann", email="ann@example.com", password="ann-pass-12345")
    second = [
        r
        for r in tasks[[t["data"]["doc_id"] for t in tasks].index(d0.id)]["annotations"][0]["result"]
        if r.get("id") != "a3" and r.get("type") != "relation"
    ]
    session.client.annotations.create(id=task_of[d0.id], result=second, completed_by=annotator.id)
    session.client.annotations.create(id=task_of[d2.id], result=[], was_cancelled=True)

    cli = CliRunner()
    common = [
        "--gold",
        str(gold_path),
        "--documents",
        str(docs_path),
        "--project",
        PROJECT,
        "--url",
        ls_server.url,
        "--api-key",
        ls_server.credentials.token,
    ]
    before = gold_path.read_bytes()
    refused = cli.invoke(annotate_app, ["pull", *common])
    assert isinstance(refused.exception, VnreorgError) and "several annotations" in str(refused.exception)

    dry = cli.invoke(annotate_app, ["pull", *common, "--choose", "latest"])
    assert dry.exit_code == 0, dry.output
    assert f"doc {d0.id} (task {task_of[d0.id]}" in dry.output and "-1 span" in dry.output and "-1 relation" in dry.output
    assert f"new doc {emoji.id}" in dry.output and "+4 spans, +2 relations" in dry.output
    assert "1 task(s) skipped/cancelled" in dry.output and "ann@example.com" in dry.output
    assert "dry run" in dry.output and gold_path.read_bytes() == before

    all_path = tmp_path / "all.jsonl"
    wrote = cli.invoke(annotate_app, ["pull", *common, "--choose", "latest", "--write", "--all-annotations", str(all_path)])
    assert wrote.exit_code == 0, wrote.output
    backups = list(tmp_path.glob("gold.jsonl.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    gold = {d.id: d for d in read_documents(gold_path)}
    assert set(gold) == {d0.id, emoji.id}
    assert [(s.id, s.label) for s in gold[d0.id].spans] == [("a1", "AGENCY"), ("a2", "MERGE_ACTION")] and gold[
        d0.id
    ].relations == []
    got = gold[emoji.id]
    assert got.text == text and got.meta == emoji.meta
    assert [(text[s.start : s.end], s.label, s.id) for s in got.spans] == [
        ("Hợp nhất", "MERGE_ACTION", "Xk3_p9QwLm"),
        ("Sở Kế hoạch và Đầu tư", "AGENCY", "b7HqZ2s-0e"),
        ("Sở Tài chính", "AGENCY", "R2d2C3poAa"),
        ("2", "NUMBER", "n0mB3r_x1y"),
    ]
    assert got.relations == [Relation("Xk3_p9QwLm", "b7HqZ2s-0e", "source"), Relation("Xk3_p9QwLm", "R2d2C3poAa", "target")]
    kept = [json.loads(line) for line in all_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["annotator"] for r in kept if r["doc_id"] == d0.id) == ["admin@example.com", "ann@example.com"]

    # Pulling again finds nothing to change; choosing the first annotator restores d0's gold in the diff.
    same = cli.invoke(annotate_app, ["pull", *common, "--choose", "latest"])
    assert "gold is up to date" in same.output
    by_admin = cli.invoke(annotate_app, ["pull", *common, "--choose", "annotator:admin@example.com", "-q"])
    assert f"doc {d0.id}: +1 span, +1 relation" in by_admin.output

    # A changed text for an annotated task is refused, and nothing is pushed.
    changed = copy.deepcopy(emoji)
    changed.text = changed.text.replace("giảm", "giảm bớt")
    with pytest.raises(VnreorgError, match=f"task {task_of[emoji.id]} doc={emoji.id}.*offsets would drift"):
        push(session, [changed], project=PROJECT)
    assert len(session.export(pid)) == len(docs)
    # An unannotated task takes the new text; gold spans for an existing task without annotations go in.
    d3 = docs[3]
    changed3 = Document(d3.id, d3.text + "\nBổ sung.", spans=[Span("z1", 0, 3, "AGENCY")])
    r = push(session, [changed3], project=PROJECT)
    assert (r.tasks_created, r.tasks_text_updated, r.annotations_created) == (0, 1, 1)
    task = next(t for t in session.export(pid) if t["data"]["doc_id"] == d3.id)
    assert task["data"]["text"] == changed3.text and len(task["annotations"]) == 1
    assert task["annotations"][0]["result"][0]["value"]["text"] == changed3.text[:3]


def test_the_installed_server_is_the_version_whose_offsets_were_measured(ls_server):
    """The offset rule (annotation/offsets.py) was measured in a browser on one version: any other must be measured again
    (run tests/test_browser.py against it, then update MEASURED_LABEL_STUDIO and run.sh's pin)."""
    from vnreorg.annotation.offsets import MEASURED_LABEL_STUDIO
    from vnreorg.annotation.server import installed_label_studio_version

    assert installed_label_studio_version(ls_server.executable) == MEASURED_LABEL_STUDIO
    assert f'LS_VERSION="{MEASURED_LABEL_STUDIO}"' in (REPO / "run.sh").read_text(encoding="utf-8")


def test_a_legacy_task_with_work_is_refused_at_push_and_read_at_pull(session, tmp_path):
    """A task pushed by the old UTF-16 rule (no marker) after an emoji: pull converts it; push refuses to mix."""
    from vnreorg.annotation.offsets import OFFSET_FIELD

    doc = Document(
        "legacy-emoji",
        nfc("🇻🇳 Sáp nhập Sở Nội vụ"),
        spans=[Span("m", 3, 11, "MERGE_ACTION"), Span("a", 12, 21, "AGENCY")],
        relations=[Relation("m", "a", "source")],
    )
    (task,) = tasks_for_documents([doc])
    task["data"].pop(OFFSET_FIELD)
    for r in task["annotations"][0]["result"]:
        if r["type"] == "labels":
            r["value"]["start"], r["value"]["end"] = u16(doc.text[: r["value"]["start"]]), u16(doc.text[: r["value"]["end"]])
    pid = session.ensure_project("vnreorg legacy")[0].id
    session.client.projects.import_tasks(id=pid, request=[task], return_task_ids=True)
    back = convert_export(session.export(pid)).documents
    assert [(d.spans, d.relations) for d in back] == [(doc.spans, doc.relations)]
    with pytest.raises(VnreorgError, match="old UTF-16 offset rule.*nothing was pushed"):
        push(session, [doc], project="vnreorg legacy")
    plain = Document("legacy-plain", "Sáp nhập Sở Nội vụ")
    (t2,) = tasks_for_documents([plain])
    t2["data"].pop(OFFSET_FIELD)
    session.client.projects.import_tasks(id=pid, request=[t2])
    assert push(session, [plain], project="vnreorg legacy").tasks_marked == 1  # no astral character: only marked
    assert next(t for t in session.export(pid) if t["data"]["doc_id"] == plain.id)["data"][OFFSET_FIELD] == "codepoint"


def test_credentials_of_the_embedded_server_are_found(ls_server):
    url, token = resolve_connection(None, None, ls_server.data_dir)
    assert (url, token) == (ls_server.url, ls_server.credentials.token)
    assert LabelStudioSession(url, token).user.email == ls_server.credentials.username


def test_rejected_token_and_a_server_that_is_down(ls_server):
    with pytest.raises(VnreorgError, match="rejected the API token"):
        LabelStudioSession(ls_server.url, "0" * 40)
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(VnreorgError, match="not answering") as exc:
        LabelStudioSession(down, ls_server.credentials.token)
    assert down in str(exc.value)


def test_port_in_use_is_reported_before_starting(ls_server, tmp_path):
    with pytest.raises(VnreorgError, match=f"port {ls_server.port} .* is in use"):
        LabelStudioServer(tmp_path / "other", ls_server.port, executable=ls_server.executable).start()


def test_bad_labels_never_reach_the_server(session):
    doc = Document("bad-label", "Bộ Nội vụ", spans=[Span("x", 0, 9, "ORG")])
    with pytest.raises(VnreorgError, match="doc=bad-label span 'x' offset 0.*unknown label 'ORG'"):
        tasks_for_documents([doc])
    assert session.find_project("never created") is None


@pytest.mark.e2e
def test_the_real_gold_corpus_comes_back_unchanged(session, ls_server, tmp_path):
    """Push corpus/gold/gold.jsonl, pull it back: the identity on the real annotations, relations included."""
    gold_src = REPO / "corpus" / "gold" / "gold.jsonl"
    assert gold_src.exists(), "the gold corpus is part of the repository"
    gold_path = tmp_path / "gold.jsonl"
    gold_path.write_bytes(gold_src.read_bytes())
    docs = read_documents(gold_path)
    connect = ["--project", "vnreorg real gold", "--url", ls_server.url, "--api-key", ls_server.credentials.token]
    pushed = CliRunner().invoke(annotate_app, ["push", str(gold_path), *connect])
    n_annotated = sum(1 for d in docs if d.spans or d.relations)
    assert pushed.exit_code == 0, pushed.output
    assert f"{len(docs)} task(s) created, 0 already there; {n_annotated} annotation(s)" in pushed.output
    pid = session.project_id("vnreorg real gold")
    assert session.client.projects.get(pid).label_config == labeling_config().strip()  # stored as sent (no update on re-push)
    out = CliRunner().invoke(
        annotate_app,
        [
            "pull",
            "--gold",
            str(gold_path),
            "--documents",
            str(tmp_path / "none.jsonl"),
            "--project",
            "vnreorg real gold",
            "--url",
            ls_server.url,
            "--api-key",
            ls_server.credentials.token,
            "--write",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "0 document(s) would change" in out.output and "gold is up to date" in out.output
    assert gold_path.read_bytes() == gold_src.read_bytes() and not list(tmp_path.glob("*.bak-*"))


_batch = itertools.count()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(documents(), min_size=1, max_size=6), st.lists(documents(scored=True), min_size=1, max_size=1))
def test_generated_documents_survive_the_real_server(session, gold_docs, scored_one):
    """The property test's generator, through a real server: emoji, NFD input, CRLF, edge spans, scores."""
    n = next(_batch)
    docs = [Document(f"p{n}-{i}-{d.id}", d.text, d.meta, spans=d.spans, relations=d.relations) for i, d in enumerate(gold_docs)]
    model = scored_one[0]
    docs.append(Document(f"p{n}-model", model.text, model.meta))
    pred = Document(f"p{n}-model", model.text, spans=model.spans, relations=model.relations)
    report = push(session, docs, project="vnreorg property", predictions=[pred], model_version=f"gen-{n}")
    pid = report.project_id
    mine = {d.id for d in docs}
    tasks = [t for t in session.export(pid) if t["data"]["doc_id"] in mine]
    assert len(tasks) == len(docs)
    back = {d.id: d for d in convert_export(tasks, base={d.id: d for d in docs}).documents}
    for d in docs[:-1]:
        if d.spans or d.relations:
            assert (back[d.id].text, back[d.id].spans, back[d.id].relations) == (d.text, d.spans, d.relations)
        else:
            assert d.id not in back
    task_id = next(t["id"] for t in tasks if t["data"]["doc_id"] == pred.id)
    (stored,) = [p for p in session.predictions(pid) if p.task == task_id]
    spans, relations = results_to_annotation(pred.text, stored.result, "prediction")
    assert (spans, relations, stored.model_version) == (pred.spans, pred.relations, f"gen-{n}")


def test_a_hostile_document_id_on_the_server_never_reaches_gold(session, ls_server, tmp_path):
    """Issue 12.1: a task made on the server with a path-like doc_id is refused by `pull --write`, naming the
    task; gold is not touched and nothing is written outside the gold folder."""
    project, _ = session.ensure_project("vnreorg hostile ids")
    text = "Sở Nội vụ sáp nhập Phòng Y tế."
    hostile = "a/../../../../outside/X"
    session.client.projects.import_tasks(
        id=project.id,
        request=[
            {
                "data": {"text": text, "doc_id": hostile, "title": ""},
                "annotations": [
                    {
                        "result": [
                            {
                                "id": "r1",
                                "from_name": "label",
                                "to_name": "text",
                                "type": "labels",
                                "value": {"start": 0, "end": 9, "text": "Sở Nội vụ", "labels": ["AGENCY"]},
                            }
                        ]
                    }
                ],
            }
        ],
    )
    gold_dir = tmp_path / "a" / "b" / "c" / "d" / "gold"
    gold_dir.mkdir(parents=True)
    gold = gold_dir / "gold.jsonl"
    gold.write_bytes((REPO / "corpus" / "gold" / "gold.jsonl").read_bytes())
    before = gold.read_bytes()
    out = CliRunner().invoke(
        annotate_app,
        [
            "pull",
            "--gold",
            str(gold),
            "--documents",
            str(tmp_path / "none.jsonl"),
            "--project",
            "vnreorg hostile ids",
            "--url",
            ls_server.url,
            "--api-key",
            ls_server.credentials.token,
            "--write",
        ],
    )
    assert out.exit_code != 0 and isinstance(out.exception, VnreorgError)
    assert "doc_id" in str(out.exception) and "not a valid id" in str(out.exception)
    assert gold.read_bytes() == before
    assert sorted(p.name for p in gold_dir.iterdir()) == [".lock", "gold.jsonl"]
    assert not (tmp_path / "outside").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    "sig, moment", [(signal.SIGTERM, "before the child"), (signal.SIGTERM, "child starting"), (signal.SIGINT, "child starting")]
)
def test_serve_stops_its_child_on_a_signal_during_start_up(tmp_path, sig, moment):
    """`annotate serve` killed while Label Studio starts: no label-studio process is left and the port is free."""
    from vnreorg.annotation.server import port_is_free

    find_label_studio()  # skips/fails as the fixture does when the server is not installed
    port = free_port()
    vnreorg = Path(sys.executable).with_name("vnreorg")
    proc = subprocess.Popen(
        [str(vnreorg), "annotate", "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    children: list[int] = []
    try:
        if moment == "before the child":
            time.sleep(0.3)
        else:
            deadline = time.monotonic() + 60
            while not children and time.monotonic() < deadline:
                children = _children(proc.pid)
                time.sleep(0.05)
            assert children, "serve never started label-studio"
            time.sleep(1.5)  # inside Label Studio's start-up (migrations take far longer)
        children = children or _children(proc.pid)
        grandchildren = [g for c in children for g in _children(c)]
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not [p for p in children + grandchildren if _alive(p)], out.decode(errors="replace")
    assert port_is_free(port)
    for p in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert f"--port\0{port}\0".encode() not in p.read_bytes()
        except OSError:
            pass
    if (tmp_path / "d").exists():
        assert (tmp_path / "d").stat().st_mode & 0o777 == 0o700
    saved = tmp_path / "d" / "vnreorg-server.json"
    if saved.exists():  # the password is never printed, only where it is saved
        assert json.loads(saved.read_text())["password"] not in out.decode(errors="replace")


def test_the_server_log_has_no_traceback(ls_server):
    """After every push and pull above (this module runs them first): no error traceback in the server's log."""
    import re

    if ls_server.process is None:
        pytest.skip("a server started outside this test session (its log holds older runs)")
    log = ls_server.log_path.read_text(encoding="utf-8", errors="replace")
    errors = re.findall(r"\[ERROR\] [0-9a-f-]+ (.+)", log)
    # The only one allowed is the deliberate bad token of test_rejected_token_and_a_server_that_is_down.
    assert "Invalid page" not in log and set(errors) <= {"Invalid token."}, errors
    assert ls_server.data_dir.stat().st_mode & 0o777 == 0o700
    assert {p.name: p.stat().st_mode & 0o777 for p in ls_server.data_dir.iterdir() if p.is_file()} == {
        p.name: 0o600 for p in ls_server.data_dir.iterdir() if p.is_file()
    }
    assert (ls_server.data_dir / "label_studio.sqlite3").exists()


def test_no_secret_in_the_server_process_arguments(ls_server):
    """The password and the token reach label-studio through its environment only (not visible in `ps`)."""
    if ls_server.process is None:
        pytest.skip("a server started outside this test session")
    argv = Path(f"/proc/{ls_server.process.pid}/cmdline").read_bytes().decode()
    assert ls_server.credentials.token not in argv and ls_server.credentials.password not in argv


def test_pull_applies_the_good_tasks_reports_the_bad_one_and_exits_non_zero(session, ls_server, tmp_path):
    good = Document(
        "pull-good",
        "Sáp nhập Sở Nội vụ.",
        sentences=[(0, 19)],
        paragraphs=[(0, 19)],
        spans=[Span("m", 0, 8, "MERGE_ACTION"), Span("a", 9, 18, "AGENCY")],
        relations=[Relation("m", "a", "source")],
    )
    bad = Document("pull-bad", "Giải thể Phòng Y tế.", sentences=[(0, 20)], paragraphs=[(0, 20)])
    project = f"vnreorg pull bad {os.getpid()}-{time.time_ns()}"
    report = push(session, [good, bad], project=project)
    bad_task = next(t["id"] for t in session.export(report.project_id) if t["data"]["doc_id"] == bad.id)
    region = (
        lambda rid, s, e, label: {
            "id": rid,
            "from_name": "label",
            "to_name": "text",
            "type": "labels",  # noqa: E731
            "value": {"start": s, "end": e, "text": bad.text[s:e], "labels": [label]},
        }
    )
    session.client.annotations.create(
        id=bad_task,
        result=[
            region("x", 0, 8, "MERGE_ACTION"),
            region("y", 9, 19, "AGENCY"),
            {"type": "relation", "from_id": "x", "to_id": "y", "direction": "right", "labels": []},
        ],
    )
    documents, gold = tmp_path / "documents.jsonl", tmp_path / "gold.jsonl"
    write_documents(documents, [good, bad])
    args = [
        "pull",
        "--gold",
        str(gold),
        "--documents",
        str(documents),
        "--project",
        project,
        "--url",
        ls_server.url,
        "--api-key",
        ls_server.credentials.token,
        "--write",
        "-q",
    ]
    strict = CliRunner().invoke(annotate_app, [*args, "--strict"])
    assert strict.exit_code != 0 and "exactly one label" in str(strict.exception) and not gold.exists()
    out = CliRunner().invoke(annotate_app, args)
    assert (
        out.exit_code != 0 and isinstance(out.exception, VnreorgError) and "1 task(s) could not be pulled" in str(out.exception)
    )
    assert f"bad {ls_server.url} project {report.project_id} task {bad_task} doc=pull-bad annotation" in out.output
    assert "relation 'x'->'y': a relation must carry exactly one label" in out.output
    assert [(d.id, d.spans, d.relations) for d in read_documents(gold)] == [(good.id, good.spans, good.relations)]
