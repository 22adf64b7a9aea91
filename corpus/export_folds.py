"""Document-level folds for cross-validation: leave one document out.

With ids sorted, fold k tests on document k, develops on document k+1 (wrapping round) and trains on
the rest: deterministic, every document is tested exactly once and is dev exactly once.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import write_atomic

SCHEME = "leave-one-document-out"


def make_folds(doc_ids: list[str]) -> dict:
    ids = sorted(doc_ids)
    if len(set(ids)) != len(ids):
        raise VnreorgError("duplicate document ids; cannot make folds")
    if len(ids) < 3:
        raise VnreorgError(f"leave-one-document-out needs at least 3 documents (test, dev, train); got {len(ids)}")
    folds = []
    for k, test in enumerate(ids):
        dev = ids[(k + 1) % len(ids)]
        folds.append({"name": f"fold-{test}", "test": [test], "dev": [dev],
                      "train": [i for i in ids if i not in (test, dev)]})
    return {"scheme": SCHEME, "folds": folds}


def write_folds(path: str | os.PathLike, folds: dict) -> Path:
    path = Path(path)
    write_atomic(path, json.dumps(folds, ensure_ascii=False, indent=2) + "\n")
    return path


def read_folds(path: str | os.PathLike) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VnreorgError("folds file not found; run `vnreorg corpus folds`", str(path)) from None
    except json.JSONDecodeError as exc:
        raise VnreorgError(f"invalid JSON: {exc.msg}", f"{path}:{exc.lineno}") from None
    if data.get("scheme") != SCHEME or not isinstance(data.get("folds"), list):
        raise VnreorgError(f"expected {{'scheme': {SCHEME!r}, 'folds': [...]}}", str(path))
    return data
