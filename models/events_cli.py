"""`vnreorg events`: normalised, linked, cross-checked, deduplicated events from `extract` output."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from vnreorg.errors import VnreorgError

app = typer.Typer(help="Restructuring events as linked, checkable data.", no_args_is_help=True)

DEFAULT_TYPES_GOLD = Path("corpus/gold/event_types.tsv")
DEFAULT_LINKS_GOLD = Path("corpus/gold/links.tsv")
DEFAULT_DEDUP_SET = Path("tests/fixtures/dedup_events.jsonl")


@app.command("build")
def build_command(
    extraction: Path = typer.Argument(
        ..., help="extract output: JSONL, or a Parquet file or dataset folder with the same fields."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Output folder: events.jsonl, actions.jsonl, links.jsonl, events.csv, events.parquet, index.html, summary.json.",
    ),
    docs: Optional[Path] = typer.Option(
        None, "--docs", help="Corpus JSONL whose metadata (date, outlet, title) joins the records by id or source-file stem."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress on stderr."),
) -> None:
    """Normalise, link, cross-check and deduplicate the events of an extraction; write tables and a page."""
    from tqdm import tqdm

    from vnreorg.jsonio import write_atomic, write_jsonl
    from vnreorg.models.browse import flat_rows, write_csv, write_page, write_parquet
    from vnreorg.models.events import build_events, read_documents_meta, read_extraction

    t0 = time.perf_counter()
    bar = tqdm(unit="doc", disable=not progress, file=sys.stderr)
    events, actions, counts, entity_links = build_events(
        read_extraction(extraction), read_documents_meta(docs), progress=bar.update
    )
    bar.close()
    if counts["records"] == 0:
        raise VnreorgError("no usable records (every record skipped, or the file is empty)", str(extraction))
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "events.jsonl", events)
    write_jsonl(out / "actions.jsonl", actions)
    write_jsonl(out / "links.jsonl", entity_links)
    rows = flat_rows(events, actions)
    write_csv(rows, out / "events.csv")
    write_parquet(rows, out / "events.parquet")
    write_page(actions, out / "index.html")
    counts["seconds"] = round(time.perf_counter() - t0, 2)
    write_atomic(out / "summary.json", json.dumps(counts, ensure_ascii=False, indent=2) + "\n")
    typer.echo(
        f"{counts['records']} documents, {counts['events']} events -> {counts['actions']} actions in {counts['seconds']} s -> {out}\n"
        f"   types {counts['types']}\n   links of participants {counts['links']}, of all AGENCY entities {counts['entity_links']}\n   official record {counts['verdicts']}"
    )


@app.command("measure")
def measure_command(
    types_gold: Path = typer.Option(DEFAULT_TYPES_GOLD, "--types", help="Hand-typed gold MERGE_ACTIONs."),
    links_gold: Path = typer.Option(DEFAULT_LINKS_GOLD, "--links", help="Hand-made links gold."),
    corpora: list[Path] = typer.Option(
        [Path("corpus/gold/gold.jsonl"), Path("corpus/synthetic/synthetic.jsonl")],
        "--corpus",
        help="Corpora the links gold is keyed into (the synthetic one: `vnreorg worksheet synthetic`).",
    ),
    dedup_set: Path = typer.Option(
        DEFAULT_DEDUP_SET, "--dedup", help="Constructed duplicates and near-misses (JSONL, gold_group per event)."
    ),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the figures as JSON here."),
) -> None:
    """Typing accuracy, linking precision/recall (seed and synthetic apart) and deduplication pair P/R."""
    from vnreorg.jsonio import read_documents, write_atomic
    from vnreorg.models.dedup import pair_scores
    from vnreorg.models.events import event_type, measure_typing, name_participants
    from vnreorg.models.linking import measure_links, read_link_gold

    result: dict = {"typing": measure_typing(types_gold)}
    docs = [d for c in corpora if c.exists() for d in read_documents(c)]
    missing = [str(c) for c in corpora if not c.exists()]
    gold = read_link_gold(links_gold)
    result["links"] = {
        name: measure_links(docs, {k: v for k, v in gold.items() if k[0].startswith("syn-") == syn})
        for name, syn in (("seed", False), ("synthetic", True))
    }
    result["links"]["all"] = measure_links(docs, gold)
    syn_actions = [d.text[s.start : s.end] for d in docs if d.id.startswith("syn-") for s in d.spans if s.label == "MERGE_ACTION"]
    typed = sum(event_type(t) != "other" for t in syn_actions)
    result["synthetic_trigger_coverage"] = {
        "actions": len(syn_actions),
        "typed": typed,
        "share": typed / len(syn_actions) if syn_actions else 0.0,
    }
    if dedup_set.exists():
        events = [json.loads(line) for line in dedup_set.read_text(encoding="utf-8").splitlines() if line.strip()]
        result["dedup"] = pair_scores(name_participants(events))
    t = result["typing"]
    typer.echo(f"typing: {t['right']}/{t['actions']} = {t['accuracy']:.3f} on {types_gold}")
    for name, r in result["links"].items():
        typer.echo(
            f"links {name}: P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f} (tp {r['tp']}, fp {r['fp']}, fn {r['fn']}; {r['gold_links']} gold links)"
        )
    c = result["synthetic_trigger_coverage"]
    typer.echo(f"synthetic MERGE_ACTIONs with a type from the table: {c['typed']}/{c['actions']} = {c['share']:.3f}")
    if "dedup" in result:
        d = result["dedup"]
        typer.echo(
            f"dedup pairs: P {d['precision']:.3f} R {d['recall']:.3f} ({d['pairs_right']} right of {d['pairs_predicted']} predicted, {d['pairs_gold']} gold)"
        )
    if missing:
        typer.echo(f"missing corpora (not measured): {', '.join(missing)}", err=True)
    if out:
        write_atomic(out, json.dumps(result, ensure_ascii=False, indent=2) + "\n")
