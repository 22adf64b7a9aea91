"""`vnreorg corpus ...`: ingest, validate, stats, exports."""
from __future__ import annotations

from pathlib import Path

import typer

from vnreorg.corpus.ingest import build_corpus
from vnreorg.corpus.segment import count_words
from vnreorg.jsonio import write_documents, write_jsonl

app = typer.Typer(no_args_is_help=True)

DEFAULT_SEEDS = Path("seeds")
DEFAULT_DOCUMENTS = Path("corpus/documents.jsonl")


@app.command("build")
def build(
    seeds: Path = typer.Argument(DEFAULT_SEEDS, help="Folder of raw .txt articles."),
    out: Path = typer.Option(DEFAULT_DOCUMENTS, "--out", "-o", help="Output JSONL of cleaned documents."),
    report: Path = typer.Option(Path("corpus/removed_lines.jsonl"), help="Report of every removed line."),
    strict: bool = typer.Option(False, help="Treat warnings (empty or duplicate files) as errors."),
) -> None:
    """Clean the raw articles and write one document a line, with paragraph and sentence offsets."""
    result = build_corpus(seeds)
    for w in result.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)
    if strict and result.warnings:
        raise typer.Exit(2)
    write_documents(out, result.documents)
    write_jsonl(report, ({"doc_id": d, "source_file": next(x.meta["source_file"] for x in result.documents if x.id == d),
                          "line": r.line, "text": r.text, "reason": r.reason}
                         for d, rs in result.removed.items() for r in rs))
    n_par = sum(len(d.paragraphs) for d in result.documents)
    n_sent = sum(len(d.sentences) for d in result.documents)
    n_words = sum(count_words(d.text) for d in result.documents)
    n_removed = sum(len(r) for r in result.removed.values())
    typer.echo(f"corpus: {len(result.documents)} documents, {n_par} paragraphs, {n_sent} sentences, "
               f"{n_words} words; {n_removed} chrome/metadata lines removed -> {out}")
