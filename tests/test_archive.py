"""Extraction over an archive (issue 16): readers for .txt/.html/.jsonl/.parquet/.warc.gz, the Parquet
dataset with its manifest, the local and Dask engines giving the same rows, resume after kill -9.
Fixtures (200 documents from the seed paragraphs, HTML pages, a WARC file) are made here."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
REPO = Path(__file__).resolve().parents[1]
N_PER_FORMAT = 40  # x 5 formats = 200 documents


def _seed_paragraphs() -> list[str]:
    paras = []
    for line in (REPO / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines():
        paras += [p for p in json.loads(line)["text"].split("\n") if len(p.split()) >= 12]
    return paras


def _page(title: str, body: list[str]) -> str:
    paras = "".join(f"<p>{p}</p>" for p in body)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta name='author' content='H.Lan'><meta property='article:published_time' content='2018-05-14'></head>"
        f"<body><nav><a href='/'>Trang chủ</a> | <a href='/tin'>Tin tức</a></nav><article><h1>{title}</h1>{paras}</article>"
        f"<footer>Bản quyền thuộc Báo điện tử. Tổng số lượt truy cập: 123456</footer></body></html>"
    )


def build_archive(folder: Path) -> dict[str, int]:
    """200 documents (two seed paragraphs each) spread over the five formats, plus bad inputs."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paras = _seed_paragraphs()
    docs = [[paras[i % len(paras)], paras[(7 * i + 3) % len(paras)]] for i in range(5 * N_PER_FORMAT)]
    folder.mkdir(parents=True)
    (folder / "txt").mkdir()
    for i, d in enumerate(docs[:N_PER_FORMAT]):
        (folder / "txt" / f"a{i:03d}.txt").write_text("\n\n".join(d) + "\n", encoding="utf-8")
    (folder / "txt" / "empty.txt").write_bytes(b"")
    (folder / "html").mkdir()
    for i, d in enumerate(docs[N_PER_FORMAT : 2 * N_PER_FORMAT]):
        (folder / "html" / f"b{i:03d}.html").write_text(_page(f"Bài {i}", d), encoding="utf-8")
    (folder / "html" / "image-only.html").write_text(
        "<html><head><title>Ảnh</title></head><body><div><img src='a.png'></div></body></html>", encoding="utf-8"
    )
    with open(folder / "c.jsonl", "w", encoding="utf-8") as fh:
        for i, d in enumerate(docs[2 * N_PER_FORMAT : 3 * N_PER_FORMAT]):
            fh.write(
                json.dumps({"id": f"c{i:03d}", "body": "\n\n".join(d), "outlet": "Báo Sóc Trăng"}, ensure_ascii=False) + "\n"
            )
        fh.write(json.dumps({"id": "c-no-text", "title": "x"}) + "\n")
    rows = [
        {"id": f"https://example.vn/d/{i}", "body": "\n\n".join(d)}
        for i, d in enumerate(docs[3 * N_PER_FORMAT : 4 * N_PER_FORMAT])
    ]
    pq.write_table(pa.Table.from_pylist(rows), folder / "d.parquet", row_group_size=10)
    with open(folder / "e.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i, d in enumerate(docs[4 * N_PER_FORMAT :]):
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    f"https://baomoi.example/e/{i}",
                    "response",
                    payload=io.BytesIO(_page(f"Tin {i}", d).encode("utf-8")),
                    http_headers=headers,
                )
            )
            if i == 0:  # records extract must pass over: an image response and a request
                img = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
                writer.write_record(
                    writer.create_warc_record(
                        "https://baomoi.example/logo.png", "response", payload=io.BytesIO(b"\x89PNG...."), http_headers=img
                    )
                )
                req = StatusAndHeaders("GET /e/0 HTTP/1.1", [("Host", "baomoi.example")], is_http_request=True)
                writer.write_record(writer.create_warc_record("https://baomoi.example/e/0", "request", http_headers=req))
    return {"documents": len(docs), "bad": 3}


@pytest.fixture(scope="module")
def rules_model(tmp_path_factory):
    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.models.train import train_model

    docs = synthetic_documents(n_docs=3, sentences_per_doc=12, seed=1)
    return str(train_model("rules", docs, tmp_path_factory.mktemp("rules") / "run", seed=0, quiet=True).model_path)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("archive") / "in"
    build_archive(folder)
    return folder


ARGS = ["--format", "parquet", "--text-field", "body", "--id-field", "id", "--records-per-partition", "10", "--no-progress"]


def _cli(*args, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "vnreorg.cli", "extract", *map(str, args)], capture_output=True, cwd=cwd, **kw)


def _dask_cli(source, model, out, *more, cwd, timeout):
    """`vnreorg extract SOURCE -m MODEL -o OUT --engine dask [MORE] [ARGS]`."""
    return _cli(source, "-m", model, "-o", out, "--engine", "dask", *more, *ARGS, cwd=cwd, timeout=timeout)


def _equal_tables(a: dict, b: dict) -> None:
    from vnreorg.models.archive import TABLES

    for t in TABLES:
        assert a[t].to_pylist() == b[t].to_pylist(), t


@pytest.fixture(scope="module")
def local_run(archive, rules_model, tmp_path_factory):
    from vnreorg.corpus.readers import ReadOptions
    from vnreorg.models.archive import extract_dataset, read_dataset

    out = tmp_path_factory.mktemp("local") / "ds"
    totals = extract_dataset(
        rules_model,
        [str(archive)],
        out,
        engine="local",
        progress=False,
        read_options=ReadOptions("body", "id", 10),
        log=lambda m: None,
    )
    return out, totals, read_dataset(out)


# ------------------------------------------------------------------ readers and the dataset


def test_every_format_is_read_with_stable_ids_and_sources(local_run):
    out, totals, tables = local_run
    docs = tables["documents"].to_pylist()
    assert totals["documents"] == 200 and len({d["id"] for d in docs}) == 200
    by_source = {Path(d["source"].split("#")[0]).name.split(".")[-1] for d in docs}
    assert by_source == {"txt", "html", "jsonl", "parquet", "gz"}
    ids = {d["id"] for d in docs}
    assert {f"c{i:03d}" for i in range(N_PER_FORMAT)} <= ids  # a valid id field is kept
    assert all(i.startswith("id-") for i in (d["id"] for d in docs if ".parquet#" in d["source"]))  # a URL id is hashed
    warc = [d for d in docs if ".warc.gz#offset=" in d["source"]]
    assert len(warc) == N_PER_FORMAT and all(d["id"].startswith("warc-") for d in warc)
    meta = json.loads(warc[0]["meta"])
    assert meta["url"].startswith("https://baomoi.example/e/") and meta["title"].startswith("Tin ")
    assert meta["boilerplate"] == "removed by trafilatura"
    ents = tables["entities"].to_pylist()
    assert ents and all(e["text"] and e["end"] > e["start"] for e in ents)
    assert tables["events"].num_rows and tables["relations"].num_rows
    from vnreorg.models.events import read_extraction  # `events build` reads the dataset as it reads JSONL

    recs = [r for r in read_extraction(out) if r.get("events")]
    assert sum(len(r["events"]) for r in recs) == tables["events"].num_rows
    ev = recs[0]["events"][0]
    assert isinstance(ev["action"], dict) and isinstance(ev["sentence"], dict) and isinstance(ev["sources"], list)
    html_text = " ".join(e["text"] for e in ents if "nav" in e["text"])
    assert "Trang chủ" not in html_text


def test_bad_inputs_are_skipped_rows_and_the_run_goes_on(local_run):
    _, totals, tables = local_run
    reasons = {Path(r["source"].split("#")[0]).name: r["reason"] for r in tables["skipped"].to_pylist()}
    assert reasons["empty.txt"] == "empty input"
    assert "no main text" in reasons["image-only.html"] or "without main text" in reasons["image-only.html"]
    assert reasons["c.jsonl"] == "no text field 'body'"
    assert totals["skipped"] == 3


def test_manifest_and_a_rerun_resumes_without_redoing_work(local_run, rules_model, archive):
    from vnreorg.corpus.readers import ReadOptions
    from vnreorg.errors import VnreorgError
    from vnreorg.models.archive import extract_dataset

    out, totals, _ = local_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] and manifest["totals"] == totals and len(manifest["partitions"]) > 80
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    extract_dataset(
        rules_model, [str(archive)], out, progress=False, read_options=ReadOptions("body", "id", 10), log=lambda m: None
    )
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == before
    with pytest.raises(VnreorgError, match="another model, inputs or options"):
        extract_dataset(
            rules_model, [str(archive)], out, progress=False, read_options=ReadOptions("body", "id", 7), log=lambda m: None
        )
    sub = out.parent / "only-txt"  # --overwrite redoes a dataset whatever it held
    extract_dataset(rules_model, [str(archive / "txt")], sub, progress=False, log=lambda m: None)
    again = extract_dataset(rules_model, [str(archive / "html")], sub, progress=False, overwrite=True, log=lambda m: None)
    assert again["documents"] == N_PER_FORMAT and json.loads((sub / "manifest.json").read_text())["inputs"] == [
        str(archive / "html")
    ]


# ------------------------------------------------------------------ engines


def test_local_and_dask_give_identical_rows(local_run, archive, rules_model, tmp_path):
    """The same 200 documents through the local loop and a Dask LocalCluster of 2 worker processes."""
    from vnreorg.corpus.readers import ReadOptions
    from vnreorg.models.archive import extract_dataset, read_dataset

    logs: list[str] = []
    totals = extract_dataset(
        rules_model,
        [str(archive)],
        tmp_path / "ds",
        engine="dask",
        workers=2,
        progress=False,
        read_options=ReadOptions("body", "id", 10),
        log=logs.append,
    )
    assert any("LocalCluster on 127.0.0.1, 2 workers" in m for m in logs), logs
    pids = {json.loads(p.read_text())["pid"] for p in (tmp_path / "ds" / "_done").glob("*.json")} - {os.getpid()}
    assert len(pids) >= 1  # the work ran in worker processes
    assert {k: v for k, v in totals.items()} == local_run[1]
    _equal_tables(read_dataset(tmp_path / "ds"), local_run[2])


def test_kill_9_in_the_middle_then_rerun_equals_an_uninterrupted_run(local_run, archive, rules_model, tmp_path):
    from vnreorg.models.archive import read_dataset

    out = tmp_path / "ds"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vnreorg.cli", "extract", str(archive), "-m", rules_model, "-o", str(out), *ARGS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    n_parts = len(json.loads((local_run[0] / "manifest.json").read_text())["partitions"])
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        done = len(list((out / "_done").glob("*.json"))) if (out / "_done").exists() else 0
        if done >= 5:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = len(list((out / "_done").glob("*.json")))
    assert 0 < killed_at < n_parts + 1
    rerun = _cli(archive, "-m", rules_model, "-o", out, *ARGS, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()[-800:]
    assert "resuming:" in rerun.stderr.decode()
    assert not list(out.rglob("*.tmp"))
    _equal_tables(read_dataset(out), local_run[2])


def test_wrong_options_are_one_clear_line_before_any_work(archive, rules_model, tmp_path):
    proc = _dask_cli(archive, rules_model, tmp_path / "ds", "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path, timeout=120)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1 and "cannot reach the Dask scheduler" in err[0], err
    assert not (tmp_path / "ds").exists()
    proc = _cli(archive, "-m", rules_model, "--engine", "dask", *ARGS, cwd=tmp_path, timeout=60)
    assert proc.returncode != 0 and "Parquet dataset" in proc.stderr.decode()


def test_jsonl_output_reads_the_same_archive(archive, rules_model, tmp_path):
    """JSONL stays for small runs: the same readers, the same documents."""
    from vnreorg.corpus.readers import ReadOptions
    from vnreorg.models.extract import extract

    counts = extract(
        rules_model, [str(archive)], str(tmp_path / "out.jsonl"), progress=False, read_options=ReadOptions("body", "id", 10)
    )
    assert counts["texts"] == 200 and counts["skipped"] == 3


def test_corpus_build_reads_html_through_the_same_readers(tmp_path):
    """New HTML articles become corpus documents; the library decides the boilerplate and the
    removed-lines report names the page and says so."""
    from vnreorg.corpus.ingest import build_corpus
    from vnreorg.corpus.ingest_archive import HTML_REPORT

    paras = _seed_paragraphs()
    (tmp_path / "a.html").write_text(_page("Sáp nhập hai phòng", paras[:2]), encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "b1", "text": paras[2] + "\n" + paras[3]}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (tmp_path / "c.html").write_text("<html><body><img src='x.png'></body></html>", encoding="utf-8")
    report = build_corpus(tmp_path)
    by_id = {d.id: d for d in report.documents}
    assert set(by_id) == {"b1", next(i for i in by_id if i.startswith("html-"))}
    html = next(d for d in report.documents if d.id.startswith("html-"))
    squash = lambda t: " ".join(t.split())  # noqa: E731  (trafilatura turns no-break spaces into spaces)
    assert [squash(p) for p in html.text.split("\n\n")] == ["Sáp nhập hai phòng", squash(paras[0]), squash(paras[1])]
    assert "Trang chủ" not in html.text and "lượt truy cập" not in html.text
    assert [(r.text, r.reason) for r in report.removed[html.id]] == [(str(tmp_path / "a.html"), HTML_REPORT)]
    assert html.meta["title"] == "Sáp nhập hai phòng" and html.meta["date"] == "2018-05-14"
    assert by_id["b1"].paragraphs == [(0, len(paras[2])), (len(paras[2]) + 2, len(paras[2]) + 2 + len(paras[3]))]
    assert any("c.html" in w and "without main text" in w for w in report.warnings)


# ------------------------------------------------------------------ WARC partitions, object storage paths


def _write_warc(path: Path, n_pages: int, gzip: bool = True, corrupt_after: int | None = None) -> None:
    """A WARC of `n_pages` HTML responses, each after a request, with an image response every third
    page (records the partitions must pass over); with `corrupt_after`, bytes that are no WARC record
    follow that page."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paras = _seed_paragraphs()
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip)
        for i in range(n_pages):
            req = StatusAndHeaders(f"GET /w/{i} HTTP/1.1", [("Host", "tin.example")], is_http_request=True)
            writer.write_record(writer.create_warc_record(f"https://tin.example/w/{i}", "request", http_headers=req))
            html = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            page = _page(f"Tin {i}", [paras[i % len(paras)], paras[(5 * i + 1) % len(paras)]]).encode("utf-8")
            writer.write_record(
                writer.create_warc_record(f"https://tin.example/w/{i}", "response", payload=io.BytesIO(page), http_headers=html)
            )
            if i % 3 == 0:
                img = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
                writer.write_record(
                    writer.create_warc_record(
                        f"https://tin.example/{i}.png", "response", payload=io.BytesIO(b"\x89PNG"), http_headers=img
                    )
                )
            if i == corrupt_after:
                fh.write(b"this is no WARC record at all\r\n\r\n")


def _items(paths: list[str], per_partition: int) -> tuple[list, list]:
    from vnreorg.corpus.readers import ReadOptions, plan_partitions, read_partition

    options = ReadOptions(records_per_partition=per_partition)
    parts, _ = plan_partitions(paths, options)
    items = [
        (i.id, i.source, i.skipped, "".join(i.chunks()) if i.chunks else None) for p in parts for i in read_partition(p, options)
    ]
    return parts, items


@pytest.mark.parametrize("gzip", [True, False])
def test_a_large_warc_is_cut_into_partitions_of_records_with_the_same_documents(tmp_path, gzip):
    path = tmp_path / ("big.warc.gz" if gzip else "big.warc")
    _write_warc(path, 23, gzip=gzip)
    parts, items = _items([str(path)], 5)
    one, whole = _items([str(path)], 1000)
    assert len(one) == 1 and len(parts) == 5  # 23 responses: 5 + 5 + 5 + 5 + 3
    assert [(p.start, p.stop) for p in parts] == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 23)]
    assert parts[0].byte_start == 0 and parts[-1].byte_stop is None
    assert all(a.byte_stop == b.byte_start for a, b in zip(parts, parts[1:], strict=False))
    assert len({p.key for p in parts}) == 5
    assert items == whole and len(items) == 23 and all(s is None for _, _, s, _ in items)
    assert len({i for i, *_ in items}) == 23 and all(i.startswith("warc-") for i, *_ in items)


def test_a_corrupt_warc_tail_is_reported_once_by_the_last_partition(tmp_path):
    path = tmp_path / "cut.warc"  # (warcio passes over junk between gzip members; in a plain WARC it is an error)
    _write_warc(path, 12, gzip=False, corrupt_after=8)
    parts, items = _items([str(path)], 4)
    _, whole = _items([str(path)], 1000)
    assert len(parts) == 3 and items == whole  # 4 + 4 + (1 and the fault): planning stopped at the fault
    skipped = [(i, s) for i, _, s, _ in items if s]
    assert len(skipped) == 1 and "corrupt WARC record" in skipped[0][1]
    assert len(items) == 10 and len({i for i, *_ in items}) == 10  # the fault's id is not the last page's


def test_warc_partitions_give_the_rows_of_one_partition_on_both_engines(rules_model, tmp_path):
    """A WARC with more responses than a partition: several partitions, the same rows as one, and
    the local and Dask engines agree; a rerun resumes."""
    from vnreorg.corpus.readers import ReadOptions
    from vnreorg.models.archive import extract_dataset, read_dataset

    path = tmp_path / "crawl.warc.gz"
    _write_warc(path, 18)

    dask_log: list[str] = []

    def run(out: Path, n: int, engine: str = "local") -> dict:
        extract_dataset(
            rules_model,
            [str(path)],
            out,
            engine=engine,
            workers=2,
            progress=False,
            read_options=ReadOptions(records_per_partition=n),
            log=dask_log.append,
        )
        return read_dataset(out)

    def without_partition(tables: dict) -> dict:
        return {
            t: sorted(tuple(sorted((k, str(v)) for k, v in r.items() if k != "partition")) for r in tables[t].to_pylist())
            for t in tables
        }

    one, cut = run(tmp_path / "one", 1000), run(tmp_path / "cut", 4)
    keys = json.loads((tmp_path / "cut" / "manifest.json").read_text())["partitions"]
    assert len(keys) == 5 and len(set(keys)) == 5
    assert one["documents"].num_rows == 18 and one["entities"].num_rows > 0
    assert without_partition(cut) == without_partition(one)
    _equal_tables(run(tmp_path / "dask", 4, engine="dask"), cut)
    assert any("note: 5 partitions for 2 workers" in m for m in dask_log), dask_log  # too few to keep 2 busy
    logs: list[str] = []
    (tmp_path / "cut" / "_done" / f"{keys[2]}.json").unlink()  # as if killed before its marker
    extract_dataset(
        rules_model,
        [str(path)],
        tmp_path / "cut",
        progress=False,
        read_options=ReadOptions(records_per_partition=4),
        log=logs.append,
    )
    assert any("4 of 5 partitions already finished" in m for m in logs), logs
    _equal_tables(read_dataset(tmp_path / "cut"), cut)


def test_inputs_in_object_storage_are_read_through_fsspec(local_run, archive, rules_model, tmp_path):
    """memory:// (fsspec's in-process store) stands for s3:// or gs://: a folder and a glob of URLs
    give the documents, ids and partitions of the same files on disk."""
    import fsspec

    from vnreorg.corpus.readers import ReadOptions
    from vnreorg.models.archive import extract_dataset, read_dataset

    mem = fsspec.filesystem("memory")
    for f in archive.rglob("*"):
        if f.is_file():
            mem.pipe(f"/bucket/in/{f.relative_to(archive).as_posix()}", f.read_bytes())
    totals = extract_dataset(
        rules_model,
        ["memory://bucket/in"],
        tmp_path / "ds",
        progress=False,
        read_options=ReadOptions("body", "id", 10),
        log=lambda m: None,
    )
    assert totals == local_run[1]
    got, want = read_dataset(tmp_path / "ds"), local_run[2]
    assert got["entities"].to_pylist() == want["entities"].to_pylist()  # same partitions, ids and offsets
    docs = got["documents"].to_pylist()
    assert all(d["source"].startswith("memory:///bucket/in/") for d in docs)
    strip = lambda s: s.split("/in/", 1)[1]  # noqa: E731
    assert sorted((d["id"], strip(d["source"])) for d in docs) == sorted(
        (d["id"], strip(d["source"])) for d in want["documents"].to_pylist()
    )
    assert {strip(r["source"]) for r in got["skipped"].to_pylist()} == {strip(r["source"]) for r in want["skipped"].to_pylist()}

    from vnreorg.corpus.readers import iter_inputs

    globbed = [
        i
        for i in iter_inputs(
            ["memory://bucket/in/*.warc.gz", "memory://bucket/in/c.jsonl"], options=ReadOptions("body", "id", 10)
        )
    ]
    assert len(globbed) == N_PER_FORMAT + N_PER_FORMAT + 1
    assert {i.id for i in globbed} == {
        d["id"] for d in want["documents"].to_pylist() if ".warc.gz#" in d["source"] or ".jsonl#" in d["source"]
    } | {"c-no-text"}


def test_file_urls_on_the_dask_engine_and_as_output(archive, rules_model, tmp_path):
    from vnreorg.corpus.readers import ReadOptions
    from vnreorg.models.archive import extract_dataset, read_dataset

    inputs = [f"file://{archive}/c.jsonl", f"file://{archive}/*.warc.gz"]
    opts = ReadOptions("body", "id", 10)
    extract_dataset(rules_model, inputs, f"file://{tmp_path}/local", progress=False, read_options=opts, log=lambda m: None)
    extract_dataset(
        rules_model, inputs, tmp_path / "dask", engine="dask", workers=2, progress=False, read_options=opts, log=lambda m: None
    )
    local, dask = read_dataset(tmp_path / "local"), read_dataset(tmp_path / "dask")
    assert local["documents"].num_rows == 2 * N_PER_FORMAT and all(
        s.startswith("file:///") for s in local["documents"].column("source").to_pylist()
    )
    _equal_tables(dask, local)


@pytest.mark.parametrize(("url", "package"), [("s3://bucket/crawl/*.warc.gz", "s3fs"), ("gs://bucket/dump.jsonl", "gcsfs")])
def test_a_missing_storage_driver_is_one_line_naming_the_package_before_any_work(rules_model, tmp_path, url, package):
    import importlib.util

    if importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed")
    proc = _cli(url, "-m", tmp_path / "no-model", "-o", tmp_path / "ds", "--format", "parquet", cwd=tmp_path, timeout=60)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1 and f"pip install {package}" in err[0] and url in err[0], err
    assert not (tmp_path / "ds").exists()  # before any work: not even the model (a missing one) was looked at
    proc = _cli("http://tin.example/a.html", "-m", rules_model, cwd=tmp_path, timeout=60)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1 and "http:// inputs are not read" in err[0], err


def test_an_object_storage_output_is_refused_with_one_line(archive, rules_model, tmp_path):
    proc = _cli(
        archive / "c.jsonl", "-m", rules_model, "-o", "memory://bucket/out", "--format", "parquet", cwd=tmp_path, timeout=60
    )
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1 and "no atomic rename" in err[0], err


def test_dask_checks_the_model_without_loading_it_and_a_bad_one_is_one_line(archive, tmp_path):
    """With --engine dask the client does not load the model (the workers do); a missing model is
    still one error line before the cluster starts or anything is written."""
    proc = _dask_cli(archive / "c.jsonl", tmp_path / "no-model", tmp_path / "ds", cwd=tmp_path, timeout=60)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1 and "no such model folder or installed model package" in err[0], err
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "meta.json").write_text("{}")
    proc = _dask_cli(archive / "c.jsonl", tmp_path / "half", tmp_path / "ds", cwd=tmp_path, timeout=60)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1 and "not a spaCy pipeline folder" in err[0], err
    (tmp_path / "half" / "config.cfg").write_text('[nlp]\nlang = "vi"\npipeline = ["no_such_factory"]\n')
    proc = _dask_cli(archive / "c.jsonl", tmp_path / "half", tmp_path / "ds", cwd=tmp_path, timeout=120)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode != 0 and len(err) == 1 and "a Dask worker cannot load the model" in err[0], err
    assert not (tmp_path / "ds").exists()


def test_a_cluster_started_with_the_dask_cli_gives_the_local_rows(local_run, archive, rules_model, tmp_path):
    """docs/SCALING.md's cluster recipe on one machine: `dask scheduler` and `dask worker` as separate
    processes, then `vnreorg extract --engine dask --scheduler tcp://...` from the command line."""
    import socket

    from vnreorg.models.archive import read_dataset

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dask = Path(sys.executable).parent / "dask"
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], stderr=subprocess.DEVNULL
        )
    ]
    try:
        procs.append(
            subprocess.Popen(
                [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], stderr=subprocess.DEVNULL
            )
        )
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            worker_pids = set(client.run(os.getpid).values())
        proc = _dask_cli(archive, rules_model, tmp_path / "ds", "--scheduler", address, cwd=tmp_path, timeout=600)
        assert proc.returncode == 0, proc.stderr.decode()[-800:]
        assert f"joined {address}, 2 workers" in proc.stderr.decode()
        pids = {json.loads(p.read_text())["pid"] for p in (tmp_path / "ds" / "_done").glob("*.json")}
        assert pids and pids <= worker_pids  # the work ran in the cluster's worker processes
        _equal_tables(read_dataset(tmp_path / "ds"), local_run[2])
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
