"""A/B: CPU seconds of the same partitions in this process vs in a Dask worker (run by hand).

    nice .venv/bin/python benchmarks/ab_worker_cpu.py --model var/trained/final/model --words 120000 --rounds 3

One LocalCluster of one worker (as `--engine dask` makes it, models/archive.py), the model loaded in both
processes first; then, interleaved `--rounds` times so that the machine's load hits all alike: every
partition run here in the main thread (`main`), every partition as its own Dask task (`tasks`), and all
partitions in one Dask task (`onetask`). Each number is the sum of the tasks' own thread CPU seconds
(run_partition's `cpu_seconds`), so Dask's event loop and the scheduler are not in it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def all_parts(parts, opts, out: str) -> float:
    from vnreorg.models.archive import run_partition

    return round(sum(run_partition(p, opts, out)["cpu_seconds"] for p in parts), 2)


def main() -> None:
    from bench_extract_dask import build_jsonl

    from vnreorg.corpus.readers import ReadOptions, plan_partitions
    from vnreorg.models.archive import RunOptions, _dask_client, _load_model, run_partition
    from vnreorg.models.extract import resolve_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--words", type=int, default=120_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--records-per-partition", type=int, default=100)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"  # as the benchmarks' children; the workers inherit it
    model = str(Path(args.model).resolve())
    with tempfile.TemporaryDirectory(prefix="ab-worker-") as tmp:
        tmp = Path(tmp)
        build_jsonl(tmp / "in.jsonl", args.words)
        opts = RunOptions(model, ReadOptions(records_per_partition=args.records_per_partition))
        parts, _ = plan_partitions([str(tmp / "in.jsonl")], opts.read)
        resolve_model(model)
        client, cluster = _dask_client(1, None)
        client.run(_load_model, model)
        rows: dict[str, list[float]] = {"main": [], "tasks": [], "onetask": []}
        for k in range(args.rounds):
            rows["main"].append(all_parts(parts, opts, str(tmp / f"m{k}")))
            done = client.gather(client.map(run_partition, parts, options=opts, out_dir=str(tmp / f"t{k}"), pure=False))
            rows["tasks"].append(round(sum(x["cpu_seconds"] for x in done), 2))
            rows["onetask"].append(client.submit(all_parts, parts, opts, str(tmp / f"o{k}"), pure=False).result())
            print(json.dumps({**{m: v[-1] for m, v in rows.items()}, "load": round(os.getloadavg()[0], 1)}), flush=True)
        client.close()
        cluster.close()
    print(json.dumps({"partitions": len(parts), **{m: round(sum(v) / len(v), 2) for m, v in rows.items()}}))


if __name__ == "__main__":
    main()
