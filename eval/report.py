"""Reports from one result object: Markdown (terminal, GitHub), self-contained HTML with plots, JSON.

Why three: people read the Markdown in review, the HTML to look at errors and plots, and machines
(CI, the model card) read the JSON. All three are rendered from `EvalResult.to_dict()`, so they
cannot disagree. Every table is built once, as a `Table` (title, header, rows, notes) of plain values
and `Cell`s that name their emphasis, and drawn by two renderers (`md_block`, `html_block`); a renderer
adds only what is its own (plots, highlighted examples). The HTML has no external resources: CSS
inline, plots as base64 PNG.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vnreorg.eval.cv import fmt_mean_sd
from vnreorg.eval.scoring import ERROR_KIND_TITLES, ERROR_KINDS, RELATION_SCHEMES, SCHEMES, EvalResult
from vnreorg.jsonio import write_atomic
from vnreorg.schema import ENTITY_LABELS, LABEL_COLOURS, RELATION_LABELS

SCHEME_HELP = {
    "strict": "exact boundaries and label",
    "exact": "exact boundaries, label ignored",
    "partial": "overlap earns half credit, label ignored",
    "type": "overlap and same label",
}
RELATION_SCHEME_HELP = {
    "strict": "both argument spans exact (boundaries and label) and the relation label",
    "boundaries": "both argument spans' boundaries exact and the relation label; entity labels ignored",
}
EXAMPLES_SHOWN = 25
_NONE_COLOUR = "#7f7f7f"


def _f(x: float) -> str:
    return f"{x:.3f}"


def _ci(ci: list[float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "–"


# --------------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------------


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _f1_bars(
    d: dict[str, Any],
    kind: str,
    labels: tuple[str, ...],
    schemes: tuple[str, ...],
    colours: list[str],
    title: str,
    figsize: tuple[float, float],
) -> str:
    """Grouped bars: F1 per label under each scheme, and micro F1 with its bootstrap interval."""
    plt = _plt()
    import numpy as np

    groups = list(labels) + ["micro"]
    x = np.arange(len(groups))
    width = 0.8 / len(schemes)
    fig, ax = plt.subplots(figsize=figsize)
    for i, s in enumerate(schemes):
        vals = [d[kind][s]["per_label"][lab]["f1"] for lab in labels] + [d[kind][s]["micro"]["f1"]]
        pos = x + (i - (len(schemes) - 1) / 2) * width
        ax.bar(pos, vals, width, label=s, color=colours[i])
        ci = d.get("ci95", {}).get(f"{kind}.{s}")
        if ci:
            m = vals[-1]
            ax.errorbar(pos[-1], m, yerr=[[max(m - ci[0], 0)], [max(ci[1] - m, 0)]], color="black", capsize=3, lw=1)
    ax.set_xticks(x, groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1")
    ax.set_title(title)
    ax.legend(ncol=len(schemes), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def plot_entity_f1(d: dict[str, Any]) -> str:
    return _f1_bars(
        d,
        "entities",
        tuple(ENTITY_LABELS),
        tuple(SCHEMES),
        ["#4c72b0", "#55a868", "#c44e52", "#8172b2"],
        "Entity F1 per label and scheme (micro with 95% bootstrap interval)",
        (8.5, 3.6),
    )


def plot_relation_f1(d: dict[str, Any]) -> str:
    return _f1_bars(
        d,
        "relations",
        tuple(RELATION_LABELS),
        tuple(RELATION_SCHEMES),
        ["#4c72b0", "#dd8452"],
        "Relation F1 per label (micro with 95% bootstrap interval)",
        (6.5, 3.2),
    )


def plot_confusion(conf: dict[str, Any]) -> str:
    plt = _plt()
    import numpy as np

    labels = conf["labels"]
    m = np.array(conf["matrix"], dtype=float)
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    # Colour by row share (what happened to gold spans of this label); annotate raw counts.
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j]:
                ax.text(
                    j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=8, color="white" if share[i, j] > 0.6 else "black"
                )
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title("Label confusion (colour = share of the gold row)")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return _png(fig)


def plot_cv(comparison: dict[str, Any]) -> str:
    """Per system and metric: mean ± sd bars, fold values as dots."""
    plt = _plt()
    import numpy as np

    metrics = comparison["metrics"]
    systems = list(comparison["systems"])
    x = np.arange(len(metrics))
    width = 0.8 / max(len(systems), 1)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for i, name in enumerate(systems):
        s = comparison["systems"][name]
        pos = x + (i - (len(systems) - 1) / 2) * width
        ax.bar(pos, [s["mean"][m] for m in metrics], width, yerr=[s["sd"][m] for m in metrics], capsize=3, label=name, alpha=0.85)
        for fold_vals in s["folds"].values():
            ax.scatter(pos, [fold_vals[m] for m in metrics], s=8, color="black", zorder=3)
    ax.set_xticks(x, [m.replace("entities.", "ent. ").replace("relations.", "rel. ") for m in metrics], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("micro F1")
    ax.set_title("Cross-validation: mean ± sd over folds (dots = folds)")
    ax.legend(ncol=len(systems), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


# --------------------------------------------------------------------------------------------------
# Highlighted sentences
# --------------------------------------------------------------------------------------------------


def _crop(err: dict[str, Any], margin: int = 90) -> tuple[int, int]:
    """Part of the sentence to show: the spans plus about `margin` characters, cut at spaces."""
    s0, s1 = err["sentence"]["start"], err["sentence"]["end"]
    text = err["sentence"]["text"]
    spans = err["gold"] + err["pred"]
    lo = min(x["start"] for x in spans)
    hi = max(x["end"] for x in spans)
    a, b = max(s0, lo - margin), min(s1, hi + margin)
    if a > s0:
        k = text.find(" ", a - s0, lo - s0)
        a = s0 + k + 1 if k >= 0 else a
    if b < s1:
        k = text.rfind(" ", hi - s0, b - s0)
        b = s0 + k if k >= 0 else b
    return a, b


def highlight_text(err: dict[str, Any]) -> str:
    """Plain-text markup for Markdown: gold ⟦…⟧ and predictions ⟨…⟩, labels after the closing mark."""
    s0, s1 = _crop(err)
    text = err["sentence"]["text"]
    base = err["sentence"]["start"]
    inserts: list[tuple[int, int, str]] = []  # (offset, order, text): closings before openings
    for sp in err["gold"]:
        inserts += [(sp["start"], 2, "⟦"), (sp["end"], 0, f"⟧`gold:{sp['label']}`")]
    for sp in err["pred"]:
        inserts += [(sp["start"], 3, "⟨"), (sp["end"], 1, f"⟩`pred:{sp['label']}`")]
    out = []
    pos = s0
    for off, _, mark in sorted(inserts):
        out.append(text[pos - base : off - base])
        out.append(mark)
        pos = off
    out.append(text[pos - base : s1 - base])
    body = "".join(out).replace("\n", " ").replace("|", "\\|")
    return ("…" if s0 > err["sentence"]["start"] else "") + body + ("…" if s1 < err["sentence"]["end"] else "")


def highlight_html(err: dict[str, Any]) -> str:
    """HTML: gold spans underlined in their label colour, predictions shaded; badges after each end."""
    s0, s1 = _crop(err)
    text = err["sentence"]["text"]
    base = err["sentence"]["start"]
    cuts = {s0, s1}
    for sp in err["gold"] + err["pred"]:
        cuts.update((max(s0, min(s1, sp["start"])), max(s0, min(s1, sp["end"]))))
    cuts_sorted = sorted(cuts)
    out = ["…" if s0 > err["sentence"]["start"] else ""]
    for a, b in zip(cuts_sorted, cuts_sorted[1:]):
        seg = html.escape(text[a - base : b - base])
        style = []
        g = next((sp for sp in err["gold"] if sp["start"] <= a and b <= sp["end"]), None)
        p = next((sp for sp in err["pred"] if sp["start"] <= a and b <= sp["end"]), None)
        if g:
            style.append(f"border-bottom:3px solid {LABEL_COLOURS.get(g['label'], _NONE_COLOUR)}")
        if p:
            style.append(
                f"background:{LABEL_COLOURS.get(p['label'], _NONE_COLOUR)}33;outline:1px dashed {LABEL_COLOURS.get(p['label'], _NONE_COLOUR)}"
            )
        out.append(f'<span style="{";".join(style)}">{seg}</span>' if style else seg)
        for sp in err["gold"]:
            if sp["end"] == b:
                out.append(
                    f'<sup class="badge gold" style="background:{LABEL_COLOURS.get(sp["label"], _NONE_COLOUR)}">gold {html.escape(sp["label"])}</sup>'
                )
        for sp in err["pred"]:
            if sp["end"] == b:
                out.append(
                    f'<sup class="badge pred" style="color:{LABEL_COLOURS.get(sp["label"], _NONE_COLOUR)};border-color:{LABEL_COLOURS.get(sp["label"], _NONE_COLOUR)}">pred {html.escape(sp["label"])}</sup>'
                )
    out.append("…" if s1 < err["sentence"]["end"] else "")
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Tables: built once from the result object, rendered to Markdown and to HTML
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A table cell with the emphasis both renderings understand, so no builder writes markup.

    style: "strong" (a row name), "big" (the headline number), "muted" (an explanation, wraps),
    "code" (a command or hash), "signal" (bold in `colour` in HTML, plain in Markdown);
    swatch: a colour shown as a square before the text in HTML.
    """

    text: str
    style: str = ""
    colour: str = ""
    swatch: str = ""


@dataclass(frozen=True)
class Table:
    """One table of a report: a heading (none when empty, at `level`), notes shown under the heading,
    the header and the rows (plain values or `Cell`s). `css` is a class for the HTML table."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    level: int = 2
    css: str = ""

    def with_notes(self, *notes: str) -> Table:
        """The same table with notes that only one rendering needs (a legend, say)."""
        return replace(self, notes=[*self.notes, *notes])


def _cell(value: Any) -> Cell:
    return value if isinstance(value, Cell) else Cell(str(value))


def md_table(t: Table) -> str:
    """The table alone in GitHub Markdown (pipes in cells escaped, as GFM wants even in code spans)."""

    def md(c: Cell) -> str:
        text = c.text.replace("|", "\\|")
        return f"**{text}**" if c.style in ("strong", "big") else f"`{text}`" if c.style == "code" else text

    lines = ["| " + " | ".join(t.header) + " |", "|" + "|".join("---" for _ in t.header) + "|"]
    lines += ["| " + " | ".join(md(_cell(c)) for c in r) + " |" for r in t.rows]
    return "\n".join(lines)


def md_block(t: Table) -> list[str]:
    """Heading, notes (one paragraph) and table, as Markdown lines ending with a blank line."""
    out = [f"{'#' * t.level} {t.title}", ""] if t.title else []
    if t.notes:
        out += [" ".join(t.notes), ""]
    return out + [md_table(t), ""]


def _inline_html(text: str) -> str:
    """Escape text; `code` spans (as in Markdown titles and notes) become <code>."""
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


def html_table(t: Table) -> str:
    """The table alone in HTML; every text is escaped here, so builders pass plain text."""

    def td(c: Cell) -> str:
        text = html.escape(c.text)
        if c.style == "strong":
            text = f"<b>{text}</b>"
        elif c.style == "big":
            text = f'<span class="big">{text}</span>'
        elif c.style == "muted":
            return f'<td class="l"><span class="muted">{text}</span></td>'
        elif c.style == "signal":
            text = f'<b style="color:{c.colour}">{text}</b>'
        if c.swatch:
            text = f'<span style="color:{c.swatch}">■</span> {text}'
        return f"<td>{text}</td>"

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in t.header) if any(t.header) else ""
    body = "".join("<tr>" + "".join(td(_cell(c)) for c in r) + "</tr>" for r in t.rows)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f'<table class="{t.css}">{thead}<tbody>{body}</tbody></table>'


def html_block(t: Table) -> str:
    """Heading, notes (one muted paragraph) and table in HTML."""
    out = f"<h{t.level}>{_inline_html(t.title)}</h{t.level}>" if t.title else ""
    if t.notes:
        out += f'<p class="muted">{_inline_html(" ".join(t.notes))}</p>'
    return out + html_table(t)


def _meta_cell(value: Any, limit: int = 160) -> str:
    """Short values as they are; long lists/dicts (fold id lists, say) summarised, they are in the JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= limit:
        return text
    size = f"{len(value)} items; " if isinstance(value, (list, dict)) else ""
    return f"({size}see the JSON)"


def _meta_table(items: list[tuple[str, Any]], code: tuple[str, ...] = ("command",)) -> Table:
    rows = [[k, Cell(_meta_cell(v), "code" if k in code else "")] for k, v in items]
    return Table("", ["", ""], rows, css="meta")


def _run_meta_table(d: dict[str, Any]) -> Table:
    meta, c, b = d.get("meta", {}), d["counts"], d.get("bootstrap", {})
    return _meta_table(
        [
            ("model", meta.get("model") or "–"),
            ("gold", meta.get("gold", "–")),
            ("prediction", meta.get("pred", "–")),
            ("corpus sha256", (meta.get("corpus_version") or {}).get("sha256", "–")),
            ("command", meta.get("command", "–")),
            ("created", meta.get("created", "–")),
            ("documents / gold spans / predicted spans", f"{c['documents']} / {c['gold_spans']} / {c['pred_spans']}"),
            ("gold relations / predicted relations", f"{c['gold_relations']} / {c['pred_relations']}"),
            ("bootstrap", f"{b.get('n_boot', 0)} document resamples, seed {b.get('seed', '–')}"),
        ],
        code=("command", "corpus sha256"),
    )


def _entity_tables(d: dict[str, Any]) -> dict[str, Table]:
    ent, ci = d["entities"], d.get("ci95", {})
    micro = [
        [
            Cell(s, "strong"),
            Cell(SCHEME_HELP[s], "muted"),
            _f(m["precision"]),
            _f(m["recall"]),
            Cell(_f(m["f1"]), "big"),
            _ci(ci.get(f"entities.{s}")),
            m["correct"],
            m["incorrect"],
            m["partial"],
            m["missed"],
            m["spurious"],
        ]
        for s in SCHEMES
        for m in [ent[s]["micro"]]
    ]
    macro = [[s, _f(ent[s]["macro"]["precision"]), _f(ent[s]["macro"]["recall"]), _f(ent[s]["macro"]["f1"])] for s in SCHEMES]
    strict = ent["strict"]["per_label"]
    per_label = [
        [
            Cell(lab, swatch=LABEL_COLOURS.get(lab, _NONE_COLOUR)),
            strict[lab]["support"],
            strict[lab]["predicted"],
            _f(strict[lab]["precision"]),
            _f(strict[lab]["recall"]),
            _f(strict[lab]["f1"]),
        ]
        + [_f(ent[s]["per_label"][lab]["f1"]) for s in ("exact", "partial", "type")]
        + ["/".join(str(strict[lab][k]) for k in ("correct", "incorrect", "missed", "spurious"))]
        for lab in ENTITY_LABELS
    ]
    return {
        "entities": Table(
            "Entities (micro)", ["scheme", "rule", "P", "R", "F1", "F1 95% CI", "COR", "INC", "PAR", "MIS", "SPU"], micro
        ),
        "entities_macro": Table(
            "", ["scheme", "P", "R", "F1"], macro, ["Macro (unweighted mean over labels present in gold or prediction):"]
        ),
        "entities_per_label": Table(
            "Entities per label",
            [
                "label",
                "support",
                "predicted",
                "strict P",
                "strict R",
                "strict F1",
                "exact F1",
                "partial F1",
                "type F1",
                "COR/INC/MIS/SPU (strict)",
            ],
            per_label,
        ),
    }


def _relation_tables(d: dict[str, Any]) -> dict[str, Table]:
    rel, ci = d["relations"], d.get("ci95", {})
    micro = [
        [
            Cell(s, "strong"),
            Cell(RELATION_SCHEME_HELP[s], "muted"),
            _f(m["precision"]),
            _f(m["recall"]),
            Cell(_f(m["f1"]), "big"),
            _ci(ci.get(f"relations.{s}")),
            m["tp"],
            m["pred"],
            m["gold"],
        ]
        for s in RELATION_SCHEMES
        for m in [rel[s]["micro"]]
    ]
    strict = rel["strict"]["per_label"]
    per_label = [
        [
            lab,
            strict[lab]["gold"],
            strict[lab]["pred"],
            _f(strict[lab]["precision"]),
            _f(strict[lab]["recall"]),
            _f(strict[lab]["f1"]),
            _f(rel["boundaries"]["per_label"][lab]["f1"]),
        ]
        for lab in RELATION_LABELS
    ]
    return {
        "relations": Table("Relations", ["scheme", "rule", "P", "R", "F1", "F1 95% CI", "correct", "predicted", "gold"], micro),
        "relations_per_label": Table(
            "", ["relation", "gold", "predicted", "strict P", "strict R", "strict F1", "boundaries F1"], per_label
        ),
    }


def _comparison_table(comparison: dict[str, Any]) -> Table:
    meta = comparison.get("_meta", {})
    names = comparison.get("_names", {"a": "this run", "b": "compared run"})
    rows = []
    for m, e in comparison.items():
        if m.startswith("_"):
            continue
        ci = e.get("ci95")
        colour = "#2ca02c" if ci and ci[0] > 0 else "#d62728" if ci and ci[1] < 0 else "#555"
        rows.append(
            [
                m,
                _f(e["a"]),
                _f(e["b"]),
                Cell(f"{e['delta']:+.3f}", "signal", colour),
                _ci(ci),
                f"{e['p_value']:.3f}" if "p_value" in e else "–",
            ]
        )
    return Table(
        f"Comparison: {names['a']} (a) vs {names['b']} (b)",
        ["micro F1", "a", "b", "a − b", "95% CI of a − b", "p"],
        rows,
        [
            f"Paired bootstrap over {meta.get('documents', '?')} documents, {meta.get('n_boot', '?')} resamples, "
            f"seed {meta.get('seed', '?')}."
        ],
    )


def report_tables(d: dict[str, Any], comparison: dict[str, Any] | None = None) -> dict[str, Table]:
    """Every table of the evaluation report, in reading order, from `EvalResult.to_dict()` (the one
    result object); the renderers add only what is theirs (plots, highlighted examples)."""
    conf, counts = d["confusion"], d.get("error_counts", {})
    tables = {"meta": _run_meta_table(d), **_entity_tables(d), **_relation_tables(d)}
    if comparison:
        tables["comparison"] = _comparison_table(comparison)
    tables["confusion"] = Table(
        "Label confusion",
        ["gold \\ pred"] + conf["labels"],
        [[lab] + row for lab, row in zip(conf["labels"], conf["matrix"])],
        [conf.get("note", "")],
    )
    tables["errors"] = Table(
        "Errors",
        ["kind", "count"],
        [[ERROR_KIND_TITLES[k], counts.get(k, 0)] for k in ERROR_KINDS],
        ["Kinds from the strict alignment."],
    )
    return tables


def _errors_by_kind(d: dict[str, Any]) -> list[tuple[str, int, list[dict]]]:
    """(kind, total count, the examples shown) for every error kind that has examples, in ERROR_KINDS order."""
    counts = d.get("error_counts", {})
    by_kind: dict[str, list[dict]] = {}
    for e in d.get("errors", []):
        by_kind.setdefault(e["kind"], []).append(e)
    return [(k, counts.get(k, len(by_kind[k])), by_kind[k][:EXAMPLES_SHOWN]) for k in ERROR_KINDS if by_kind.get(k)]


# --------------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------------


def render_markdown(d: dict[str, Any], *, title: str, comparison: dict[str, Any] | None = None) -> str:
    tables = report_tables(d, comparison)
    tables["errors"] = tables["errors"].with_notes("Gold spans are marked ⟦…⟧, predictions ⟨…⟩.")
    parts = [f"# {title}", ""]
    for t in tables.values():
        parts += md_block(t)
    for k, total, shown in _errors_by_kind(d):
        parts += [f"### {ERROR_KIND_TITLES[k]} ({total}; {len(shown)} shown)", ""]
        for e in shown:
            extra = f" — {e['relation']}: {e['reason']}" if "relation" in e else ""
            parts.append(f"- `{e['doc_id']}`{extra}: {highlight_text(e)}")
        parts.append("")
    if d.get("notes"):
        parts += ["## Notes", ""] + [f"- {n}" for n in d["notes"]] + [""]
    parts += [
        "## How to read this",
        "",
        "Counts: COR correct, INC incorrect, PAR partial, MIS missed, SPU spurious. P = (COR + ½·PAR) / (COR+INC+PAR+SPU), "
        "R = (COR + ½·PAR) / (COR+INC+PAR+MIS). Spans are paired one to one: exact matches first, then overlaps "
        "(see eval/README.md, *Matching rule*). Intervals: percentile bootstrap over documents.",
        "",
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","DejaVu Sans",sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:right}
th{background:#f4f4f4}td{white-space:nowrap}td.l{white-space:normal}td:first-child,th:first-child{text-align:left}td.l{text-align:left}.meta td{text-align:left}
.big{font-weight:700}.muted{color:#777;font-size:.85rem}img{max-width:100%;margin:.5rem 0}
.err{margin:.35rem 0;padding:.35rem .6rem;background:#fafafa;border-left:3px solid #ccc;font-size:.95rem}
.badge{font-size:.65rem;padding:0 .25rem;border-radius:3px;margin:0 .15rem;white-space:nowrap}
.badge.gold{color:#fff}.badge.pred{border:1px dashed;background:#fff}
.doc{font-family:monospace;color:#555;font-size:.8rem}.legend span{margin-right:1rem}
.plots{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}
details summary{cursor:pointer;font-weight:600}
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def _img(alt: str, png: str) -> str:
    return f'<div class="plots"><img alt="{alt}" src="data:image/png;base64,{png}"></div>'


def render_html(d: dict[str, Any], *, title: str, comparison: dict[str, Any] | None = None) -> str:
    tables = report_tables(d, comparison)
    if comparison:
        tables["comparison"] = tables["comparison"].with_notes("Green: interval above 0, red: below 0.")
    plots_after = {
        "entities_macro": lambda: _img("entity F1 per label", plot_entity_f1(d)),
        "relations_per_label": lambda: _img("relation F1", plot_relation_f1(d)),
        "confusion": lambda: _img("confusion matrix", plot_confusion(d["confusion"])),
        "errors": lambda: _errors_html(d),
    }
    b = [f"<h1>{html.escape(title)}</h1>"]
    for name, t in tables.items():
        b.append(html_block(t))
        if name in plots_after:
            b.append(plots_after[name]())
    if d.get("notes"):
        b.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in d["notes"]) + "</ul>")
    b.append(
        '<h2>How to read this</h2><p class="muted">COR correct, INC incorrect, PAR partial, MIS missed, SPU spurious. '
        "P = (COR + ½·PAR) / (COR+INC+PAR+SPU), R = (COR + ½·PAR) / (COR+INC+PAR+MIS); PAR occurs only in the partial scheme. "
        "Spans are paired one to one: exact matches first, then overlaps (eval/README.md, <i>Matching rule</i>). "
        "Intervals: percentile bootstrap over documents.</p>"
    )
    return _page(title, "\n".join(b))


def _errors_html(d: dict[str, Any]) -> str:
    """The examples under the error table: a colour legend, then each kind's highlighted sentences."""
    legend = " ".join(f'<span><span style="color:{c}">■</span> {html.escape(lab)}</span>' for lab, c in LABEL_COLOURS.items())
    out = [
        '<p class="muted">Gold spans are underlined in their label colour, predictions shaded with a dashed outline; '
        f'badges name the label.</p><p class="legend">{legend}</p>'
    ]
    for k, total, shown in _errors_by_kind(d):
        items = []
        for e in shown:
            extra = (
                f' <span class="muted">{html.escape(e["relation"])}: {html.escape(e["reason"])}</span>' if "relation" in e else ""
            )
            items.append(
                f'<div class="err"><span class="doc">{html.escape(e["doc_id"])}</span>{extra}<br>{highlight_html(e)}</div>'
            )
        out.append(
            f"<details open><summary>{html.escape(ERROR_KIND_TITLES[k])} ({total}; {len(shown)} shown)</summary>"
            + "".join(items)
            + "</details>"
        )
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------


def write_report(
    result: EvalResult | dict[str, Any],
    out_dir: str | os.PathLike,
    *,
    title: str = "vnreorg evaluation",
    meta: dict[str, Any] | None = None,
    comparison: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write report.md, report.html and report.json (atomically) into `out_dir`; return their paths."""
    d = result.to_dict() if isinstance(result, EvalResult) else dict(result)
    if meta:
        d["meta"] = {**d.get("meta", {}), **meta}
    if comparison:
        d["comparison"] = comparison
    d.setdefault("meta", {})["title"] = title
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "report.md", "html": out / "report.html", "json": out / "report.json"}
    write_atomic(paths["json"], json.dumps(d, ensure_ascii=False, indent=1) + "\n")
    write_atomic(paths["md"], render_markdown(d, title=title, comparison=comparison))
    write_atomic(paths["html"], render_html(d, title=title, comparison=comparison))
    return paths


# --------------------------------------------------------------------------------------------------
# Cross-validation report (eval/cv.py builds the comparison; these are its tables and renderings)
# --------------------------------------------------------------------------------------------------


def cv_label_tables(c: dict[str, Any]) -> list[Table]:
    """The per-label tables of a CV comparison: strict F1 per label, mean ± sd over folds with the
    pooled F1 in parentheses."""
    table, pooled = c.get("per_label"), c.get("pooled_per_label") or {}
    if not table:
        return []
    out = []
    for kind in ("entities", "relations"):
        labels = list(ENTITY_LABELS if kind == "entities" else RELATION_LABELS) + ["micro"]
        rows = []
        for system, entry in table.items():
            cells = []
            for label in labels:
                s = entry[kind][label]
                pool = pooled.get(system, {}).get(kind, {}).get(label)
                cells.append(fmt_mean_sd(s["mean"], s["sd"]) + (f" ({pool:.3f})" if pool is not None else ""))
            rows.append([system] + cells)
        out.append(Table(f"Strict F1 per label, {kind}: mean ± sd over folds (pooled)", ["system"] + labels, rows))
    return out


def cv_tables(c: dict[str, Any], meta: dict[str, Any]) -> dict[str, Table]:
    """Every table of the CV report, in reading order; per-fold tables are named `fold:<system>`."""
    metrics, systems = c["metrics"], c["systems"]
    tables = {"meta": _meta_table(list(meta.items()))} if meta else {}
    tables["micro"] = Table(
        "Micro F1, mean ± sd over folds",
        ["system", "folds"] + metrics,
        [[n, s["n_folds"]] + [fmt_mean_sd(s["mean"][m], s["sd"][m]) for m in metrics] for n, s in systems.items()],
    )
    tables["pooled"] = Table(
        "Pooled over folds",
        ["system"] + metrics,
        [[n] + [_f(s["pooled"][m]) for m in metrics] for n, s in systems.items()],
        ["All folds' counts summed, each document scored once."],
        level=3,
    )
    for n, s in systems.items():
        tables[f"fold:{n}"] = Table(
            f"{n}: per fold", ["fold"] + metrics, [[f] + [_f(v[m]) for m in metrics] for f, v in s["folds"].items()], level=3
        )
    if c["deltas"]:
        rows = [
            [n, m, f"{e['delta']:+.3f}", _ci(e.get("ci95")), f"{e['p_value']:.3f}" if "p_value" in e else "–"]
            for n, dd in c["deltas"].items()
            for m in metrics
            for e in [dd[m]]
        ]
        tables["deltas"] = Table(
            f"Paired bootstrap against `{c['reference']}` (pooled over folds)",
            ["system", "micro F1", f"Δ vs {c['reference']}", "95% CI", "p"],
            rows,
        )
    for i, t in enumerate(cv_label_tables(c)):
        tables[f"per_label:{i}"] = t
    return tables


def render_cv_markdown(c: dict[str, Any], *, title: str, meta: dict[str, Any]) -> str:
    parts = [f"# {title}", ""]
    for t in cv_tables(c, meta).values():
        parts += md_block(t)
    return "\n".join(parts)


def render_cv_html(c: dict[str, Any], *, title: str, meta: dict[str, Any]) -> str:
    b = [f"<h1>{html.escape(title)}</h1>"]
    for name, t in cv_tables(c, meta).items():
        if name.startswith("fold:"):  # per-fold detail, folded away
            b.append(f"<details><summary>{html.escape(t.title)}</summary>{html_table(t)}</details>")
            continue
        b.append(html_block(t))
        if name == "micro":
            b.append(f'<img alt="cross-validation" src="data:image/png;base64,{plot_cv(c)}">')
    return _page(title, "\n".join(b))


def write_cv_files(comparison: dict[str, Any], out: Path, *, title: str, meta: dict[str, Any]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "cv_report.md", "html": out / "cv_report.html", "json": out / "cv_report.json"}
    write_atomic(paths["json"], json.dumps({"meta": meta, **comparison}, ensure_ascii=False, indent=1) + "\n")
    write_atomic(paths["md"], render_cv_markdown(comparison, title=title, meta=meta))
    write_atomic(paths["html"], render_cv_html(comparison, title=title, meta=meta))
    return paths
