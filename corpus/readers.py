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


def text_file(path: Path, root: Path | None = None) -> InputText:
    """A .txt file, streamed. Its id is hashed from its path relative to the folder it was found in
    (or its name), so the same file gets the same id wherever the folder lives."""
    rel = path.relative_to(root).as_posix() if root else path.name

    def chunks() -> Iterator[str]:
        try:
            fh = open(path, "rb")
        except OSError as exc:
            raise UnreadableInput(f"cannot read: {exc.strerror or exc}") from None
        with fh:
            yield from decoded_chunks(fh)

    return InputText(str(path), hashed_id("txt", rel), chunks)


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


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
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


def html_file(path: Path, root: Path | None = None) -> InputText:
    rel = path.relative_to(root).as_posix() if root else path.name
    doc_id = hashed_id("html", rel)
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            return InputText(str(path), doc_id, skipped=f"huge HTML page ({path.stat().st_size:,} bytes > {MAX_RECORD_BYTES:,})")
        text, meta = html_text(path.read_bytes())
    except OSError as exc:
        return InputText(str(path), doc_id, skipped=f"cannot read: {exc.strerror or exc}")
    if text is None:
        return InputText(str(path), doc_id, skipped="HTML without main text (trafilatura found none)")
    return InputText(str(path), doc_id, _one_chunk(text), meta=meta)


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
    path: Path, rel: str, text_field: str, id_field: str | None, start: int = 0, stop: int | None = None, byte_start: int = 0
) -> Iterator[InputText]:
    """Lines [start, stop) of a JSONL file (byte_start: where line `start` begins)."""
    with open(path, "rb") as fh:
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
                    yield record_input(str(path), rel, locator, data, text_field, id_field, "jsonl")
            n += 1


def parquet_records(
    path: Path, rel: str, text_field: str, id_field: str | None, row_groups: list[int] | None = None
) -> Iterator[InputText]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        yield InputText(str(path), hashed_id("parquet", rel), skipped=f"not a readable Parquet file: {str(exc)[:160]}")
        return
    names = pf.schema_arrow.names
    if text_field not in names:
        yield InputText(
            str(path),
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
            yield record_input(str(path), rel, f"row={row0[g] + k}", data, text_field, id_field, "parquet")


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


def warc_records(path: Path, rel: str) -> Iterator[InputText]:
    """HTML responses of a WARC file (streamed by warcio); other records are passed over. A corrupt
    record ends the file with a skipped entry naming the offset."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        fh = open(path, "rb")
    except OSError as exc:
        yield InputText(str(path), hashed_id("warc", rel), skipped=f"cannot read: {exc.strerror or exc}")
        return
    with fh:
        records = ArchiveIterator(fh)
        offset = 0
        try:
            for record in records:
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                ctype = (record.http_headers.get_header("Content-Type") or "").lower()
                if "html" not in ctype:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                payload = _read_limited(record.content_stream(), MAX_RECORD_BYTES + 1)
                offset = records.get_record_offset()  # (asked after the payload: asking reads the record to its end)
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
            locator = f"offset={offset}"
            yield InputText(
                f"{path}#{locator}",
                hashed_id("warc", rel, locator),
                skipped=f"corrupt WARC record after byte offset {offset}: {str(exc)[:160]}",
            )


# ------------------------------------------------------------------ partitions


@dataclass(frozen=True)
class Partition:
    """A unit of work and of output: one input file, or a fixed number of records of a large
    JSONL/Parquet file. Its key is stable (hashed from the file and the record range)."""

    key: str
    path: str
    rel: str
    kind: str
    start: int = 0  # JSONL: first line; Parquet: first row group
    stop: int | None = None
    byte_start: int = 0


@dataclass(frozen=True)
class ReadOptions:
    text_field: str = "text"
    id_field: str | None = "id"
    records_per_partition: int = 10_000


def _files(paths: list[str], exclude: frozenset[Path] = frozenset()) -> Iterator[tuple[Path, Path | None]]:
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(f for f in path.rglob("*") if f.is_file() and kind_of(f)):
                if not exclude or f.resolve() not in exclude:  # never read our own output as input
                    yield f, path
        else:
            yield path, None


def plan_partitions(
    paths: list[str], options: ReadOptions = ReadOptions(), exclude: frozenset[Path] = frozenset()
) -> tuple[list[Partition], list[InputText]]:
    """The partitions of the inputs (files in name order; large JSONL and Parquet files cut by
    records), and the inputs that cannot be read at all (skipped entries). Nothing is parsed here:
    JSONL lines are counted by bytes, Parquet row groups read from the footer."""
    parts: list[Partition] = []
    bad: list[InputText] = []
    n = max(1, options.records_per_partition)
    for path, root in _files(paths, exclude):
        if not path.is_file():
            bad.append(not_a_file(path))
            continue
        kind = kind_of(path)
        rel = path.relative_to(root).as_posix() if root else path.name
        if kind is None:
            bad.append(InputText(str(path), hashed_id("file", rel), skipped=f"unknown input format (use {', '.join(SUFFIXES)})"))
            continue
        if kind == "jsonl":
            starts, line, pos = [(0, 0)], 0, 0
            with open(path, "rb") as fh:
                for raw in fh:
                    line, pos = line + 1, pos + len(raw)
                    if line % n == 0:
                        starts.append((line, pos))
            for (a, ba), (b, _) in zip(starts, starts[1:] + [(line, pos)]):
                if b > a or not parts or a == 0:
                    parts.append(Partition(hashed_id("p", rel, f"lines={a}-{b}"), str(path), rel, kind, a, b, ba))
            continue
        if kind == "parquet":
            import pyarrow.parquet as pq

            try:
                meta = pq.ParquetFile(path).metadata
            except Exception:
                parts.append(Partition(hashed_id("p", rel), str(path), rel, kind))  # the reader reports it
                continue
            group, rows, first = [], 0, 0
            for g in range(meta.num_row_groups):
                group.append(g)
                rows += meta.row_group(g).num_rows
                if rows >= n:
                    parts.append(Partition(hashed_id("p", rel, f"groups={first}-{g + 1}"), str(path), rel, kind, first, g + 1))
                    group, rows, first = [], 0, g + 1
            if group or meta.num_row_groups == 0:
                parts.append(
                    Partition(
                        hashed_id("p", rel, f"groups={first}-{meta.num_row_groups}"),
                        str(path),
                        rel,
                        kind,
                        first,
                        meta.num_row_groups,
                    )
                )
            continue
        parts.append(Partition(hashed_id("p", rel), str(path), rel, kind))
    return parts, bad


def read_partition(part: Partition, options: ReadOptions = ReadOptions()) -> Iterator[InputText]:
    path = Path(part.path)
    if part.kind == "txt":
        yield text_file(path) if part.rel == path.name else _txt_with_rel(path, part.rel)
    elif part.kind == "html":
        yield html_file(path) if part.rel == path.name else _html_with_rel(path, part.rel)
    elif part.kind == "jsonl":
        yield from jsonl_records(path, part.rel, options.text_field, options.id_field, part.start, part.stop, part.byte_start)
    elif part.kind == "parquet":
        yield from parquet_records(
            path, part.rel, options.text_field, options.id_field, list(range(part.start, part.stop or 0)) if part.stop else None
        )
    elif part.kind == "warc":
        yield from warc_records(path, part.rel)


def _txt_with_rel(path: Path, rel: str) -> InputText:
    item = text_file(path)
    item.id = hashed_id("txt", rel)
    return item


def _html_with_rel(path: Path, rel: str) -> InputText:
    item = html_file(path)
    item.id = hashed_id("html", rel)
    return item


def iter_inputs(
    paths: list[str], stdin: Any = None, options: ReadOptions = ReadOptions(), exclude: frozenset[Path] = frozenset()
) -> Iterator[InputText]:
    """Every input document in order: "-" is standard input, a folder gives its files of known
    formats (sorted, recursive), a file is read by its suffix. Documents are read lazily."""
    for p in paths:
        if p == "-":
            yield stdin_text(stdin)
            continue
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
