"""From exported tasks to an updated gold corpus: convert, diff against gold, and (only when asked) write.

Gold documents keep their order; pulled documents not yet in gold are appended (their metadata and
layout come from the cleaned corpus when it has them). A document whose pulled annotation equals its
gold annotation is left byte-for-byte as it was.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vnreorg.annotation.convert import Choice, ExportResult, check_document, convert_export
from vnreorg.annotation.diff import DocumentDiff, diff_documents, format_diff
from vnreorg.corpus.validate import Problem, validate_documents
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import backup, write_documents, write_jsonl
from vnreorg.schema import Document


@dataclass
class PullPlan:
    gold: list[Document]
    diffs: list[DocumentDiff] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    result: ExportResult = field(default_factory=ExportResult)
    problems: list[Problem] = field(default_factory=list)  # gold validator findings in the changed documents
    bad: list[str] = field(default_factory=list)  # one line per task left out: task, document, region, reason

    @property
    def changed(self) -> list[DocumentDiff]:
        return [d for d in self.diffs if d.changed or d.new_document]


def plan_pull(
    tasks: list[dict[str, Any]],
    *,
    gold: list[Document],
    documents: list[Document] | None = None,
    choose: Choice = Choice(),
    users: dict[int, str] | None = None,
    where: str = "export",
    gold_path: str | os.PathLike = "gold",
    strict: bool = False,
) -> PullPlan:
    """What pulling `tasks` would do to gold.

    Not `strict` (the default): a task that cannot be converted exactly, or whose annotation breaks a rule
    of the gold validator, is left out (its gold stays as it is) and reported in `plan.bad`; the good
    tasks are applied. `strict`: the first such task raises and nothing is planned."""
    for doc in gold:
        check_document(doc, "gold")
    gold_by_id = {d.id: d for d in gold}
    base = {d.id: d for d in documents or []}
    base.update(gold_by_id)
    result = convert_export(tasks, base=base, choose=choose, users=users, where=where, strict=strict)
    bad = [str(exc) for _, _, exc in result.bad]  # each names its task, document, annotation, region and reason
    plan = _plan(result, gold, gold_by_id, gold_path)
    if plan.problems and not strict:
        # Leave out the documents the validator refuses, report them with their task, and plan again.
        refused: dict[str, list[Problem]] = {}
        for p in plan.problems:
            refused.setdefault(p.doc_id or "", []).append(p)
        for doc_id, probs in refused.items():
            rec = result.chosen.get(doc_id)
            bad.append(
                f"task {rec.task_id if rec else '?'} doc={doc_id} annotation {rec.annotation_id if rec else '?'}: "
                + "; ".join(str(p) for p in probs[:3])
            )
        result.documents = [d for d in result.documents if d.id not in refused]
        plan = _plan(result, gold, gold_by_id, gold_path)
    plan.bad = bad
    return plan


def _plan(result: ExportResult, gold: list[Document], gold_by_id: dict[str, Document], gold_path: str | os.PathLike) -> PullPlan:
    pulled = {d.id: d for d in result.documents}
    plan = PullPlan(gold=[], result=result)
    for doc in result.documents:
        old = gold_by_id.get(doc.id)
        d = diff_documents(old, doc)
        plan.diffs.append(d)
        plan.texts[doc.id] = doc.text
        rec = result.chosen[doc.id]
        plan.headers[doc.id] = f" (task {rec.task_id}, annotation {rec.annotation_id} by {rec.annotator})"
    changed = {d.doc_id for d in plan.diffs if d.changed or d.new_document}
    for old in gold:
        plan.gold.append(_with_provenance(pulled[old.id], result) if old.id in changed else old)
    plan.gold.extend(_with_provenance(d, result) for d in result.documents if d.id not in gold_by_id)
    changed_at = [(n, d) for n, d in enumerate(plan.gold, 1) if d.id in changed]
    plan.problems = validate_documents([d for _, d in changed_at], path=gold_path, lines=[n for n, _ in changed_at])
    return plan


def _with_provenance(doc: Document, result: ExportResult) -> Document:
    """A copy of a pulled document, spans in order, with the pull recorded in its provenance."""
    rec = result.chosen[doc.id]
    out = copy.copy(doc)
    out.spans = sorted(doc.spans, key=lambda s: (s.start, s.end))
    out.provenance = [
        *doc.provenance,
        {
            "pass": "label-studio",
            "who": rec.annotator,
            "date": rec.updated_at[:10],
            "method": "corrected in Label Studio, pulled by `vnreorg annotate pull`",
            "task": rec.task_id,
            "annotation": rec.annotation_id,
            "updated_at": rec.updated_at,
        },
    ]
    return out


def report_lines(plan: PullPlan, verbose: bool = True) -> list[str]:
    r = plan.result
    lines = []
    for d in plan.changed:
        lines.append(
            format_diff(d, plan.texts[d.doc_id], plan.headers[d.doc_id])
            if verbose
            else f"{'new ' if d.new_document else ''}doc {d.doc_id}: {d.summary()}"
        )
    unchanged = len(plan.diffs) - len(plan.changed)
    lines.append(f"{len(plan.diffs)} annotated task(s): {len(plan.changed)} document(s) would change, {unchanged} unchanged")
    if r.several:
        lines.append(
            f"{len(r.several)} task(s) with several annotations (all kept on the server): "
            + "; ".join(
                f"doc {doc} by {', '.join(who)} -> {r.chosen[doc].annotator if doc in r.chosen else 'none chosen'}"
                for _, doc, who in r.several[:10]
            )
        )
    if r.skipped:
        lines.append(
            f"{len(r.skipped)} task(s) skipped/cancelled, gold unchanged for them: "
            + ", ".join(f"task {t} doc {doc} (by {', '.join(who)})" for t, doc, who in r.skipped[:10])
        )
    if r.not_by_annotator:
        lines.append(
            f"{len(r.not_by_annotator)} annotated task(s) have no annotation by the chosen annotator: "
            + ", ".join(f"doc {doc}" for _, doc in r.not_by_annotator[:10])
        )
    if r.unannotated:
        lines.append(f"{len(r.unannotated)} task(s) not annotated yet")
    if plan.problems:
        lines.append(
            f"{len(plan.problems)} problem(s) for the gold validator in the pulled annotations (fix them in Label Studio):"
        )
        lines.extend(f"  {p}" for p in plan.problems[:20])
    if plan.bad:
        lines.append(f"{len(plan.bad)} task(s) left out, their gold unchanged (fix them in Label Studio and pull again):")
        lines.extend(f"  bad {line}" for line in plan.bad)
    return lines


def write_gold(path: str | os.PathLike, plan: PullPlan) -> Path | None:
    """Back up the current gold file (if any), then write the new gold atomically; returns the backup path.

    Refuses (gold untouched) when the pulled annotations break a rule of the gold validator."""
    if plan.problems:
        raise VnreorgError(
            f"{len(plan.problems)} problem(s) in the pulled annotations, first: {plan.problems[0]}; "
            "fix them in Label Studio and pull again (gold not changed)",
            str(path),
        )
    saved = backup(path)
    write_documents(path, plan.gold)
    return saved


def write_all_annotations(path: str | os.PathLike, plan: PullPlan) -> int:
    """Every (non-cancelled) annotation of every task, one record a line, for agreement studies."""
    records = [
        {
            "doc_id": a.doc_id,
            "task": a.task_id,
            "annotation": a.annotation_id,
            "annotator": a.annotator,
            "updated_at": a.updated_at,
            "spans": [s.to_dict() for s in a.spans],
            "relations": [x.to_dict() for x in a.relations],
        }
        for a in plan.result.all_annotations
    ]
    write_jsonl(path, records)
    return len(records)
