"""Time a 500-task push and pull through a real Label Studio server (run by hand, never in tests).

    .venv/bin/python benchmarks/bench_labelstudio.py [--tasks 500] [--repeat 3]

Starts the embedded server on a free port with a temporary data folder, builds N documents from the
seed articles (windows of three sentences, spans found by a few patterns, relations between them),
and measures, per repetition on a fresh project:
  push (gold as annotations + model output as predictions, inline), re-push (dedupe: nothing changes),
  predictions for existing tasks (import_predictions), pull (export + conversion + diff, no write).
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path

from vnreorg.annotation.client import LabelStudioSession, push
from vnreorg.annotation.pull import plan_pull
from vnreorg.annotation.server import LabelStudioServer, free_port
from vnreorg.corpus.ingest import build_corpus
from vnreorg.schema import Document, Relation, Span

PATTERNS = [
    ("MERGE_ACTION", r"sáp nhập|hợp nhất|sắp xếp|giải thể|kiện toàn"),
    ("AGENCY", r"(?:UBND|Sở|Ban|Thành ủy|Tỉnh ủy|Thị ủy|Bộ) [A-ZĐ][\w]+(?: [A-ZĐ][\w]+)*"),
    ("TITLE", r"(?:Bí thư|Chủ tịch|Phó Chủ tịch|Giám đốc)"),
    ("NUMBER", r"(?<![\w/-])\d+(?:[.,]\d+)?%?(?![\w/-])"),
]


def make_documents(n: int) -> list[Document]:
    sents = []
    for d in build_corpus(Path(__file__).resolve().parents[1] / "seeds").documents:
        sents += [d.text[s:e] for s, e in d.sentences]
    docs = []
    for i in range(n):
        parts = [sents[(i + k) % len(sents)] for k in range(3)]
        text = " ".join(parts)
        bounds, at = [], 0
        for part in parts:
            bounds.append((at, at + len(part)))
            at += len(part) + 1
        doc = Document(id=f"bench-{i:04d}", text=text, sentences=bounds)
        taken: list[tuple[int, int]] = []
        for label, pat in PATTERNS:
            for m in re.finditer(pat, text):
                if all(m.end() <= a or m.start() >= b for a, b in taken):
                    taken.append((m.start(), m.end()))
                    doc.spans.append(Span(f"s{len(doc.spans)}", m.start(), m.end(), label))
        doc.spans.sort(key=lambda s: s.start)
        for lo, hi in bounds:  # relations stay inside a sentence, from its first action
            inside = [s for s in doc.spans if lo <= s.start and s.end <= hi]
            actions = [s for s in inside if s.label == "MERGE_ACTION"]
            for s in inside:
                if actions and s.label in ("AGENCY", "NUMBER"):
                    doc.relations.append(Relation(actions[0].id, s.id, "amount" if s.label == "NUMBER" else "target"))
        docs.append(doc)
    return docs


def scored(docs: list[Document]) -> list[Document]:
    return [
        Document(
            d.id,
            d.text,
            spans=[Span(s.id, s.start, s.end, s.label, 0.5 + (i % 50) / 100) for i, s in enumerate(d.spans)],
            relations=[Relation(r.head, r.child, r.label, 0.7) for r in d.relations],
        )
        for d in docs
    ]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def record(rows: dict[str, list[float]], name: str, seconds: float) -> None:
    rows.setdefault(name, []).append(seconds)
    print(f"  {name}: {seconds:.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = make_documents(args.tasks)
    preds = scored(docs)
    n_spans = sum(len(d.spans) for d in docs)
    n_rels = sum(len(d.relations) for d in docs)
    print(f"{len(docs)} documents, {n_spans} spans, {n_rels} relations, {sum(len(d.text) for d in docs)} characters")
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = LabelStudioServer(Path(tmp) / "ls-data", free_port())
        t_start, _ = timed(server.start)
        print(f"server first start (migrations): {t_start:.1f} s")
        try:
            session = LabelStudioSession(server.url, server.credentials.token)
            for rep in range(args.repeat):
                title = f"bench {rep}"
                t, rep1 = timed(lambda: push(session, docs, project=title, predictions=preds, model_version="bench"))
                assert rep1.tasks_created == len(docs), rep1
                record(rows, "push: create project + 500 tasks with annotations and predictions", t)
                t, rep2 = timed(lambda: push(session, docs, project=title, annotate=False))
                assert rep2.tasks_created == 0 and rep2.tasks_existing == len(docs)
                record(rows, "re-push: 500 existing tasks, nothing to do (dedupe by doc id)", t)
                t, rep3 = timed(
                    lambda: push(session, docs, project=title, annotate=False, predictions=preds, model_version="bench")
                )
                assert rep3.predictions_replaced == len(docs)
                record(rows, "re-push predictions: replace 500 predictions of one model version", t)
                pid = rep1.project_id
                t_exp, tasks = timed(lambda: session.export(pid))
                t_conv, plan = timed(lambda: plan_pull(tasks, gold=[], documents=docs))
                annotated = [d for d in docs if d.spans]
                assert len(plan.changed) == len(annotated) and all(
                    [s.to_dict() for s in a.spans] == [s.to_dict() for s in b.spans] for a, b in zip(plan.gold, annotated)
                )
                record(rows, "pull: JSON export of 500 tasks", t_exp)
                record(rows, "pull: conversion + diff against gold (no write)", t_conv)
                record(rows, "pull: total", t_exp + t_conv)
        finally:
            server.stop()
    print(
        f"\nlabel-studio 1.23.2 (own venv), label-studio-sdk 2.1.2, Python {platform.python_version()}, "
        f"{platform.machine()}, median of {args.repeat} (min-max)\n"
    )
    print("| step | seconds |\n|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f}) |")


if __name__ == "__main__":
    main()
