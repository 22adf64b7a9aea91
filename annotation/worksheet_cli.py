"""`vnreorg worksheet ...`: blank worksheets, gold from reviewed worksheets, agreement between passes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from vnreorg.annotation.worksheet import parse_worksheet, read_worksheets, template
from vnreorg.errors import VnreorgError
from vnreorg.paths import safe_join
from vnreorg.fileset import locked, recover_files, replace_files
from vnreorg.jsonio import backup, dumps_jsonl, read_documents, read_json_file, write_atomic, write_documents
from vnreorg.schema import Document

app = typer.Typer(no_args_is_help=True)

DEFAULT_DOCUMENTS = Path("corpus/documents.jsonl")
DEFAULT_WORKSHEETS = Path("annotation/worksheets")
DEFAULT_GOLD = Path("corpus/gold/gold.jsonl")
DEFAULT_ADJUDICATED = Path("annotation/worksheets/adjudicated")
# Header fields a worksheet must fill in when its provenance is recorded from the header.
PROVENANCE_HEADER = ("annotator", "guidelines", "date")


def load_worksheet_docs(paths: list[Path], documents: dict[str, Document]) -> dict[str, tuple[Document, dict]]:
    """Parse worksheets (files or folders of ws_*.txt) into annotated documents, keyed by doc id."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("ws_*.txt")) if p.is_dir() else [p]
    if not files:
        raise VnreorgError("no worksheet files found", ", ".join(map(str, paths)))
    out: dict[str, tuple[Document, dict]] = {}
    for f in files:
        for ws in read_worksheets(f):
            if ws.doc_id not in documents:
                raise VnreorgError(f"document {ws.doc_id} is not in the corpus (rebuild the corpus?)", str(f))
            if ws.doc_id in out:
                raise VnreorgError(f"document {ws.doc_id} annotated twice", str(f))
            doc = parse_worksheet(ws, documents[ws.doc_id], source=str(f))
            out[ws.doc_id] = (doc, {"worksheet": str(f), **ws.header})
    return out


def provenance_from_header(doc: Document, header: dict) -> dict:
    """The provenance record of a document new to gold, from its worksheet's header: who annotated it,
    under which guidelines, when, and in which file. A field left empty is an error naming the worksheet."""
    missing = [k for k in PROVENANCE_HEADER if not str(header.get(k, "")).strip()]
    if missing:
        fields = ", ".join(f"'# {k}:'" for k in missing)
        raise VnreorgError(
            f"worksheet header of document {doc.id} has no {fields}; provenance is recorded from the header "
            "when the provenance file has no entry for the document",
            header["worksheet"],
        )
    return {
        "source_file": doc.meta.get("source_file"),
        "passes": [
            {
                "pass": "annotation",
                "who": header["annotator"].strip(),
                "guidelines": header["guidelines"].strip(),
                "date": header["date"].strip(),
                "method": "manual: worksheet imported by `vnreorg worksheet import`",
                "worksheet": header["worksheet"],
            }
        ],
    }


def _read_provenance(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        prov = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise VnreorgError(f"provenance file is not valid JSON ({exc})", str(path)) from None
    if not isinstance(prov, dict):
        raise VnreorgError("provenance file must be a JSON object keyed by document id", str(path))
    return prov


@app.command("template")
def template_cmd(
    out_dir: Path = typer.Argument(..., help="Folder for blank worksheets (one per document)."),
    documents: Path = typer.Option(DEFAULT_DOCUMENTS, help="Cleaned corpus JSONL."),
) -> None:
    """Write one blank worksheet per document: every sentence as a block to review."""
    for doc in read_documents(documents):
        stem = Path(doc.meta.get("source_file", doc.id)).stem[:3]
        path = safe_join(out_dir, f"ws_{stem}", suffix=".txt", what="worksheet name (from the source file name)")
        if path.exists():
            raise VnreorgError("exists; refusing to overwrite a worksheet", str(path))
        write_atomic(path, template(doc))
        typer.echo(f"{path}: {len(doc.sentences)} sentence blocks")


@app.command("import")
def import_cmd(
    worksheets: list[Path] = typer.Argument(
        None, help="Worksheet files or folders (default: the adjudicated set, else the first pass)."
    ),
    documents: Path = typer.Option(DEFAULT_DOCUMENTS, help="Cleaned corpus JSONL."),
    gold: Path = typer.Option(DEFAULT_GOLD, help="Gold JSONL to write."),
    provenance: Path = typer.Option(Path("corpus/gold/provenance.json"), help="Per-document provenance records."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing gold that differs (a backup is kept)."),
) -> None:
    """Resolve reviewed worksheets into gold JSONL (offsets), with provenance and a review-complete list."""
    if not worksheets:
        worksheets = [DEFAULT_ADJUDICATED if DEFAULT_ADJUDICATED.exists() else DEFAULT_WORKSHEETS]
    with locked(gold.parent):  # one writer of gold at a time (`annotate pull --write` takes it too)
        for line in recover_files(gold.parent, [gold.name, "review.json", provenance.name]):
            typer.echo(f"recovered: {line}", err=True)
        _import(worksheets, documents, gold, provenance, force)


def _import(worksheets: list[Path], documents: Path, gold: Path, provenance: Path, force: bool) -> None:
    docs = {d.id: d for d in read_documents(documents)}
    annotated = load_worksheet_docs(worksheets, docs)
    missing = [d for d in docs if d not in annotated]
    if missing:
        raise VnreorgError(f"no worksheet for document(s) {', '.join(missing)}: every document must be reviewed")
    prov = _read_provenance(provenance)
    # Documents the provenance file does not know (all of them when it does not exist yet) get their
    # provenance from the worksheet header, checked before anything is written.
    added = {d: provenance_from_header(annotated[d][0], annotated[d][1]) for d in docs if d not in prov}
    prov = {**prov, **added}
    out = []
    for doc_id in docs:  # corpus order
        doc, header = annotated[doc_id]
        doc.provenance = prov.get(doc_id, {}).get("passes", [])
        doc.meta = {k: v for k, v in doc.meta.items() if k != "removed_lines"}
        doc.meta["review"] = {
            "sentences": len(doc.sentences),
            "reviewed": len(doc.sentences),
            "complete": True,
            "worksheet": header["worksheet"],
        }
        out.append(doc)
    new_text = dumps_jsonl(d.to_dict() for d in out)
    review = {
        d.id: {
            "source_file": d.meta.get("source_file"),
            "sentences": len(d.sentences),
            "reviewed_sentences": len(d.sentences),
            "complete": True,
            "spans": len(d.spans),
            "relations": len(d.relations),
        }
        for d in out
    }
    review_path = gold.parent / "review.json"
    if gold.exists() and gold.read_text(encoding="utf-8") != new_text:
        if not force:
            raise VnreorgError("gold exists and differs; pass --force to overwrite (a backup is kept)", str(gold))
        typer.echo(f"backup: {backup(gold)}")
        for other in (review_path, provenance if added else None):
            if other is not None and other.exists():
                backup(other)
    # gold, review.json and (when it gains documents) provenance.json as one set: after a kill all are
    # old or all new (vnreorg/fileset.py); a provenance file in another folder is written after the set
    files = {gold: new_text, review_path: json.dumps(review, ensure_ascii=False, indent=2) + "\n"}
    prov_text = json.dumps(prov, ensure_ascii=False, indent=2) + "\n"
    same_folder = provenance.parent.resolve() == gold.parent.resolve()
    if added and same_folder:
        files[gold.parent / provenance.name] = prov_text
    replace_files(files)
    if added and not same_folder:
        write_atomic(provenance, prov_text)
    if added:
        typer.echo(f"provenance: {len(added)} document(s) recorded from worksheet headers -> {provenance}")
    n_spans = sum(len(d.spans) for d in out)
    n_rels = sum(len(d.relations) for d in out)
    typer.echo(f"gold: {len(out)} documents, {n_spans} spans, {n_rels} relations -> {gold}")


def guideline_overlap(docs: list[Document], guidelines: Path = Path("annotation/GUIDELINES.md")) -> dict:
    """Share of spans whose exact text is quoted as an example in the guidelines.

    The guidelines were written from these very articles, so a high share means the agreement
    figures measure how consistently the guidelines are applied more than how hard the task is."""
    import re

    examples = set(re.findall(r"`([^`]+)`", guidelines.read_text(encoding="utf-8"))) if guidelines.exists() else set()
    texts = [d.text[s.start : s.end] for d in docs for s in d.spans]
    quoted = sum(t in examples for t in texts)
    return {"spans": len(texts), "quoted_in_guidelines": quoted, "share": quoted / len(texts) if texts else 0.0}


def pass_records(provenance: dict, passes: list[tuple[str, dict[str, str]]]) -> list[dict]:
    """For each compared pass (name, {doc id: worksheet}), who made it and under which guideline versions,
    as the provenance records of those documents say (matched by worksheet path)."""
    out = []
    for name, worksheets in passes:
        who, versions = [], []
        for doc_id, worksheet in worksheets.items():
            for rec in provenance.get(doc_id, {}).get("passes", []):
                if Path(rec.get("worksheet", "")) == Path(worksheet):
                    if rec.get("who") and rec["who"] not in who:
                        who.append(rec["who"])
                    if rec.get("guidelines") and rec["guidelines"] not in versions:
                        versions.append(rec["guidelines"])
        out.append({"pass": name, "documents": len(worksheets), "who": who, "guidelines": sorted(versions)})
    return out


@app.command("agreement")
def agreement_cmd(
    first: Path = typer.Argument(..., help="First annotator's worksheets (file or folder)."),
    second: list[Path] = typer.Argument(
        ..., help="Independent second-pass worksheets (files or folders; several passes may each cover some documents)."
    ),
    documents: Path = typer.Option(DEFAULT_DOCUMENTS, help="Cleaned corpus JSONL."),
    out: Path = typer.Option(Path("corpus/gold/agreement.json"), help="JSON with the agreement figures."),
    report: Path = typer.Option(Path("corpus/gold/AGREEMENT.md"), help="Markdown report with disagreements."),
    provenance: Path = typer.Option(
        Path("corpus/gold/provenance.json"), help="Per-document provenance records (who made each pass, under which guidelines)."
    ),
) -> None:
    """Inter-annotator agreement on the documents both passes annotated."""
    from vnreorg.annotation.agreement import agreement, agreement_markdown

    docs = {d.id: d for d in read_documents(documents)}
    a = load_worksheet_docs([first], docs)
    b = load_worksheet_docs(list(second), docs)
    common = [d for d in docs if d in a and d in b]
    if not common:
        raise VnreorgError("the two passes share no document")
    result = agreement([a[d][0] for d in common], [b[d][0] for d in common])
    result["documents"] = [
        {
            "id": d,
            "source_file": docs[d].meta.get("source_file"),
            "second_pass": b[d][1].get("annotator", ""),
            "second_pass_worksheet": b[d][1]["worksheet"],
        }
        for d in common
    ]
    result["by_second_pass"] = {}
    for who in sorted({b[d][1].get("annotator", "") for d in common}):
        ids = [d for d in common if b[d][1].get("annotator", "") == who]
        sub = agreement([a[d][0] for d in ids], [b[d][0] for d in ids])
        result["by_second_pass"][who] = {
            "documents": [docs[d].meta.get("source_file") for d in ids],
            "span_strict_f1": sub["spans"]["micro"]["strict_f1"],
            "span_overlap_f1": sub["spans"]["micro"]["overlap_f1"],
            "token_kappa": sub["token_kappa"]["overall"],
            "relation_f1": sub["relations"]["micro"]["f1"],
        }
    result["computed"] = time.strftime("%Y-%m-%d")
    result["guideline_example_overlap"] = guideline_overlap([a[d][0] for d in common])
    records = json.loads(provenance.read_text(encoding="utf-8")) if provenance.exists() else {}
    result["passes"] = pass_records(
        records,
        [("A (first pass)", {d: a[d][1]["worksheet"] for d in common})]
        + [
            (who, {d: b[d][1]["worksheet"] for d in common if b[d][1].get("annotator", "") == who})
            for who in result["by_second_pass"]
        ],
    )
    write_atomic(out, json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    write_atomic(report, agreement_markdown(result, [a[d][0] for d in common], [b[d][0] for d in common]))
    typer.echo(
        f"agreement over {len(common)} documents: span F1 strict {result['spans']['micro']['strict_f1']:.3f}, "
        f"overlap {result['spans']['micro']['overlap_f1']:.3f}; relation F1 {result['relations']['micro']['f1']:.3f} -> {out}"
    )


@app.command("synthetic")
def synthetic_cmd(
    worksheets: list[Path] = typer.Argument(
        None, help="Synthetic worksheet files or folders (default corpus/synthetic/worksheets)."
    ),
    out: Path = typer.Option(Path("corpus/synthetic/synthetic.jsonl"), "--out", "-o", help="Synthetic corpus JSONL to write."),
    gold: Path = typer.Option(DEFAULT_GOLD, "--gold", help="Seed gold: no synthetic sentence may share 8 tokens with it."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Write the valid documents and list the others (default: write nothing when any problem)."
    ),
    report: Path = typer.Option(None, "--report", help="JSON with per-file counts and every problem."),
    strict_occurrence: bool = typer.Option(
        True,
        "--strict-occurrence/--bare-is-first",
        help="A repeated text needs '#k' on every line, '#1' included (GUIDELINES v2 section 6); --bare-is-first reads a bare one as the first (to measure a batch before it is fixed).",
    ),
) -> None:
    """Synthetic worksheets -> corpus/synthetic/synthetic.jsonl (provenance `synthetic`; never gold)."""
    from vnreorg.annotation.synthetic import DEFAULT_WORKSHEETS, counts, import_synthetic

    if out.name == "gold.jsonl":
        raise VnreorgError("synthetic records never go into gold.jsonl", str(out))
    imp = import_synthetic(
        worksheets or [DEFAULT_WORKSHEETS], read_documents(gold) if gold.exists() else None, strict_occurrence=strict_occurrence
    )
    typer.echo("valid documents per file (spans AGENCY/TITLE/MERGE_ACTION/NUMBER, relations source/target/amount):")
    for path, info in imp.files.items():
        typer.echo(
            f"{path}: {info['documents']} documents, {info['sentences']} sentences, spans "
            f"{'/'.join(str(v) for v in info['spans'].values())}, relations "
            f"{'/'.join(str(v) for v in info['relations'].values())}; "
            f"{len(info['invalid_documents'])} invalid: {', '.join(info['invalid_documents']) or '-'}"
        )
    for path, message in imp.errors:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    for path, message in imp.warnings:
        typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)
    total = counts(imp.documents)
    typer.echo(
        f"valid: {total['documents']} documents, {total['sentences']} sentences "
        f"({total['empty_sentences']} without spans); spans {total['spans']}; relations {total['relations']}"
    )
    if report:
        write_atomic(
            report,
            json.dumps(
                {
                    "files": imp.files,
                    "counts": total,
                    "errors": [{"file": f, "error": e} for f, e in imp.errors],
                    "warnings": [{"file": f, "warning": w} for f, w in imp.warnings],
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
        )
    if imp.errors and not skip_invalid:
        raise VnreorgError(
            f"{len(imp.errors)} problem(s) in the synthetic worksheets; nothing written "
            "(fix them, or pass --skip-invalid to write the valid documents)"
        )
    if not imp.documents:
        raise VnreorgError("no valid synthetic document to write")
    write_documents(out, imp.documents)
    typer.echo(f"synthetic: {len(imp.documents)} documents -> {out}")


@app.command("synthetic-agreement")
def synthetic_agreement_cmd(
    first: list[Path] = typer.Argument(None, help="First-pass synthetic worksheets (default corpus/synthetic/worksheets)."),
    second: Path = typer.Option(
        Path("corpus/synthetic/second_pass"), "--second", help="Independent second-pass worksheets (file or folder)."
    ),
    out: Path = typer.Option(
        Path("corpus/synthetic/agreement.json"), "--out", "-o", help="JSON with the figures (read by the dataset card)."
    ),
    report: Path = typer.Option(
        Path("corpus/synthetic/AGREEMENT.md"), "--report", help="Markdown report with the disagreements."
    ),
) -> None:
    """Agreement between the synthetic first pass and the independent second pass (issue 14: span F1 >= 0.90)."""
    import time

    from vnreorg.annotation.agreement import agreement_markdown
    from vnreorg.annotation.synthetic import DEFAULT_WORKSHEETS, import_synthetic, second_pass_agreement

    imp = import_synthetic(first or [DEFAULT_WORKSHEETS])
    result, a, b, problems = second_pass_agreement(imp.documents, [second])
    for _, p in problems:
        typer.secho(f"warning: second pass skipped: {p}", fg=typer.colors.YELLOW, err=True)
    result["computed"] = time.strftime("%Y-%m-%d")
    write_atomic(out, json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    named = [
        Document(
            id=d.id,
            text=d.text,
            meta={**d.meta, "source_file": f"{d.id} ({d.meta.get('source_file')})"},
            sentences=d.sentences,
            spans=d.spans,
            relations=d.relations,
        )
        for d in a
    ]
    markdown = agreement_markdown(result, named, b).replace(
        "`vnreorg worksheet agreement`", "`vnreorg worksheet synthetic-agreement`", 1
    )
    write_atomic(report, markdown)
    cov = result["coverage"]
    typer.echo(
        f"synthetic agreement over {cov['documents']} articles, {cov['sentences']} of {cov['corpus_sentences']} "
        f"sentences ({cov['share_of_sentences']:.1%}): span F1 strict {result['spans']['micro']['strict_f1']:.3f}, "
        f"overlap {result['spans']['micro']['overlap_f1']:.3f}; token kappa {result['token_kappa']['overall']:.3f}; "
        f"relation F1 {result['relations']['micro']['f1']:.3f} -> {out}, {report}"
    )
