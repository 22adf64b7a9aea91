"""Static checks: ruff (lint) over the whole tree and mypy over the whole package, each held to a
committed baseline (tests/tooling_baseline.json) that may shrink but never grow.

mypy sees the package through a link tree built here (vnreorg/ with its stage folders linked in as
vnreorg.corpus, vnreorg.annotation, ...), because the package-dir mapping hides the stage folders from
a plain `mypy -p vnreorg`. After fixing errors, lower the baseline with
`python tests/test_tooling.py --update` and commit it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).with_name("tooling_baseline.json")
STAGES = ("corpus", "annotation", "models", "eval")


def _tool(name: str) -> str:
    here = Path(sys.executable).with_name(name)
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return found


def ruff_counts() -> Counter:
    """{rule code: count} of `ruff check` over the repository (config in pyproject.toml)."""
    out = subprocess.run(
        [_tool("ruff"), "check", "--output-format", "concise", "--no-cache", "."], cwd=REPO, capture_output=True, text=True
    )
    if out.returncode not in (0, 1):
        raise RuntimeError(out.stderr)
    return Counter(m.group(1) for m in re.finditer(r"^\S+:\d+:\d+: (\S+) ", out.stdout, re.M))


def link_tree(root: Path) -> Path:
    """root/vnreorg: links to vnreorg/*.py and to the stage folders under their package names."""
    pkg = root / "vnreorg"
    pkg.mkdir(parents=True, exist_ok=True)
    for f in (REPO / "vnreorg").glob("*.py"):
        os.symlink(f, pkg / f.name)
    for stage in STAGES:
        os.symlink(REPO / stage, pkg / stage, target_is_directory=True)
    return root


def mypy_counts(root: Path) -> Counter:
    """{error code: count} of mypy over the whole package (the link tree under `root`)."""
    env = {**os.environ, "MYPYPATH": str(root)}
    out = subprocess.run(
        [_tool("mypy"), "--config-file", str(REPO / "pyproject.toml"), "-p", "vnreorg", "--cache-dir", str(root / ".mypy_cache")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    checked = re.search(r"(\d+) source files?", out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "")
    if out.returncode not in (0, 1) or checked is None:
        raise RuntimeError(out.stdout[-2000:] + out.stderr[-2000:])
    counts = Counter(m.group(1) for m in re.finditer(r"error: .*\[([\w-]+)\]$", out.stdout, re.M))
    counts["_files_checked"] = int(checked.group(1)) if checked else 0
    return counts


def _grown(now: Counter, base: dict) -> dict:
    return {k: (base.get(k, 0), v) for k, v in now.items() if not k.startswith("_") and v > base.get(k, 0)}


def test_ruff_errors_do_not_grow():
    base = json.loads(BASELINE.read_text(encoding="utf-8"))["ruff"]
    grown = _grown(ruff_counts(), base)
    assert not grown, f"new ruff findings (code: (baseline, now)): {grown}; run `ruff check .`"


@pytest.mark.slow
def test_mypy_sees_the_whole_package_and_errors_do_not_grow(tmp_path):
    base = json.loads(BASELINE.read_text(encoding="utf-8"))["mypy"]
    now = mypy_counts(link_tree(tmp_path))
    n_files = sum(1 for _ in (REPO / "vnreorg").glob("*.py")) + sum(1 for s in STAGES for _ in (REPO / s).rglob("*.py"))
    assert now["_files_checked"] >= n_files  # every module of the package (and its data folders), not the 6 a plain run sees
    grown = _grown(now, base)
    assert not grown, f"new mypy errors (code: (baseline, now)): {grown}"


if __name__ == "__main__" and "--update" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = {"ruff": dict(sorted(ruff_counts().items())), "mypy": dict(sorted(mypy_counts(link_tree(Path(tmp))).items()))}
    data["mypy"].pop("_files_checked", None)
    BASELINE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"baseline: ruff {sum(data['ruff'].values())}, mypy {sum(data['mypy'].values())} -> {BASELINE}")
