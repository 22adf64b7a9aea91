"""Make the screenshots of annotation/README.md's walk-through (run by hand, never by the tests).

    .venv/bin/vnreorg annotate serve --port 8093 --data-dir var/ls-shots     # in another terminal
    .venv/bin/python annotation/tools/screenshots.py --data-dir var/ls-shots

Pushes one short document with a model's pre-annotations to a fresh project, then, in Debian's chromium
driven by Playwright, does what a newcomer does: reads the instructions, accepts and corrects the
pre-annotations, draws a region with its hotkey and the mouse, draws and labels a relation, submits.
The images go to annotation/img/ (committed); `pull`'s dry run is printed at the end.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vnreorg.annotation.browser import draw, highlight, launch, log_in, open_task, relate, submit, tab
from vnreorg.annotation.client import LabelStudioSession, push
from vnreorg.annotation.server import Credentials
from vnreorg.schema import Document, Relation, Span, nfc

IMG = Path(__file__).resolve().parents[1] / "img"
TEXT = nfc("Thành phố sáp nhập Phòng Y tế vào Văn phòng HĐND và UBND thành phố, giảm 2 đầu mối. 👍")


def span(sid: str, needle: str, label: str) -> Span:
    start = TEXT.index(needle)
    return Span(sid, start, start + len(needle), label, 0.8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True, help="data folder of a running `vnreorg annotate serve`")
    args = ap.parse_args()
    creds = Credentials.load(args.data_dir)
    if creds is None:
        raise SystemExit(f"no credentials in {args.data_dir}: start `vnreorg annotate serve --data-dir {args.data_dir}` first")
    session = LabelStudioSession(creds.url, creds.token)
    doc = Document("walkthrough", TEXT, meta={"title": "Sáp nhập Phòng Y tế"})
    model = Document(
        doc.id,
        TEXT,
        spans=[
            span("m1", "sáp nhập", "MERGE_ACTION"),
            span("m2", "Phòng Y tế", "AGENCY"),
            span("m3", "Văn phòng HĐND", "AGENCY"),
        ],  # too short: the annotator corrects it
        relations=[Relation("m1", "m2", "source", 0.7)],
    )
    project = f"walk-through {time.strftime('%H%M%S')}"
    report = push(session, [doc], project=project, predictions=[model], model_version="model-v1", annotate=False)
    (task,) = session.export(report.project_id)
    IMG.mkdir(exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        log_in(page, creds.url, creds.username, creds.password)
        page.goto(f"{creds.url}/projects/{report.project_id}/data?labeling=1")
        page.get_by_text("Labeling Instructions").wait_for(timeout=60_000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(IMG / "1-instructions.png"))
        open_task(page, creds.url, report.project_id, task["id"])
        page.wait_for_timeout(1000)
        page.screenshot(path=str(IMG / "2-pre-annotations.png"))
        highlight(page, "Văn phòng HĐND").click()  # the model's region is too short: delete it, draw the right one
        page.locator("button[aria-label='Delete selected region']").first.click()
        full = "Văn phòng HĐND và UBND thành phố"
        draw(page, TEXT, TEXT.index(full), TEXT.index(full) + len(full), "AGENCY")
        draw(page, TEXT, TEXT.index("2"), TEXT.index("2") + 1, "NUMBER")
        page.screenshot(path=str(IMG / "3-regions.png"))
        relate(page, "sáp nhập", full, "target")
        tab(page, "Relations").click()
        page.wait_for_timeout(500)
        page.screenshot(path=str(IMG / "4-relation.png"))
        relate(page, "sáp nhập", "2", "amount")
        submit(page)
        browser.close()
    print(f"screenshots in {IMG}; now try: vnreorg annotate pull --project '{project}' --data-dir {args.data_dir}")


if __name__ == "__main__":
    main()
