"""Inter-annotator agreement between two independent annotation passes over the same documents.

Span agreement is F1 with one pass as reference (F1 is symmetric, so the choice does not matter):
strict (same offsets and label) and overlap (same label, any character overlap). Token agreement is
Cohen's kappa per label over the project tokenizer's tokens (inside a span of that label or not) and
over the token label as a whole. Relation agreement is F1 over (head offsets, child offsets, label).
"""

from __future__ import annotations

from collections import Counter

from vnreorg.corpus.export_bio import bio_tags_for, doc_tokens
from vnreorg.metrics import prf, relation_keys
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document


def _overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def span_agreement(ref: list[Document], other: list[Document]) -> dict:
    per = {}
    totals = Counter()
    for label in ENTITY_LABELS:
        c = Counter()
        for da, db in zip(ref, other):
            sa = [(s.start, s.end) for s in da.spans if s.label == label]
            sb = [(s.start, s.end) for s in db.spans if s.label == label]
            c["ref"] += len(sa)
            c["other"] += len(sb)
            c["strict"] += len(set(sa) & set(sb))
            c["ov_ref"] += sum(any(_overlaps(x, y) for y in sb) for x in sa)
            c["ov_other"] += sum(any(_overlaps(y, x) for x in sa) for y in sb)
        totals.update(c)
        per[label] = _span_scores(c)
    return {
        "per_label": per,
        "micro": _span_scores(totals),
        "macro": {k: sum(per[l][k] for l in ENTITY_LABELS) / len(ENTITY_LABELS) for k in ("strict_f1", "overlap_f1")},
    }


def _span_scores(c: Counter) -> dict:
    strict = prf(c["strict"], c["other"], c["ref"]).f1
    overlap = prf(c["ov_other"], c["other"], c["ref"], tp_gold=c["ov_ref"]).f1
    return {"ref": c["ref"], "other": c["other"], "strict_match": c["strict"], "strict_f1": strict, "overlap_f1": overlap}


def _token_labels(doc: Document) -> list[str]:
    """The label of each project token (IOB2 prefix dropped): the same tokens and tags as the exports."""
    return [tag.split("-", 1)[-1] for tag in bio_tags_for(doc, doc_tokens(doc))]


def token_kappa(ref: list[Document], other: list[Document]) -> dict:
    from sklearn.metrics import cohen_kappa_score

    ya, yb = [], []
    for da, db in zip(ref, other):
        ya += _token_labels(da)
        yb += _token_labels(db)
    out = {"tokens": len(ya), "overall": float(cohen_kappa_score(ya, yb))}
    for label in ENTITY_LABELS:
        ba = [t == label for t in ya]
        bb = [t == label for t in yb]
        out[label] = float(cohen_kappa_score(ba, bb)) if (any(ba) or any(bb)) else None
    return out


def relation_agreement(ref: list[Document], other: list[Document]) -> dict:
    per = {}
    totals = Counter()
    for label in RELATION_LABELS:
        c = Counter()
        for da, db in zip(ref, other):
            ka = {k for k in relation_keys(da) if k[2] == label}
            kb = {k for k in relation_keys(db) if k[2] == label}
            c["ref"] += len(ka)
            c["other"] += len(kb)
            c["match"] += len(ka & kb)
        totals.update(c)
        per[label] = {**c, "f1": prf(c["match"], c["other"], c["ref"]).f1}
    # Relation agreement given agreed arguments: only relations whose two spans both annotators marked.
    cond = Counter()
    for da, db in zip(ref, other):
        both = {(s.start, s.end) for s in da.spans} & {(s.start, s.end) for s in db.spans}
        ka = {k for k in relation_keys(da) if k[0] in both and k[1] in both}
        kb = {k for k in relation_keys(db) if k[0] in both and k[1] in both}
        cond["ref"] += len(ka)
        cond["other"] += len(kb)
        cond["match"] += len(ka & kb)
    return {
        "per_label": per,
        "micro": {**totals, "f1": prf(totals["match"], totals["other"], totals["ref"]).f1},
        "given_agreed_spans": {**cond, "f1": prf(cond["match"], cond["other"], cond["ref"]).f1},
    }


def agreement(ref: list[Document], other: list[Document]) -> dict:
    assert [d.id for d in ref] == [d.id for d in other]
    for da, db in zip(ref, other):
        if da.text != db.text:
            raise ValueError(f"document {da.id}: texts differ between the passes")
    return {
        "spans": span_agreement(ref, other),
        "token_kappa": token_kappa(ref, other),
        "relations": relation_agreement(ref, other),
    }


def disagreements(ref: Document, other: Document) -> list[tuple[str, str, str, str]]:
    """(sentence, kind, label, text) for every span not matched exactly by the other pass."""
    out = []
    sa = {(s.start, s.end, s.label) for s in ref.spans}
    sb = {(s.start, s.end, s.label) for s in other.spans}
    for who, mine, theirs in (("A only", sa, sb), ("B only", sb, sa)):
        for start, end, label in sorted(mine - theirs):
            sent = ref.sentence_of(start)
            idx = ref.sentences.index(sent) if sent else -1
            out.append((f"S{idx}", who, label, ref.text[start:end]))
    return sorted(out)


def _pass_notes(passes: list[dict]) -> list[str]:
    """Who made each compared pass and under which guidelines, from the provenance records."""
    if not passes:
        return []
    lines = ["- The passes compared (from the provenance records):"]
    for p in passes:
        versions = ", ".join(p.get("guidelines") or []) or "not recorded"
        lines.append(
            f"  - {p['pass']}, {p['documents']} document{'s' if p['documents'] != 1 else ''}: "
            f"{'; '.join(p.get('who') or ['no provenance record'])} (guidelines {versions})"
        )
    if any("AI model" in w for p in passes for w in p.get("who") or []):
        lines += [
            "- Passes made by AI model sessions may have errors correlated in ways two humans' would not: the figures",
            "  are an upper bound, not a human ceiling.",
        ]
    return lines


def agreement_markdown(result: dict, ref: list[Document], other: list[Document]) -> str:
    sp = result["spans"]
    second = sorted({d.get("second_pass") or "B" for d in result.get("documents", [])}) or ["B"]
    lines = [
        "# Inter-annotator agreement",
        "",
        f"A (the first pass) against {len(second)} independent second pass{'es' if len(second) > 1 else ''} "
        f"({', '.join(second)}), called B below. Figures are computed by `vnreorg worksheet agreement` before adjudication.",
        "",
        "Documents: " + ", ".join(f"`{d['source_file']}`" for d in result.get("documents", [])),
        "",
        "| label | spans A | spans B | strict F1 | overlap F1 | token kappa |",
        "|---|---|---|---|---|---|",
    ]
    for label in ENTITY_LABELS:
        s = sp["per_label"][label]
        k = result["token_kappa"].get(label)
        lines.append(
            f"| {label} | {s['ref']} | {s['other']} | {s['strict_f1']:.3f} | {s['overlap_f1']:.3f} | "
            f"{'n/a' if k is None else f'{k:.3f}'} |"
        )
    m = sp["micro"]
    lines.append(
        f"| **micro** | {m['ref']} | {m['other']} | {m['strict_f1']:.3f} | {m['overlap_f1']:.3f} | "
        f"{result['token_kappa']['overall']:.3f} (all labels) |"
    )
    rel = result["relations"]
    lines += ["", "| relation | A | B | F1 |", "|---|---|---|---|"]
    for label in RELATION_LABELS:
        r = rel["per_label"][label]
        lines.append(f"| {label} | {r['ref']} | {r['other']} | {r['f1']:.3f} |")
    lines.append(f"| **micro** | {rel['micro']['ref']} | {rel['micro']['other']} | {rel['micro']['f1']:.3f} |")
    g = rel["given_agreed_spans"]
    lines += [
        "",
        f"Relation F1 restricted to argument pairs both passes marked as spans: {g['f1']:.3f} "
        f"({g['match']} of A {g['ref']} / B {g['other']}).",
        "",
    ]
    if result.get("by_second_pass"):
        lines += [
            "Per second pass:",
            "",
            "| second pass | documents | span strict F1 | span overlap F1 | token kappa | relation F1 |",
            "|---|---|---|---|---|---|",
        ]
        for who, r in result["by_second_pass"].items():
            lines.append(
                f"| {who} | {', '.join(r['documents'])} | {r['span_strict_f1']:.3f} | {r['span_overlap_f1']:.3f} | "
                f"{r['token_kappa']:.3f} | {r['relation_f1']:.3f} |"
            )
        lines.append("")
    ov = result.get("guideline_example_overlap")
    if ov:
        n_docs = len(result.get("documents", [])) or len(ref)
        lines += [
            "## How to read these figures",
            "",
            f"- {ov['quoted_in_guidelines']} of {ov['spans']} first-pass spans ({ov['share']:.0%}) over these {n_docs} documents have",
            "  their exact text quoted as an example in the guidelines. The larger that share, the more the figures measure",
            "  how consistently annotators apply guidelines that already settle these cases; agreement on articles the",
            "  guidelines do not quote will be lower.",
        ]
        lines += _pass_notes(result.get("passes") or [])
        lines.append("")
    lines += ["## Span disagreements (before adjudication)", ""]
    for da, db in zip(ref, other):
        dis = disagreements(da, db)
        lines.append(f"### {da.meta.get('source_file', da.id)} ({len(dis)})")
        lines.append("")
        for sent, who, label, text in dis:
            lines.append(f"- {sent} {who}: {label} `{text}`")
        lines.append("")
    return "\n".join(lines) + "\n"
