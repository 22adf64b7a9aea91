"""Run by hand: `vnreorg events` on an archive of N documents built from the synthetic corpus.

    python benchmarks/events_archive.py --n 1000 --model var/trained/tiny/model [--out var/archive_events]

The archive cycles through corpus/synthetic/synthetic.jsonl (`vnreorg worksheet synthetic`): copy k of a
document is a separate article (id arc-NNNN, outlet "outlet-k"), so the same action is reported by several
articles, as in a real news archive. Writes the texts (one .txt each) and their metadata (docs.jsonl),
then times `vnreorg extract` and `vnreorg events build` and prints their summaries. Never run in tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def build_archive(synthetic: Path, n: int, folder: Path) -> Path:
    docs = [json.loads(line) for line in synthetic.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not docs:
        sys.exit(f"{synthetic}: no documents (run `vnreorg worksheet synthetic`)")
    texts = folder / "texts"
    texts.mkdir(parents=True, exist_ok=True)
    with (folder / "docs.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(n):
            src = docs[i % len(docs)]
            doc_id = f"arc-{i:04d}"
            (texts / f"{doc_id}.txt").write_text(src["text"], encoding="utf-8")
            meta = {**src["meta"], "outlet": f"outlet-{i // len(docs)}", "copy_of": src["id"]}
            fh.write(json.dumps({"id": doc_id, "text": src["text"], "meta": meta}, ensure_ascii=False) + "\n")
    return texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--model", required=True)
    ap.add_argument("--synthetic", type=Path, default=Path("corpus/synthetic/synthetic.jsonl"))
    ap.add_argument("--out", type=Path, default=Path("var/archive_events"))
    args = ap.parse_args()
    vnreorg = str(Path(sys.executable).with_name("vnreorg"))
    texts = build_archive(args.synthetic, args.n, args.out)
    t0 = time.perf_counter()
    subprocess.run(
        [vnreorg, "extract", str(texts), "--model", args.model, "-o", str(args.out / "extract.jsonl"), "--no-progress"],
        check=True,
    )
    t1 = time.perf_counter()
    subprocess.run(
        [
            vnreorg,
            "events",
            "build",
            str(args.out / "extract.jsonl"),
            "--docs",
            str(args.out / "docs.jsonl"),
            "-o",
            str(args.out / "events"),
            "--no-progress",
        ],
        check=True,
    )
    t2 = time.perf_counter()
    print(json.dumps({"documents": args.n, "extract_seconds": round(t1 - t0, 1), "events_seconds": round(t2 - t1, 1)}))


if __name__ == "__main__":
    main()
