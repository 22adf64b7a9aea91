"""Benchmark: the archive path of `vnreorg extract` — the plain loop, `--n-process 2`, and Dask with 1 and
2 workers on the same >= 1,000,000 words, plus peak memory as the input grows 5x.

Run by hand (never in tests):
    .venv/bin/python benchmarks/bench_extract_dask.py --model var/scored/model --words 1000000

The input is a JSONL file of short documents (two seed paragraphs each, as in tests/test_archive.py),
cut into partitions of --records-per-partition records. Every run is the real CLI in a fresh child;
its wall time includes start-up (model loading, and for Dask the LocalCluster and the model in each
worker). Peak memory is the largest sum of resident memory over the child and all its descendants
(the Dask workers), sampled every 0.1 s with psutil. Writes benchmarks/RESULTS-extract-dask.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_jsonl(path: Path, min_words: int) -> tuple[int, int]:
    from vnreorg.corpus.segment import count_words

    paras = []
    for line in (REPO / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines():
        paras += [p for p in json.loads(line)["text"].split("\n") if len(p.split()) >= 12]
    words = n = 0
    with open(path, "w", encoding="utf-8") as fh:
        while words < min_words:
            text = paras[n % len(paras)] + "\n\n" + paras[(7 * n + 3) % len(paras)]
            fh.write(json.dumps({"id": f"d{n:07d}", "text": text}, ensure_ascii=False) + "\n")
            words += count_words(text)
            n += 1
    return n, words


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak MB over the process tree, stderr."""
    import psutil

    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, env=env)
    peak = [0]

    def sample() -> None:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                total = root.memory_info().rss + sum(c.memory_info().rss for c in root.children(recursive=True))
            except psutil.Error:
                total = 0
            peak[0] = max(peak[0], total)
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    t.join()
    if proc.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{err.decode()[-2000:]}")
    return wall, peak[0] / 2**20, err.decode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--records-per-partition", type=int, default=500)
    ap.add_argument(
        "--growth", type=int, default=5, help="Also run 2 Dask workers on this many times fewer words (memory as input grows)."
    )
    ap.add_argument("--out", default=str(REPO / "benchmarks/RESULTS-extract-dask.md"))
    args = ap.parse_args()
    cli = [sys.executable, "-m", "vnreorg.cli", "extract"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        tmp = Path(tmp)
        big, small = tmp / "big.jsonl", tmp / "small.jsonl"
        n_docs, words = build_jsonl(big, args.words)
        n_small, words_small = build_jsonl(small, args.words // args.growth)
        common = ["-m", args.model, "--no-progress", "--records-per-partition", str(args.records_per_partition)]
        runs = [
            ("plain loop (local engine, JSONL)", [*cli, str(big), "-o", str(tmp / "a.jsonl"), *common], words),
            (
                "local engine, --n-process 2 (JSONL)",
                [*cli, str(big), "-o", str(tmp / "b.jsonl"), "--n-process", "2", *common],
                words,
            ),
            ("local engine, Parquet dataset", [*cli, str(big), "-o", str(tmp / "c"), "--format", "parquet", *common], words),
            (
                "Dask LocalCluster, 1 worker",
                [*cli, str(big), "-o", str(tmp / "d"), "--engine", "dask", "--workers", "1", *common],
                words,
            ),
            (
                "Dask LocalCluster, 2 workers",
                [*cli, str(big), "-o", str(tmp / "e"), "--engine", "dask", "--workers", "2", *common],
                words,
            ),
            (
                f"Dask LocalCluster, 2 workers, input / {args.growth}",
                [*cli, str(small), "-o", str(tmp / "f"), "--engine", "dask", "--workers", "2", *common],
                words_small,
            ),
        ]
        for name, cmd, w in runs:
            wall, peak, err = run(cmd)
            rows.append((name, w, wall, w / wall, peak))
            print(
                json.dumps(
                    {"run": name, "words": w, "seconds": round(wall, 1), "words_s": round(w / wall), "peak_mb": round(peak)}
                ),
                flush=True,
            )
    base = rows[0][3]
    lines = [
        "# Benchmark: extract over an archive — plain loop, --n-process, Dask workers",
        "",
        f"- Command: `.venv/bin/python benchmarks/bench_extract_dask.py --model {args.model} --words {args.words}`",
        f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared: load average "
        f"{os.getloadavg()[0]:.1f} at the end), Python {platform.python_version()}",
        f"- Input: {n_docs:,} JSONL documents, {words:,} words, partitions of {args.records_per_partition} records; "
        "wall time of the whole CLI run (start-up included); peak memory summed over the process tree.",
        "",
        "| run | words | seconds | words/s | vs plain loop | peak MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r[0]} | {r[1]:,} | {r[2]:.1f} | {r[3]:,.0f} | {r[3] / base:.2f} | {r[4]:.0f} |" for r in rows]
    two, one, small_run = rows[4], rows[3], rows[5]
    lines += [
        "",
        f"2 Dask workers vs the plain loop: {two[3] / base:.2f}x (goal 1.7x); vs 1 Dask worker: {two[3] / one[3]:.2f}x. "
        f"Peak memory with {args.growth}x the input: {two[4]:.0f} MB vs {small_run[4]:.0f} MB ({two[4] / small_run[4]:.2f}x).",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
