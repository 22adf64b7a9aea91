"""Corpus statistics: documents, sentences, tokens, spans and relations per label, agreement.

One result dict feeds the terminal table, `--json` and the dataset card.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from vnreorg.errors import VnreorgError
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document

AGREEMENT_NAME = "agreement.json"


def read_agreement(gold_path: str | os.PathLike) -> dict | None:
    """corpus/gold/agreement.json beside the gold file, or None when it does not exist yet."""
    return read_json_beside(gold_path, AGREEMENT_NAME)


def read_json_beside(gold_path: str | os.PathLike, name: str) -> dict | None:
    path = Path(gold_path).with_name(name)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise VnreorgError(f"invalid JSON: {exc.msg}", f"{path}:{exc.lineno}") from None


def doc_stats(doc: Document) -> dict[str, Any]:
    from vnreorg.corpus.tokenize import tokenize

    spans = Counter(s.label for s in doc.spans)
    rels = Counter(r.label for r in doc.relations)
    return {
        "id": doc.id,
        "title": doc.meta.get("title"),
        "sentences": len(doc.sentences),
        "tokens": len(tokenize(doc.text)),
        "characters": len(doc.text),
        "spans": len(doc.spans),
        "relations": len(doc.relations),
        "spans_per_label": {label: spans.get(label, 0) for label in ENTITY_LABELS},
        "relations_per_label": {label: rels.get(label, 0) for label in RELATION_LABELS},
    }


def corpus_stats(docs: list[Document], agreement: dict | None = None) -> dict[str, Any]:
    per_doc = [doc_stats(d) for d in sorted(docs, key=lambda d: d.id)]

    def total(key: str) -> int:
        return sum(d[key] for d in per_doc)

    return {
        "documents": len(per_doc),
        "sentences": total("sentences"),
        "tokens": total("tokens"),
        "characters": total("characters"),
        "spans": total("spans"),
        "relations": total("relations"),
        "spans_per_label": {lab: sum(d["spans_per_label"][lab] for d in per_doc) for lab in ENTITY_LABELS},
        "relations_per_label": {lab: sum(d["relations_per_label"][lab] for d in per_doc) for lab in RELATION_LABELS},
        "per_document": per_doc,
        "agreement": agreement,
    }


def flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A nested dict/list as (dotted key, leaf value) rows, in the dict's own order."""
    if isinstance(data, dict):
        rows = []
        for key, value in data.items():
            rows += flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(data, list) and any(isinstance(x, (dict, list)) for x in data):
        rows = []
        for i, value in enumerate(data):
            rows += flatten(value, f"{prefix}[{i}]")
        return rows
    return [(prefix, data)]


def fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return ", ".join(fmt_value(v) for v in value)
    return "" if value is None else str(value)


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in header]] + [[fmt_value(c).replace("|", "\\|") for c in r] for r in rows]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def stats_tables(stats: dict[str, Any], with_agreement: bool = True) -> str:
    """Markdown tables (readable in a terminal and on GitHub)."""
    overview = markdown_table(
        ["", "count"], [[k, stats[k]] for k in ("documents", "sentences", "tokens", "characters", "spans", "relations")]
    )
    by_label = markdown_table(["span label", "count"], [[k, v] for k, v in stats["spans_per_label"].items()])
    by_rel = markdown_table(["relation label", "count"], [[k, v] for k, v in stats["relations_per_label"].items()])
    per_doc = markdown_table(
        ["document", "sentences", "tokens", "spans", *ENTITY_LABELS, "relations", *RELATION_LABELS],
        [
            [
                d["id"],
                d["sentences"],
                d["tokens"],
                d["spans"],
                *d["spans_per_label"].values(),
                d["relations"],
                *d["relations_per_label"].values(),
            ]
            for d in stats["per_document"]
        ],
    )
    parts = [overview, by_label, by_rel, "Per document:\n\n" + per_doc]
    if not with_agreement:
        pass
    elif stats.get("agreement"):
        parts.append("Agreement (corpus/gold/agreement.json):\n\n" + agreement_table(stats["agreement"]))
    else:
        parts.append("Agreement: not measured yet (no agreement.json beside the gold file).")
    return "\n\n".join(parts) + "\n"


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def _is_cell(value: Any) -> bool:
    """A scalar, or a list of scalars (shown comma-separated)."""
    return _is_scalar(value) or (isinstance(value, list) and all(_is_scalar(x) for x in value))


def _is_record(value: Any) -> bool:
    """A non-empty dict of cells: one table row."""
    return isinstance(value, dict) and bool(value) and all(_is_cell(x) for x in value.values())


def _is_grid(value: Any) -> bool:
    """A dict of records: rendered as rows x columns."""
    return isinstance(value, dict) and bool(value) and all(_is_record(v) for v in value.values())


def _grid_rows(value: dict) -> dict[str, dict] | None:
    """Rows of a table for `value`: a grid, or a dict of grids and records merged into one grid
    (e.g. {"per_label": {AGENCY: {...}, ...}, "micro": {...}} -> rows AGENCY, ..., micro)."""
    if _is_grid(value):
        return value
    if not (isinstance(value, dict) and value and all(_is_grid(v) or _is_record(v) for v in value.values())):
        return None
    rows: dict[str, dict] = {}
    for key, sub in value.items():
        for name, row in sub.items() if _is_grid(sub) else [(key, sub)]:
            rows[name if name not in rows else f"{key}.{name}"] = row
    return rows


def _table(rows: dict[str, dict] | list[dict], first: str = "") -> str:
    items = list(rows.items()) if isinstance(rows, dict) else [(None, r) for r in rows]
    columns: list[str] = []
    for _, row in items:
        columns += [c for c in row if c not in columns]
    if isinstance(rows, dict):
        return markdown_table([first, *columns], [[name, *(row.get(c) for c in columns)] for name, row in items])
    return markdown_table(columns, [[row.get(c) for c in columns] for _, row in items])


def _render(path: str, value: Any, flat: list[tuple[str, Any]], blocks: list[str]) -> None:
    def titled(table: str) -> str:
        return f"**{path}**\n\n{table}" if path else table

    rows = _grid_rows(value) if isinstance(value, dict) else None
    if rows is not None:
        blocks.append(titled(_table(rows)))
    elif _is_record(value) and path:
        blocks.append(titled(markdown_table(["measure", "value"], [[k, v] for k, v in value.items()])))
    elif isinstance(value, dict) and value:
        for key, sub in value.items():
            _render(f"{path}.{key}" if path else str(key), sub, flat, blocks)
    elif isinstance(value, list) and value and all(_is_record(v) for v in value):
        blocks.append(titled(_table(value)))
    else:
        flat += flatten(value, path)


def agreement_table(agreement: dict) -> str:
    """Render a free-form nested dict as Markdown: grids (dicts of records, possibly with summary records
    beside them) as rows x columns tables, records and lists of records as tables under their dotted key,
    and remaining leaves as `measure | value` rows first."""
    flat: list[tuple[str, Any]] = []
    blocks: list[str] = []
    _render("", agreement, flat, blocks)
    parts = ([markdown_table(["measure", "value"], [[k, v] for k, v in flat])] if flat else []) + blocks
    return "\n\n".join(parts)
