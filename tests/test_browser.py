"""Label Studio as annotators use it: Debian's chromium driven by Playwright against the session's real server.

Selections are real mouse drags (`page.mouse` down, move, up) over the characters' on-screen boxes,
labels are chosen with their hotkeys, relations with Alt+R and clicks, and `pull` must then return
exactly the selected text. This is where the offset rule of annotation/offsets.py is measured on every
run: if the browser ever counted UTF-16 units, the regions drawn after an emoji would come back
shifted. In CI (CI=true) a missing browser or Playwright fails; elsewhere it skips with the command
to run. Screenshots of a failing test go to var/browser-failures/ (ignored by git).
"""

from __future__ import annotations

import os
import shutil
import unicodedata
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vnreorg.annotation.browser import RELATION_STEPS, draw, highlight, highlights, launch, log_in, open_task, relate, submit
from vnreorg.annotation.cli import app as annotate_app
from vnreorg.annotation.client import push
from vnreorg.jsonio import read_documents, write_documents
from vnreorg.schema import Document, Relation, Span, nfc

pytestmark = [pytest.mark.browser, pytest.mark.server]
REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
FAILURES = REPO / "var" / "browser-failures"
RUN = uuid.uuid4().hex[:8]  # fresh projects on every run (a reused server keeps older drafts)


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"the browser tests must run in CI: {what}")
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed: .venv/bin/python -m pip install -e '.[dev]' (or ./run.sh test)")
    if shutil.which("chromium") is None:
        _missing("chromium is not on the PATH: apt-get install -y chromium (as root; ./run.sh does it)")
    with sync_playwright() as p:
        b = launch(p)  # Debian's chromium by path, never Playwright's own download
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser, ls_server):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    log_in(page, ls_server.url, ls_server.credentials.username, ls_server.credentials.password)
    page.close()
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, request):
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        FAILURES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(FAILURES / f"{request.node.name}.png"), full_page=True)
    page.close()


def pull_cli(ls_server, project: str, gold: Path, documents: Path, *extra: str):
    return CliRunner().invoke(
        annotate_app,
        [
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
            *extra,
        ],
    )


def at(text: str, needle: str, nth: int = 0) -> int:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start


# --------------------------------------------------------------------------- the tests

NFD_PART = unicodedata.normalize("NFD", "Ủy ban  Kiểm tra")  # typed decomposed; the corpus stores NFC
TEXT = nfc(
    "🇻🇳👍 Tỉnh ủy Quảng Ninh quyết định sáp nhập Sở\u00a0Tài chính với "
    + NFD_PART
    + " q̣̃ Thành ủy.\r\nGiảm 2 sở, 👩‍💼 Bí thư Tỉnh ủy phát biểu."
)
DRAWN = [
    ("Tỉnh ủy Quảng Ninh", 0, "AGENCY"),  # after a flag (two astral code points) and an emoji
    ("sáp nhập", 0, "MERGE_ACTION"),
    ("Sở\u00a0Tài chính", 0, "AGENCY"),  # across a no-break space
    (nfc(NFD_PART), 0, "AGENCY"),  # NFD input, a double space inside
    ("Thành ủy", 0, "AGENCY"),  # after combining marks that do not compose
    ("2", 0, "NUMBER"),  # after CRLF
    ("Bí thư Tỉnh ủy", 0, "TITLE"),
]  # after a ZWJ emoji sequence


def _document(doc_id: str, text: str) -> Document:
    cut = text.index("\r\n")
    return Document(
        doc_id,
        text,
        meta={"title": "browser"},
        paragraphs=[(0, cut), (cut + 2, len(text))],
        sentences=[(0, cut), (cut + 2, len(text))],
    )


def test_regions_and_a_relation_drawn_with_the_mouse_come_back_exactly(page, session, ls_server, tmp_path):
    assert "  " in TEXT and "\u00a0" in TEXT and "\r\n" in TEXT and unicodedata.combining("̣")
    doc = _document("browser-drawn", TEXT)
    documents = tmp_path / "documents.jsonl"
    write_documents(documents, [doc])
    report = push(session, [doc], project=f"browser drawn {RUN}")
    (task,) = session.export(report.project_id)
    open_task(page, ls_server.url, report.project_id, task["id"])

    # The style this version applies: every space shown (double spaces are not collapsed).
    assert page.evaluate("() => getComputedStyle(document.querySelector('.lsf-htx-richtext')).whiteSpace") == "pre-wrap"
    for needle, nth, label in DRAWN:
        start = at(TEXT, needle, nth)
        draw(page, TEXT, start, start + len(needle), label)
    assert sorted(highlights(page)) == sorted(n for n, _, _ in DRAWN)
    assert relate(page, "sáp nhập", "Sở\u00a0Tài chính", "source") == RELATION_STEPS
    submit(page)

    gold = tmp_path / "gold.jsonl"
    out = pull_cli(ls_server, f"browser drawn {RUN}", gold, documents, "--write", "-q")
    assert out.exit_code == 0, out.output
    (got,) = read_documents(gold)
    assert got.text == TEXT
    assert [(TEXT[s.start : s.end], s.label) for s in got.spans] == [(n, label) for n, _, label in DRAWN]
    by_text = {TEXT[s.start : s.end]: s.id for s in got.spans}
    assert got.relations == [Relation(by_text["sáp nhập"], by_text["Sở\u00a0Tài chính"], "source")]
    # What the browser stored is code points (the rule of annotation/offsets.py), not UTF-16 units.
    (stored,) = session.export(report.project_id)[0]["annotations"]
    first = next(r for r in stored["result"] if r.get("type") == "labels" and r["value"]["text"] == "Tỉnh ủy Quảng Ninh")
    assert first["value"]["start"] == TEXT.index("Tỉnh ủy Quảng Ninh") == 4  # UTF-16 units would say 7


def test_pre_annotations_are_drawn_over_their_text_then_accepted_and_edited(page, session, ls_server, tmp_path):
    doc = _document("browser-predicted", TEXT)
    documents = tmp_path / "documents.jsonl"
    write_documents(documents, [doc])

    def span(sid: str, needle: str, label: str, nth: int = 0) -> Span:
        start = at(TEXT, needle, nth)
        return Span(sid, start, start + len(needle), label, 0.8)

    predicted = Document(
        doc.id,
        TEXT,
        spans=[
            span("p1", "Tỉnh ủy Quảng Ninh", "AGENCY"),
            span("p2", "sáp nhập", "MERGE_ACTION"),
            span("p3", "Sở\u00a0Tài chính", "AGENCY"),
            span("p4", "Thành ủy", "AGENCY"),
            span("p5", "Bí thư Tỉnh ủy", "TITLE"),
        ],
        relations=[Relation("p2", "p3", "target", 0.7)],
    )
    report = push(
        session, [doc], project=f"browser predicted {RUN}", predictions=[predicted], model_version="browser-1", annotate=False
    )
    (task,) = session.export(report.project_id)
    open_task(page, ls_server.url, report.project_id, task["id"])

    # Each prediction is highlighted over exactly its text (checked in the DOM, region by region).
    page.wait_for_function(
        "n => document.querySelectorAll('.lsf-htx-richtext .htx-highlight').length >= n", arg=len(predicted.spans)
    )
    boxes = page.evaluate("""() => [...document.querySelectorAll('.lsf-htx-richtext .htx-highlight')]
                              .map(e => [e.className.match(/htx-highlight-(p\\d)-/)[1], e.textContent])""")
    assert sorted(map(tuple, boxes)) == sorted((s.id, TEXT[s.start : s.end]) for s in predicted.spans)

    # Accept them, then edit: p4 is deleted, "2" is added, and the relation's label stays as predicted.
    highlight(page, "Thành ủy").click()
    page.locator("button[aria-label='Delete selected region']").first.click()
    two = at(TEXT, "2")
    draw(page, TEXT, two, two + 1, "NUMBER")
    submit(page)

    gold = tmp_path / "gold.jsonl"
    out = pull_cli(ls_server, f"browser predicted {RUN}", gold, documents, "--write", "-q")
    assert out.exit_code == 0, out.output
    (got,) = read_documents(gold)
    assert [(TEXT[s.start : s.end], s.label, s.score) for s in got.spans] == [
        ("Tỉnh ủy Quảng Ninh", "AGENCY", None),
        ("sáp nhập", "MERGE_ACTION", None),
        ("Sở\u00a0Tài chính", "AGENCY", None),
        ("2", "NUMBER", None),
        ("Bí thư Tỉnh ủy", "TITLE", None),
    ]
    assert [(r.head, r.child, r.label, r.score) for r in got.relations] == [("p2", "p3", "target", None)]


def test_the_instructions_from_the_guidelines_open_with_the_labeling_stream(page, session, ls_server):
    report = push(session, [Document("browser-instr", "Sáp nhập Sở Nội vụ.")], project=f"browser instructions {RUN}")
    page.goto(f"{ls_server.url}/projects/{report.project_id}/data?labeling=1")
    dialog = page.locator(".lsf-modal-ls__content").filter(has_text="Labeling Instructions").first
    dialog.wait_for(timeout=60_000)
    for words in ("1 AGENCY", "A position held by a person", "4 NUMBER", "Alt+R", "no default label"):
        assert dialog.get_by_text(words, exact=False).count() >= 1, words
