"""Benchmark: words per second of `vnreorg extract` on one core, next to a blank `vi` tokenizer-only
pipeline (the floor) in the same run, plus the time to train the model.

Run by hand (never in tests):
    .venv/bin/python benchmarks/bench_extract.py [--model models/trained/full/model] [--words 200000] [--train]

The input is the five cleaned seed articles (corpus/documents.jsonl) repeated as separate .txt files
until the word count is reached. Words are counted as in the corpus stats (syllable-words).
The process is pinned to one CPU and BLAS threads are set to 1 before numpy loads.
Writes benchmarks/RESULTS-extract.md.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def build_inputs(folder: Path, min_words: int) -> tuple[list[Path], list[str], int]:
    from vnreorg.corpus.segment import count_words

    texts = [
        json.loads(line)["text"]
        for line in (REPO / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    files, contents, words, i = [], [], 0, 0
    while words < min_words:
        text = texts[i % len(texts)]
        path = folder / f"doc{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
        contents.append(text)
        words += count_words(text)
        i += 1
    return files, contents, words


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--model", action="append", help="Model folder or package; repeat to compare (default: the main job's final model)."
    )
    ap.add_argument("--words", type=int, default=200_000)
    ap.add_argument("--train", action="store_true", help="Also time training the --configs on the gold corpus.")
    ap.add_argument("--configs", default="full,rules_rel,scored,scored_rel", help="With --train: configs to train and compare.")
    ap.add_argument("--out", default=str(REPO / "benchmarks/RESULTS-extract.md"))
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from vnreorg.corpus.tokenize import blank_vi
    from vnreorg.models.extract import extract
    from vnreorg.models.predict import load_model

    rows = []
    train_seconds = None
    if args.train:
        from vnreorg.jsonio import read_documents
        from vnreorg.models.train import train_model

        docs = read_documents(REPO / "corpus/gold/gold.jsonl")
        t0 = time.perf_counter()
        train_seconds = {}
        for config in args.configs.split(","):
            t0 = time.perf_counter()
            result = train_model(config, docs, Path(tempfile.mkdtemp(prefix="bench-train-")) / config, seed=0, quiet=True)
            train_seconds[config] = time.perf_counter() - t0
            args.model = (args.model or []) + [str(result.model_path)]
    args.model = (
        args.model or [str(p) for p in (REPO / "var/trained/final/model", REPO / "models/trained/final/model") if p.exists()][:1]
    )
    if not args.model:
        sys.exit("no model: pass --model, run the main job, or use --train")

    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        tmp = Path(tmp)
        files, contents, words = build_inputs(tmp, args.words)

        blank = blank_vi()
        t0 = time.perf_counter()
        n_tokens = sum(len(d) for d in blank.pipe(contents, batch_size=64))
        blank_s = time.perf_counter() - t0
        rows.append(("blank `vi` tokenizer only (nlp.pipe)", blank_s, words / blank_s))

        counts = {}
        for model in args.model:
            nlp = load_model(model)
            pipes = ", ".join(nlp.pipe_names)
            t0 = time.perf_counter()
            for _ in nlp.pipe(contents, batch_size=64):
                pass
            pipe_s = time.perf_counter() - t0
            rows.append((f"`{Path(model).parent.name}` nlp.pipe on whole texts ({pipes})", pipe_s, words / pipe_s))
            t0 = time.perf_counter()
            counts = extract(model, [str(tmp)], str(tmp / "out.jsonl"), n_process=1, progress=False)
            extract_s = time.perf_counter() - t0
            rows.append(
                (f"`vnreorg extract` with `{Path(model).parent.name}` ({pipes}): files -> JSONL", extract_s, words / extract_s)
            )
            rows[-1] = (*rows[-1], counts)

    lines = [
        "# Benchmark: extract throughput (one core)",
        "",
        f"- Command: `.venv/bin/python benchmarks/bench_extract.py{' --train' if args.train else ''}`",
        f"- Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, pinned to 1 CPU, BLAS threads 1",
        f"- Input: {len(files)} text files, {words:,} words ({n_tokens:,} tokens), the cleaned seed articles repeated",
        f"- Models: {', '.join(f'`{m}`' for m in args.model)}",
        "",
        "| run | seconds | words/s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {r[0]} | {r[1]:.2f} | {r[2]:,.0f} |" for r in rows]
    lines.append("")
    for r in rows:
        if len(r) > 3:
            c = r[3]
            lines.append(f"- {r[0]}: {c['entities']:,} entities, {c['relations']:,} relations, {c['events']:,} events")
    if train_seconds:
        lines += [
            "",
            "Training on the gold corpus (5 documents, seed 0, one core): "
            + ", ".join(f"`{k}` {v:.0f} s" for k, v in train_seconds.items())
            + ".",
        ]
    extract_rows = [r for r in rows if len(r) > 3]
    lines += [
        "",
        "Target: at least 10,000 words/s for extract with NER and relations: "
        + "; ".join(
            f"{r[0].split(' with ')[1].split(':')[0]} {'met' if r[2] >= 10_000 else 'NOT met'} ({r[2]:,.0f} words/s)"
            for r in extract_rows
        )
        + ".",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
