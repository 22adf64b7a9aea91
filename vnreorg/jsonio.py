"""Atomic file writes and JSONL reading/writing of documents, with located errors."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vnreorg.errors import VnreorgError
from vnreorg.schema import Document


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file should look like any other
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": "\n"})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def backup(path: str | os.PathLike) -> Path | None:
    """Copy an existing file to `<name>.bak-<timestamp>` beside it; return the backup path."""
    path = Path(path)
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%dT%H%M%S")
    dest = path.with_name(f"{path.name}.bak-{stamp}")
    n = 1
    while dest.exists():
        dest = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        n += 1
    shutil.copy2(path, dest)
    return dest


def dumps_jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records)


def write_jsonl(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> None:
    write_atomic(path, dumps_jsonl(records))


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record); blank lines are skipped; bad JSON raises with file:line."""
    path = Path(path)
    if not path.exists():
        raise VnreorgError("file not found", str(path))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise VnreorgError(f"not UTF-8 (byte {exc.start})", str(path)) from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise VnreorgError(f"invalid JSON: {exc.msg} at column {exc.colno}", f"{path}:{lineno}") from None
        if not isinstance(record, dict):
            raise VnreorgError("expected a JSON object", f"{path}:{lineno}")
        yield lineno, record


def read_documents(path: str | os.PathLike) -> list[Document]:
    """Read corpus-format JSONL into Documents; a malformed record raises with file:line and doc id."""
    docs = []
    for lineno, record in read_jsonl(path):
        try:
            docs.append(Document.from_dict(record))
        except (KeyError, TypeError, ValueError) as exc:
            doc_id = record.get("id", "?")
            raise VnreorgError(f"malformed document record ({type(exc).__name__}: {exc})", f"{path}:{lineno} doc={doc_id}") from None
    return docs


def write_documents(path: str | os.PathLike, docs: Iterable[Document]) -> None:
    write_jsonl(path, (d.to_dict() for d in docs))
