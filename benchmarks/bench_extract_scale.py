"""Benchmark: does `vnreorg extract` stay linear in the size of ONE input, with bounded memory?

Run by hand (never in tests):
    .venv/bin/python benchmarks/bench_extract_scale.py --model var/scored/model --sizes 1,5
    .venv/bin/python benchmarks/bench_extract_scale.py --model var/rules/model --sizes 1,50 --n-process 1,2

Each size builds one .txt file of that many megabytes (UTF-8 bytes) by repeating the paragraphs of
the cleaned seed articles (corpus/documents.jsonl), separated by blank lines, and runs extract on it
in a fresh child process. The child loads the model first and times extract alone; the parent reads
the child's peak resident memory and CPU time from the kernel (os.wait4). Words are syllable-words
as in the corpus stats. words/s are wall-clock; words per CPU second are also given because the
machine may be shared. Ratios are against the first size. Writes benchmarks/RESULTS-extract-scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import json, os, sys, time
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
from vnreorg.models.extract import extract
from vnreorg.models.predict import load_model
model, path, out, n_process = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
nlp = load_model(model)
t0 = time.perf_counter()
counts = extract(nlp, [path], out, n_process=n_process, progress=False)
counts["seconds"] = time.perf_counter() - t0
print(json.dumps(counts))
"""


def seed_paragraphs() -> list[str]:
    paras = []
    for line in (REPO / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            paras += [p for p in json.loads(line)["text"].split("\n") if p.strip()]
    return paras


def build_input(path: Path, megabytes: float, extra: Callable[[int], str] | None = None) -> int:
    """One file of `megabytes` MB of seed paragraphs, written as it is built (never held whole);
    `extra(i)`, when given, is appended to the i-th paragraph (after a space)."""
    paras, target, size, i = seed_paragraphs(), int(megabytes * 1_000_000), 0, 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        while size < target:
            para = paras[i % len(paras)]
            block = (f"{para} {extra(i)}" if extra else para) + "\n\n"
            fh.write(block)
            size += len(block.encode("utf-8"))
            i += 1
    return size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="Trained pipeline folder or installed package.")
    ap.add_argument("--sizes", default="1,50", help="Input sizes in MB, the first is the reference.")
    ap.add_argument("--n-process", default="1", help="Values of --n-process to time on the first size.")
    ap.add_argument("--out", default=str(REPO / "benchmarks/RESULTS-extract-scale.md"))
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    nprocs = [int(n) for n in args.n_process.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmp = Path(tmp)
        runs = [(mb, 1) for mb in sizes] + [(sizes[0], n) for n in nprocs if n != 1]
        for mb, n in runs:
            path = tmp / f"in_{mb:g}MB.txt"
            if not path.exists():
                build_input(path, mb)
            out = tmp / "out.jsonl"
            # Popen + wait4 so the kernel's peak RSS is this child's, not the largest child's so far.
            proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, args.model, str(path), str(out), str(n)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=REPO,
            )
            t0 = time.perf_counter()
            stdout = proc.stdout.read()
            stderr = proc.stderr.read()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            if status:
                sys.exit(f"child failed ({status}): {stderr.decode()[-2000:]}")
            c = json.loads(stdout.decode().strip().splitlines()[-1])
            n_records = sum(1 for _ in open(out, encoding="utf-8"))
            row = {
                "mb": mb,
                "n_process": n,
                "bytes": path.stat().st_size,
                "words": c["words"],
                "seconds": c["seconds"],
                "words_s": c["words"] / c["seconds"],
                "peak_mb": usage.ru_maxrss / 1024,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "wall_s": wall,
                "records": n_records,
                "entities": c["entities"],
                "relations": c["relations"],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            out.unlink()
            if n == 1 and mb != sizes[0]:
                path.unlink()
    ref = rows[0]
    lines = [
        "# Benchmark: extract on one growing input (linear time, bounded memory)",
        "",
        f"- Command: `.venv/bin/python benchmarks/bench_extract_scale.py --model {args.model} --sizes {args.sizes} --n-process {args.n_process}`",
        f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared with other work), Python {platform.python_version()}",
        "- Input: one .txt file per size, the seed paragraphs repeated; extract timed inside a fresh child after the model is loaded;",
        "  peak memory is the child's peak resident set (model included), from the kernel.",
        "",
        "| MB | --n-process | words | records | extract s | words/s | vs first | peak MB | vs first | words per CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['mb']:g} | {r['n_process']} | {r['words']:,} | {r['records']:,} | {r['seconds']:.1f} | {r['words_s']:,.0f} | "
            f"{r['words_s'] / ref['words_s']:.2f} | {r['peak_mb']:.0f} | {r['peak_mb'] / ref['peak_mb']:.2f} | "
            f"{r['words'] / max(r['cpu_s'], 1e-9):,.0f} |"
        )
    singles = [r for r in rows if r["n_process"] == 1]
    big = singles[-1]
    ok_speed = abs(big["words_s"] / ref["words_s"] - 1) <= 0.2
    ok_mem = abs(big["peak_mb"] / ref["peak_mb"] - 1) <= 0.2
    cpu_ratio = (big["words"] / big["cpu_s"]) / (ref["words"] / ref["cpu_s"])
    lines += [
        "",
        f"Goal (issue 12): words/s at {big['mb']:g} MB within 20% of {ref['mb']:g} MB: wall clock {'met' if ok_speed else 'NOT met'} "
        f"({big['words_s'] / ref['words_s']:.2f}), per CPU second {'met' if cpu_ratio >= 0.8 else 'NOT met'} ({cpu_ratio:.2f}); "
        f"peak memory within 20%: {'met' if ok_mem else 'NOT met'} ({big['peak_mb'] / ref['peak_mb']:.2f}). On a shared machine "
        "the wall-clock ratio follows the load; words per CPU second do not.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
