"""The Label Studio labeling config, generated from vnreorg.schema (never written by hand).

One `<Labels>` control over one `<Text>` object, and one `<Relations>` block with the relation
labels. The names below are also the `from_name`/`to_name` of every result item we read and write.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from vnreorg import schema

FROM_NAME = "label"  # the <Labels> control
TO_NAME = "text"  # the <Text> object
TEXT_FIELD = "text"  # task data key holding the document text
ID_FIELD = "doc_id"  # task data key holding the corpus document id
TITLE_FIELD = "title"  # shown above the text when the document has a title


def labeling_config() -> str:
    """Return the XML labeling config for the current schema (deterministic, pretty-printed)."""
    view = ET.Element("View")
    # Keep every space and line break on screen (Label Studio collapses them otherwise, and the
    # region `text` it saves then loses them: label-studio issue 3078); offsets count them anyway.
    ET.SubElement(view, "Style").text = ".htx-text { white-space: pre-wrap; }"
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
