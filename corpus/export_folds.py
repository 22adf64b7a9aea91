"""Document-level folds for cross-validation: leave one document out.

With ids sorted, fold k tests on document k, develops on document k+1 (wrapping round) and trains on
the rest: deterministic, every document is tested exactly once and is dev exactly once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_json_file, write_atomic
from vnreorg.schema import NAME_MAX, check_id

SCHEME = "leave-one-document-out"


def make_folds(doc_ids: list[str]) -> dict:
    ids = sorted(doc_ids)
    if len(set(ids)) != len(ids):
        raise VnreorgError("duplicate document ids; cannot make folds")
    if len(ids) < 3:
        raise VnreorgError(f"leave-one-document-out needs at least 3 documents (test, dev, train); got {len(ids)}")
    for doc_id in ids:
        check_id(doc_id, "folds")
    folds = []
    for k, test in enumerate(ids):
        dev = ids[(k + 1) % len(ids)]
        folds.append({"name": f"fold-{test}", "test": [test], "dev": [dev], "train": [i for i in ids if i not in (test, dev)]})
    return {"scheme": SCHEME, "folds": folds}


def write_folds(path: str | os.PathLike, folds: dict) -> Path:
    path = Path(path)
    write_atomic(path, json.dumps(folds, ensure_ascii=False, indent=2) + "\n")
    return path


def read_folds(path: str | os.PathLike) -> dict:
    if not Path(path).exists():
        raise VnreorgError("folds file not found; run `vnreorg corpus folds`", str(path))
    data = read_json_file(path)
    if not isinstance(data, dict) or data.get("scheme") != SCHEME or not isinstance(data.get("folds"), list):
        raise VnreorgError(f"expected {{'scheme': {SCHEME!r}, 'folds': [...]}}", str(path))
    for fold in data["folds"]:
        check_id(fold.get("name") if isinstance(fold, dict) else fold, str(path), "fold name", NAME_MAX)
    return data
