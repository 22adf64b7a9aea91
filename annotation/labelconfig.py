"""The Label Studio labeling config, generated from vnreorg.schema (never written by hand).

One `<Labels>` control over one `<Text>` object, and one `<Relations>` block with the relation
labels. The names below are also the `from_name`/`to_name` of every result item we read and write.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from vnreorg import schema

FROM_NAME = "label"  # the <Labels> control
TO_NAME = "text"  # the <Text> object
TEXT_FIELD = "text"  # task data key holding the document text
ID_FIELD = "doc_id"  # task data key holding the corpus document id
TITLE_FIELD = "title"  # shown above the text when the document has a title


def labeling_config() -> str:
    """Return the XML labeling config for the current schema (deterministic, pretty-printed)."""
    view = ET.Element("View")
    # Keep every space on screen (Label Studio collapses runs otherwise, and the region `text` it saves
    # then loses them: label-studio issue 3078); offsets count them anyway. In 1.23.2 the text element's
    # class is `lsf-htx-richtext` (`.htx-text` matches nothing): tests/test_browser.py checks the computed style.
    ET.SubElement(view, "Style").text = ".lsf-htx-richtext { white-space: pre-wrap; }"
    header = ET.SubElement(view, "Header", value=f"${ID_FIELD}: ${TITLE_FIELD}")
    header.set("size", "5")
    relations = ET.SubElement(view, "Relations")
    for label in schema.RELATION_LABELS:
        ET.SubElement(relations, "Relation", value=label)
    labels = ET.SubElement(view, "Labels", name=FROM_NAME, toName=TO_NAME)
    for i, label in enumerate(schema.ENTITY_LABELS, 1):
        attrs = {"value": label, "background": schema.LABEL_COLOURS.get(label, "#777777")}
        if i < 10:
            attrs["hotkey"] = str(i)
        if label in schema.ENTITY_DESCRIPTIONS:
            attrs["hint"] = schema.ENTITY_DESCRIPTIONS[label]
        ET.SubElement(labels, "Label", attrs)
    ET.SubElement(view, "Text", name=TO_NAME, value=f"${TEXT_FIELD}")
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- instructions shown in the UI

GUIDELINES = Path(__file__).resolve().parent / "GUIDELINES.md"
RULES_PER_LABEL = 3


def _sections(markdown: str, level: str) -> list[tuple[str, str]]:
    """(heading, body) for every heading of exactly `level` ('##' or '###')."""
    parts = re.split(rf"^{level} (.+)$", markdown, flags=re.M)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _first_paragraph(body: str) -> str:
    for block in re.split(r"\n\s*\n", body.strip()):
        if block and not block.lstrip().startswith(("#", "-", "|")):
            return " ".join(block.split())
    return ""


def _bullets(body: str) -> list[str]:
    items: list[str] = []
    for line in body.splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.startswith("  ") and line.strip():
            items[-1] += " " + line.strip()
        elif not line.strip() or line.startswith("#"):
            if items and line.startswith("#"):
                break
    return items


def _first_sentence(text: str, limit: int = 100) -> str:
    """Up to the first full stop that ends a sentence (not "..."), cut at a word near `limit`."""
    m = re.match(r"(.+?(?<!\.)\.)(?!\.)(\s+[A-ZĐ(`\"“]|$)", text)
    out = (m.group(1) if m else text).strip()
    if len(out) > limit:
        out = out[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    if out.count("`") % 2:
        out = out.replace("`", "")
    return out


def _html(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<i>\1</i>", html.escape(text, quote=False).replace("**", ""))


def guideline_summary(markdown: str | None = None) -> dict[str, tuple[str, list[str]]]:
    """label -> (definition, its key boundary rules), read from GUIDELINES.md: the first paragraph of the
    label's `## N. LABEL` section, and the first rules of its boundaries subsection (else of the
    subsection on what is not the label, else the section's own list). Relations come from the section
    titled "Relations". A label without a section is an error: a new label needs its guidelines."""
    from vnreorg.errors import VnreorgError

    text = GUIDELINES.read_text(encoding="utf-8") if markdown is None else markdown
    top = {re.sub(r"^[\dA-Za-z]+\.\s*", "", h).split(" (")[0].strip(): b for h, b in _sections(text, "##")}
    out: dict[str, tuple[str, list[str]]] = {}
    for label in (*schema.ENTITY_LABELS, "Relations"):
        body = top.get(label)
        if body is None:
            raise VnreorgError(f"no `## N. {label}` section: the labeling instructions are generated from it", str(GUIDELINES))
        subs = _sections(body, "###")
        chosen = (
            [b for h, b in subs if "oundar" in h]
            or [b for h, b in subs if h.lower().split(" ", 1)[-1].startswith("not")]
            or [body.split("\n### ")[0]]
        )
        rules = [_first_sentence(r) for r in _bullets(chosen[0])][:RULES_PER_LABEL]
        if label == "Relations":
            rules = [_first_sentence(r) for r in _bullets(body)][: len(schema.RELATION_LABELS)]
        definition = _first_sentence(_first_paragraph(body), 150)
        head = definition.split(": ", 1)[0]  # "A position held by a person: a head, deputy ..." -> the first clause
        out[label] = ((head.rstrip(".") + "." if len(head) >= 20 else definition) if label != "Relations" else "", rules)
    return out


def instructions_html(markdown: str | None = None) -> str:
    """One screen for the labeling interface (project `expert_instruction`): each label's definition and
    its three key boundary rules, the relations, and how to draw them in this Label Studio version.
    Plain markup: Label Studio 1.23.2 strips inline styles from the instructions."""
    summary = guideline_summary(markdown)
    parts = [
        "<div>",
        "<p><b>Full rules: annotation/GUIDELINES.md.</b> Select a label by its key (1–4), then drag over the text. "
        "A relation: click the MERGE_ACTION, press <b>Alt+R</b>, click its argument; then in the Relations tab "
        "open the relation's <b>…</b> and choose its label (there is no default label: an unlabelled relation is refused at pull).</p>",
    ]
    for i, label in enumerate(schema.ENTITY_LABELS, 1):
        definition, rules = summary[label]
        parts.append(f"<p><b>{i} {label}</b>: {_html(definition)}</p><ul>")
        parts.extend(f"<li>• {_html(r)}</li>" for r in rules)
        parts.append("</ul>")
    definition, rules = summary["Relations"]
    parts.append(f"<p><b>Relations</b> (from a MERGE_ACTION, within its sentence)</p><ul>")
    parts.extend(f"<li>• {_html(r)}</li>" for r in rules)
    parts.append("</ul></div>")
    return "".join(parts)
