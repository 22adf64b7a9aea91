"""Input readers shared by `corpus build` and `vnreorg extract`: one `InputText` per document.

A reader never holds more than one document (and for plain text never more than one chunk of it):
an `InputText` carries a function that yields the document's text in decoded chunks, so a 50 MB
file or standard input streams through. A document that cannot be used is an `InputText` with
`skipped` set to the reason; it is reported, never dropped silently. Normalisation (newlines, NFC)
and the cut into parts belong to `parts.py`.
"""

from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from vnreorg.corpus.storage import expand, is_url, open_binary, size
from vnreorg.schema import hashed_id as schema_hashed_id
from vnreorg.schema import id_problem

READ_BYTES = 1 << 18  # bytes read at a time from a file or standard input


def hashed_id(prefix: str, source: str, locator: str = "") -> str:
    """A stable id for a document known only by where it came from: `prefix-` + the project's hash
    (vnreorg.schema.hashed_id: 16 hex digits of SHA-256) of source NUL locator. Same source and locator,
    same id, on every machine and engine."""
    return f"{prefix}-{schema_hashed_id(source + chr(0) + locator)}"


def _valid_id(value: str) -> bool:
    return id_problem(value) is None


class UnreadableInput(Exception):
    """Raised while streaming a document's chunks: the reason becomes a `skipped` record."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class InputText:
    """One input document before reading: where it is from, its id, and how to read its text."""

    source: str  # file path, "path#record=N", or "<stdin>"
    id: str
    chunks: Callable[[], Iterator[str]] | None = None  # decoded text, in order; may raise UnreadableInput
    skipped: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def decoded_chunks(stream: BinaryIO, read_bytes: int | None = None) -> Iterator[str]:
    """UTF-8 text of a byte stream, chunk by chunk (a leading BOM dropped). An invalid byte raises
    UnreadableInput with its byte offset in the stream."""
    read_bytes = read_bytes or READ_BYTES
    decoder = codecs.getincrementaldecoder("utf-8")()
    consumed, first = 0, True
    while True:
        raw = stream.read(read_bytes)
        final = not raw
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(raw, final=final)
        except UnicodeDecodeError as exc:
            bad = exc.object[exc.start] if exc.start < len(exc.object) else 0
            raise UnreadableInput(
                f"not UTF-8 text (invalid byte 0x{bad:02x} at byte offset {consumed - pending + exc.start})"
            ) from None
        consumed += len(raw)
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        if text:
            yield text
        if final:
            return


def text_file(path: str | Path, rel: str | None = None) -> InputText:
    """A .txt file (a local path or a URL), streamed. Its id is hashed from its path relative to the
    folder it was found in (or its name), so the same file gets the same id wherever the folder lives."""
    path = str(path)
    rel = rel or _name(path)

    def chunks() -> Iterator[str]:
        try:
            fh = open_binary(path)
        except OSError as exc:
            raise UnreadableInput(f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        with fh:
            yield from decoded_chunks(fh)

    return InputText(path, hashed_id("txt", rel), chunks)


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def stdin_text(stream: Any = None) -> InputText:
    stream = stream or sys.stdin
    binary = getattr(stream, "buffer", None)

    def chunks() -> Iterator[str]:
        if binary is not None:
            yield from decoded_chunks(binary)
            return
        while True:  # a text stream (tests): already decoded
            text = stream.read(READ_BYTES)
            if not text:
                return
            yield text

    return InputText("<stdin>", "stdin", chunks)


def not_a_file(path: Path) -> InputText:
    if path.exists():
        what = "a FIFO or device, not a regular file" if not path.is_dir() else "a folder"
        return InputText(str(path), hashed_id("missing", str(path)), skipped=f"{what}: not read")
    return InputText(str(path), hashed_id("missing", str(path)), skipped="no such file or folder")


# ------------------------------------------------------------------ archive formats

HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = (".txt", *HTML_SUFFIXES, ".jsonl", ".parquet", ".warc", ".warc.gz")
MAX_RECORD_BYTES = 50_000_000  # an HTML page or WARC payload larger than this is skipped as huge


def kind_of(path: str | Path) -> str | None:
    name = _name(str(path)).lower()
    if name.endswith(".warc.gz") or name.endswith(".warc"):
        return "warc"
    for suffix, kind in ((".txt", "txt"), (".html", "html"), (".htm", "html"), (".jsonl", "jsonl"), (".parquet", "parquet")):
        if name.endswith(suffix):
            return kind
    return None


def html_text(html: bytes | str) -> tuple[str | None, dict[str, Any]]:
    """Main text and metadata of a news page by trafilatura (the library decides what is boilerplate,
    not hand-written rules). (None, {}) when the page has no main text. Nothing is fetched."""
    import trafilatura

    found = trafilatura.extract(html, output_format="json", with_metadata=True, include_comments=False)
    if not found:
        return None, {}
    data = json.loads(found)
    meta = {k: data[k] for k in ("title", "author", "date", "hostname") if data.get(k)}
    meta["boilerplate"] = "removed by trafilatura"
    return data.get("text") or None, meta


def _one_chunk(text: str) -> Callable[[], Iterator[str]]:
    return lambda: iter([text])


def html_file(path: str | Path, rel: str | None = None) -> InputText:
    path = str(path)
    doc_id = hashed_id("html", rel or _name(path))
    try:
        n_bytes = size(path)
        if n_bytes > MAX_RECORD_BYTES:
            return InputText(path, doc_id, skipped=f"huge HTML page ({n_bytes:,} bytes > {MAX_RECORD_BYTES:,})")
        with open_binary(path) as fh:
            text, meta = html_text(fh.read())
    except OSError as exc:
        return InputText(path, doc_id, skipped=f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    if text is None:
        return InputText(path, doc_id, skipped="HTML without main text (trafilatura found none)")
    return InputText(path, doc_id, _one_chunk(text), meta=meta)


def record_input(source: str, rel: str, locator: str, data: Any, text_field: str, id_field: str | None, prefix: str) -> InputText:
    """One JSONL line or Parquet row: its text field, and its id field when that is a valid id
    (otherwise an id hashed from it, or from the file and the record's position)."""
    where = f"{source}#{locator}"
    if not isinstance(data, dict):
        return InputText(where, hashed_id(prefix, rel, locator), skipped="record is not an object")
    raw_id = data.get(id_field) if id_field else None
    if raw_id is None or raw_id == "":
        doc_id = hashed_id(prefix, rel, locator)
    elif isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and _valid_id(str(raw_id)):
        doc_id = str(raw_id)
    else:
        doc_id = hashed_id("id", str(raw_id))
    text = data.get(text_field)
    if text is None:
        return InputText(where, doc_id, skipped=f"no text field {text_field!r}")
    if not isinstance(text, str):
        return InputText(where, doc_id, skipped=f"text field {text_field!r} is not a string")
    meta = {k: v for k, v in data.items() if k not in (text_field, id_field) and isinstance(v, (str, int, float, bool))}
    return InputText(where, doc_id, _one_chunk(text), meta=meta)


def jsonl_records(
    path: str | Path,
    rel: str,
    text_field: str,
    id_field: str | None,
    start: int = 0,
    stop: int | None = None,
    byte_start: int = 0,
) -> Iterator[InputText]:
    """Lines [start, stop) of a JSONL file (byte_start: where line `start` begins)."""
    path = str(path)
    with open_binary(path) as fh:
        fh.seek(byte_start)
        n = start
        for raw in fh:
            if stop is not None and n >= stop:
                return
            locator = f"line={n + 1}"
            if raw.strip():
                try:
                    data = json.loads(raw)
                except (ValueError, RecursionError) as exc:
                    yield InputText(f"{path}#{locator}", hashed_id("jsonl", rel, locator), skipped=f"not JSON: {str(exc)[:120]}")
                else:
                    yield record_input(path, rel, locator, data, text_field, id_field, "jsonl")
            n += 1


def _parquet_file(path: str):
    """pyarrow's ParquetFile of a local path or a URL (then over an fsspec file, closed with it)."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(open_binary(path) if is_url(path) else path)


def parquet_records(
    path: str | Path, rel: str, text_field: str, id_field: str | None, row_groups: list[int] | None = None
) -> Iterator[InputText]:
    path = str(path)
    try:
        pf = _parquet_file(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        yield InputText(path, hashed_id("parquet", rel), skipped=f"not a readable Parquet file: {str(exc)[:160]}")
        return
    with pf:
        names = pf.schema_arrow.names
        if text_field not in names:
            yield InputText(
                path,
                hashed_id("parquet", rel),
                skipped=f"Parquet file has no text field {text_field!r} (fields: {', '.join(names[:20])})",
            )
            return
        columns = [text_field] + ([id_field] if id_field and id_field in names else [])
        groups = range(pf.num_row_groups) if row_groups is None else row_groups
        row0 = {g: sum(pf.metadata.row_group(i).num_rows for i in range(g)) for g in groups}
        for g in groups:
            table = pf.read_row_group(g, columns=columns)
            for k, data in enumerate(table.to_pylist()):
                yield record_input(path, rel, f"row={row0[g] + k}", data, text_field, id_field, "parquet")


def _read_limited(stream: Any, limit: int) -> bytes:
    """At most `limit` bytes, read in blocks (warcio's stream returns nothing for one huge read)."""
    out, size = [], 0
    while size < limit:
        block = stream.read(min(1 << 16, limit - size))
        if not block:
            break
        out.append(block)
        size += len(block)
    return b"".join(out)


def _is_html_response(record: Any) -> bool:
    """The WARC records extract reads (the others are passed over): HTTP responses carrying HTML."""
    if record.rec_type != "response" or record.http_headers is None:
        return False
    return "html" in (record.http_headers.get_header("Content-Type") or "").lower()


def warc_records(path: str | Path, rel: str, byte_start: int = 0, byte_stop: int | None = None) -> Iterator[InputText]:
    """HTML responses of a WARC file (streamed by warcio); other records are passed over. A partition
    reads the responses starting in [byte_start, byte_stop): the file is opened at `byte_start`, the
    start of a record (of a gzip member in a .warc.gz), so nothing before it is read or decompressed;
    warcio reports offsets from the file's start, so ids are the same however the file is cut. A
    corrupt record ends the file with a skipped entry naming the offset."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    path = str(path)
    try:
        fh = open_binary(path)
    except OSError as exc:
        yield InputText(path, hashed_id("warc", rel), skipped=f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    with fh:
        fh.seek(byte_start)
        records = ArchiveIterator(fh)
        offset = byte_start
        try:
            for record in records:
                if not _is_html_response(record):
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                payload = _read_limited(record.content_stream(), MAX_RECORD_BYTES + 1)
                at = records.get_record_offset()  # (asked after the payload: asking reads the record to its end)
                if byte_stop is not None and at >= byte_stop:
                    return  # the next partition's first record
                offset = at
                locator = f"offset={offset}"
                doc_id, where = hashed_id("warc", rel, locator), f"{path}#{locator}"
                if len(payload) > MAX_RECORD_BYTES:
                    yield InputText(where, doc_id, skipped=f"huge HTML payload (> {MAX_RECORD_BYTES:,} bytes)", meta={"url": url})
                    continue
                text, meta = html_text(payload)
                meta = {"url": url, **meta}
                if text is None:
                    yield InputText(where, doc_id, skipped="HTML without main text (trafilatura found none)", meta=meta)
                else:
                    yield InputText(where, doc_id, _one_chunk(text), meta=meta)
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            yield InputText(
                f"{path}#offset={offset}",
                hashed_id("warc", rel, f"corrupt-after={offset}"),  # not the id of the page at that offset
                skipped=f"corrupt WARC record after byte offset {offset}: {str(exc)[:160]}",
            )


def warc_starts(path: str, every: int) -> tuple[list[tuple[int, int]], int]:
    """Where to cut a WARC file into partitions of `every` HTML responses: (response index, byte offset)
    of the first response of each partition but the first (which starts at byte 0), and the number of
    responses. One pass over the file: warcio decompresses it and parses the record and HTTP headers,
    the pages are not parsed (trafilatura, the costly part, runs in the partitions). A corrupt record
    ends the pass: the last partition reads on to it and reports it."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    starts: list[tuple[int, int]] = []
    count = 0
    try:
        with open_binary(path) as fh:
            records = ArchiveIterator(fh)
            for record in records:
                if not _is_html_response(record):
                    continue
                if count and count % every == 0:
                    starts.append((count, records.get_record_offset()))
                count += 1
    except (ArchiveLoadFailed, OSError, EOFError, ValueError):
        pass
    return starts, count


# ------------------------------------------------------------------ partitions


@dataclass(frozen=True)
class Partition:
    """A unit of work and of output: one input file, or a fixed number of records of a large
    JSONL/Parquet/WARC file. Its key is stable (hashed from the file and the record range). `path` is
    a local path or a URL (corpus/storage.py)."""

    key: str
    path: str
    rel: str
    kind: str
    start: int = 0  # JSONL: first line; Parquet: first row group; WARC: first HTML response
    stop: int | None = None
    byte_start: int = 0  # JSONL: where line `start` begins; WARC: where its first record begins
    byte_stop: int | None = None  # WARC: where the next partition's first record begins (None: the end)


@dataclass(frozen=True)
class ReadOptions:
    text_field: str = "text"
    id_field: str | None = "id"
    records_per_partition: int = 10_000


def _files(paths: list[str], exclude: frozenset[Path] = frozenset()) -> Iterator[tuple[str, str, bool]]:
    """(path or URL, path relative to the folder or glob it was found by, found in a folder or glob)."""
    for p in paths:
        if is_url(p):
            found, many = expand(p)
            for url, rel in found:
                if not many or kind_of(url):
                    yield url, rel, many
            continue
        path = Path(p)
        if path.is_dir():
            for f in sorted(f for f in path.rglob("*") if f.is_file() and kind_of(f)):
                if not exclude or f.resolve() not in exclude:  # never read our own output as input
                    yield str(f), f.relative_to(path).as_posix(), True
        else:
            yield p, path.name, False


def _jsonl_partitions(path: str, rel: str, n: int) -> list[Partition]:
    starts, line, pos = [(0, 0)], 0, 0
    with open_binary(path) as fh:
        for raw in fh:
            line, pos = line + 1, pos + len(raw)
            if line % n == 0:
                starts.append((line, pos))
    parts = []
    for (a, ba), (b, _) in zip(starts, starts[1:] + [(line, pos)], strict=True):
        if b > a or a == 0:
            parts.append(Partition(hashed_id("p", rel, f"lines={a}-{b}"), path, rel, "jsonl", a, b, ba))
    return parts


def _parquet_partitions(path: str, rel: str, n: int) -> list[Partition]:
    try:
        with _parquet_file(path) as pf:
            meta = pf.metadata
    except Exception:
        return [Partition(hashed_id("p", rel), path, rel, "parquet")]  # the reader reports it
    parts, rows, first = [], 0, 0
    for g in range(meta.num_row_groups):
        rows += meta.row_group(g).num_rows
        if rows >= n:
            parts.append(Partition(hashed_id("p", rel, f"groups={first}-{g + 1}"), path, rel, "parquet", first, g + 1))
            rows, first = 0, g + 1
    if first < meta.num_row_groups or meta.num_row_groups == 0:
        key = hashed_id("p", rel, f"groups={first}-{meta.num_row_groups}")
        parts.append(Partition(key, path, rel, "parquet", first, meta.num_row_groups))
    return parts


def _warc_partitions(path: str, rel: str, n: int) -> list[Partition]:
    """Partitions of `n` HTML responses each (the records that become documents or skipped rows; the
    requests, metadata and other responses between them are passed over by whichever partition meets
    them). Each partition opens the file at its first record's byte offset."""
    starts, count = warc_starts(path, n)
    bounds = [(0, 0), *starts]
    parts = []
    for k, (a, byte_a) in enumerate(bounds):
        b, byte_b = bounds[k + 1] if k + 1 < len(bounds) else (count, None)
        parts.append(Partition(hashed_id("p", rel, f"records={a}-{b}"), path, rel, "warc", a, b, byte_a, byte_b))
    return parts


def plan_partitions(
    paths: list[str], options: ReadOptions = ReadOptions(), exclude: frozenset[Path] = frozenset()
) -> tuple[list[Partition], list[InputText]]:
    """The partitions of the inputs (files in name order; large JSONL, Parquet and WARC files cut by
    records), and the inputs that cannot be read at all (skipped entries). Nothing is parsed here:
    JSONL lines are counted by bytes, Parquet row groups read from the footer, WARC records found by
    one pass over the record headers."""
    parts: list[Partition] = []
    bad: list[InputText] = []
    n = max(1, options.records_per_partition)
    for path, rel, _ in _files(paths, exclude):
        if not is_url(path) and not Path(path).is_file():
            bad.append(not_a_file(Path(path)))
            continue
        kind = kind_of(path)
        if kind is None:
            bad.append(InputText(path, hashed_id("file", rel), skipped=f"unknown input format (use {', '.join(SUFFIXES)})"))
        elif kind == "jsonl":
            parts.extend(_jsonl_partitions(path, rel, n))
        elif kind == "parquet":
            parts.extend(_parquet_partitions(path, rel, n))
        elif kind == "warc":
            parts.extend(_warc_partitions(path, rel, n))
        else:
            parts.append(Partition(hashed_id("p", rel), path, rel, kind))
    return parts, bad


def read_partition(part: Partition, options: ReadOptions = ReadOptions()) -> Iterator[InputText]:
    if part.kind == "txt":
        yield text_file(part.path, part.rel)
    elif part.kind == "html":
        yield html_file(part.path, part.rel)
    elif part.kind == "jsonl":
        yield from jsonl_records(
            part.path, part.rel, options.text_field, options.id_field, part.start, part.stop, part.byte_start
        )
    elif part.kind == "parquet":
        groups = list(range(part.start, part.stop or 0)) if part.stop else None
        yield from parquet_records(part.path, part.rel, options.text_field, options.id_field, groups)
    elif part.kind == "warc":
        yield from warc_records(part.path, part.rel, part.byte_start, part.byte_stop)


def iter_inputs(
    paths: list[str], stdin: Any = None, options: ReadOptions = ReadOptions(), exclude: frozenset[Path] = frozenset()
) -> Iterator[InputText]:
    """Every input document in order: "-" is standard input, a folder (or a URL folder or glob) gives
    its files of known formats (sorted, recursive), a file is read by its suffix. Documents are read
    lazily."""
    for p in paths:
        if p == "-":
            yield stdin_text(stdin)
            continue
        if not is_url(p):
            path = Path(p)
            if path.is_dir() and not any(f.is_file() and kind_of(f) for f in path.rglob("*")):
                yield InputText(
                    str(path), hashed_id("missing", str(path)), skipped=f"folder holds no input files ({', '.join(SUFFIXES)})"
                )
                continue
        parts, bad = plan_partitions([p], options, exclude)
        yield from bad
        for part in parts:
            yield from read_partition(part, options)
