"""Driving Label Studio 1.23.2's labeling interface as an annotator does, for the browser tests and the
README's screenshots (`annotation/tools/screenshots.py`).

Only what a person does: the mouse is moved, pressed, dragged and released over the characters'
on-screen boxes (read from the DOM), labels are chosen by their hotkeys, relations with Alt+R and
clicks. Nothing sets a DOM selection or calls the interface's internals. `page` is a Playwright page;
Playwright drives Debian's `chromium` (found on the PATH), never a browser it downloads.
"""

from __future__ import annotations

import shutil
from typing import Any

from vnreorg import schema

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOTKEYS = {label: str(i) for i, label in enumerate(schema.ENTITY_LABELS[:9], 1)}  # as labelconfig assigns them
RELATION_STEPS = 7  # measured: click head, Alt+R, click child | Relations tab, "…", open the list, choose

# The on-screen box of the character at a UTF-16 index of the text shown (line breaks become <br>, so
# they are not in the text nodes). Geometry only: the selection itself is made with the mouse.
_CHAR_BOX = """(idx) => {
  const root = document.querySelector('.lsf-htx-richtext');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node, pos = 0;
  while ((node = walker.nextNode())) {
    const n = node.data.length;
    if (idx < pos + n) {
      const o = idx - pos, r = document.createRange();
      let e = o + 1;
      if (e < n && node.data.charCodeAt(e) >= 0xDC00 && node.data.charCodeAt(e) <= 0xDFFF) e++;
      r.setStart(node, o); r.setEnd(node, e);
      const b = r.getBoundingClientRect();
      return [b.left, b.top, b.right, b.bottom];
    }
    pos += n;
  }
  return null;
}"""


def launch(playwright: Any):
    """Debian's chromium, headless, by path."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("chromium is not on the PATH: apt-get install -y chromium")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)


def log_in(page: Any, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=60_000)


def shown_index(text: str, cp: int) -> int:
    """Index, in UTF-16 units of the rendered text nodes, of the character at code point `cp`."""
    shown = text[:cp].replace("\r", "").replace("\n", "")
    return len(shown.encode("utf-16-le")) // 2


def open_task(page: Any, url: str, project_id: int, task_id: int) -> None:
    page.goto(f"{url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(".lsf-htx-richtext .lsf-richtext__line", timeout=60_000)
    page.wait_for_timeout(500)


def draw(page: Any, text: str, start: int, end: int, label: str) -> None:
    """Press the label's hotkey (unless that label is already active: the key toggles it), then drag the
    mouse from the first character of [start:end) to its last."""
    active = page.locator(".lsf-label.lsf-label_selected").all_inner_texts()
    if not any(t.strip().startswith(label) and t.strip()[len(label) :].strip() == HOTKEYS[label] for t in active):
        page.keyboard.press(HOTKEYS[label])
    first = page.evaluate(_CHAR_BOX, shown_index(text, start))
    last = page.evaluate(_CHAR_BOX, shown_index(text, end - 1))
    if not (first and last):
        raise AssertionError(f"characters {start}..{end} are not on screen")
    page.mouse.move(first[0] + 1, (first[1] + first[3]) / 2)
    page.mouse.down()
    page.mouse.move(last[2] - 1, (last[1] + last[3]) / 2, steps=10)
    page.mouse.up()
    page.wait_for_timeout(250)


def highlight(page: Any, text: str) -> Any:
    """The (first) highlighted piece of the region showing `text`: a region may be drawn as several pieces."""
    index = page.evaluate(
        """(t) => [...document.querySelectorAll('.lsf-htx-richtext .htx-highlight')]
        .findIndex(e => e.textContent === t || (e.textContent.length > 0 && t.startsWith(e.textContent)))""",
        text,
    )
    if index < 0:
        raise AssertionError(f"no highlighted region shows {text!r}")
    return page.locator(".lsf-htx-richtext .htx-highlight").nth(index)


def highlights(page: Any) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.lsf-htx-richtext .htx-highlight')].map(e => e.textContent)")


def relate(page: Any, head: str, child: str, label: str) -> int:
    """Draw a relation from the region showing `head` to the one showing `child`, give it its label (there
    is no default), and return the number of user actions it took."""
    highlight(page, head).click()
    page.keyboard.press("Alt+r")  # the hotkey of the region's "Create Relation" button
    highlight(page, child).click()
    tab(page, "Relations").click()
    item = page.locator(".lsf-relations__item").last
    item.hover()
    item.locator("button[aria-label='Show Relation Labels']").click()
    page.locator(".lsf-relation-meta button").last.click()
    page.get_by_role("option", name=label, exact=True).click()
    page.keyboard.press("Escape")
    tab(page, "Regions").click()
    return RELATION_STEPS


def tab(page: Any, name: str) -> Any:
    """A tab of the side panel ("Regions", "Relations"); the panel keeps a hidden copy while it is dragged."""
    return page.locator(".lsf-panel-tabs__tab:visible", has_text=name).first


def submit(page: Any) -> None:
    page.locator("button[aria-label='Submit current annotation'], button[aria-label=submit]").first.click()
    page.wait_for_timeout(1500)
