"""The packaged model: a wheel built with `spacy package`, installed into a fresh virtual environment
and loaded by name there, with this repository nowhere on the path; and the main job's model stage
in its quick form."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_trained(tmp_path_factory):
    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.models.train import train_model

    docs = synthetic_documents(n_docs=3, sentences_per_doc=20, seed=2)
    return train_model("tiny", docs, tmp_path_factory.mktemp("pkg") / "run", seed=0, quiet=True)


def test_wheel_installs_and_loads_in_a_fresh_venv(tiny_trained, tmp_path):
    from vnreorg.models.package import package_model

    wheel = package_model(
        tiny_trained.model_path, tmp_path / "dist", version="0.2.0", extra_meta={"corpus_version": "test-corpus"}, quiet=True
    )
    assert wheel.name == "vi_vnreorg-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "vi_vnreorg/components.py" in names
        assert any(n.endswith("vi_vnreorg-0.2.0/resources/agencies.tsv") for n in names)  # knowledge resources
        assert any(n.endswith("vi_vnreorg-0.2.0/resources/admin_units.tsv") for n in names)
        meta = json.loads(zf.read(next(n for n in names if n.endswith("vi_vnreorg-0.2.0/meta.json"))))
    assert meta["version"] == "0.2.0" and meta["vnreorg"]["corpus_version"] == "test-corpus"
    assert "MERGE_ACTION" in meta["labels"]["ner"] and meta["labels"]["relation_extractor"]
    assert "performance" in meta

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert install.returncode == 0, install.stderr[-3000:]
    probe = (
        "import json, sys, spacy\n"
        "nlp = spacy.load('vi_vnreorg')\n"
        "doc = nlp('Thành phố đã sáp nhập Phòng Nội vụ thành phố vào Văn phòng HĐND và UBND thành phố.')\n"
        "try:\n    import vnreorg\n    repo = True\nexcept ImportError:\n    repo = False\n"
        "print(json.dumps({'pipes': nlp.pipe_names, 'ents': [(e.text, e.label_) for e in doc.ents],\n"
        "  'rels': len(doc._.rel), 'version': nlp.meta['version'], 'repo_importable': repo,\n"
        "  'path': [p for p in sys.path if 'work/main' in p]}))\n"
    )
    run = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["repo_importable"] is False and out["path"] == []
    assert out["pipes"] == ["tok2vec", "entity_ruler", "lexicon_matcher", "ner", "relation_extractor"]
    assert out["version"] == "0.2.0"
    assert ("sáp nhập", "MERGE_ACTION") in [tuple(e) for e in out["ents"]]

    # The span and relation scorers (weights fitted with scikit-learn, applied with plain Python):
    # a second wheel in the same environment, which has spaCy but no scikit-learn.
    import spacy

    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.models.train import train_model

    docs = synthetic_documents(n_docs=3, sentences_per_doc=20, seed=2)
    scored = train_model("scored_rel", docs, tmp_path / "scored_run", seed=0, quiet=True, overrides={"training.max_epochs": 2})
    wheel2 = package_model(scored.model_path, tmp_path / "dist2", name="scoredtest", version="0.3.0", quiet=True)
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", str(wheel2)], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert install.returncode == 0, install.stderr[-3000:]
    probe2 = probe.replace("vi_vnreorg", "vi_scoredtest").replace(
        "import json, sys, spacy\n",
        "import json, sys, spacy\ntry:\n    import sklearn\n    sys.exit('sklearn is installed')\nexcept ImportError:\n    pass\n",
    )
    run = subprocess.run([str(py), "-c", probe2], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    out2 = json.loads(run.stdout.strip().splitlines()[-1])
    assert (
        out2["pipes"] == ["entity_ruler", "lexicon_matcher", "span_scorer", "tok2vec", "relation_extractor"]
        and out2["version"] == "0.3.0"
    )
    here = spacy.load(scored.model_path)("Thành phố đã sáp nhập Phòng Nội vụ thành phố vào Văn phòng HĐND và UBND thành phố.")
    assert out2["ents"] == [[e.text, e.label_] for e in here.ents] and out2["ents"]


def test_model_stage_quick_runs_end_to_end(tmp_path):
    from vnreorg.jsonio import write_documents
    from vnreorg.models.fixtures import synthetic_documents
    from vnreorg.pipeline import run_model_stage

    gold = tmp_path / "gold" / "gold.jsonl"
    write_documents(gold, synthetic_documents(n_docs=3, sentences_per_doc=12, seed=3))
    from vnreorg.models.data import DataSources

    result = run_model_stage(
        gold,
        tmp_path / "out",
        quick=True,
        systems={"rules": "rules", "ner": "tiny", "full": "tiny"},
        sources=DataSources(synthetic=False),
        log=lambda *_: None,
    )
    assert Path(result["wheel"]).exists() and Path(result["model"], "meta.json").exists()
    report = Path(result["report"])
    assert (report / "cv_report.md").exists() and (report / "model_stage.json").exists()
    assert (report / "seeds_report.md").exists() and result["selection"]["chosen"] == result["final_system"]
    assert set(result["pooled"]) == {"rules", "ner", "full"}
    assert result["timings"]["total"] > 0
