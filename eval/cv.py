"""Uncertainty across runs: cross-validation summaries and paired bootstrap deltas.

Why: one F1 on a small corpus says little. Folds give a spread (mean ± sd of per-fold micro F1),
and comparing two systems on the *same* documents needs a paired test: each bootstrap replicate
draws one sample of documents and scores both systems on it, so document difficulty cancels out.

A fold result is an `EvalResult` from `evaluate_documents`; it carries per-document counts, which is
what makes pooling folds and paired resampling possible without re-reading the documents.
"""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from vnreorg.errors import VnreorgError
from vnreorg.eval.scoring import DOC_COLUMNS, EvalResult, bootstrap_indices_totals, evaluate_documents, micro_f1_from_columns
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document

METRICS: tuple[str, ...] = tuple(micro_f1_from_columns(np.zeros(len(DOC_COLUMNS))).keys())


def summarise_folds(results: Mapping[str, EvalResult]) -> dict[str, Any]:
    """Per-fold micro F1s, their mean and sample standard deviation (ddof=1; 0 for one fold),
    and the pooled micro F1 (all folds' counts summed: every document is scored once)."""
    if not results:
        raise VnreorgError("no fold results to summarise")
    folds = {name: r.micro_f1s() for name, r in results.items()}
    mean, sd = {}, {}
    for m in METRICS:
        values = np.array([f[m] for f in folds.values()], dtype=float)
        mean[m] = float(values.mean())
        sd[m] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    _, counts = pool_folds(results)
    pooled = {k: float(v) for k, v in micro_f1_from_columns(counts.sum(axis=0).astype(float)).items()}
    return {"n_folds": len(folds), "folds": folds, "mean": mean, "sd": sd, "pooled": pooled}


def pool_folds(results: Mapping[str, EvalResult] | EvalResult) -> tuple[list[str], np.ndarray]:
    """Concatenate per-document counts of several folds (a document may be in one test fold only)."""
    if isinstance(results, EvalResult):
        results = {"all": results}
    ids: list[str] = []
    rows: list[np.ndarray] = []
    seen: dict[str, str] = {}
    for fold, r in results.items():
        if len(r.doc_ids) != r.doc_counts.shape[0]:
            raise VnreorgError(f"fold {fold}: result has no per-document counts")
        for d in r.doc_ids:
            if d in seen:
                raise VnreorgError(f"document {d!r} is in the test part of folds {seen[d]} and {fold}")
            seen[d] = fold
        ids += r.doc_ids
        rows.append(r.doc_counts)
    counts = np.concatenate(rows) if rows else np.zeros((0, len(DOC_COLUMNS)), np.int64)
    order = np.argsort(np.array(ids, dtype=object), kind="stable") if ids else np.zeros(0, np.int64)
    return [ids[i] for i in order], counts[order]


def paired_bootstrap(
    a: EvalResult | Mapping[str, EvalResult],
    b: EvalResult | Mapping[str, EvalResult],
    *,
    seed: int = 0,
    n_boot: int = 1000,
    level: float = 0.95,
) -> dict[str, dict[str, Any]]:
    """Delta of every micro F1 (a - b) with a paired document-level bootstrap interval.

    `a` and `b` are results on the same gold documents (or dicts of fold results, pooled).
    `p_value` is the two-sided share of replicates whose delta has the other sign than zero
    would need: 2 * min(P(delta* <= 0), P(delta* >= 0)), capped at 1.
    """
    ids_a, ca = pool_folds(a)
    ids_b, cb = pool_folds(b)
    if ids_a != ids_b:
        only_a = sorted(set(ids_a) - set(ids_b))[:3]
        only_b = sorted(set(ids_b) - set(ids_a))[:3]
        raise VnreorgError(f"paired bootstrap needs the same documents on both sides (only in a: {only_a}, only in b: {only_b})")
    fa = micro_f1_from_columns(ca.sum(axis=0).astype(float))
    fb = micro_f1_from_columns(cb.sum(axis=0).astype(float))
    both = np.concatenate([ca, cb], axis=1)
    k = ca.shape[1]
    deltas: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    if n_boot > 0 and len(ids_a):
        for totals in bootstrap_indices_totals(both, seed=seed, n_boot=n_boot):
            da = micro_f1_from_columns(totals[:, :k], undefined=np.nan)
            db = micro_f1_from_columns(totals[:, k:], undefined=np.nan)
            for m in METRICS:
                deltas[m].append(da[m] - db[m])
    alpha = (1 - level) / 2 * 100
    out: dict[str, dict[str, Any]] = {}
    for m in METRICS:
        delta = float(fa[m] - fb[m])
        entry: dict[str, Any] = {"a": float(fa[m]), "b": float(fb[m]), "delta": delta}
        if deltas[m]:
            d = np.concatenate(deltas[m])
            d = d[~np.isnan(d)]
        if deltas[m] and len(d):
            lo, hi = np.percentile(d, [alpha, 100 - alpha])
            entry["ci95"] = [float(lo), float(hi)]
            entry["p_value"] = float(min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())))
        out[m] = entry
    out["_meta"] = {"seed": seed, "n_boot": n_boot, "level": level, "documents": len(ids_a)}  # type: ignore[assignment]
    return out


def paired_bootstrap_documents(
    gold: list[Document], pred_a: list[Document], pred_b: list[Document], *, seed: int = 0, n_boot: int = 1000
) -> dict[str, dict[str, Any]]:
    """Convenience: score two prediction sets on the same gold, then `paired_bootstrap`."""
    ra = evaluate_documents(gold, pred_a, n_boot=0)
    rb = evaluate_documents(gold, pred_b, n_boot=0)
    return paired_bootstrap(ra, rb, seed=seed, n_boot=n_boot)


def compare_systems(
    systems: Mapping[str, Mapping[str, EvalResult]], *, reference: str | None = None, seed: int = 0, n_boot: int = 1000
) -> dict[str, Any]:
    """Summaries of several CV runs side by side, and each system's paired delta against `reference`
    (default: the first system), pooled over folds."""
    if not systems:
        raise VnreorgError("no systems to compare")
    names = list(systems)
    reference = reference or names[0]
    if reference not in systems:
        raise VnreorgError(f"reference system {reference!r} is not among {names}")
    summaries = {name: summarise_folds(folds) for name, folds in systems.items()}
    deltas = {
        name: paired_bootstrap(systems[name], systems[reference], seed=seed, n_boot=n_boot) for name in names if name != reference
    }
    return {"systems": summaries, "reference": reference, "deltas": deltas, "metrics": list(METRICS)}


def write_cv_report(
    systems: Mapping[str, Mapping[str, EvalResult]],
    out_dir: str | os.PathLike,
    *,
    title: str = "vnreorg cross-validation",
    meta: dict[str, Any] | None = None,
    reference: str | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    per_label: dict[str, Any] | None = None,
    pooled_per_label: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the one CV report, cv_report.md, cv_report.html and cv_report.json, comparing systems over
    folds (with the strict F1 per label per fold, and pooled, when given)."""
    from vnreorg.eval.report import write_cv_files

    comparison = compare_systems(systems, reference=reference, seed=seed, n_boot=n_boot)
    if per_label is not None:
        comparison["per_label"] = per_label
    if pooled_per_label is not None:
        comparison["pooled_per_label"] = pooled_per_label
    return write_cv_files(comparison, Path(out_dir), title=title, meta=meta or {})


def per_label_table(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """{system: {"entities"/"relations": {label: {"folds": {fold: f1}, "mean", "sd"}}}} (strict)."""
    out: dict[str, Any] = {}
    for system, folds in results.items():
        entry: dict[str, Any] = {"entities": {}, "relations": {}}
        for kind, labels in (("entities", ENTITY_LABELS), ("relations", RELATION_LABELS)):
            for label in list(labels) + ["micro"]:
                per_fold = {}
                for fold, r in folds.items():
                    block = getattr(r, kind)["strict"]
                    stats = block["micro"] if label == "micro" else block["per_label"].get(label)
                    if stats is not None:
                        per_fold[fold] = float(stats["f1"])
                values = list(per_fold.values())
                entry[kind][label] = {
                    "folds": per_fold,
                    "mean": statistics.fmean(values) if values else float("nan"),
                    "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                }
        out[system] = entry
    return out


def pooled_per_label(all_gold: list[Document], preds: dict[str, list[Document]]) -> dict[str, Any]:
    """Strict F1 per label over all test predictions of each system (each document once)."""
    out = {}
    for system, docs in preds.items():
        gold = [g for g in all_gold if g.id in {d.id for d in docs}]
        r = evaluate_documents(gold, docs, n_boot=0)
        out[system] = {
            kind: {
                **{label: float(v["f1"]) for label, v in getattr(r, kind)["strict"]["per_label"].items()},
                "micro": float(getattr(r, kind)["strict"]["micro"]["f1"]),
            }
            for kind in ("entities", "relations")
        }
    return out


def fmt_mean_sd(mean: float, sd: float) -> str:
    return f"{mean:.3f} ± {sd:.3f}" if not math.isnan(sd) else f"{mean:.3f}"
