"""The events page in headless Chromium: filters change the rows, a row opens its highlighted sentence.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright; the page is opened from a file (no
server). On a failure the page is saved as a screenshot under var/screenshots/."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from vnreorg.annotation.browser import CHROMIUM_FLAGS
from vnreorg.models.browse import write_page
from vnreorg.models.events import build_events

ROOT = Path(__file__).resolve().parents[1]
FLAGS = CHROMIUM_FLAGS  # the same offline, headless launch as the Label Studio browser tests


def _record(doc_id, sentence, action, sources, target, meta):
    def ent(surface, label):
        start = sentence.index(surface)
        return {"text": surface, "label": label, "start": start, "end": start + len(surface)}

    ev = {
        "action": ent(action, "MERGE_ACTION"),
        "sources": [ent(s, "AGENCY") for s in sources],
        "targets": [ent(target, "AGENCY")] if target else [],
        "amounts": [],
        "sentence": {"start": 0, "end": len(sentence), "text": sentence},
    }
    return {"source": f"{doc_id}.txt", "id": doc_id, "events": [ev], "entities": [], "meta": meta}


RECORDS = [
    _record(
        "a1",
        "Ngày 12/6/2025, sáp nhập tỉnh Phú Yên và tỉnh Đắk Lắk thành tỉnh Đắk Lắk.",
        "sáp nhập",
        ["tỉnh Phú Yên", "tỉnh Đắk Lắk"],
        "tỉnh Đắk Lắk",
        {"date": "2025-06-13", "outlet": "Báo A"},
    ),
    _record(
        "a2",
        "Ngày 1/7/2025, hợp nhất tỉnh Phú Yên vào tỉnh Gia Lai.",
        "hợp nhất",
        ["tỉnh Phú Yên"],
        "tỉnh Gia Lai",
        {"date": "2025-07-01"},
    ),
    _record(
        "a3",
        "Trong năm 2018, giải thể Phòng Y tế TP. Sóc Trăng.",
        "giải thể",
        ["Phòng Y tế TP. Sóc Trăng"],
        None,
        {"date": "2018-05-14"},
    ),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium not found: apt-get install chromium (the browser tests never skip silently)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path):
    actions = build_events(RECORDS).actions
    path = write_page(actions, tmp_path / "index.html")
    pg = browser.new_page()
    pg.goto(path.as_uri())
    yield pg
    pg.close()


@contextmanager
def screenshot_on_failure(pg, name: str):
    """A failing assertion leaves var/screenshots/<name>.png to look at."""
    try:
        yield
    except BaseException:
        shots = ROOT / "var" / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        raise


def _visible_types(pg) -> list[str]:
    return pg.eval_on_selector_all("tr.ev", "rows => rows.map(r => r.cells[0].textContent)")


def test_filters_change_the_rows(page):
    with screenshot_on_failure(page, "events_filters"):
        _check_filters(page)


def _check_filters(page):
    assert sorted(_visible_types(page)) == ["dissolve", "merge", "merge"]
    assert page.text_content("#count") == "3 of 3 events"
    page.select_option("#f-type", "dissolve")
    assert _visible_types(page) == ["dissolve"]
    page.select_option("#f-type", "")
    page.select_option("#f-verdict", "contradicted")
    rows = page.eval_on_selector_all("tr.ev", "rows => rows.map(r => r.cells[3].textContent)")
    assert len(rows) == 1 and "Gia Lai" in rows[0]
    page.select_option("#f-verdict", "")
    page.select_option("#f-year", "2018")
    assert _visible_types(page) == ["dissolve"]
    page.select_option("#f-year", "")
    page.select_option("#f-province", "Sóc Trăng")
    assert _visible_types(page) == ["dissolve"]
    page.select_option("#f-province", "Phú Yên")
    assert sorted(_visible_types(page)) == ["merge", "merge"]


def test_a_row_opens_its_sentence_with_spans_highlighted(page):
    with screenshot_on_failure(page, "events_sentence"):
        _check_sentence(page)


def _check_sentence(page):
    page.select_option("#f-type", "dissolve")
    page.click("tr.ev")
    detail = page.locator("tr.detail").first
    assert detail.is_visible()
    assert detail.locator("mark.t").text_content() == "giải thể"
    assert detail.locator("mark.s").text_content() == "Phòng Y tế TP. Sóc Trăng"
    assert "Trong năm 2018, giải thể Phòng Y tế TP. Sóc Trăng." == detail.locator(".sent").first.evaluate(
        "e => e.firstChild ? [...e.childNodes].filter(n => !(n.classList && n.classList.contains('meta'))).map(n => n.textContent).join('') : ''"
    )
