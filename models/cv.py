"""Leave-one-document-out cross-validation of several systems, scored with the evaluator.

Folds come from `corpus/gold/folds.json` ({"folds": [{"name", "test", "train"}]}) when present,
otherwise they are derived the same way: one fold per document, tested on it, trained on the rest.
Every system (a config name) is trained on each fold's training documents with the same seed and
scored on the fold's test documents; the report compares the systems (mean ± sd over folds, pooled,
paired bootstrap deltas, via `vnreorg.eval.cv`) and adds per-label strict F1 per fold.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import write_atomic, write_documents
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document

# System name -> config. "rules": the rules-only baseline (entity ruler + relation rules); "ner": NER
# without rules + trained relations; "full": rules + NER + trained relations; "rules_rel": entity
# rules + trained relations (no NER); "scored": rule proposals decided by the span scorer and
# relations by the relation scorer (logistic regressions); "scored_rel": the span scorer's entities
# and the trained relation extractor.
DEFAULT_SYSTEMS = {"rules": "rules", "ner": "ner", "full": "full", "rules_rel": "rules_rel", "scored": "scored", "scored_rel": "scored_rel"}


def derive_folds(documents: list[Document]) -> list[dict[str, Any]]:
    ids = [d.id for d in documents]
    return [{"name": f"fold{i}-{doc_id}", "test": [doc_id], "train": [x for x in ids if x != doc_id]} for i, doc_id in enumerate(ids)]


def load_folds(documents: list[Document], folds_path: str | Path | None) -> list[dict[str, Any]]:
    """The recorded folds, checked against the documents; derived when the file does not exist."""
    if folds_path is None or not Path(folds_path).exists():
        return derive_folds(documents)
    try:
        data = json.loads(Path(folds_path).read_text(encoding="utf-8"))
        folds = data["folds"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise VnreorgError(f"folds file must be {{\"folds\": [{{name, test, train}}]}} ({exc})", str(folds_path)) from None
    ids = {d.id for d in documents}
    for fold in folds:
        for key in ("name", "test", "train"):
            if key not in fold:
                raise VnreorgError(f"fold without {key!r}", f"{folds_path} fold={fold.get('name', '?')}")
        unknown = (set(fold["test"]) | set(fold["train"])) - ids
        if unknown:
            raise VnreorgError(f"fold names documents not in gold: {sorted(unknown)}", f"{folds_path} fold={fold['name']}")
        if set(fold["test"]) & set(fold["train"]):
            raise VnreorgError("a document is both in train and test", f"{folds_path} fold={fold['name']}")
    return folds


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


def per_label_markdown(table: dict[str, Any], pooled: dict[str, Any]) -> str:
    lines = ["# Cross-validation: strict F1 per label (mean ± sd over folds; pooled)", ""]
    for kind in ("entities", "relations"):
        labels = list(ENTITY_LABELS if kind == "entities" else RELATION_LABELS) + ["micro"]
        lines += [f"## {kind.capitalize()}", "", "| system | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        for system, entry in table.items():
            cells = []
            for label in labels:
                s = entry[kind][label]
                pool = pooled.get(system, {}).get(kind, {}).get(label)
                pool_txt = f" ({pool:.3f})" if pool is not None else ""
                cells.append(f"{s['mean']:.3f} ± {s['sd']:.3f}{pool_txt}")
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append("Pooled F1 in parentheses: every test document scored once, counts summed over folds.")
    return "\n".join(lines) + "\n"


def pooled_per_label(all_gold: list[Document], preds: dict[str, list[Document]]) -> dict[str, Any]:
    """Strict F1 per label over all test predictions of each system (each document once)."""
    from vnreorg.eval.scoring import evaluate_documents

    out = {}
    for system, docs in preds.items():
        gold = [g for g in all_gold if g.id in {d.id for d in docs}]
        r = evaluate_documents(gold, docs, n_boot=0)
        out[system] = {
            kind: {**{label: float(v["f1"]) for label, v in getattr(r, kind)["strict"]["per_label"].items()},
                   "micro": float(getattr(r, kind)["strict"]["micro"]["f1"])}
            for kind in ("entities", "relations")
        }
    return out


def cross_validate(
    documents: list[Document],
    out_dir: str | Path,
    *,
    folds: list[dict[str, Any]] | None = None,
    systems: dict[str, str] | None = None,
    seed: int = 0,
    work_dir: str | Path | None = None,
    quiet: bool = True,
    n_boot: int = 1000,
    overrides: dict | None = None,
    dev_fraction: float = 0.2,
    log=print,
) -> dict[str, Any]:
    """Train and score every system on every fold; write the report to `out_dir`; return a summary."""
    from vnreorg.eval.scoring import evaluate_documents
    from vnreorg.models.predict import predict_documents
    from vnreorg.models.train import train_model

    systems = systems or dict(DEFAULT_SYSTEMS)
    folds = folds or derive_folds(documents)
    by_id = {d.id: d for d in documents}
    out_dir = Path(out_dir)
    work_dir = Path(work_dir) if work_dir else out_dir / "work"
    results: dict[str, dict[str, Any]] = {s: {} for s in systems}
    preds: dict[str, list[Document]] = {s: [] for s in systems}
    timings: dict[str, list[float]] = {s: [] for s in systems}
    for fold in folds:
        train = [by_id[i] for i in fold["train"]]
        test = [by_id[i] for i in fold["test"]]
        for system, config in systems.items():
            t0 = time.perf_counter()
            trained = train_model(config, train, work_dir / system / fold["name"], seed=seed, quiet=quiet, overrides=overrides,
                                  dev_fraction=dev_fraction)
            predicted = predict_documents(str(trained.model_path), test)
            timings[system].append(time.perf_counter() - t0)
            results[system][fold["name"]] = evaluate_documents(test, predicted, seed=seed, n_boot=n_boot)
            preds[system].extend(predicted)
            r = results[system][fold["name"]]
            log(f"  {fold['name']:<28} {system:<6} entities strict F1 {r.entities['strict']['micro']['f1']:.3f}  "
                f"relations strict F1 {r.relations['strict']['micro']['f1']:.3f}  ({timings[system][-1]:.0f} s)")
    out_dir.mkdir(parents=True, exist_ok=True)
    for system, docs in preds.items():
        write_documents(out_dir / f"predictions-{system}.jsonl", docs)
    table = per_label_table(results)
    pooled = pooled_per_label(documents, preds)
    meta = {"seed": seed, "systems": systems, "folds": folds, "train_seconds": timings}
    write_atomic(out_dir / "cv_per_label.json", json.dumps({"per_label": table, "pooled": pooled, "meta": meta}, ensure_ascii=False, indent=2))
    write_atomic(out_dir / "cv_per_label.md", per_label_markdown(table, pooled))
    try:
        from vnreorg.eval.cv import write_cv_report
    except ImportError:
        write_cv_report = None
    if write_cv_report is not None:
        try:
            write_cv_report(results, out_dir, meta=meta, reference=next(iter(systems)), seed=seed, n_boot=n_boot)
        except ImportError as exc:  # the evaluator's report module is still being written
            log(f"  (cv report renderer not available: {exc}; per-label tables written)")
    return {"results": results, "per_label": table, "pooled": pooled, "timings": timings}
