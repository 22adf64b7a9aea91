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

    texts = [json.loads(line)["text"] for line in (REPO / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
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
    ap.add_argument("--model", default=str(REPO / "models/trained/full/model"))
    ap.add_argument("--words", type=int, default=200_000)
    ap.add_argument("--train", action="store_true", help="Also time training the full config on the gold corpus.")
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
        result = train_model("full", docs, Path(tempfile.mkdtemp(prefix="bench-train-")) / "full", seed=0, quiet=True)
        train_seconds = time.perf_counter() - t0
        if not Path(args.model).exists():
            args.model = str(result.model_path)

    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        tmp = Path(tmp)
        files, contents, words = build_inputs(tmp, args.words)

        blank = blank_vi()
        t0 = time.perf_counter()
        n_tokens = sum(len(d) for d in blank.pipe(contents, batch_size=64))
        blank_s = time.perf_counter() - t0
        rows.append(("blank `vi` tokenizer only (nlp.pipe)", blank_s, words / blank_s))

        nlp = load_model(args.model)
        t0 = time.perf_counter()
        for _ in nlp.pipe(contents, batch_size=64):
            pass
        pipe_s = time.perf_counter() - t0
        rows.append((f"model, nlp.pipe on whole texts ({', '.join(nlp.pipe_names)})", pipe_s, words / pipe_s))

        t0 = time.perf_counter()
        counts = extract(args.model, [str(tmp)], str(tmp / "out.jsonl"), n_process=1, progress=False)
        extract_s = time.perf_counter() - t0
        rows.append(("`vnreorg extract` (files -> JSONL: segmentation, model, events)", extract_s, words / extract_s))

    lines = [
        "# Benchmark: extract throughput (one core)",
        "",
        f"- Command: `.venv/bin/python benchmarks/bench_extract.py{' --train' if args.train else ''}`",
        f"- Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, pinned to 1 CPU, BLAS threads 1",
        f"- Input: {len(files)} text files, {words:,} words ({n_tokens:,} tokens), the cleaned seed articles repeated",
        f"- Model: `{args.model}` (pipeline: {', '.join(nlp.pipe_names)})",
        f"- Extracted: {counts['entities']:,} entities, {counts['relations']:,} relations, {counts['events']:,} events",
        "",
        "| run | seconds | words/s |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {secs:.2f} | {wps:,.0f} |" for name, secs, wps in rows]
    if train_seconds is not None:
        lines += ["", f"Training the full config on the gold corpus (5 documents, seed 0): {train_seconds:.0f} s on one core."]
    lines += ["", f"Target: at least 10,000 words/s for extract with NER and relations: "
              f"{'met' if rows[-1][2] >= 10_000 else 'NOT met'} ({rows[-1][2]:,.0f} words/s).", ""]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
