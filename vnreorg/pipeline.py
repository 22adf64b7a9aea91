"""The main job (README command 1): the whole pipeline, end to end, on the embedded defaults.

seeds -> corpus build -> gold check and validation -> exports -> cross-validation (MAIN_JOB_SYSTEMS over 3 seeds) ->
final model -> wheel. Each step prints what it did; the timings go to `<out>/main_job.json`.

The model part (`run_model_stage`) writes under `out_root`:
  trained/final/       the final pipeline (trained on every gold document), spaCy's output beside it
  trained/cv/          the fold models (scratch)
  reports/cv/          the cross-validation report (cv_report.md/.html/.json) and model_stage.json
  packages/            the wheel vi_vnreorg-<version>-py3-none-any.whl
With out_root = "models", trained/ and packages/ are git-ignored and reports/cv/ can be committed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from vnreorg.errors import VnreorgError

SEEDS = Path("seeds")
DOCUMENTS = Path("corpus/documents.jsonl")
REMOVED = Path("corpus/removed_lines.jsonl")
GOLD = Path("corpus/gold/gold.jsonl")
EXPORT = Path("corpus/export")

QUICK_OVERRIDES = {"training.max_epochs": 2, "training.eval_frequency": 10}


# The systems the main job cross-validates (at most 4 x 5 folds x 3 seeds fit the time budget); the
# others are measured by `vnreorg cv` (models/README.md gives the figures of all).
# rules: the baseline; scored: the linear scorers (both deterministic: run once, sd over seeds 0); ner: the
# transition NER and the trained relation extractor on a CNN tok2vec (no rules), 3 seeds x 5 folds, 12 epochs
# (about 100 s a fold on 2 cores). It replaced scored_rel (the span scorer with the trained relation extractor),
# which the four-system run over 3 seeds showed dominated by scored on both entities and relations
# (models/reports/systems/four_systems_3seeds/). The other tok2vec systems (rules_rel, full, scored_rel, spancat)
# are measured by `vnreorg cv` (models/reports/systems/).
MAIN_JOB_SYSTEMS = {"rules": "rules", "scored": "scored", "ner": "ner"}
MAIN_JOB_SEEDS = (0, 1, 2)


def run_model_stage(
    gold_path: str | Path,
    out_root: str | Path,
    *,
    quick: bool = False,
    seed: int = 0,
    folds_path: str | Path | None = None,
    systems: dict[str, str] | None = None,
    final: str = "auto",
    seeds: tuple[int, ...] | None = None,
    sources=None,
    log: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Cross-validate (rules-only, NER without rules, full, rules + trained relations, and the span
    scorer with the relation scorer or with trained relations), train the final model, package it. `final="auto"` ships the system with the best pooled CV score (mean of
    strict entity and relation micro F1); otherwise the named system.

    `quick` trains for two epochs and bootstraps 100 times (a smoke run for tests; scores are not
    meaningful). Returns paths, timings (seconds) and the pooled CV scores."""
    from vnreorg.cv import load_folds
    from vnreorg.jsonio import read_documents
    from vnreorg.models.data import DataSources, load_synthetic, training_documents
    from vnreorg.models.package import package_model
    from vnreorg.models.train import train_model
    from vnreorg.selection import cross_validate_seeds

    gold_path, out_root = Path(gold_path), Path(out_root)
    docs = read_documents(gold_path)
    if len(docs) < 2:
        raise VnreorgError(f"cross-validation needs at least 2 documents, found {len(docs)}", str(gold_path))
    folds_path = Path(folds_path) if folds_path else gold_path.parent / "folds.json"
    systems = systems or dict(MAIN_JOB_SYSTEMS)
    seeds = tuple(seeds) if seeds else ((seed,) if quick else MAIN_JOB_SEEDS)
    sources = sources if sources is not None else DataSources()
    synthetic = load_synthetic(log=log) if sources.synthetic else []
    if quick and len(synthetic) > 10:  # a smoke run: a few synthetic documents exercise the path
        log(f"   quick: {len(synthetic)} synthetic documents cut to the first 10")
        synthetic = synthetic[:10]
    overrides = QUICK_OVERRIDES if quick else None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    log(
        f"== model: cross-validation ({', '.join(systems)}) over {len(docs)} seed documents, seeds {list(seeds)}, "
        f"training data {sources.describe()} ({len(synthetic)} synthetic documents)"
    )
    folds = load_folds(docs, folds_path)
    report_dir = out_root / "reports" / "cv"
    summary = cross_validate_seeds(
        docs,
        report_dir,
        folds=folds,
        systems=systems,
        seeds=seeds,
        work_dir=out_root / "trained" / "cv",
        n_boot=100 if quick else 1000,
        overrides=overrides,
        sources=sources,
        synthetic=synthetic,
        log=log,
    )
    timings["cross_validation"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    chosen = summary["selection"]["chosen"] if final == "auto" else final
    if chosen not in systems:
        raise VnreorgError(f"final system {chosen!r} is not among {sorted(systems)}")
    final_config = systems[chosen]
    final_docs = training_documents(docs, sources=sources, synthetic=synthetic, seed=seed)
    log(
        f"== model: training the final model ({chosen}: {final_config}) on all {len(docs)} seed documents + "
        f"{sources.describe()} ({len(final_docs)} documents)"
    )
    trained = train_model(final_config, final_docs, out_root / "trained" / "final", seed=seed, quiet=True, overrides=overrides)
    timings["final_training"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    log("== model: packaging")
    wheel = package_model(
        trained.model_path,
        out_root / "packages",
        quiet=True,
        extra_meta={
            "cross_validation": summary["pooled"],
            "cv_report": str(report_dir),
            "system": chosen,
            "selection": summary["selection"],
            "training_data": sources.describe(),
        },
    )
    timings["package"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    result = {
        "model": str(trained.model_path),
        "wheel": str(wheel),
        "report": str(report_dir),
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "final_system": chosen,
        "final_config": final_config,
        "pooled": summary["pooled"],
        "selection": summary["selection"],
        "seeds": list(seeds),
        "training_data": sources.describe(),
        "relation_threshold": trained.threshold,
    }
    (report_dir / "model_stage.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    pooled = summary["pooled"][chosen]
    log(
        f"== model stage done in {timings['total']:.0f} s: wheel {wheel.name} ({chosen}); CV pooled strict F1 "
        f"entities {pooled['entities']['micro']:.3f}, relations {pooled['relations']['micro']:.3f}"
    )
    return result


def check_gold_matches_corpus(gold_path: Path = GOLD, documents_path: Path = DOCUMENTS) -> None:
    """Gold offsets point into the cleaned texts: if ingest changed a text, gold must be re-imported."""
    from vnreorg.jsonio import read_documents

    gold = {d.id: d for d in read_documents(gold_path)}
    for doc in read_documents(documents_path):
        g = gold.get(doc.id)
        if g is None:
            raise VnreorgError(f"document {doc.id} ({doc.meta.get('source_file')}) has no gold annotation", str(gold_path))
        if g.text != doc.text:
            raise VnreorgError(
                f"document {doc.id}: gold text differs from the rebuilt corpus text; offsets would drift "
                "(re-import the worksheets with `vnreorg worksheet import --force`)",
                str(gold_path),
            )


def run_events_step(model: Path, out_dir: Path) -> Path:
    """`vnreorg extract` of corpus/documents.jsonl with the final model, then `vnreorg events build` on it
    (issue 17: events on the main job's own extraction). The same commands a user runs; returns the folder."""
    from vnreorg.cli import app

    out_dir.mkdir(parents=True, exist_ok=True)
    extraction = out_dir / "seed_extract.jsonl"
    app(
        [
            "extract",
            str(DOCUMENTS),
            "--text-field",
            "text",
            "--id-field",
            "id",
            "--model",
            str(model),
            "--out",
            str(extraction),
            "--no-progress",
        ],
        standalone_mode=False,
    )
    app(
        ["events", "build", str(extraction), "--docs", str(DOCUMENTS), "--out", str(out_dir / "seeds"), "--no-progress"],
        standalone_mode=False,
    )
    return out_dir / "seeds"


def run_all(
    out: Path = typer.Option(Path("var"), help="Folder for trained models, wheels and reports (git-ignored)."),
    quick: bool = typer.Option(False, help="Smoke run: two epochs, 100 bootstrap samples (scores not meaningful)."),
    seed: int = typer.Option(0, help="Random seed for training and bootstrap."),
    systems: str = typer.Option(
        "",
        help=f"Systems to cross-validate (names or name=config, e.g. rules,small=tiny); default {','.join(MAIN_JOB_SYSTEMS)} over {len(MAIN_JOB_SEEDS)} seeds.",
    ),
) -> None:
    """Run the whole pipeline: corpus, validation, exports, cross-validation, final model, wheel."""
    from vnreorg.corpus import cli as corpus_cli
    from vnreorg.corpus.export import export_all
    from vnreorg.corpus.validate import validate_path
    from vnreorg.cv import parse_systems

    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    typer.echo("== corpus build")
    corpus_cli.build(SEEDS, DOCUMENTS, REMOVED, False)
    check_gold_matches_corpus()
    timings["corpus_build"] = time.perf_counter() - t0

    t = time.perf_counter()
    typer.echo("== gold validation")
    problems = validate_path(GOLD)
    if problems:
        for p in problems[:20]:
            typer.echo(f"  {p}", err=True)
        raise VnreorgError(f"{len(problems)} problem(s) in gold; fix them before training", str(GOLD))
    typer.echo(f"{GOLD}: ok")
    timings["validate"] = time.perf_counter() - t

    t = time.perf_counter()
    typer.echo("== exports (Parquet dataset + card, DocBin, CoNLL, folds)")
    export_all(GOLD, EXPORT)
    typer.echo(f"exports -> {EXPORT}/")
    timings["export"] = time.perf_counter() - t

    t = time.perf_counter()
    result = run_model_stage(
        GOLD, out, quick=quick, seed=seed, log=typer.echo, systems=parse_systems(systems) if systems else None
    )
    timings["model_stage"] = time.perf_counter() - t

    t = time.perf_counter()
    typer.echo("== events: the final model's extraction of the seed corpus -> typed, linked, checked events")
    result["events"] = str(run_events_step(Path(result["model"]), out / "events").resolve())
    timings["events"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    summary = {
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "model_stage": result,
        "quick": quick,
        "seed": seed,
        "systems": systems or "default",
    }
    out.mkdir(parents=True, exist_ok=True)
    from vnreorg.jsonio import write_atomic

    write_atomic(out / "main_job.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    typer.echo(f"== main job done in {timings['total']:.0f} s: CV report {result['report']}, wheel {result['wheel']}")
