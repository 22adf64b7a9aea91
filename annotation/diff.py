"""What a pull would change in gold, per document: spans and relations added, removed, changed.

Spans are matched by id, then (for regions redrawn in the browser, which get new ids) by offsets.
Relations are compared by the offsets of their ends, so a renamed span id is not a relation change.
Scores are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vnreorg.metrics import Ends, relation_keys, span_key
from vnreorg.schema import Document, Span


@dataclass
class DocumentDiff:
    doc_id: str
    new_document: bool = False
    spans_added: list[Span] = field(default_factory=list)
    spans_removed: list[Span] = field(default_factory=list)
    spans_changed: list[tuple[Span, Span]] = field(default_factory=list)
    relations_added: list[tuple[str, Ends, Ends]] = field(default_factory=list)
    relations_removed: list[tuple[str, Ends, Ends]] = field(default_factory=list)
    relations_changed: list[tuple[str, str, Ends, Ends]] = field(default_factory=list)  # (old label, new label, head, child)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.spans_added,
                self.spans_removed,
                self.spans_changed,
                self.relations_added,
                self.relations_removed,
                self.relations_changed,
            )
        )

    def summary(self) -> str:
        parts = []
        for n, what in (
            (len(self.spans_added), "+{} span"),
            (len(self.spans_removed), "-{} span"),
            (len(self.spans_changed), "~{} span"),
            (len(self.relations_added), "+{} relation"),
            (len(self.relations_removed), "-{} relation"),
            (len(self.relations_changed), "~{} relation"),
        ):
            if n:
                parts.append(what.format(n) + ("s" if n > 1 else ""))
        return ", ".join(parts) or "unchanged"


def _relations(doc: Document | None) -> dict[tuple[Ends, Ends], str]:
    if doc is None:
        return {}
    return {(h, c): label for h, c, label in sorted(relation_keys(doc))}


def diff_documents(old: Document | None, new: Document) -> DocumentDiff:
    d = DocumentDiff(new.id, new_document=old is None)
    old_spans = {s.id: s for s in (old.spans if old else [])}
    new_spans = {s.id: s for s in new.spans}
    left_old = []
    for sid, s in old_spans.items():
        if sid in new_spans:
            if span_key(s) != span_key(new_spans[sid]):
                d.spans_changed.append((s, new_spans[sid]))
        else:
            left_old.append(s)
    left_new = [s for sid, s in new_spans.items() if sid not in old_spans]
    by_offsets = {(s.start, s.end): s for s in left_new}
    for s in left_old:
        twin = by_offsets.pop((s.start, s.end), None)
        if twin is None:
            d.spans_removed.append(s)
        elif twin.label != s.label:
            d.spans_changed.append((s, twin))
    matched = {id(s) for s in by_offsets.values()}
    d.spans_added = [s for s in left_new if id(s) in matched]
    old_rel, new_rel = _relations(old), _relations(new)
    for ends, label in new_rel.items():
        if ends not in old_rel:
            d.relations_added.append((label, *ends))
        elif old_rel[ends] != label:
            d.relations_changed.append((old_rel[ends], label, *ends))
    d.relations_removed = [(label, *ends) for ends, label in old_rel.items() if ends not in new_rel]
    return d


def format_diff(d: DocumentDiff, text: str, header: str = "", limit: int = 60) -> str:
    """Readable lines for one document; span texts quoted, long ones shortened."""

    def q(start: int, end: int) -> str:
        s = text[start:end].replace("\n", "\u23ce")
        return repr(s if len(s) <= limit else s[: limit - 1] + "\u2026")

    lines = [f"{'new ' if d.new_document else ''}doc {d.doc_id}{header}: {d.summary()}"]
    for s in d.spans_added:
        lines.append(f"  + {s.label} [{s.start}:{s.end}] {q(s.start, s.end)}")
    for s in d.spans_removed:
        lines.append(f"  - {s.label} [{s.start}:{s.end}] {q(s.start, s.end)}")
    for a, b in d.spans_changed:
        lines.append(
            f"  ~ {a.label} [{a.start}:{a.end}] {q(a.start, a.end)} -> {b.label} [{b.start}:{b.end}] {q(b.start, b.end)}"
        )
    for label, h, c in d.relations_added:
        lines.append(f"  + relation {label}: {q(*h)} -> {q(*c)}")
    for label, h, c in d.relations_removed:
        lines.append(f"  - relation {label}: {q(*h)} -> {q(*c)}")
    for old, new, h, c in d.relations_changed:
        lines.append(f"  ~ relation {old} -> {new}: {q(*h)} -> {q(*c)}")
    return "\n".join(lines)
