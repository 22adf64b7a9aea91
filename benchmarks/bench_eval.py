"""Benchmark: our evaluator against nervaluate on up to 1,000,000 gold spans (run by hand).

    .venv/bin/python benchmarks/bench_eval.py                 # 250k, 500k, 1M; nervaluate at 1M
    .venv/bin/python benchmarks/bench_eval.py --sizes 100000 --nervaluate-sizes 100000 --no-write

Corpus: synthetic documents of `--spans-per-doc` gold spans (default 60, like our gold corpus) (flat, 2-20 characters apart) and one
relation per four spans. Prediction: 70% of gold spans copied, 8% label swapped, 8% boundaries shifted
by one, 4% both, 10% dropped, plus 3% spurious spans; relations kept where both ends survive.
Both sides are flat, so all four schemes are comparable and the benchmark checks that the counts agree.

Timing: wall time per call, inputs prepared beforehand (ours: median of `--repeat` calls, all
listed; nervaluate: one call, which takes a minute and so averages over load changes) (ours from `Document` objects, nervaluate
from its dict format with inclusive ends). Memory: peak traced by tracemalloc in a separate call
(tracemalloc slows Python code, so it is not used for the timings). Ours computes more than
nervaluate (relations, document bootstrap, confusion matrix, error list); both timings are given.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import random
import sys
import time
import tracemalloc
from pathlib import Path

from vnreorg.eval.scoring import SCHEMES, evaluate_documents
from vnreorg.schema import ENTITY_LABELS, Document, Relation, Span

NV_SCHEME = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
COUNTS = ("correct", "incorrect", "partial", "missed", "spurious")
RESULTS = Path(__file__).with_name("RESULTS-eval.md")


def make_corpus(n_spans: int, per_doc: int, seed: int = 0) -> tuple[list[Document], list[Document]]:
    rng = random.Random(seed)
    labels = list(ENTITY_LABELS)
    gold, pred = [], []
    n_docs = max(1, n_spans // per_doc)
    for d in range(n_docs):
        g, p, pos = [], [], 0
        count = per_doc if d < n_docs - 1 else n_spans - per_doc * (n_docs - 1)
        for i in range(count):
            pos += rng.randint(2, 20)
            length = rng.randint(1, 30)
            lab = rng.choice(labels)
            g.append(Span(f"T{i}", pos, pos + length, lab))
            r = rng.random()
            if r < 0.70:
                p.append(Span(f"T{i}", pos, pos + length, lab))
            elif r < 0.78:
                p.append(Span(f"T{i}", pos, pos + length, rng.choice([x for x in labels if x != lab])))
            elif r < 0.86:
                p.append(Span(f"T{i}", pos + 1, pos + length + 1, lab))
            elif r < 0.90:
                p.append(Span(f"T{i}", pos + 1, pos + length + 1, rng.choice([x for x in labels if x != lab])))
            pos += length
        tail = pos + 5
        for k in range(int(count * 0.03)):
            p.append(Span(f"X{k}", tail, tail + 5, rng.choice(labels)))
            tail += 7
        text = "x" * (tail + 5)
        rels = [Relation(g[i].id, g[i + 1].id, "source") for i in range(0, len(g) - 1, 4)]
        pids = {s.id for s in p}
        prels = [Relation(r.head, r.child, r.label) for r in rels if r.head in pids and r.child in pids]
        gold.append(Document(f"doc{d:07d}", text, spans=g, relations=rels))
        pred.append(Document(f"doc{d:07d}", text, spans=p, relations=prels))
    return gold, pred


def to_nervaluate(docs: list[Document]) -> list[list[dict]]:
    return [[{"label": s.label, "start": s.start, "end": s.end - 1} for s in d.spans] for d in docs]


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def peak_mib(fn) -> float:
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run_nervaluate(gold_nv, pred_nv):
    from nervaluate import Evaluator

    return Evaluator(gold_nv, pred_nv, tags=list(ENTITY_LABELS), loader="dict").evaluate()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="250000,500000,1000000", help="gold span counts for our evaluator")
    ap.add_argument("--nervaluate-sizes", default="1000000", help="gold span counts for nervaluate (slow)")
    ap.add_argument("--spans-per-doc", type=int, default=60, help="default: about the gold corpus's 58 spans a document")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of ours per size (median reported)")
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    ap.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    ap.add_argument("--append", action="store_true", help=f"append to {RESULTS.name} instead of replacing it")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x]
    nv_sizes = {int(x) for x in args.nervaluate_sizes.split(",") if x}

    import nervaluate  # noqa: F401  (import cost outside the timings)
    import sklearn.metrics  # noqa: F401

    evaluate_documents(*make_corpus(1000, args.spans_per_doc, seed=1), n_boot=10)  # warm-up (imports, caches)
    load = os.getloadavg()
    rows = []
    for n in sorted(set(sizes) | nv_sizes):
        gold, pred = make_corpus(n, args.spans_per_doc)
        row = {"n": n, "docs": len(gold), "pred": sum(len(d.spans) for d in pred)}
        if n in sizes or n in nv_sizes:
            runs = []
            for _ in range(args.repeat):
                result, dt = timed(lambda: evaluate_documents(gold, pred))
                runs.append(dt)
            row["ours_runs"] = runs
            row["ours_s"] = statistics.median(runs)
            _, row["ours_noboot_s"] = timed(lambda: evaluate_documents(gold, pred, n_boot=0))
            if not args.no_memory:
                row["ours_mib"] = peak_mib(lambda: evaluate_documents(gold, pred))
            print(
                f"{n:>9} spans  ours {row['ours_s']:.2f} s (runs {', '.join(f'{x:.2f}' for x in runs)}; no bootstrap {row['ours_noboot_s']:.2f} s)"
                + (f", peak {row['ours_mib']:.0f} MiB" if "ours_mib" in row else ""),
                flush=True,
            )
        if n in nv_sizes:
            gold_nv, pred_nv = to_nervaluate(gold), to_nervaluate(pred)
            nv, row["nv_s"] = timed(lambda: run_nervaluate(gold_nv, pred_nv))
            if not args.no_memory:
                row["nv_mib"] = peak_mib(lambda: run_nervaluate(gold_nv, pred_nv))
            same = all(
                {k: result.entities[s]["micro"][k] for k in COUNTS}
                == {k: getattr(nv["overall"][NV_SCHEME[s]], k) for k in COUNTS}
                for s in SCHEMES
            )
            same = same and all(
                {k: result.entities[s]["per_label"][lab][k] for k in COUNTS}
                == {k: getattr(nv["entities"][lab][NV_SCHEME[s]], k) for k in COUNTS}
                for s in SCHEMES
                for lab in ENTITY_LABELS
            )
            row["same"] = same
            print(
                f"{n:>9} spans  nervaluate {row['nv_s']:.2f} s"
                + (f", peak {row['nv_mib']:.0f} MiB" if "nv_mib" in row else "")
                + f"; ratio {row['nv_s'] / row['ours_s']:.1f}x; counts identical: {same}",
                flush=True,
            )
            del gold_nv, pred_nv, nv
        rows.append(row)
        del gold, pred

    lines = [
        "# Evaluator benchmark (measured)",
        "",
        f"Command: `{' '.join(['.venv/bin/python', 'benchmarks/bench_eval.py'] + sys.argv[1:])}`  ",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (other jobs were running on the machine).  ",
        f"Corpus: synthetic, {args.spans_per_doc} gold spans per document, one relation per 4 spans; prediction "
        "70% exact, 8% label swap, 8% boundary shift, 4% both, 10% dropped, +3% spurious (see the module docstring).",
        "",
        "| gold spans | docs | predicted spans | ours (s) | ours, no bootstrap (s) | ours peak MiB | nervaluate (s) | nervaluate peak MiB | speed-up | counts identical |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cells = [
            f"{r['n']:,}",
            f"{r['docs']:,}",
            f"{r['pred']:,}",
            f"{r['ours_s']:.2f}",
            f"{r['ours_noboot_s']:.2f}",
            f"{r['ours_mib']:.0f}" if "ours_mib" in r else "–",
            f"{r['nv_s']:.1f}" if "nv_s" in r else "–",
            f"{r['nv_mib']:.0f}" if "nv_mib" in r else "–",
            f"**{r['nv_s'] / r['ours_s']:.1f}x**" if "nv_s" in r else "–",
            str(r.get("same", "–")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) >= 2:
        lines += [
            "",
            "Linearity (ours, default settings): time per 100k gold spans: "
            + ", ".join(f"{r['n']:,}: {r['ours_s'] / r['n'] * 1e5:.3f} s" for r in rows)
            + ".",
        ]
    lines += [
        "",
        "Ours = `evaluate_documents` with defaults (four schemes overall and per label, relations, "
        '1000-resample document bootstrap, confusion matrix, error list); nervaluate = `Evaluator(..., loader="dict").evaluate()` '
        "(four schemes overall and per label). Timings are wall-clock; memory is tracemalloc's peak "
        "in a separate call. Ours is the median of the runs listed below; nervaluate one run.",
        "",
    ]
    lines += [
        "Runs of ours (s): " + "; ".join(f"{r['n']:,}: " + ", ".join(f"{x:.2f}" for x in r["ours_runs"]) for r in rows) + ".",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        if args.append and RESULTS.exists():
            text = (
                RESULTS.read_text(encoding="utf-8").rstrip("\n")
                + "\n\n"
                + text.replace("# Evaluator benchmark (measured)", "## Another run")
            )
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
