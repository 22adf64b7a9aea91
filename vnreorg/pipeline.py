"""The main job: the whole pipeline end to end on the embedded defaults (README command 1)."""
from __future__ import annotations

import time

import typer


def run_all() -> None:
    """Build the corpus from seeds/ and print a summary (later stages are added as they land)."""
    from vnreorg.corpus import cli as corpus_cli

    t0 = time.perf_counter()
    typer.echo("== corpus build")
    corpus_cli.build(corpus_cli.DEFAULT_SEEDS, corpus_cli.DEFAULT_DOCUMENTS, corpus_cli.Path("corpus/removed_lines.jsonl"), False)
    typer.echo(f"== done in {time.perf_counter() - t0:.1f} s")
