"""Benchmark: does the model's StringStore stay bounded when every paragraph brings new strings?

Run by hand (never in tests):
    nice .venv/bin/python benchmarks/bench_extract_strings.py --model var/trained/final/model --sizes 2,8

Each size builds one .txt file of that many megabytes from the cleaned seed paragraphs
(corpus/documents.jsonl), each paragraph followed by a sentence with a number, a document code and a
date never seen before (so every paragraph adds strings, as real archives do; the repeated seed text of
bench_extract_scale.py adds none). For each size and each setting of `zone_chars` (900,000: memory
zones, the default; 0: one `nlp.pipe` with no zone, as before) a fresh child loads the model, runs
extract and reports the StringStore and vocab sizes after the run, the extract time and its own peak
resident memory (getrusage). Lexemes are counted by iterating the vocab (`len(nlp.vocab)` counts every
lexeme ever added, freed ones too). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_extract_scale import build_input  # the same seed-paragraph input, with new strings added

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import json, os, resource, sys, time
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
from vnreorg.models.extract import extract
from vnreorg.models.predict import load_model
model, path, out, zone = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
nlp = load_model(model)
loaded = (len(nlp.vocab.strings), sum(1 for _ in nlp.vocab))
t0, c0 = time.perf_counter(), time.process_time()
counts = extract(nlp, [path], out, progress=False, zone_chars=zone)
counts.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0, strings0=loaded[0], lexemes0=loaded[1],
              strings=len(nlp.vocab.strings), lexemes=sum(1 for _ in nlp.vocab),
              peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(counts))
"""


def new_strings(i: int) -> str:
    """A sentence with a number, a document code and a date never seen before in the file."""
    n = 100_003 + i * 7
    return f"Theo Quyết định số {n}/QĐ-UBND ngày {1 + i % 28}/{1 + i % 12}/{1900 + i % 1000}, chi {n * 13:,} đồng."


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--sizes", default="2,8", help="Input sizes in MB.")
    ap.add_argument("--zones", default="900000,0", help="zone_chars values (0: no memory zone).")
    ap.add_argument("--keep", help="Folder to keep the outputs in (to compare them).")
    args = ap.parse_args()
    print(
        "| MB | zone_chars | words | strings after load | strings after run | lexemes after run | extract s | CPU s | peak MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-strings-") as tmp:
        outdir = Path(args.keep or tmp)
        outdir.mkdir(parents=True, exist_ok=True)
        for mb in [float(s) for s in args.sizes.split(",")]:
            path = Path(tmp) / f"in_{mb:g}MB.txt"
            build_input(path, mb, new_strings)
            for zone in [int(z) for z in args.zones.split(",")]:
                out = outdir / f"out_{mb:g}MB_zone{zone}.jsonl"
                proc = subprocess.run(
                    [sys.executable, "-c", CHILD, args.model, str(path), str(out), str(zone)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(
                    f"| {mb:g} | {zone:,} | {r['words']:,} | {r['strings0']:,} | {r['strings']:,} | {r['lexemes']:,} "
                    f"| {r['seconds']:.1f} | {r['cpu']:.1f} | {r['peak_mb']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
