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
