"""Input readers shared by `corpus build` and `vnreorg extract`: one `InputText` per document.

A reader never holds more than one document (and for plain text never more than one chunk of it):
an `InputText` carries a function that yields the document's text in decoded chunks, so a 50 MB
file or standard input streams through. A document that cannot be used is an `InputText` with
`skipped` set to the reason; it is reported, never dropped silently. Normalisation (newlines, NFC)
and the cut into parts belong to `parts.py`.
"""
from __future__ import annotations

import codecs
import hashlib
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

READ_BYTES = 1 << 18  # bytes read at a time from a file or standard input

# The project's id form (the reliability issue): the lead reconciles this with vnreorg/schema.py's helper.
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def hashed_id(prefix: str, source: str, locator: str = "") -> str:
    """A stable id for a document known only by where it came from: `prefix-` + 16 hex digits of
    sha256(source NUL locator). Same source and locator, same id, on every machine and engine."""
    digest = hashlib.sha256(f"{source}\0{locator}".encode("utf-8")).hexdigest()[:16]
    return f"{prefix}-{digest}"


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
            raise UnreadableInput(f"not UTF-8 text (invalid byte 0x{bad:02x} at byte offset {consumed - pending + exc.start})") from None
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


TEXT_SUFFIXES = (".txt",)


def iter_inputs(paths: list[str], stdin: Any = None) -> Iterator[InputText]:
    """Each path in order: "-" is standard input, a folder gives its .txt files (sorted, recursive),
    a file is read by its suffix. Nothing is read here: only the plan of what to read."""
    for p in paths:
        if p == "-":
            yield stdin_text(stdin)
            continue
        path = Path(p)
        if path.is_dir():
            files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES)
            if not files:
                yield InputText(str(path), hashed_id("missing", str(path)), skipped="folder holds no .txt files")
            for f in files:
                yield text_file(f, path)
        elif path.is_file():
            yield text_file(path)
        else:
            yield not_a_file(path)
