"""Profile: where the time of `vnreorg extract --engine dask` goes, phase by phase, against the plain loop.

Run by hand (never in tests), on the same input as bench_extract_dask.py:
    nice .venv/bin/python benchmarks/profile_extract_dask.py --model var/trained/final/model --words 1000000

Phases measured (wall and CPU seconds; the machine may be shared, so CPU seconds are the fair measure):
- the plain loop: the CLI writing JSONL in a child process; its CPU seconds (getrusage of the child) and,
  in another child, the CPU and wall seconds of loading the model alone;
- Dask, driven here exactly as models/archive.py drives it (same LocalCluster, same task function):
  cluster start-up; the model load in each worker (timed inside the worker); for every task its start and
  end, its own CPU seconds (thread time of the task thread) and its write time; Dask's own record of each
  task (get_task_stream: compute vs deserialise); the CPU seconds of every worker, nanny and this process
  (the scheduler runs here) over the task phase (psutil); the gaps between a worker's tasks (hand-off) and
  each worker's idle time at the end (the last partitions on one worker);
- the whole CLI run with --engine dask (wall, and CPU of the process tree).
Prints one JSON object; --append adds a Markdown section to benchmarks/RESULTS-extract-dask.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def child_cpu(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system of the child and every descendant it waited for), stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, cwd=REPO, env=ENV)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout.decode()


LOAD_ONLY = """
import time, json
t0, c0 = time.perf_counter(), time.process_time()
import spacy  # noqa
t1, c1 = time.perf_counter(), time.process_time()
from vnreorg.models.extract import resolve_model
resolve_model({model!r})
print(json.dumps({{"import_wall": t1 - t0, "import_cpu": c1 - c0,
                  "load_wall": time.perf_counter() - t1, "load_cpu": time.process_time() - c1}}))
"""


def _load_in_worker(model: str) -> dict:
    import time as _t

    from vnreorg.models.extract import resolve_model

    t0, c0 = _t.perf_counter(), _t.thread_time()
    resolve_model(model)
    return {"pid": os.getpid(), "wall": _t.perf_counter() - t0, "cpu": _t.thread_time() - c0}


def _proc_cpu(pids: list[int]) -> dict[int, float]:
    import psutil

    out = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
        except psutil.Error:
            out[pid] = float("nan")
    return out


def profile_dask(model: str, big: Path, out: Path, workers: int, records: int, preload: bool) -> dict:
    import psutil
    from dask.distributed import as_completed, get_task_stream

    from vnreorg.corpus.readers import ReadOptions, plan_partitions
    from vnreorg.models.archive import RunOptions, _dask_client, _manifest_for, _prepare_out, run_partition

    options = RunOptions(str(Path(model).resolve()), ReadOptions(records_per_partition=records))
    parts, _ = plan_partitions([str(big)], options.read)
    me = psutil.Process()
    t0 = time.perf_counter()
    cpu_here0 = time.process_time()
    client, cluster = _dask_client(workers, None)
    t_cluster = time.perf_counter() - t0
    worker_pids = sorted(client.run(os.getpid).values())
    others = [c.pid for c in me.children(recursive=True) if c.pid not in worker_pids]  # nannies, resource tracker
    loads = []
    t1 = time.perf_counter()
    if preload:
        loads = list(client.run(_load_in_worker, options.model).values())
    t_preload = time.perf_counter() - t1
    _prepare_out(out, _manifest_for(options, [str(big)], parts), True)
    cpu_w0, cpu_o0, cpu_here1 = _proc_cpu(worker_pids), _proc_cpu(others), time.process_time()
    t2 = time.perf_counter()
    results = []
    with get_task_stream(client) as ts:
        futures = client.map(run_partition, parts, options=options, out_dir=str(out.resolve()), pure=False, retries=2)
        for fut in as_completed(futures):
            res = fut.result()
            res["received"] = time.time()
            results.append(res)
    t_tasks = time.perf_counter() - t2
    cpu_w1, cpu_o1, cpu_here2 = _proc_cpu(worker_pids), _proc_cpu(others), time.process_time()
    t3 = time.perf_counter()
    client.close()
    cluster.close()
    t_close = time.perf_counter() - t3

    stream = ts.data
    actions: dict[str, float] = {}
    for task in stream:
        for ss in task.get("startstops", []):
            actions[ss["action"]] = actions.get(ss["action"], 0.0) + ss["stop"] - ss["start"]
    first = min(r["started"] for r in results)
    last = max(r["finished"] for r in results)
    per_worker = {}
    for pid in worker_pids:
        mine = sorted((r for r in results if r["pid"] == pid), key=lambda r: r["started"])
        gaps = [b["started"] - a["finished"] for a, b in zip(mine, mine[1:], strict=False)]
        per_worker[pid] = {
            "tasks": len(mine),
            "words": sum(r["words"] for r in mine),
            "busy_s": round(sum(r["finished"] - r["started"] for r in mine), 2),
            "task_cpu_s": round(sum(r["cpu_seconds"] for r in mine), 2),
            "write_s": round(sum(r["write_seconds"] for r in mine), 2),
            "first_start_after_s": round(mine[0]["started"] - first, 2) if mine else None,
            "gaps_between_tasks_s": round(sum(gaps), 3),
            "idle_at_end_s": round(last - mine[-1]["finished"], 2) if mine else None,
            "process_cpu_s": round(cpu_w1[pid] - cpu_w0[pid], 2),
            "load": next((x for x in loads if x["pid"] == pid), None),
        }
    return {
        "partitions": len(parts),
        "workers": workers,
        "preload": preload,
        "cluster_start_s": round(t_cluster, 2),
        "preload_wall_s": round(t_preload, 2),
        "tasks_wall_s": round(t_tasks, 2),
        "makespan_s": round(last - first, 2),
        "close_s": round(t_close, 2),
        "client_scheduler_nannies_cpu_s": round(cpu_here2 - cpu_here1, 2),
        "client_cpu_during_start_s": round(cpu_here1 - cpu_here0, 2),
        "nanny_cpu_s": round(sum(cpu_o1[p] - cpu_o0[p] for p in others), 2),
        "task_stream_s": {k: round(v, 3) for k, v in actions.items()},
        "workers_detail": per_worker,
        "sum_task_cpu_s": round(sum(r["cpu_seconds"] for r in results), 2),
        "sum_write_s": round(sum(r["write_seconds"] for r in results), 2),
        "words": sum(r["words"] for r in results),
        "result_latency_s": round(sum(r["received"] - r["finished"] for r in results) / len(results), 4),
    }


def two_plain_loops(cli: list[str], big: Path, model: str, tmp: Path) -> dict:
    """The ceiling of this machine: two independent plain loops at once, each on half the documents
    (no Dask at all). Wall and CPU seconds of the pair."""
    lines = big.read_bytes().splitlines(keepends=True)
    halves = [tmp / "half0.jsonl", tmp / "half1.jsonl"]
    halves[0].write_bytes(b"".join(lines[: len(lines) // 2]))
    halves[1].write_bytes(b"".join(lines[len(lines) // 2 :]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*cli, str(h), "-m", model, "-o", str(h) + ".out", "--no-progress"], cwd=REPO, env=ENV, stderr=subprocess.DEVNULL
        )
        for h in halves
    ]
    if any(p.wait() for p in procs):
        sys.exit("a plain loop failed")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_average": os.getloadavg()}


def main() -> None:
    from bench_extract_dask import build_jsonl

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--words", type=int, default=1_000_000)
    ap.add_argument("--records-per-partition", type=int, nargs="+", default=[500])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-preload", action="store_true", help="Do not load the model in the workers before the tasks.")
    ap.add_argument("--skip-plain", action="store_true")
    ap.add_argument("--cli", action="store_true", help="Also time whole CLI runs with --engine dask.")
    ap.add_argument("--ceiling", action="store_true", help="Also time two plain loops at once, each on half the input.")
    ap.add_argument("--no-profile", action="store_true", help="Only the whole CLI runs (with --cli), not the in-process profile.")
    args = ap.parse_args()
    model = str(Path(args.model).resolve())
    report: dict = {"load_average_start": os.getloadavg()}
    cli = [sys.executable, "-m", "vnreorg.cli", "extract"]
    with tempfile.TemporaryDirectory(prefix="prof-dask-") as tmp:
        tmp = Path(tmp)
        big = tmp / "big.jsonl"
        n_docs, words = build_jsonl(big, args.words)
        report.update(documents=n_docs, words=words)
        _, _, out = child_cpu([sys.executable, "-c", LOAD_ONLY.format(model=model)])
        report["model_load_one_process"] = {k: round(v, 2) for k, v in json.loads(out).items()}
        if not args.skip_plain:
            wall, cpu, _ = child_cpu([*cli, str(big), "-m", model, "-o", str(tmp / "a.jsonl"), "--no-progress"])
            report["plain_loop"] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_average": os.getloadavg()}
            print(json.dumps({"plain_loop": report["plain_loop"]}), flush=True)
        if args.ceiling:
            report["two_plain_loops_on_halves"] = two_plain_loops(cli, big, model, tmp)
            print(json.dumps({"two_plain_loops_on_halves": report["two_plain_loops_on_halves"]}), flush=True)
        for rpp in args.records_per_partition:
            if not args.no_profile:
                report[f"dask_rpp{rpp}"] = profile_dask(model, big, tmp / f"d{rpp}", args.workers, rpp, not args.no_preload)
                report[f"dask_rpp{rpp}"]["load_average"] = os.getloadavg()
                print(json.dumps({f"dask_rpp{rpp}": report[f"dask_rpp{rpp}"]}), flush=True)
            if args.cli:
                cmd = [*cli, str(big), "-m", model, "-o", str(tmp / f"c{rpp}"), "--engine", "dask"]
                cmd += ["--workers", str(args.workers), "--records-per-partition", str(rpp), "--no-progress"]
                wall, cpu, _ = child_cpu(cmd)
                report[f"cli_dask_rpp{rpp}"] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "load_average": os.getloadavg()}
                print(json.dumps({f"cli_dask_rpp{rpp}": report[f"cli_dask_rpp{rpp}"]}), flush=True)
    report["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
