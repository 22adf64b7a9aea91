"""`vnreorg model resources ...`: what the knowledge resources hold, and their generation."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(help="Knowledge resources (models/resources/): list, show, build.", no_args_is_help=True)

DEFAULT_GOLD = Path("corpus/gold/gold.jsonl")
KINDS = ("admin_units", "admin_mapping", "agencies", "titles", "unit_abbreviations")


def coverage_lines(gold: Path, res) -> list[str]:
    from vnreorg.jsonio import read_documents
    from vnreorg.models.resources import agency_coverage

    cov = agency_coverage(read_documents(gold), res)
    n = cov["agency_spans"]
    return [
        f"seed gold AGENCY spans covered ({gold}, {n} spans): exact {cov['exact']}/{n} = {cov['exact_share']:.3f}; "
        f"head or exact {cov['head_or_exact']}/{n} = {cov['head_or_exact_share']:.3f}",
        "  most frequent uncovered: " + "; ".join(f"{t} ({k})" for t, k in cov["missed_most_common"][:8]),
    ]


@app.command("list")
def list_cmd(
    directory: Optional[Path] = typer.Option(None, "--dir", help="Resource folder (default: the package's models/resources)."),
    gold: Path = typer.Option(DEFAULT_GOLD, "--gold", help="Gold JSONL for the AGENCY coverage (skipped when absent)."),
) -> None:
    """Files loaded, their source and version, entry counts, and the share of gold AGENCY spans covered."""
    from vnreorg.models.resources import RESOURCES_DIR, load_resources

    res = load_resources(directory)
    typer.echo(f"resources in {directory or RESOURCES_DIR}:")
    for name, header in res.headers.items():
        typer.echo(f"  {name}: version {header.get('version')}; {header.get('source', '')[:110]}")
    for key, value in res.sizes().items():
        typer.echo(f"  {key:20s} {value:>7d}")
    by = {}
    for u in res.admin_units:
        by[(u.era, u.level)] = by.get((u.era, u.level), 0) + 1
    typer.echo("  admin units by era and level: " + ", ".join(f"{e}/{lv} {n}" for (e, lv), n in by.items()))
    if gold.exists():
        for line in coverage_lines(gold, res):
            typer.echo(line)


@app.command("show")
def show_cmd(
    kind: str = typer.Argument(..., help=f"One of: {', '.join(KINDS)}."),
    contains: str = typer.Option("", "--contains", "-c", help="Only entries whose text contains this (case-folded)."),
    limit: int = typer.Option(20, "--limit", "-n", help="At most this many entries."),
    directory: Optional[Path] = typer.Option(None, "--dir"),
) -> None:
    """Print entries of one resource (with the forms a matcher would use)."""
    from dataclasses import astuple

    from vnreorg.errors import VnreorgError
    from vnreorg.models.resources import fold, load_resources

    if kind not in KINDS:
        raise VnreorgError(f"unknown resource {kind!r}; one of {', '.join(KINDS)}")
    res = load_resources(directory)
    entries = list(res.unit_abbreviations.items()) if kind == "unit_abbreviations" else list(getattr(res, kind))
    shown = 0
    for entry in entries:
        fields = entry if isinstance(entry, tuple) else astuple(entry)
        line = " | ".join(", ".join(f) if isinstance(f, tuple) else str(f) for f in fields)
        if kind == "admin_units":
            line += "  forms: " + "; ".join(res.unit_forms(entry))
        if contains and fold(contains) not in fold(line):
            continue
        typer.echo(line)
        shown += 1
        if shown >= limit:
            break
    typer.echo(f"({shown} shown of {len(entries)})")


@app.command("build")
def build_cmd(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder (default: the package's models/resources)."),
) -> None:
    """Regenerate admin_units.tsv and admin_mapping.tsv from the pinned vietnamadminunits release
    (needs `pip install 'vnreorg[resources]'`; never calls its online geocoder)."""
    from vnreorg.models.resources import RESOURCES_DIR
    from vnreorg.models.resources_build import PACKAGE, PINNED_VERSION, build_admin_resources

    counts = build_admin_resources(out or RESOURCES_DIR)
    typer.echo(
        f"{PACKAGE}=={PINNED_VERSION}: {counts['admin_units']} units, {counts['admin_mapping']} old->new rows "
        f"({counts['unresolved']} unresolved) -> {out or RESOURCES_DIR}"
    )
