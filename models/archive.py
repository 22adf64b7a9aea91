"""Extraction over an archive into a Parquet dataset, on this machine or on a Dask cluster.

The inputs are cut into partitions (one file, or a fixed number of records of a large JSONL or
Parquet file; corpus/readers.py). One partition is one task and one set of output files: for each
table (documents, entities, relations, events, skipped) `<out>/<table>/<partition>.parquet`, each
written to a temporary name and renamed, then `<out>/_done/<partition>.json` written last. A
partition counts as finished only when its `_done` file exists, so after a kill -9 a rerun of the
same command redoes exactly the unfinished partitions (their files are replaced, never appended):
nothing is duplicated or lost. `manifest.json` names the model, inputs and options of the run; a
rerun with different ones is refused unless `--overwrite`.

The same task function runs on both engines: `local` calls it in this process, `dask` sends it to
workers (a LocalCluster with one single-threaded worker process per core, or `--scheduler`), and the
model is loaded once per worker process (a module-level cache). We do not schedule anything
ourselves: retries of tasks whose worker died are Dask's. A partition runs through extract's
`iter_records` with one process, so in memory zones (models/extract.py): a long-lived worker's
StringStore does not grow with the partitions it has done.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vnreorg.corpus.parts import PART_CHARS
from vnreorg.corpus.readers import InputText, Partition, ReadOptions, plan_partitions, read_partition
from vnreorg.errors import VnreorgError

FORMAT = "vnreorg-extract-dataset"
FORMAT_VERSION = 1
TABLES = ("documents", "entities", "relations", "events", "skipped")
DONE = "_done"
UNREADABLE = "p-unreadable-inputs"  # the pseudo-partition holding inputs that could not be opened at all


def _schemas():
    import pyarrow as pa

    doc_key = [("partition", pa.string()), ("doc_id", pa.string()), ("part_index", pa.int32())]
    argument = pa.struct(
        [("text", pa.string()), ("label", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("score", pa.float64())]
    )
    return {
        "documents": pa.schema(
            [
                ("partition", pa.string()),
                ("id", pa.string()),
                ("source", pa.string()),
                ("part_index", pa.int32()),
                ("part_start", pa.int64()),
                ("part_end", pa.int64()),
                ("characters", pa.int64()),
                ("entities", pa.int32()),
                ("relations", pa.int32()),
                ("events", pa.int32()),
                ("warnings", pa.list_(pa.string())),
                ("meta", pa.string()),
            ]
        ),
        "entities": pa.schema(
            doc_key
            + [
                ("span_id", pa.string()),
                ("start", pa.int64()),
                ("end", pa.int64()),
                ("label", pa.string()),
                ("text", pa.string()),
                ("score", pa.float64()),
            ]
        ),
        "relations": pa.schema(
            doc_key + [("head", pa.string()), ("child", pa.string()), ("label", pa.string()), ("score", pa.float64())]
        ),
        # The same shape as an event of extract's JSONL (nested), so `events build` reads either.
        "events": pa.schema(
            doc_key
            + [
                ("source", pa.string()),
                ("event", pa.int32()),
                ("action", argument),
                ("sentence", pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string())])),
                ("sources", pa.list_(argument)),
                ("targets", pa.list_(argument)),
                ("amounts", pa.list_(argument)),
            ]
        ),
        "skipped": pa.schema([("partition", pa.string()), ("source", pa.string()), ("id", pa.string()), ("reason", pa.string())]),
    }


@dataclass(frozen=True)
class RunOptions:
    model: str
    read: ReadOptions = field(default_factory=ReadOptions)
    part_chars: int = PART_CHARS
    batch_size: int = 64


def rows_of(records: list[dict[str, Any]], partition: str) -> dict[str, list[dict[str, Any]]]:
    """Extract's JSONL records as rows of the five tables."""
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for rec in records:
        if "skipped" in rec:
            rows["skipped"].append(
                {"partition": partition, "source": rec["source"], "id": rec.get("id"), "reason": rec["skipped"]}
            )
            continue
        part = rec.get("part")
        key = {"partition": partition, "doc_id": rec["id"], "part_index": part["index"] if part else None}
        rows["documents"].append(
            {
                "partition": partition,
                "id": rec["id"],
                "source": rec["source"],
                "part_index": key["part_index"],
                "part_start": part["start"] if part else 0,
                "part_end": part["end"] if part else rec["characters"],
                "characters": rec["characters"],
                "entities": len(rec["entities"]),
                "relations": len(rec["relations"]),
                "events": len(rec["events"]),
                "warnings": rec["warnings"],
                "meta": json.dumps(rec.get("meta") or {}, ensure_ascii=False, sort_keys=True),
            }
        )
        for e in rec["entities"]:
            rows["entities"].append(
                {
                    **key,
                    "span_id": e["id"],
                    "start": e["start"],
                    "end": e["end"],
                    "label": e["label"],
                    "text": e["text"],
                    "score": e.get("score"),
                }
            )
        for r in rec["relations"]:
            rows["relations"].append(
                {**key, "head": r["head"], "child": r["child"], "label": r["label"], "score": r.get("score")}
            )
        for k, ev in enumerate(rec["events"]):
            rows["events"].append(
                {
                    **key,
                    "source": rec["source"],
                    "event": k,
                    "action": ev["action"],
                    "sentence": ev["sentence"],
                    **{slot: ev.get(slot, []) for slot in ("sources", "targets", "amounts")},
                }
            )
    return rows


def _write_atomic_table(rows: list[dict], schema, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_json_atomic(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_partition(out_dir: str | Path, key: str, rows: dict[str, list[dict]], counts: dict[str, int]) -> None:
    """Every table file of the partition (each atomically), then its `_done` marker, last."""
    out = Path(out_dir)
    schemas = _schemas()
    for table in TABLES:
        _write_atomic_table(rows[table], schemas[table], out / table / f"{key}.parquet")
    _write_json_atomic({"partition": key, **counts}, out / DONE / f"{key}.json")


def run_partition(part: Partition, options: RunOptions, out_dir: str) -> dict[str, int]:
    """The task: read one partition, extract, write its tables. Idempotent: a finished partition is
    not redone (a task Dask retries after its worker died finds its own marker or redoes it whole)."""
    from vnreorg.models.extract import _Plan, iter_records, resolve_model

    marker = Path(out_dir) / DONE / f"{part.key}.json"
    if marker.exists():
        return json.loads(marker.read_text(encoding="utf-8"))
    started, cpu0 = time.time(), time.thread_time()
    nlp = resolve_model(options.model)  # cached: loaded once per worker process
    plan = _Plan()
    t0 = time.perf_counter()
    records = [
        rec
        for rec, _ in iter_records(
            nlp, read_partition(part, options.read), batch_size=options.batch_size, part_chars=options.part_chars, plan=plan
        )
    ]
    rows = rows_of(records, part.key)
    t_write = time.perf_counter()
    counts = {
        "documents": len({r["id"] for r in rows["documents"]}),
        "skipped": len(rows["skipped"]),
        "entities": len(rows["entities"]),
        "relations": len(rows["relations"]),
        "events": len(rows["events"]),
        "words": plan.words,
        "seconds": round(time.perf_counter() - t0, 3),
        "pid": os.getpid(),
    }
    write_partition(out_dir, part.key, rows, counts)
    # Returned, not in the marker: where the time went (benchmarks/profile_extract_dask.py), i.e. the
    # write, this thread's CPU seconds (the task's own, not the worker's event loop), when it ran.
    counts.update(
        write_seconds=round(time.perf_counter() - t_write, 3),
        cpu_seconds=round(time.thread_time() - cpu0, 3),
        started=round(started, 3),
        finished=round(time.time(), 3),
    )
    return counts


def _unreadable_partition(bad: list[InputText], out_dir: Path) -> None:
    if not bad or (out_dir / DONE / f"{UNREADABLE}.json").exists():
        return
    records = [{"source": b.source, "id": b.id, "skipped": b.skipped, "warnings": []} for b in bad]
    rows = rows_of(records, UNREADABLE)
    write_partition(
        out_dir,
        UNREADABLE,
        rows,
        {
            "documents": 0,
            "skipped": len(bad),
            "entities": 0,
            "relations": 0,
            "events": 0,
            "words": 0,
            "seconds": 0.0,
            "pid": os.getpid(),
        },
    )


def _manifest_for(options: RunOptions, paths: list[str], parts: list[Partition]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": options.model,
        "inputs": list(paths),
        "options": {"read": asdict(options.read), "part_chars": options.part_chars},
        "partitions": [p.key for p in parts],
        "tables": list(TABLES),
    }


def _prepare_out(out: Path, manifest: dict[str, Any], overwrite: bool) -> None:
    """Create the dataset folder, or check that an existing one belongs to this same run."""
    mpath = out / "manifest.json"
    if out.exists() and not out.is_dir():
        raise VnreorgError("--out exists and is not a folder (a Parquet dataset is a folder)", str(out))
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
        if overwrite:
            for sub in (*TABLES, DONE):
                shutil.rmtree(out / sub, ignore_errors=True)
            mpath.unlink()
        else:
            same = {k: old.get(k) for k in ("format", "model", "inputs", "options", "partitions")} == {
                k: manifest[k] for k in ("format", "model", "inputs", "options", "partitions")
            }
            if not same:
                raise VnreorgError(
                    "the dataset folder holds a run with another model, inputs or options; "
                    "rerun the same command to resume, or pass --overwrite",
                    str(out),
                )
    elif out.exists() and any(out.iterdir()):
        raise VnreorgError(
            "--out is a non-empty folder that is not an extract dataset (no manifest.json); give a new folder", str(out)
        )
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.rglob(".*.tmp"):  # temp files of a killed run
        stale.unlink(missing_ok=True)
    if not mpath.exists():
        _write_json_atomic({**manifest, "complete": False}, mpath)


def _check_model_here(model: str) -> None:
    """A model folder has a pipeline's files, or a package name is installed (neither is loaded)."""
    import importlib.util

    path = Path(model)
    if path.exists():
        if (path / "model" / "meta.json").exists():
            path = path / "model"
        if not ((path / "meta.json").exists() and (path / "config.cfg").exists()):
            raise VnreorgError("not a spaCy pipeline folder (no meta.json/config.cfg)", str(path))
        return
    name = model.replace("-", "_")
    if not name.isidentifier() or importlib.util.find_spec(name) is None:
        raise VnreorgError("no such model folder or installed model package", model)


def _load_model(model: str) -> None:
    """Run on each Dask worker before the tasks: loads and keeps the model (once per worker process)."""
    from vnreorg.models.extract import resolve_model

    resolve_model(model)


def _dask_client(workers: int, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise VnreorgError("--engine dask needs Dask: pip install 'vnreorg[dask]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise VnreorgError(f"cannot reach the Dask scheduler: {exc}", scheduler) from None
    try:
        import bokeh  # noqa: F401

        dashboard = "127.0.0.1:0"
    except ImportError:
        dashboard = None  # no bokeh: no dashboard (Dask would only warn)
    import dask

    # The workers' statistical profiler (it samples the running task's stack 100 times a second for the
    # dashboard's profile page) cost each worker ~2% of a core beside the task, and the tasks ~7% more
    # CPU (benchmarks/RESULTS-extract-dask.md): off. Workers of a real cluster keep their own settings.
    # Workers log only CRITICAL to the terminal: a failed task or model load reaches this process as an
    # exception (one error line); their ERROR tracebacks (and heartbeat noise while the cluster closes
    # after such an error) would bury it.
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=dashboard,
            silence_logs=50,
        )
    return Client(cluster), cluster


def extract_dataset(
    model: str,
    paths: list[str],
    out: str | Path,
    *,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    read_options: ReadOptions | None = None,
    part_chars: int = PART_CHARS,
    progress: bool = True,
    log=None,
) -> dict[str, Any]:
    """Run extract over every partition not yet finished; returns totals over the whole dataset."""
    if engine not in ("local", "dask"):
        raise VnreorgError(f"unknown engine {engine!r} (local or dask)")
    if not paths:
        raise VnreorgError("no inputs given")
    if "-" in paths:
        raise VnreorgError("standard input goes to JSONL (--out FILE.jsonl or stdout), not to a Parquet dataset")
    log = log or (lambda msg: print(msg, file=sys.stderr))
    from vnreorg.models.extract import check_inputs

    check_inputs(paths)
    from vnreorg.corpus.storage import local_output

    out = Path(local_output(str(out)))
    model = str(Path(model).resolve()) if Path(model).exists() else str(model)  # workers may run elsewhere
    options = RunOptions(model, read_options or ReadOptions(), part_chars)
    parts, bad = plan_partitions(list(paths), options.read)
    if not parts and not bad:
        raise VnreorgError("no input files found", " ".join(paths))
    # Wrong options are one clear error before any work. The local engine loads the model here; with
    # Dask only the workers load it (once each, before the first task), and this process checks that
    # it is there without loading it: on a cluster the model need only be installed on the workers.
    from vnreorg.models.extract import resolve_model

    client = cluster = None
    if engine == "dask":
        if scheduler is None:
            _check_model_here(options.model)
        client, cluster = _dask_client(workers or os.cpu_count() or 1, scheduler)
        try:  # as a task on each worker (client.run would block the worker's event loop meanwhile)
            names = list(client.scheduler_info()["workers"])
            client.gather([client.submit(_load_model, options.model, workers=[w], pure=False) for w in names])
        except Exception as exc:  # the worker's error, whatever its type
            client.close()
            if cluster is not None:
                cluster.close()
            raise VnreorgError(f"a Dask worker cannot load the model: {str(exc).splitlines()[0][:300]}", options.model) from None
    else:
        resolve_model(options.model)
    try:
        return _run(options, list(paths), out, parts, bad, overwrite, client, cluster, scheduler, progress, log)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _run(options, paths, out, parts, bad, overwrite, client, cluster, scheduler, progress, log) -> dict[str, Any]:
    from tqdm import tqdm

    _prepare_out(out, _manifest_for(options, paths, parts), overwrite)
    _unreadable_partition(bad, out)
    todo = [p for p in parts if not (out / DONE / f"{p.key}.json").exists()]
    if len(todo) < len(parts):
        log(f"resuming: {len(parts) - len(todo)} of {len(parts)} partitions already finished in {out}")
    bar = tqdm(total=len(todo), unit="partition", disable=not progress, file=sys.stderr)
    done_docs, t0 = 0, time.perf_counter()

    def tick(counts: dict[str, int]) -> None:
        nonlocal done_docs
        done_docs += counts["documents"]
        bar.update(1)
        bar.set_postfix(docs_s=f"{done_docs / max(time.perf_counter() - t0, 1e-9):,.1f}", refresh=False)

    if client is None:
        for part in todo:
            tick(run_partition(part, options, str(out)))
    elif todo:
        from dask.distributed import as_completed

        n = len(client.scheduler_info()["workers"])
        if cluster is None:
            log(f"dask: joined {scheduler}, {n} workers; dashboard: {client.dashboard_link}")
        else:
            board = client.dashboard_link if _has_bokeh() else "off (bokeh is not installed)"
            log(f"dask: LocalCluster on 127.0.0.1, {n} workers; dashboard: {board}")
        if len(todo) < 4 * n:
            log(
                f"note: {len(todo)} partitions for {n} workers: workers wait while the last partitions finish; "
                "a smaller --records-per-partition makes more (a partition is one task)"
            )
        futures = client.map(run_partition, todo, options=options, out_dir=str(out.resolve()), pure=False, retries=2)
        for fut in as_completed(futures):
            tick(fut.result())
    bar.close()
    totals = summarise(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    finished = {p.stem for p in (out / DONE).glob("*.json")}
    manifest.update(complete=all(p.key in finished for p in parts), totals=totals)
    _write_json_atomic(manifest, out / "manifest.json")
    return totals


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def summarise(out: str | Path) -> dict[str, int]:
    totals = {"partitions": 0, "documents": 0, "skipped": 0, "entities": 0, "relations": 0, "events": 0, "words": 0}
    for marker in sorted((Path(out) / DONE).glob("*.json")):
        counts = json.loads(marker.read_text(encoding="utf-8"))
        totals["partitions"] += 1
        for k in totals:
            if k != "partitions":
                totals[k] += counts.get(k, 0)
    return totals


def read_dataset(out: str | Path) -> dict[str, Any]:
    """The tables of the finished partitions (those with a `_done` marker), each sorted by all its
    columns: what a reader of the dataset should see, whatever the engine or the order of work."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out)
    finished = sorted(p.stem for p in (out / DONE).glob("*.json"))
    schemas = _schemas()
    tables = {}
    for table in TABLES:
        pieces = [pq.read_table(out / table / f"{key}.parquet") for key in finished]
        t = pa.concat_tables(pieces) if pieces else schemas[table].empty_table()
        sort_keys = [
            (name, "ascending") for name in t.column_names if not pa.types.is_nested(t.schema.field(name).type)
        ]  # the keys before them make rows unique
        tables[table] = t.sort_by(sort_keys) if t.num_rows else t
    return tables
