"""`vnreorg corpus ...`: ingest, validate, stats, exports."""

from __future__ import annotations

from pathlib import Path

import typer

from vnreorg.corpus.ingest import build_corpus
from vnreorg.corpus.segment import count_words
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import backup, dumps_jsonl, write_atomic

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
    if not result.documents:
        kept = f"; {out} is kept as it is" if out.exists() and out.stat().st_size else ""
        raise VnreorgError(
            f"no documents built ({len(result.warnings)} file(s) skipped): refusing to write an empty corpus{kept}", str(seeds)
        )
    source_of = {d.id: d.meta["source_file"] for d in result.documents}
    outputs = {
        out: dumps_jsonl(d.to_dict() for d in result.documents),
        report: dumps_jsonl(
            {"doc_id": d, "source_file": source_of[d], "line": r.line, "text": r.text, "reason": r.reason}
            for d, rs in result.removed.items()
            for r in rs
        ),
    }
    for path, text in outputs.items():
        # A rebuild that changes an existing output keeps the old one beside it (`<name>.bak-<time>`).
        if path.exists() and path.read_text(encoding="utf-8") != text and (bak := backup(path)):
            typer.echo(f"backup: {bak}", err=True)
        write_atomic(path, text)
    n_par = sum(len(d.paragraphs) for d in result.documents)
    n_sent = sum(len(d.sentences) for d in result.documents)
    n_words = sum(count_words(d.text) for d in result.documents)
    n_removed = sum(len(r) for r in result.removed.values())
    typer.echo(
        f"corpus: {len(result.documents)} documents, {n_par} paragraphs, {n_sent} sentences, "
        f"{n_words} words; {n_removed} chrome/metadata lines removed -> {out}"
    )


# --- gold: validate, export, stats, folds (corpus/validate.py, export*.py, stats.py, card.py) ---

DEFAULT_GOLD = Path("corpus/gold/gold.jsonl")


@app.command("validate")
def validate(
    path: Path = typer.Argument(DEFAULT_GOLD, help="Gold JSONL (one Document a line)."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as a JSON list."),
) -> None:
    """Check gold against the schema; list every problem with file:line, doc, span and offset; exit 1 if any."""
    import json

    from vnreorg.corpus.validate import read_with_problems, validate_path

    problems = validate_path(path)
    _warn_invisible(path)
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in problems], ensure_ascii=False, indent=2))
    else:
        for p in problems:
            typer.echo(str(p))
    if problems:
        typer.secho(f"{path}: {len(problems)} problem(s)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    docs, _, _ = read_with_problems(path)
    if not as_json:
        typer.echo(
            f"{path}: ok ({len(docs)} documents, {sum(len(d.spans) for d in docs)} spans, "
            f"{sum(len(d.relations) for d in docs)} relations)"
        )


def _warn_invisible(path: Path) -> None:
    """Invisible format characters are valid (kept in text and offsets, ignored by the models), but a
    reviewer should know where they are: one warning per document, with the offsets."""
    from vnreorg.corpus.tokenize import invisible_warning
    from vnreorg.corpus.validate import read_with_problems

    docs, lines, _ = read_with_problems(path)
    for doc, line in zip(docs, lines):
        w = invisible_warning(doc.text, f"{path}:{line} doc={doc.id}")
        if w:
            typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)


@app.command("export")
def export(
    gold: Path = typer.Option(DEFAULT_GOLD, "--gold", "-g", help="Gold JSONL."),
    out: Path = typer.Option(Path("corpus/export"), "--out", "-o", help="Export folder (hf/, spacy/, conll/)."),
    folds: Path = typer.Option(None, "--folds", help="Folds JSON to write (default: folds.json beside gold)."),
    sources: Path = typer.Option(Path("seeds/SOURCES.md"), "--sources", help="Sources list quoted in the card."),
) -> None:
    """Validate gold, then write the Parquet dataset and card, spaCy DocBins, CoNLL BIO and the folds."""
    from vnreorg.corpus.export import export_all

    written = export_all(gold, out, folds, sources)
    for kind, paths in written.items():
        typer.echo(f"{kind}: {len(paths)} file(s), e.g. {paths[0]}")


@app.command("stats")
def stats(
    path: Path = typer.Argument(DEFAULT_GOLD, help="Gold JSONL."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Documents, sentences, tokens, spans and relations per label, and agreement if measured."""
    import json

    from vnreorg.corpus.stats import corpus_stats, read_agreement, stats_tables
    from vnreorg.jsonio import read_documents

    result = corpus_stats(read_documents(path), read_agreement(path))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else stats_tables(result))


@app.command("folds")
def folds_cmd(
    path: Path = typer.Argument(DEFAULT_GOLD, help="Gold JSONL."),
    out: Path = typer.Option(None, "--out", "-o", help="Folds JSON (default: folds.json beside gold)."),
) -> None:
    """Write leave-one-document-out folds (test one document, dev the next, train the rest)."""
    from vnreorg.corpus.export_folds import make_folds, write_folds
    from vnreorg.jsonio import read_documents

    folds = make_folds([d.id for d in read_documents(path)])
    written = write_folds(out or path.with_name("folds.json"), folds)
    typer.echo(f"{len(folds['folds'])} folds -> {written}")
