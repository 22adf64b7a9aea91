"""The main job (README command 1): the whole pipeline, end to end, on the embedded defaults.

seeds -> corpus build -> gold check and validation -> exports -> cross-validation of six systems ->
final model -> wheel. Each step prints what it did; the timings go to `<out>/main_job.json`.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from vnreorg.errors import VnreorgError

SEEDS = Path("seeds")
DOCUMENTS = Path("corpus/documents.jsonl")
REMOVED = Path("corpus/removed_lines.jsonl")
GOLD = Path("corpus/gold/gold.jsonl")
EXPORT = Path("corpus/export")


def check_gold_matches_corpus(gold_path: Path = GOLD, documents_path: Path = DOCUMENTS) -> None:
    """Gold offsets point into the cleaned texts: if ingest changed a text, gold must be re-imported."""
    from vnreorg.jsonio import read_documents

    gold = {d.id: d for d in read_documents(gold_path)}
    for doc in read_documents(documents_path):
        g = gold.get(doc.id)
        if g is None:
            raise VnreorgError(f"document {doc.id} ({doc.meta.get('source_file')}) has no gold annotation", str(gold_path))
        if g.text != doc.text:
            raise VnreorgError(f"document {doc.id}: gold text differs from the rebuilt corpus text; offsets would drift "
                               "(re-import the worksheets with `vnreorg worksheet import --force`)", str(gold_path))


def run_all(
    out: Path = typer.Option(Path("var"), help="Folder for trained models, wheels and reports (git-ignored)."),
    quick: bool = typer.Option(False, help="Smoke run: two epochs, 100 bootstrap samples (scores not meaningful)."),
    seed: int = typer.Option(0, help="Random seed for training and bootstrap."),
) -> None:
    """Run the whole pipeline: corpus, validation, exports, cross-validation, final model, wheel."""
    from vnreorg.corpus import cli as corpus_cli
    from vnreorg.corpus.export import export_all
    from vnreorg.corpus.validate import validate_path
    from vnreorg.models.pipeline_steps import run_model_stage

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
    result = run_model_stage(GOLD, out, quick=quick, seed=seed, log=typer.echo)
    timings["model_stage"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    summary = {"timings_s": {k: round(v, 1) for k, v in timings.items()}, "model_stage": result, "quick": quick, "seed": seed}
    out.mkdir(parents=True, exist_ok=True)
    from vnreorg.jsonio import write_atomic

    write_atomic(out / "main_job.json", json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    typer.echo(f"== main job done in {timings['total']:.0f} s: CV report {result['report']}, wheel {result['wheel']}")
