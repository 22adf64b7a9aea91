"""Smoke test of the main job (`vnreorg all`) end to end on the real seeds and gold, with a tiny system
list (the rules baseline and the tiny config) and --quick, in a scratch copy of the inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.e2e
def test_vnreorg_all_runs_on_a_tiny_system_list(tmp_path):
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    shutil.copytree(REPO / "corpus" / "gold", tmp_path / "corpus" / "gold")
    shutil.copytree(REPO / "corpus" / "synthetic", tmp_path / "corpus" / "synthetic")  # the training corpus (issue 15)
    (tmp_path / "annotation").mkdir()
    shutil.copy(REPO / "annotation" / "GUIDELINES.md", tmp_path / "annotation" / "GUIDELINES.md")
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "vnreorg.cli", "all", "--out", "var", "--quick", "--systems", "rules,small=tiny"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((tmp_path / "var" / "main_job.json").read_text(encoding="utf-8"))
    stage = summary["model_stage"]
    assert set(stage["pooled"]) == {"rules", "small"} and stage["final_system"] in {"rules", "small"}
    assert Path(stage["wheel"]).exists()
    # issue 17: the events of the final model's own extraction of the seed corpus, with their page
    events = Path(stage["events"])
    assert (events / "index.html").exists() and (events / "events.jsonl").exists()
    assert json.loads((events / "summary.json").read_text(encoding="utf-8"))
    report = (tmp_path / "var" / "reports" / "cv" / "cv_report.md").read_text(encoding="utf-8")
    assert "| rules |" in report and "| small |" in report
    # the main job rebuilt the corpus and the exports from the same inputs: they equal the committed ones
    assert (tmp_path / "corpus" / "documents.jsonl").read_bytes() == (REPO / "corpus" / "documents.jsonl").read_bytes()
    assert (tmp_path / "corpus" / "export" / "spacy" / "all.spacy").read_bytes() == (
        REPO / "corpus" / "export" / "spacy" / "all.spacy"
    ).read_bytes()
    # one CV report: its pooled per-label scores are the ones the main job chose the final system by
    again = json.loads((tmp_path / "var" / "reports" / "cv" / "cv_report.json").read_text(encoding="utf-8"))
    assert again["pooled_per_label"]["rules"] == stage["pooled"]["rules"]
