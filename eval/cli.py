"""`vnreorg evaluate` (top level) and `vnreorg eval render`: score predictions and write the report."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents, read_json_file, write_documents
from vnreorg.schema import Document

app = typer.Typer(no_args_is_help=True)

DEFAULT_REPORTS = Path("eval/reports")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def strip_annotations(docs: list[Document]) -> list[Document]:
    """Copies without spans and relations: what a model may see of the gold documents."""
    return [d.unannotated() for d in docs]


def predict_with_model(model: str, gold: list[Document]) -> list[Document]:
    from vnreorg.models.predict import predict_documents

    return predict_documents(model, strip_annotations(gold))


def _default_out(name: str) -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "run"
    return DEFAULT_REPORTS / f"{stamp}-{safe}"


def evaluate(
    gold: Path = typer.Option(..., "--gold", "-g", help="Gold corpus JSONL (one Document a line)."),
    pred: Optional[Path] = typer.Option(None, "--pred", "-p", help="Predicted documents JSONL (same ids and texts)."),
    model: Optional[str] = typer.Option(
        None, "--model", "-m", help="Run this model (path or package name) on the gold texts first."
    ),
    compare: Optional[Path] = typer.Option(
        None, "--compare", help="A second prediction file: paired bootstrap delta against it."
    ),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Report folder (default eval/reports/<UTC time>-<name>)."),
    title: Optional[str] = typer.Option(None, help="Report title."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples (0 = no intervals)."),
    max_errors: int = typer.Option(200, "--max-errors", help="Errors kept per kind in the report JSON."),
) -> None:
    """Score predictions against gold: four entity schemes, relations, intervals, errors; writes md/html/json."""
    from vnreorg.eval.cv import paired_bootstrap
    from vnreorg.eval.report import write_report
    from vnreorg.eval.scoring import evaluate_documents

    if (pred is None) == (model is None):
        raise VnreorgError("give exactly one of --pred FILE or --model MODEL")
    t0 = time.perf_counter()
    gold_docs = read_documents(gold)
    typer.echo(f"gold: {len(gold_docs)} documents from {gold}")
    out_dir = out or _default_out(Path(model).name if model else pred.stem)  # type: ignore[union-attr]
    if model is not None:
        typer.echo(f"running model {model} on {len(gold_docs)} documents ...")
        pred_docs = predict_with_model(model, gold_docs)
        out_dir.mkdir(parents=True, exist_ok=True)
        pred_path = out_dir / "predictions.jsonl"
        write_documents(pred_path, pred_docs)
        typer.echo(f"predictions written to {pred_path}")
        pred_source = f"model {model}"
    else:
        pred_docs = read_documents(pred)  # type: ignore[arg-type]
        pred_path = pred  # type: ignore[assignment]
        pred_source = str(pred)
    result = evaluate_documents(
        gold_docs,
        pred_docs,
        seed=seed,
        n_boot=n_boot,
        max_errors_per_kind=max_errors,
        gold_source=str(gold),
        pred_source=pred_source,
    )
    comparison = None
    if compare is not None:
        other = evaluate_documents(
            gold_docs, read_documents(compare), n_boot=0, max_errors_per_kind=0, gold_source=str(gold), pred_source=str(compare)
        )
        comparison = paired_bootstrap(result, other, seed=seed, n_boot=n_boot)
        comparison["_names"] = {"a": model or str(pred), "b": str(compare)}  # type: ignore[assignment]
    meta = {
        "model": model,
        "gold": str(gold),
        "pred": str(pred_path),
        "compare": str(compare) if compare else None,
        "corpus_version": {"file": str(gold), "sha256": sha256_file(gold), "documents": len(gold_docs)},
        # The command that reproduces this report (from the parsed options), and the raw process argv.
        "command": shlex.join(
            ["vnreorg", "evaluate", "--gold", str(gold)]
            + (["--model", model] if model else ["--pred", str(pred)])
            + (["--compare", str(compare)] if compare else [])
            + ["--out", str(out_dir), "--seed", str(seed), "--n-boot", str(n_boot), "--max-errors", str(max_errors)]
            + (["--title", title] if title else [])
        ),
        "argv": shlex.join(sys.argv),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "n_boot": n_boot,
    }
    paths = write_report(
        result,
        out_dir,
        title=title or f"Evaluation of {model or pred.name}",
        meta=meta,  # type: ignore[union-attr]
        comparison=comparison,
    )
    s = result.entities["strict"]["micro"]
    r = result.relations["strict"]["micro"]
    ci = result.ci.get("entities.strict")
    typer.echo(
        f"entities strict P/R/F1 {s['precision']:.3f}/{s['recall']:.3f}/{s['f1']:.3f}"
        + (f" (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else "")
        + f"; relations strict F1 {r['f1']:.3f}"
    )
    for note in result.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"report: {paths['md']} {paths['html']} {paths['json']} ({time.perf_counter() - t0:.1f} s)")


@app.command("render")
def render(
    report_json: Path = typer.Argument(..., help="A report.json written by `vnreorg evaluate`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for the re-rendered report (default: beside the JSON)."),
    title: Optional[str] = typer.Option(None, help="Report title (default: the one stored in the JSON)."),
) -> None:
    """Re-render report.md and report.html from a report.json (e.g. after a template change)."""
    from vnreorg.eval.report import write_report
    from vnreorg.eval.scoring import EvalResult

    try:
        data = read_json_file(report_json)
        result = EvalResult.from_dict(data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise VnreorgError(f"not a report.json ({type(exc).__name__}: {exc})", str(report_json)) from None
    title = title or (data.get("meta") or {}).get("title") or "vnreorg evaluation"
    paths = write_report(result, out or report_json.parent, title=title, comparison=data.get("comparison"))
    typer.echo(f"report: {paths['md']} {paths['html']}")


TOP_LEVEL = {"evaluate": evaluate}
