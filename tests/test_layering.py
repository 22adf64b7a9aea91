"""The one-way rule, checked on every module's imports (ast): a stage imports only from stages to its
left (seeds -> corpus -> annotation -> models -> eval) and from the shared modules of `vnreorg/`;
shared modules import only shared modules; the top (command line, main job, cross-validation) may
import everything."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = ["corpus", "annotation", "models", "eval"]  # seeds/ holds data, no code
SHARED = {
    "vnreorg",
    "vnreorg.schema",
    "vnreorg.errors",
    "vnreorg.jsonio",
    "vnreorg.metrics",
    "vnreorg.docbin",
    "vnreorg.invisible",
    "vnreorg.fileset",
    "vnreorg.paths",
}
TOP = {"vnreorg.cli", "vnreorg.pipeline", "vnreorg.cv", "vnreorg.selection", "vnreorg.ablate"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((REPO / "vnreorg").glob("*.py")):
        out["vnreorg" if path.stem == "__init__" else f"vnreorg.{path.stem}"] = path
    for stage in STAGES:
        for path in sorted((REPO / stage).rglob("*.py")):
            parts = [stage, *path.relative_to(REPO / stage).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(["vnreorg", *parts])] = path
    return out


def _imports(module: str, path: Path) -> set[str]:
    """Every vnreorg module the file imports (top level or inside functions; relative imports resolved)."""
    package = module if path.stem == "__init__" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
    return {m for m in found if m == "vnreorg" or m.startswith("vnreorg.")}


def _layer(module: str) -> tuple[str, int]:
    """("shared", -1), ("top", 99), or ("stage", index) of the module's stage."""
    if module in SHARED:
        return "shared", -1
    if module in TOP:
        return "top", 99
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in STAGES:
        return "stage", STAGES.index(parts[1])
    return "unknown", -2


def _allowed(importer: str, imported: str, modules: dict[str, Path]) -> bool:
    if imported not in modules and imported.rpartition(".")[0] in modules:
        imported = imported.rpartition(".")[0]  # `from vnreorg.x import name`: the name is not a module
    kind_a, a = _layer(importer)
    kind_b, b = _layer(imported)
    if kind_a == "top":
        return True
    if kind_b == "top" or kind_b == "unknown":
        return False
    if kind_a == "shared":
        return kind_b == "shared"
    return b <= a


def test_every_vnreorg_module_has_a_layer():
    unknown = [m for m in _modules() if _layer(m)[0] == "unknown"]
    assert not unknown, f"classify these modules in tests/test_layering.py (shared, top or a stage): {unknown}"


def test_no_stage_imports_a_stage_to_its_right():
    modules = _modules()
    assert "vnreorg.models.train" in modules and "vnreorg.docbin" in modules
    bad = sorted(f"{m} imports {i}" for m, path in modules.items() for i in _imports(m, path) if not _allowed(m, i, modules))
    assert not bad, "imports against the one-way rule:\n" + "\n".join(bad)


def test_the_check_sees_a_back_import():
    modules = _modules()
    assert not _allowed("vnreorg.models.train", "vnreorg.eval.scoring", modules)
    assert not _allowed("vnreorg.corpus.export_spacy", "vnreorg.models.components", modules)
    assert not _allowed("vnreorg.docbin", "vnreorg.corpus.tokenize", modules)
    assert not _allowed("vnreorg.models.cli", "vnreorg.cv", modules)
    assert _allowed("vnreorg.eval.cli", "vnreorg.models.predict", modules)
    assert _allowed("vnreorg.cv", "vnreorg.eval.cv", modules)
