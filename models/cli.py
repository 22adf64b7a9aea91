"""Commands of the model stage: `train`, `package`, `extract`, `model predict` (cross-validation, which
also evaluates, is `vnreorg cv`, above the stages)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from vnreorg.errors import VnreorgError

DEFAULT_GOLD = Path("corpus/gold/gold.jsonl")
DEFAULT_TRAINED = Path("models/trained")
DEFAULT_CV_OUT = Path("eval/reports/cv")
DEFAULT_PACKAGES = Path("models/packages")
DEFAULT_MODEL_DIR = DEFAULT_TRAINED / "final"
# Where the main job (`vnreorg all`, out=var) and `vnreorg train` leave a model, in the order tried.
MODEL_CANDIDATES = [Path("var/trained/final/model"), DEFAULT_TRAINED / "final" / "model", DEFAULT_TRAINED / "full" / "model"]
PACKAGE_NAME = "vi_vnreorg"

app = typer.Typer(help="Predict with a trained model.", no_args_is_help=True)


def _read_gold(gold: Path):
    from vnreorg.jsonio import read_documents

    docs = read_documents(gold)
    if not docs:
        raise VnreorgError("no documents", str(gold))
    return docs


def train(
    config: str = typer.Option(
        "rules_rel",
        "--config",
        "-c",
        help="Config name in models/configs/ (a wrong name lists them) or a path. The shipped system is the one the main job's cross-validation scores best (see models/reports/cv/seeds_report.md), not this default.",
    ),
    gold: Path = typer.Option(DEFAULT_GOLD, "--gold", help="Gold corpus JSONL."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default models/trained/final for rules_rel, else models/trained/<config>)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same model, same scores."),
    data: str = typer.Option("all", "--data", help="Training data: seeds,synthetic,augment (any subset; all = the three)."),
) -> None:
    """Train one pipeline from a config on the gold seeds + the synthetic corpus + mention-replaced seeds
    (cross-validation of several systems: `vnreorg cv`)."""
    from vnreorg.models.data import DataSources, load_synthetic, training_documents
    from vnreorg.models.train import train_model

    seeds = _read_gold(gold)
    sources = DataSources.parse(data)
    docs = training_documents(
        seeds, sources=sources, synthetic=load_synthetic(log=typer.echo) if sources.synthetic else [], seed=seed
    )
    typer.echo(f"== training data: {sources.describe()} ({len(docs)} documents)")
    out = out or (DEFAULT_MODEL_DIR if config == "rules_rel" else DEFAULT_TRAINED / Path(config).stem)
    result = train_model(config, docs, out, seed=seed)
    s = result.dev_scores
    typer.echo(f"== trained {result.config} (seed {seed}) in {result.seconds:.0f} s -> {result.model_path}")
    typer.echo(
        f"   dev: entities F1 {s.get('ents_f', 0):.3f}  relations F1 {s.get('rel_micro_f', 0):.3f}  threshold {result.threshold}"
    )


@app.command("predict")
def predict_command(
    docs: Path = typer.Argument(Path("corpus/documents.jsonl"), help="Corpus JSONL (from `vnreorg corpus build`, or gold)."),
    model: str | None = typer.Option(None, "--model", "-m", help="Trained folder or installed package (default as for extract)."),
    out: Path = typer.Option(
        Path("var/predictions.jsonl"), "--out", "-o", help="Predicted corpus JSONL (spans and relations with scores)."
    ),
) -> None:
    """Predict spans and relations for corpus documents, in the corpus format with confidences: the
    input of `vnreorg annotate push --predictions` (pre-annotations) and of `vnreorg evaluate --pred`."""
    from vnreorg.jsonio import read_documents, write_documents
    from vnreorg.models.predict import predict_documents

    if out.resolve() == docs.resolve():
        raise VnreorgError("--out is the input file; predictions never overwrite a corpus", str(out))
    documents = read_documents(docs)
    if not documents:
        raise VnreorgError("no documents", str(docs))
    bare = [d.unannotated() for d in documents]
    predicted = predict_documents(model or _default_model(), bare)
    write_documents(out, predicted)
    n_spans = sum(len(d.spans) for d in predicted)
    n_rels = sum(len(d.relations) for d in predicted)
    typer.echo(
        f"predicted {n_spans} spans and {n_rels} relations for {len(predicted)} documents -> {out}\n"
        f"   pre-annotate in Label Studio: vnreorg annotate push {docs} --predictions {out}"
    )


def package(
    model: Path = typer.Argument(DEFAULT_MODEL_DIR, help="Trained pipeline folder (default models/trained/final)."),
    out: Path = typer.Option(DEFAULT_PACKAGES, "--out", "-o", help="Folder for the wheel."),
    name: str = typer.Option("vnreorg", "--name", help="Package name (spaCy adds the vi_ prefix)."),
    version: str | None = typer.Option(None, "--version", help="Version (default: the model's)."),
    cv_report: Path = typer.Option(
        DEFAULT_CV_OUT / "cv_report.json",
        "--cv-report",
        help="CV report whose pooled per-label scores go in the meta, if present.",
    ),
) -> None:
    """Build a versioned pip-installable wheel of a trained pipeline (`spacy package`)."""
    from vnreorg.models.package import package_model

    extra = {}
    if cv_report.exists():
        extra["cross_validation"] = json.loads(cv_report.read_text(encoding="utf-8")).get("pooled_per_label", {})
    wheel = package_model(model, out, name=name, version=version, extra_meta=extra)
    typer.echo(f'== wheel: {wheel}\n   install: pip install {wheel}\n   load: spacy.load("vi_{name}")')


def _default_model() -> str:
    for candidate in MODEL_CANDIDATES:
        if (candidate / "meta.json").exists():
            return str(candidate)
    return PACKAGE_NAME


def extract(
    paths: list[str] = typer.Argument(
        ...,
        help="Files, folders or globs of .txt, .html/.htm, .jsonl, .parquet, .warc/.warc.gz; or - for stdin (streamed; a text over 1,000,000 characters is processed in parts).",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Trained folder or installed package (default: the main job's var/trained/final, models/trained/final, else vi_vnreorg).",
    ),
    out: str | None = typer.Option(
        None,
        "--out",
        "-o",
        help="A JSONL file (default: stdout), or with --format parquet a folder for a Parquet dataset (resumable).",
    ),
    output_format: str = typer.Option(
        "auto", "--format", help="auto (parquet with --engine dask, else jsonl), jsonl or parquet."
    ),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="local (this process, --n-process) or dask (a LocalCluster, or --scheduler); dask writes a Parquet dataset.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="With --engine dask: worker processes of the LocalCluster (default: one per core)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="With --engine dask: join this Dask scheduler (e.g. tcp://host:8786) instead of a LocalCluster."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Parquet dataset: redo every partition (default: resume, skipping finished ones)."
    ),
    text_field: str = typer.Option("text", "--text-field", help="JSONL/Parquet: the field holding the text."),
    id_field: str = typer.Option(
        "id", "--id-field", help="JSONL/Parquet: the field holding a document id ('' for none: ids hashed from file and record)."
    ),
    records_per_partition: int = typer.Option(
        10_000,
        "--records-per-partition",
        help="JSONL/Parquet/WARC: records (lines, rows, HTML responses) per partition of a large file; a partition is one task: give each Dask worker several.",
    ),
    n_process: int = typer.Option(
        1,
        "--n-process",
        help="Processes for spaCy's nlp.pipe (local engine). 1 is the default because it is faster: on 2 cores 2 processes were several times slower (benchmarks/RESULTS-extract-scale.md).",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on stderr."),
) -> None:
    """Extract entities, relations and restructuring events from Vietnamese news, as JSONL or as a Parquet dataset."""
    import glob

    from vnreorg.corpus.readers import ReadOptions

    if n_process < 1:
        raise VnreorgError("--n-process must be at least 1")
    if engine not in ("local", "dask"):
        raise VnreorgError(f"--engine must be local or dask, not {engine!r}")
    if output_format not in ("auto", "jsonl", "parquet"):
        raise VnreorgError(f"--format must be auto, jsonl or parquet, not {output_format!r}")
    if not text_field:
        raise VnreorgError("--text-field must name a field")
    if records_per_partition < 1:
        raise VnreorgError("--records-per-partition must be at least 1")
    if output_format == "auto":
        output_format = "parquet" if engine == "dask" else "jsonl"
    if engine == "dask" and output_format != "parquet":
        raise VnreorgError("--engine dask writes a Parquet dataset: give --out FOLDER")
    if output_format == "parquet" and out in (None, "-"):
        raise VnreorgError("a Parquet dataset needs --out FOLDER")
    expanded: list[str] = []
    for p in paths:  # globs are expanded here (a shell may not have done it, e.g. quoted)
        matches = sorted(glob.glob(p)) if any(c in p for c in "*?[") and not Path(p).exists() else []
        expanded.extend(matches or [p])
    read = ReadOptions(text_field=text_field, id_field=id_field or None, records_per_partition=records_per_partition)
    t0 = time.perf_counter()
    if output_format == "parquet":
        from vnreorg.models.archive import extract_dataset

        totals = extract_dataset(
            model or _default_model(),
            expanded,
            out,
            engine=engine,
            workers=workers,
            scheduler=scheduler,
            overwrite=overwrite,
            read_options=read,
            progress=progress,
            log=lambda m: typer.echo(m, err=True),
        )
        secs = time.perf_counter() - t0
        typer.secho(
            f"dataset {out}: {totals['partitions']} partitions, {totals['documents']} documents ({totals['words']} words), "
            f"{totals['entities']} entities, {totals['relations']} relations, {totals['events']} events; skipped {totals['skipped']} "
            f"({secs:.1f} s this run)",
            err=True,
        )
        return
    from vnreorg.models.extract import extract as run_extract

    counts = run_extract(model or _default_model(), expanded, out, n_process=n_process, progress=progress, read_options=read)
    secs = time.perf_counter() - t0
    typer.secho(
        f"extracted {counts['texts']} texts ({counts['words']} words, {counts['words'] / max(secs, 1e-9):.0f} words/s): "
        f"{counts['entities']} entities, {counts['relations']} relations, {counts['events']} events; skipped {counts['skipped']}",
        err=True,
    )


TOP_LEVEL = {"train": train, "package": package, "extract": extract}

from vnreorg.models.resources_cli import app as _resources_app  # noqa: E402

app.add_typer(_resources_app, name="resources")
