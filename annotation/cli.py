"""`vnreorg annotate ...`: Label Studio server, labeling config, push, pull, offline conversion."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from vnreorg.annotation.convert import Choice, read_export, tasks_for_documents
from vnreorg.annotation.labelconfig import labeling_config
from vnreorg.annotation.offsets import MEASURED_LABEL_STUDIO
from vnreorg.annotation.server import (
    CREDENTIALS_FILE,
    DEFAULT_DATA_DIR,
    DEFAULT_PORT,
    DEFAULT_USERNAME,
    LabelStudioServer,
    installed_label_studio_version,
)
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents, write_atomic

app = typer.Typer(no_args_is_help=True, help="Label Studio: serve, push, pull, config, convert.")

GOLD = Path("corpus/gold/gold.jsonl")
DOCUMENTS = Path("corpus/documents.jsonl")

URL = typer.Option(None, "--url", envvar="LABEL_STUDIO_URL", help="A running server (default: the one `annotate serve` started).")
API_KEY = typer.Option(None, "--api-key", envvar="LABEL_STUDIO_API_KEY", help="Its API token (default: the embedded server's).")
DATA_DIR = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help="Folder of the embedded server (SQLite, media, credentials).")
PROJECT = typer.Option("vnreorg", "--project", help="Project title on the server.")


def _session(url: Optional[str], api_key: Optional[str], data_dir: Path):
    from vnreorg.annotation.client import LabelStudioSession, resolve_connection

    return LabelStudioSession(*resolve_connection(url, api_key, data_dir))


@app.command("serve")
def serve(
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Port on 127.0.0.1."),
    data_dir: Path = DATA_DIR,
    username: str = typer.Option(
        DEFAULT_USERNAME, "--username", envvar="VNREORG_LS_USERNAME", help="Admin e-mail (first start)."
    ),
    password: Optional[str] = typer.Option(
        None, "--password", envvar="VNREORG_LS_PASSWORD", help="Admin password (default: generated, saved in the data folder)."
    ),
    api_key: Optional[str] = typer.Option(
        None, "--api-key", envvar="VNREORG_LS_TOKEN", help="Admin API token, first start only (default: generated)."
    ),
) -> None:
    """Start the embedded Label Studio on 127.0.0.1 and keep it running until Ctrl-C."""
    server = LabelStudioServer(data_dir, port, username=username, password=password, token=api_key)
    saved = data_dir / CREDENTIALS_FILE
    version = installed_label_studio_version(server.executable)
    if version != MEASURED_LABEL_STUDIO:
        typer.secho(
            f"warning: label-studio {version or '(version unknown)'} is not {MEASURED_LABEL_STUDIO}, the version whose browser "
            "offsets were measured (annotation/README.md); run tests/test_browser.py against it before annotating",
            fg=typer.colors.YELLOW,
            err=True,
        )
    typer.echo(
        f"starting Label Studio ({server.executable}) with data in {data_dir} (the first start runs migrations: ~40 s; later starts take a few seconds) ..."
    )
    t0 = time.perf_counter()
    try:
        # From here on SIGINT/SIGTERM/SIGHUP stop the child and wait for it, even in the middle of start-up.
        with server.stop_on_signals():
            server.start()
            creds = server.credentials
            typer.echo(f"Label Studio is up after {time.perf_counter() - t0:.0f} s: {server.url}")
            typer.echo(
                f"  log in as {creds.username}; the password and the API token are in {saved} (readable by you only);"
                " push and pull find them there"
            )
            from vnreorg.annotation.client import LabelStudioSession

            try:
                LabelStudioSession(server.url, creds.token)
            except VnreorgError as exc:
                typer.secho(f"warning: push and pull will not work with the saved token: {exc}", fg=typer.colors.YELLOW, err=True)
            typer.echo("  press Ctrl-C to stop")
            while server.process is not None and server.process.poll() is None:
                time.sleep(1)
            raise VnreorgError(f"label-studio stopped unexpectedly; see {server.log_path}:\n{server.log_tail()}", server.url)
    except KeyboardInterrupt:
        typer.echo("Label Studio stopped")


@app.command("config")
def config(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the XML here instead of printing it.")) -> None:
    """Print the labeling config generated from the schema."""
    xml = labeling_config()
    if out is None:
        typer.echo(xml, nl=False)
    else:
        write_atomic(out, xml)
        typer.echo(f"labeling config -> {out}")


def _default_docs(docs: Optional[Path]) -> Path:
    if docs is not None:
        return docs
    return GOLD if GOLD.exists() else DOCUMENTS


@app.command("push")
def push(
    docs: Optional[Path] = typer.Argument(None, help=f"Corpus JSONL (default: {GOLD} if it exists, else {DOCUMENTS})."),
    predictions: Optional[Path] = typer.Option(
        None, "--predictions", help="Model output (corpus JSONL with scores) to add as pre-annotations."
    ),
    model_version: Optional[str] = typer.Option(
        None, "--model-version", help="Tag of those predictions (default: the file's name)."
    ),
    annotations: bool = typer.Option(
        True, "--annotations/--no-annotations", help="Send the documents' spans and relations as annotations."
    ),
    project: str = PROJECT,
    url: Optional[str] = URL,
    api_key: Optional[str] = API_KEY,
    data_dir: Path = DATA_DIR,
) -> None:
    """Create or update the project; one task per document id (re-pushing never duplicates)."""
    from vnreorg.annotation.client import push as do_push

    path = _default_docs(docs)
    documents = read_documents(path)
    preds = read_documents(predictions) if predictions else None
    version = model_version or (predictions.stem if predictions else "model")
    tasks_for_documents(
        documents, predictions=preds, model_version=version, annotate=annotations
    )  # validate before touching the server
    session = _session(url, api_key, data_dir)
    t0 = time.perf_counter()
    report = do_push(session, documents, project=project, predictions=preds, model_version=version, annotate=annotations)
    typer.echo(
        f"pushed {len(documents)} document(s) from {path}"
        + (f" with predictions {version!r} from {predictions}" if preds else "")
        + f" in {time.perf_counter() - t0:.1f} s"
    )
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"annotate at {session.url}/projects/{report.project_id}/data")


@app.command("pull")
def pull(
    gold: Path = typer.Option(GOLD, "--gold", help="The gold corpus to compare with (and update with --write)."),
    documents: Path = typer.Option(
        DOCUMENTS, "--documents", help="Cleaned corpus: metadata and layout for documents new to gold."
    ),
    choose: Optional[str] = typer.Option(
        None, "--choose", help="Several annotations on a task: 'latest' or 'annotator:<e-mail or id>'."
    ),
    write: bool = typer.Option(False, "--write", help="Write the updated gold (a backup of the old file is kept)."),
    all_annotations: Optional[Path] = typer.Option(
        None, "--all-annotations", help="Also write every annotation of every task to this JSONL."
    ),
    save_export: Optional[Path] = typer.Option(None, "--save-export", help="Keep the raw Label Studio JSON export here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="One line per changed document instead of the full diff."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first task that cannot be pulled, and write nothing."),
    project: str = PROJECT,
    url: Optional[str] = URL,
    api_key: Optional[str] = API_KEY,
    data_dir: Path = DATA_DIR,
) -> None:
    """Export annotations, convert them to the corpus format and show the diff against gold.

    A task that cannot be pulled exactly is reported (task, region, reason) and left out, the others are
    applied, and the exit status is non-zero; with --strict the first such task stops everything."""
    session = _session(url, api_key, data_dir)
    t0 = time.perf_counter()
    pid = session.project_id(project)
    tasks = session.export(pid)
    if save_export:
        write_atomic(save_export, json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
    bad = _apply(
        tasks,
        gold=gold,
        documents=documents,
        choose=choose,
        write=write,
        all_annotations=all_annotations,
        quiet=quiet,
        users=session.users(),
        where=f"{session.url} project {pid}",
        strict=strict,
    )
    typer.echo(f"pulled {len(tasks)} task(s) in {time.perf_counter() - t0:.1f} s")
    if bad:
        raise VnreorgError(
            f"{bad} task(s) could not be pulled (listed above, each with its task, region and reason); "
            "the others were " + ("applied" if write else "planned") + "; fix those in Label Studio and pull again",
            f"{session.url} project {pid}",
        )


def _apply(tasks, *, gold: Path, write: bool, **options) -> int:
    """With --write, under the gold lock (one writer at a time; stale temporary files cleaned first).
    Returns the number of tasks left out (reported)."""
    from vnreorg.fileset import locked, recover_files

    if not write:
        return _apply_unlocked(tasks, gold=gold, write=False, **options)
    with locked(gold.parent):
        for line in recover_files(gold.parent, [gold.name]):
            typer.echo(f"recovered: {line}", err=True)
        return _apply_unlocked(tasks, gold=gold, write=True, **options)


def _apply_unlocked(
    tasks,
    *,
    gold: Path,
    documents: Path,
    choose: Optional[str],
    write: bool,
    all_annotations: Optional[Path],
    quiet: bool,
    users,
    where: str,
    strict: bool = False,
) -> int:
    """Plan, report, and write when asked; returns the number of tasks left out."""
    from vnreorg.annotation.pull import plan_pull, report_lines, write_all_annotations, write_gold

    gold_docs = read_documents(gold) if gold.exists() else []
    base_docs = read_documents(documents) if documents.exists() else []
    plan = plan_pull(
        tasks,
        gold=gold_docs,
        documents=base_docs,
        choose=Choice.parse(choose),
        users=users,
        where=where,
        gold_path=gold,
        strict=strict,
    )
    for line in report_lines(plan, verbose=not quiet):
        typer.echo(line)
    if all_annotations:
        n = write_all_annotations(all_annotations, plan)
        typer.echo(f"{n} annotation(s) -> {all_annotations}")
    if not plan.changed:
        typer.echo(f"gold is up to date: {gold} not touched")
    elif write:
        saved = write_gold(gold, plan)
        typer.echo(f"wrote {len(plan.gold)} document(s) to {gold}" + (f" (backup: {saved})" if saved else ""))
    else:
        typer.echo(f"dry run: {gold} not changed; pass --write to apply (a backup is kept)")
    return len(plan.bad)


@app.command("convert")
def convert(
    source: Path = typer.Argument(..., help="A Label Studio JSON export (.json) or a corpus file (.jsonl)."),
    out: Path = typer.Argument(..., help="Corpus JSONL (from an export) or importable tasks JSON (from a corpus)."),
    base: Optional[Path] = typer.Option(
        None, "--base", help="Export -> corpus: the gold or cleaned corpus the tasks came from (text check, metadata)."
    ),
    choose: Optional[str] = typer.Option(None, "--choose", help="Several annotations on a task: 'latest' or 'annotator:<id>'."),
    predictions: Optional[Path] = typer.Option(
        None, "--predictions", help="Corpus -> tasks: model output to add as predictions."
    ),
    model_version: Optional[str] = typer.Option(
        None, "--model-version", help="Tag of those predictions (default: the file's name)."
    ),
    annotations: bool = typer.Option(
        True, "--annotations/--no-annotations", help="Corpus -> tasks: include spans as annotations."
    ),
) -> None:
    """Offline conversion, both ways, for exports and imports made by hand in Label Studio."""
    from vnreorg.annotation.convert import convert_export
    from vnreorg.jsonio import write_documents

    if source.suffix == ".jsonl":
        docs = read_documents(source)
        preds = read_documents(predictions) if predictions else None
        version = model_version or (predictions.stem if predictions else "model")
        tasks = tasks_for_documents(docs, predictions=preds, model_version=version, annotate=annotations)
        write_atomic(out, json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
        typer.echo(f"{len(tasks)} task(s) -> {out} (import it in Label Studio with the config from `vnreorg annotate config`)")
        return
    if source.suffix != ".json":
        raise VnreorgError("expected a .json Label Studio export or a .jsonl corpus file", str(source))
    tasks = read_export(source)
    base_docs = {d.id: d for d in read_documents(base)} if base else None
    result = convert_export(tasks, base=base_docs, choose=Choice.parse(choose), where=str(source))
    write_documents(out, result.documents)
    typer.echo(f"{len(result.documents)} annotated document(s) -> {out}")
    for what, items in (
        ("not annotated", result.unannotated),
        ("skipped/cancelled", result.skipped),
        ("without an annotation by the chosen annotator", result.not_by_annotator),
    ):
        if items:
            typer.echo(f"{len(items)} task(s) {what}: " + ", ".join(f"doc {x[1]}" for x in items[:10]))
