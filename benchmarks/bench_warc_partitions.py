"""Benchmark: what cutting a .warc.gz into partitions of records costs (run by hand, never in tests).

    nice .venv/bin/python benchmarks/bench_warc_partitions.py --pages 3000 --per-partition 500

A WARC of --pages HTML responses (each after a request record, an image response every third page;
one gzip member per record, as crawlers write them) is generated from the seed paragraphs. Measured,
CPU seconds of this process (wall in brackets):
- plan: the one pass `plan_partitions` makes to find every partition's first record offset;
- seek: each partition opening the file at its offset and reading its own records (no page parsing);
- skip (the alternative not taken): each partition iterating from the file's start and passing over
  the records before its own;
- extract: the readers' full work on every record (trafilatura on each page), for scale.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def build(path: Path, pages: int) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paras = []
    for line in (REPO / "corpus/documents.jsonl").read_text(encoding="utf-8").splitlines():
        paras += [p for p in json.loads(line)["text"].split("\n") if len(p.split()) >= 12]
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i in range(pages):
            uri = f"https://tin.example/w/{i}"
            req = StatusAndHeaders(f"GET /w/{i} HTTP/1.1", [("Host", "tin.example")], is_http_request=True)
            writer.write_record(writer.create_warc_record(uri, "request", http_headers=req))
            body = "".join(f"<p>{paras[(i * k + 3) % len(paras)]}</p>" for k in range(1, 6))
            page = f"<html><head><title>Tin {i}</title></head><body><nav>Trang chủ</nav><article>{body}</article></body></html>"
            html = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(page.encode()), http_headers=html))
            if i % 3 == 0:
                img = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
                png = io.BytesIO(b"\x89PNG" + bytes(2000))
                writer.write_record(writer.create_warc_record(f"{uri}.png", "response", payload=png, http_headers=img))


def main() -> None:
    from warcio.archiveiterator import ArchiveIterator

    from vnreorg.corpus.readers import ReadOptions, _is_html_response, plan_partitions, read_partition, warc_records

    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--per-partition", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as tmp:
        path = Path(tmp) / "crawl.warc.gz"
        build(path, args.pages)
        opts = ReadOptions(records_per_partition=args.per_partition)
        (parts, _), plan_cpu, plan_wall = timed(lambda: plan_partitions([str(path)], opts))

        def seek_all() -> int:  # each partition's own records, pages not parsed
            n = 0
            for p in parts:
                with open(p.path, "rb") as fh:
                    fh.seek(p.byte_start)
                    records = ArchiveIterator(fh)
                    for record in records:
                        if _is_html_response(record):
                            record.content_stream().read()
                            if p.byte_stop is not None and records.get_record_offset() >= p.byte_stop:
                                break
                            n += 1
            return n

        def skip_all() -> int:  # the alternative: every partition reads from the start and passes over
            n = 0
            for p in parts:
                with open(p.path, "rb") as fh:
                    k = 0
                    for record in ArchiveIterator(fh):
                        if _is_html_response(record):
                            if k >= (p.stop or 0):
                                break
                            if k >= p.start:
                                record.content_stream().read()
                                n += 1
                            k += 1
            return n

        n_seek, seek_cpu, seek_wall = timed(seek_all)
        n_skip, skip_cpu, skip_wall = timed(skip_all)
        n_ex, ex_cpu, ex_wall = timed(lambda: sum(1 for p in parts for _ in read_partition(p, opts)))
        whole, whole_cpu, _ = timed(lambda: sum(1 for _ in warc_records(path, path.name)))
        assert n_seek == n_skip == n_ex == whole == args.pages, (n_seek, n_skip, n_ex, whole)
        size = path.stat().st_size
    rows = {
        "pages": args.pages,
        "partitions": len(parts),
        "file_mb": round(size / 2**20, 1),
        "plan_cpu_s": round(plan_cpu, 2),
        "plan_wall_s": round(plan_wall, 2),
        "seek_read_cpu_s": round(seek_cpu, 2),
        "seek_read_wall_s": round(seek_wall, 2),
        "skip_read_cpu_s": round(skip_cpu, 2),
        "skip_read_wall_s": round(skip_wall, 2),
        "extract_read_cpu_s": round(ex_cpu, 2),
        "extract_read_wall_s": round(ex_wall, 2),
        "one_partition_read_cpu_s": round(whole_cpu, 2),
    }
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
