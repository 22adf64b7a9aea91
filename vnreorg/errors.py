"""The one exception type for user-facing errors; it carries where the problem is."""

from __future__ import annotations


class VnreorgError(Exception):
    """A problem with the user's input or environment, reported as one clear line.

    `where` names the file, document id, line or character offset, e.g. "gold.jsonl:3 doc=abc offset=120".
    """

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


def describe_error(exc: BaseException) -> str | None:
    """The one-line message for an error a user's input or environment can cause, or None for a bug.

    The CLI's single entrance (`vnreorg.cli.main`) prints it as `error: <file>: <reason>` and exits
    non-zero, so no command needs its own handler for unreadable files or unparsable input."""
    import json

    if isinstance(exc, VnreorgError):
        text = str(exc)
    elif isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        hint = {
            IsADirectoryError: " (a folder where a file is expected)",
            NotADirectoryError: " (a file where a folder is expected)",
            FileExistsError: " (a file where a folder is expected)",
        }.get(type(exc), "")
        where = exc.filename if exc.filename is not None else None
        text = f"{where}: {reason}{hint}" if where is not None else f"{reason}{hint}"
        if exc.filename2 is not None:
            text += f" (-> {exc.filename2})"
    elif isinstance(exc, UnicodeDecodeError):
        text = f"input is not UTF-8 text (invalid byte at offset {exc.start})"
    elif isinstance(exc, json.JSONDecodeError):
        text = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    elif isinstance(exc, RecursionError):
        text = "input nested too deeply (JSON or structure deeper than Python's recursion limit)"
    elif isinstance(exc, ValueError):
        text = f"malformed input: {exc}"
    else:
        return None
    return " ".join(text.split("\n")).strip()
