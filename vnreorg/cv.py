"""Leave-one-document-out cross-validation of several systems: train (models) -> predict (models) ->
evaluate and report (eval). It combines two stages, so it lives above them, beside the main job.

Folds come from `corpus/gold/folds.json` ({"folds": [{"name", "test", "train"}]}) when present,
otherwise they are derived the same way: one fold per document, tested on it, trained on the rest.
Every system (a config name) is trained on each fold's training documents with the same seed and
scored on the fold's test documents; ONE report (`cv_report.md/.html/.json`, written by
`vnreorg.eval.cv.write_cv_report`) compares the systems: mean ± sd over folds, pooled, paired
bootstrap deltas, and strict F1 per label (per fold and pooled).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_json_file
from vnreorg.paths import safe_join
from vnreorg.schema import NAME_MAX, Document, check_id

# System name -> config. "rules": the rules-only baseline (entity ruler + relation rules); "ner": NER
# without rules + trained relations; "full": rules + NER + trained relations; "rules_rel": entity
# rules + trained relations (no NER); "scored": rule proposals decided by the span scorer and
# relations by the relation scorer (logistic regressions); "scored_rel": the span scorer's entities
# and the trained relation extractor.
DEFAULT_SYSTEMS = {
    "rules": "rules",
    "ner": "ner",
    "full": "full",
    "rules_rel": "rules_rel",
    "scored": "scored",
    "scored_rel": "scored_rel",
}


def derive_folds(documents: list[Document]) -> list[dict[str, Any]]:
    ids = [d.id for d in documents]
    return [
        {"name": f"fold{i}-{doc_id}", "test": [doc_id], "train": [x for x in ids if x != doc_id]} for i, doc_id in enumerate(ids)
    ]


def load_folds(documents: list[Document], folds_path: str | Path | None) -> list[dict[str, Any]]:
    """The recorded folds, checked against the documents; derived when the file does not exist."""
    if folds_path is None or not Path(folds_path).exists():
        return derive_folds(documents)
    try:
        data = read_json_file(folds_path)
        folds = data["folds"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise VnreorgError(f'folds file must be {{"folds": [{{name, test, train}}]}} ({exc})', str(folds_path)) from None
    ids = {d.id for d in documents}
    for fold in folds:
        if not isinstance(fold, dict):
            raise VnreorgError("a fold must be a JSON object", str(folds_path))
        check_id(fold.get("name"), str(folds_path), "fold name", NAME_MAX)
        for key in ("name", "test", "train"):
            if key not in fold:
                raise VnreorgError(f"fold without {key!r}", f"{folds_path} fold={fold.get('name', '?')}")
        unknown = (set(fold["test"]) | set(fold["train"])) - ids
        if unknown:
            raise VnreorgError(f"fold names documents not in gold: {sorted(unknown)}", f"{folds_path} fold={fold['name']}")
        if set(fold["test"]) & set(fold["train"]):
            raise VnreorgError("a document is both in train and test", f"{folds_path} fold={fold['name']}")
    return folds


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
    sources=None,
    synthetic: list[Document] | None = None,
    reuse: bool = False,
    log=print,
) -> dict[str, Any]:
    """Train and score every system on every fold; write the report to `out_dir`; return a summary.

    `sources` (a `vnreorg.models.data.DataSources`) says what a fold trains on besides its training
    seeds: the synthetic corpus (`synthetic`, loaded once by the caller) and mention-replaced copies
    of the training seeds, built here per fold; None = the training seeds only. Test folds are seeds.
    `reuse`: a system whose `predictions-<system>.jsonl` is already in `out_dir` is scored from it, not retrained."""
    # imported here, not at the top: the command line mounts this module and should start fast
    from vnreorg.eval.cv import per_label_table, pooled_per_label, write_cv_report
    from vnreorg.eval.scoring import evaluate_documents
    from vnreorg.jsonio import write_documents
    from vnreorg.models.predict import predict_documents
    from vnreorg.models.train import train_model

    systems = systems or dict(DEFAULT_SYSTEMS)
    folds = folds or derive_folds(documents)
    for fold in folds:  # folds given directly are checked as a folds file is, before any training
        check_id(fold.get("name"), "folds", "fold name", NAME_MAX)
    for system in systems:
        check_id(system, "systems", "system or fold name", NAME_MAX)
    by_id = {d.id: d for d in documents}
    out_dir = Path(out_dir)
    work_dir = Path(work_dir) if work_dir else out_dir / "work"
    results: dict[str, dict[str, Any]] = {s: {} for s in systems}
    preds: dict[str, list[Document]] = {s: [] for s in systems}
    timings: dict[str, list[float]] = {s: [] for s in systems}
    from vnreorg.jsonio import read_documents

    kept = {
        s: {d.id: d for d in read_documents(Path(out_dir) / f"predictions-{s}.jsonl")}
        for s in systems
        if reuse and (Path(out_dir) / f"predictions-{s}.jsonl").exists()
    }
    for fold in folds:
        train = [by_id[i] for i in fold["train"]]
        test = [by_id[i] for i in fold["test"]]
        if sources is not None:
            from vnreorg.models.data import training_documents

            train = training_documents(train, sources=sources, synthetic=synthetic, test_ids=fold["test"], seed=seed)
        for system, config in systems.items():
            t0 = time.perf_counter()
            if system in kept:
                predicted = [kept[system][d.id] for d in test]
                timings[system].append(0.0)
                results[system][fold["name"]] = evaluate_documents(test, predicted, seed=seed, n_boot=n_boot)
                preds[system].extend(predicted)
                continue
            trained = train_model(
                config,
                train,
                safe_join(work_dir, system, fold["name"], what="system or fold name"),
                seed=seed,
                quiet=quiet,
                overrides=overrides,
                dev_fraction=dev_fraction,
            )
            predicted = predict_documents(str(trained.model_path), test)
            timings[system].append(time.perf_counter() - t0)
            results[system][fold["name"]] = evaluate_documents(test, predicted, seed=seed, n_boot=n_boot)
            preds[system].extend(predicted)
            r = results[system][fold["name"]]
            log(
                f"  {fold['name']:<28} {system:<6} entities strict F1 {r.entities['strict']['micro']['f1']:.3f}  "
                f"relations strict F1 {r.relations['strict']['micro']['f1']:.3f}  ({timings[system][-1]:.0f} s)"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    for system, docs in preds.items():
        write_documents(safe_join(out_dir, f"predictions-{system}", suffix=".jsonl", what="system name"), docs)
    table = per_label_table(results)
    pooled = pooled_per_label(documents, preds)
    meta = {
        "seed": seed,
        "systems": systems,
        "folds": folds,
        "train_seconds": timings,
        "training_data": sources.describe() if sources is not None else "seeds",
    }
    write_cv_report(
        results,
        out_dir,
        meta=meta,
        reference=next(iter(systems)),
        seed=seed,
        n_boot=n_boot,
        per_label=table,
        pooled_per_label=pooled,
    )
    return {"results": results, "per_label": table, "pooled": pooled, "timings": timings}


DEFAULT_GOLD = Path("corpus/gold/gold.jsonl")
DEFAULT_FOLDS = Path("corpus/gold/folds.json")
DEFAULT_CV_OUT = Path("eval/reports/cv")
DEFAULT_WORK = Path("models/trained/cv")


def parse_systems(systems: str) -> dict[str, str]:
    """ "rules,tiny" or "fast=tiny" -> {name: config}; a known system name maps to its config."""
    chosen: dict[str, str] = {}
    for item in [s.strip() for s in systems.split(",") if s.strip()]:
        name, _, config = item.partition("=")
        chosen[name] = config or DEFAULT_SYSTEMS.get(name, name)
    if not chosen:
        raise VnreorgError("no systems given")
    return chosen


def cv_command(
    gold: Path = typer.Option(DEFAULT_GOLD, "--gold", help="Gold corpus JSONL."),
    out: Path = typer.Option(DEFAULT_CV_OUT, "--out", "-o", help="Report folder."),
    systems: str = typer.Option(
        ",".join(DEFAULT_SYSTEMS), "--systems", help="Systems (config names, or name=config) to compare."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed for training and bootstrap."),
    folds: Path = typer.Option(DEFAULT_FOLDS, "--folds", help="Folds file (derived when absent)."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap replicates for the intervals."),
    data: str = typer.Option(
        "all", "--data", help="Training data of a fold: seeds,synthetic,augment (any subset; all = the three)."
    ),
    seeds: str = typer.Option(
        "", "--seeds", help="Several training seeds, e.g. 0,1,2: mean ± sd over seeds and the selection rule (seeds_report.md)."
    ),
    synthetic: Path = typer.Option(
        Path("corpus/synthetic/synthetic.jsonl"),
        "--synthetic",
        help="Synthetic training corpus (built from the worksheets when absent).",
    ),
    work: Path = typer.Option(DEFAULT_WORK, "--work", help="Scratch folder for the fold models."),
    reuse: bool = typer.Option(
        False,
        "--reuse",
        help="Score predictions already in the report folder (predictions-<system>.jsonl, per seed in seed<k>/) instead of retraining.",
    ),
    override: list[str] = typer.Option(
        [], "--override", help="Config override key=JSON value, e.g. initialize.components.lexicon_matcher.kinds=[] (repeatable)."
    ),
) -> None:
    """Leave-one-document-out cross-validation comparing systems: train, predict, evaluate, one report."""
    from vnreorg.jsonio import read_documents

    docs = read_documents(gold)
    if not docs:
        raise VnreorgError("no documents", str(gold))
    chosen = parse_systems(systems)
    fold_list = load_folds(docs, folds)
    typer.echo(f"== cross-validation: {len(fold_list)} folds x {len(chosen)} systems ({', '.join(chosen)}), seed {seed}")
    from vnreorg.models.data import DataSources, load_synthetic

    sources = DataSources.parse(data)
    syn = load_synthetic(synthetic, log=typer.echo) if sources.synthetic else []
    typer.echo(f"   training data per fold: {sources.describe()} ({len(syn)} synthetic documents)")
    overrides = {}
    for item in override:
        key, sep, value = item.partition("=")
        if not sep:
            raise VnreorgError(f"--override must be key=value, got {item!r}")
        overrides[key] = json.loads(value)
    t0 = time.perf_counter()
    common: dict[str, Any] = dict(
        folds=fold_list,
        systems=chosen,
        work_dir=work,
        n_boot=n_boot,
        overrides=overrides or None,
        sources=sources,
        synthetic=syn,
        reuse=reuse,
        log=typer.echo,
    )
    if seeds:
        from vnreorg.selection import cross_validate_seeds

        seed_list = tuple(int(x) for x in seeds.split(",") if x.strip())
        cross_validate_seeds(docs, out, seeds=seed_list, **common)
        report = "seeds_report.md"
    else:
        cross_validate(docs, out, seed=seed, **common)
        report = "cv_report.md"
    typer.echo((out / report).read_text(encoding="utf-8"))
    typer.echo(f"== cross-validation done in {time.perf_counter() - t0:.0f} s; report in {out}")
