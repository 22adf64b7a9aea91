"""Atomic file writes and JSONL reading/writing of documents, with located errors."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vnreorg.errors import VnreorgError
from vnreorg.fileset import hold_temp, remove_stale_temps
from vnreorg.schema import Document


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write to a temporary file in the same folder, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    remove_stale_temps(path.parent, [path.name])  # a killed earlier write's temporary file
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        hold_temp(fd)
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


def check_input_file(path: str | os.PathLike) -> Path:
    """`path` as a Path when it is an existing regular file; otherwise the project error saying what it is.

    Checked before opening: opening a FIFO for reading would block until a writer comes."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise VnreorgError("file not found", str(path)) from None
    except NotADirectoryError:
        raise VnreorgError("file not found (a parent is not a folder)", str(path)) from None
    except PermissionError:
        raise VnreorgError("permission denied", str(path)) from None
    if stat.S_ISDIR(mode):
        raise VnreorgError("is a folder, expected a file", str(path))
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device"
            if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode))
            else "not a regular file"
        )
        raise VnreorgError(f"is {kind}, expected a regular file", str(path))
    return path


def read_text_file(path: str | os.PathLike) -> str:
    """The UTF-8 text of a regular file; a missing, special or undecodable file is a located error."""
    path = check_input_file(path)
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise VnreorgError(f"not UTF-8 (byte {exc.start})", f"{path}:{line}") from None


def loads_located(text: str, where: str, *, one_line: bool = False) -> Any:
    """json.loads with the project error: bad JSON names line (unless `where` is already one line of a
    file) and column; absurd nesting is refused."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise VnreorgError(
            f"invalid JSON: {exc.msg} at column {exc.colno}", where if one_line else f"{where}:{exc.lineno}"
        ) from None
    except RecursionError:
        raise VnreorgError("JSON nested too deeply", where) from None


def read_json_file(path: str | os.PathLike) -> Any:
    """A JSON file, parsed, with located errors."""
    return loads_located(read_text_file(path), str(path))


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.bak.", suffix=".tmp")
    try:  # copied under a temporary name, then renamed: a kill never leaves a half backup
        hold_temp(fd)  # held (open) until renamed
        shutil.copy2(path, tmp)
        os.fsync(fd)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        os.close(fd)
    return dest


def dumps_jsonl(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records)


def write_jsonl(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> None:
    write_atomic(path, dumps_jsonl(records))


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record); blank lines are skipped; bad JSON raises with file:line."""
    path = Path(path)
    lines = read_text_file(path).splitlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = loads_located(line, f"{path}:{lineno}", one_line=True)
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
            doc_id = doc_id if isinstance(doc_id, str) else "?"
            raise VnreorgError(
                f"malformed document record ({type(exc).__name__}: {exc})", f"{path}:{lineno} doc={doc_id}"
            ) from None
    return docs


def write_documents(path: str | os.PathLike, docs: Iterable[Document]) -> None:
    write_jsonl(path, (d.to_dict() for d in docs))
