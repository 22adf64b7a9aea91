"""Paths built from names that came from data (document ids, fold names): only ever inside a base folder.

A name from a file or a server is untrusted: `safe_join` checks every part against the id rule of
`vnreorg.schema` and then checks that the resolved result still lies inside the resolved base (which a
symbolic link inside the base could otherwise escape)."""

from __future__ import annotations

import os
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.schema import NAME_MAX, id_problem


def safe_join(base: str | os.PathLike, *names: str, suffix: str = "", what: str = "name") -> Path:
    """`base/name1/name2...` (+ `suffix` on the last part), refused unless each name is a valid id and the
    resolved path is inside the resolved base."""
    base = Path(base)
    path = base
    for i, name in enumerate(names):
        problem = id_problem(name, NAME_MAX)
        if problem:
            raise VnreorgError(f"{what} {problem}; refusing to build a path from it", str(base))
        path = path / (name + suffix if i == len(names) - 1 else name)
    root = base.resolve()
    resolved = path.resolve()
    if resolved != root and not resolved.is_relative_to(root):
        raise VnreorgError(f"{what} {'/'.join(names)!r} resolves to {resolved}, outside the folder", str(base))
    return path
