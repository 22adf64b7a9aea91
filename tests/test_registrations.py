"""Every function the package registers with spaCy is reachable through an entry point, so
`python -m spacy train <our config>` works in a fresh process that never imports vnreorg by hand."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = ("vnreorg", "corpus", "annotation", "models", "eval")
# decorator name -> entry-point group (spaCy reads `spacy_<registry>`; factories use `spacy_factories`)
GROUPS = {
    "factories": "spacy_factories",
    "architectures": "spacy_architectures",
    "misc": "spacy_misc",
    "scorers": "spacy_scorers",
    "readers": "spacy_readers",
    "loggers": "spacy_loggers",
    "callbacks": "spacy_callbacks",
}


def _registered_in_source() -> set[tuple[str, str]]:
    """(entry-point group, registered name) for every `@registry.<x>("name")` and every factory decorator."""
    found = set()
    for folder in PACKAGE_DIRS:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef):
                    continue
                for dec in node.decorator_list:
                    if not (isinstance(dec, ast.Call) and dec.args and isinstance(dec.args[0], ast.Constant)):
                        continue
                    func = dec.func
                    name = dec.args[0].value
                    if isinstance(func, ast.Attribute) and func.attr in GROUPS and "registry" in ast.unparse(func.value):
                        found.add((GROUPS[func.attr], name))
                    elif ast.unparse(func) in {"_factory", "Language.factory", "Language.component"}:
                        found.add(("spacy_factories", name))
    return found


def test_every_registered_function_has_an_entry_point():
    registered = _registered_in_source()
    assert ("spacy_misc", "vnreorg.rule_patterns.v1") in registered  # the scan sees the decorators
    declared = {
        (group, ep.name) for group in set(GROUPS.values()) for ep in entry_points(group=group) if ep.value.startswith("vnreorg.")
    }
    missing = registered - declared
    assert not missing, f"registered without an entry point in pyproject.toml (then reinstall): {sorted(missing)}"
    stale = declared - registered
    assert not stale, f"entry points naming nothing registered: {sorted(stale)}"


def test_entry_points_load_the_registered_objects():
    for group in set(GROUPS.values()):
        for ep in entry_points(group=group):
            if ep.value.startswith("vnreorg."):
                assert callable(ep.load()), ep


@pytest.mark.slow
@pytest.mark.parametrize("config", ["rules_rel", "scored_rel"])
def test_spacy_train_runs_a_shipped_config_in_a_fresh_process(config, tmp_path):
    published = REPO / "corpus" / "export" / "spacy" / "all.spacy"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "spacy",
            "train",
            str(REPO / "models" / "configs" / f"{config}.cfg"),
            "--paths.train",
            str(published),
            "--paths.dev",
            str(published),
            "--training.max_steps",
            "2",
            "--training.eval_frequency",
            "1",
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (tmp_path / "out" / "model-last" / "meta.json").exists()
