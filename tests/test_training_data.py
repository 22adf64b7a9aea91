"""Training data per fold (models/data.py) and the written selection rule (vnreorg/selection.py)."""

import pytest

from vnreorg.errors import VnreorgError
from vnreorg.models.data import DataSources, training_documents
from vnreorg.models.fixtures import synthetic_documents
from vnreorg.selection import select_system


def test_sources_parse():
    assert DataSources.parse("all") == DataSources()
    assert DataSources.parse("seeds") == DataSources(True, False, False)
    assert DataSources.parse("synthetic,augment2") == DataSources(False, True, True, 2)
    with pytest.raises(VnreorgError):
        DataSources.parse("seeds,gold")


def test_training_documents_keep_the_test_seed_out():
    docs = synthetic_documents(n_docs=3, sentences_per_doc=4, seed=1)
    extra = synthetic_documents(n_docs=1, sentences_per_doc=2, seed=9)
    train, test = docs[:2], docs[2]
    got = training_documents(train, sources=DataSources(), synthetic=extra, test_ids=[test.id])
    ids = [d.id for d in got]
    assert ids[:2] == [d.id for d in train] and ids[2] == extra[0].id
    assert {d.meta["augmented"]["from"] for d in got[3:]} == {d.id for d in train} and len(got) == 5
    assert all(test.id not in i for i in ids)
    only = training_documents(train, sources=DataSources(seeds=False, synthetic=True, augment=False), synthetic=extra)
    assert [d.id for d in only] == [extra[0].id]
    with pytest.raises(VnreorgError):
        training_documents(docs, sources=DataSources(), synthetic=extra, test_ids=[test.id])


def _entry(ent, rel, n):
    return {"entities": {"pooled_mean": ent}, "relations": {"pooled_mean": rel}, "trained_components": n}


def test_selection_rule():
    summary = {"a": _entry(0.80, 0.50, 1), "b": _entry(0.795, 0.60, 3), "c": _entry(0.78, 0.70, 1)}
    sel = select_system(summary)
    assert sel["eligible"] == ["a", "b"] and sel["chosen"] == "b"  # c is out: entities more than 0.01 below
    tie = {"x": _entry(0.80, 0.6001, 3), "y": _entry(0.80, 0.5999, 2)}
    assert select_system(tie)["chosen"] == "y"  # equal to three decimals: fewer trained components


def test_cross_validate_seeds_runs_deterministic_systems_once(tmp_path):
    from vnreorg.cv import derive_folds
    from vnreorg.selection import cross_validate_seeds, is_deterministic

    assert is_deterministic("scored") and not is_deterministic("scored_rel")
    docs = synthetic_documents(n_docs=2, sentences_per_doc=6, seed=4)
    logs = []
    got = cross_validate_seeds(
        docs, tmp_path / "cv", folds=derive_folds(docs), systems={"rules": "rules"}, seeds=(0, 1), n_boot=10, log=logs.append
    )
    summ = got["summary"]["rules"]
    assert summ["deterministic"] and summ["entities"]["pooled_sd_over_seeds"] == 0.0
    assert got["selection"]["chosen"] == "rules"
    assert sum("rules  entities" in line for line in logs) == 2  # two folds, trained once (not once per seed)
    text = (tmp_path / "cv" / "seeds_report.md").read_text(encoding="utf-8")
    assert "shipped" in text and "threadpools" in text and (tmp_path / "cv" / "cv_report.md").exists()
