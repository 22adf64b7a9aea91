"""Package a trained pipeline as a versioned, pip-installable wheel (`spacy package`).

The wheel carries the component modules (`components.py` and the modules it gathers; they import only
spaCy, thinc, numpy and each other, relatively) so it loads by name in an environment without this
repository. Its meta
records the labels, the scores (dev scores of the model, and cross-validation scores when given)
and the corpus version. spaCy names the package `vi_<name>`.

`spacy package --build wheel` runs `python -m build` with build isolation, which downloads
setuptools into a throw-away environment; we let spaCy write the package folder (`--build none`)
and build the wheel ourselves with `--no-isolation`, using the setuptools and wheel already in the
virtual environment: no network, and the same result.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from vnreorg.errors import VnreorgError
from vnreorg.models.components import CODE_MODULES

RESOURCES_DIR = Path(__file__).parent / "resources"
CODE_FILES = [Path(__file__).parent / f"{m}.py" for m in CODE_MODULES if m != "components"]


def bundle_code(out: Path) -> Path:
    """The component modules as the one file `components.py` that `spacy package --code` copies into the
    wheel (spaCy imports each code file on its own, so the modules' relative imports between each other
    cannot stay): their sources in dependency order, without their relative imports."""
    parts = [
        '"""vnreorg components, bundled from vnreorg/models/ by models/package.py for the packaged model."""',
        "from __future__ import annotations",
    ]
    for path in CODE_FILES:
        lines = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.startswith(("from __future__ import", "from ."))
        ]
        parts.append(f"\n# {'-' * 20} {path.name}\n" + "\n".join(lines))
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


DEFAULT_PACKAGES = Path("models/packages")
_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


def _run(cmd: list[str], cwd: Path | None = None, quiet: bool = False) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=quiet, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout or "")[-2000:] if quiet else ""
        raise VnreorgError(f"command failed ({result.returncode}): {' '.join(cmd)}\n{tail}")


def _drop_project_requirement(package_dir: Path) -> None:
    """spaCy lists the distribution that registered each factory as a requirement; with the project
    installed that is `vnreorg` (its entry points win the look-up), but the wheel carries its own
    copy of the component code and must not depend on the project. Remove it from every meta.json."""
    for meta_path in package_dir.rglob("meta.json"):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        reqs = meta.get("requirements") or []
        kept = [r for r in reqs if not re.match(r"^vnreorg\b", r)]
        if kept != reqs:
            meta["requirements"] = kept
            meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


def package_model(
    model_dir: str | Path,
    out_dir: str | Path = DEFAULT_PACKAGES,
    *,
    name: str = "vnreorg",
    version: str | None = None,
    extra_meta: dict[str, Any] | None = None,
    quiet: bool = False,
) -> Path:
    """Build the wheel of the pipeline in `model_dir` (a trained `model/` folder or a training
    output folder holding one) into `out_dir`; return the wheel's path."""
    model_dir = Path(model_dir)
    if (model_dir / "model" / "meta.json").exists():
        model_dir = model_dir / "model"
    if not (model_dir / "meta.json").exists():
        raise VnreorgError("not a trained pipeline folder (no meta.json)", str(model_dir))
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    version = version or meta.get("version") or "0.1.0"
    if not _VERSION_RE.match(version):
        raise VnreorgError(f"version must look like 1.2.3, got {version!r}")
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise VnreorgError(f"package name must be lower-case letters, digits and underscores, got {name!r}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vnreorg-package-") as tmp_name:
        tmp = Path(tmp_name)
        staged = tmp / "pipeline"
        shutil.copytree(model_dir, staged)
        # The knowledge resources travel inside the model folder (the wheel's package data): a packaged
        # model finds them at <model path>/resources without this repository.
        shutil.copytree(RESOURCES_DIR, staged / "resources", dirs_exist_ok=True)
        meta.update({"name": name, "version": version})
        meta.setdefault("vnreorg", {}).update(extra_meta or {})
        labels = meta.get("labels") or {}
        meta["vnreorg"]["labels"] = labels
        (staged / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        build_root = tmp / "build"
        build_root.mkdir()
        _run(
            [
                sys.executable,
                "-m",
                "spacy",
                "package",
                str(staged),
                str(build_root),
                "--code",
                str(bundle_code(tmp / "components.py")),
                "--name",
                name,
                "--version",
                version,
                "--build",
                "none",
                "--force",
            ],
            quiet=quiet,
        )
        pkg_dirs = [p for p in build_root.iterdir() if p.is_dir()]
        if len(pkg_dirs) != 1:
            raise VnreorgError(f"spacy package produced {len(pkg_dirs)} folders in {build_root}")
        _drop_project_requirement(pkg_dirs[0])
        _run(
            [sys.executable, "-m", "build", ".", "--wheel", "--no-isolation", "--outdir", str(out_dir)],
            cwd=pkg_dirs[0],
            quiet=quiet,
        )
    wheels = sorted(out_dir.glob(f"vi_{name}-{version}-*.whl"))
    if not wheels:
        raise VnreorgError(f"no wheel vi_{name}-{version}-*.whl was built", str(out_dir))
    return wheels[-1]
