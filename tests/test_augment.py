"""Mention replacement (models/augment.py): the laws it must keep, checked on real gold documents and on
the constructed synthetic worksheet, for many seeds and rates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnreorg.corpus.tokenize import tokenize
from vnreorg.corpus.validate import validate_documents
from vnreorg.errors import VnreorgError
from vnreorg.jsonio import read_documents
from vnreorg.models.augment import replace_mentions
from vnreorg.models.resources import fold, load_resources

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def docs():
    from vnreorg.annotation.synthetic import import_synthetic

    gold = sorted(read_documents(REPO / "corpus" / "gold" / "gold.jsonl"), key=lambda d: len(d.text))[:2]
    return gold + import_synthetic([REPO / "tests" / "data" / "synthetic" / "x_01.txt"]).documents


def _skeleton(doc):
    """The text with every span cut out: what replacement must leave untouched."""
    parts, pos = [], 0
    for s in sorted(doc.spans, key=lambda s: s.start):
        parts.append(doc.text[pos : s.start])
        pos = s.end
    return parts + [doc.text[pos:]]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), rate=st.sampled_from([0.3, 0.7, 1.0]))
def test_replacement_keeps_alignment_roles_and_the_rest_of_the_text(docs, seed, rate):
    res = load_resources()
    out = replace_mentions(docs, res, seed=seed, rate=rate)
    assert len(out) == len(docs)
    assert validate_documents(out) == []  # offsets, edges, token edges, sentences, relation types and sentences
    for old, new in zip(docs, out):
        assert new.id == f"{old.id}.aug1" and new.meta["augmented"]["from"] == old.id
        starts, ends = {t[1] for t in tokenize(new.text)}, {t[2] for t in tokenize(new.text)}
        old_by_id, new_by_id = old.span_by_id(), new.span_by_id()
        assert old_by_id.keys() == new_by_id.keys()
        for sid, span in new_by_id.items():
            assert span.start in starts and span.end in ends
            assert span.label == old_by_id[sid].label
            before, after = old.span_text(old_by_id[sid]), new.span_text(span)
            assert span.text in (None, after)  # a recorded span text follows the replacement
            if span.label == "MERGE_ACTION":
                assert after == before
            if span.label == "NUMBER":
                assert re.sub(r"\d", "d", after) == re.sub(r"\d", "d", before)
            if span.label == "AGENCY" and after != before:
                assert fold(after) in res.agency_forms(), after  # a resource form, never a bare unit name
        assert [(r.head, r.child, r.label) for r in new.relations] == [(r.head, r.child, r.label) for r in old.relations]
        for r in new.relations:  # same roles: the head is the same action, the child the same kind of entity
            assert new_by_id[r.head].label == old_by_id[r.head].label == "MERGE_ACTION"
            assert new_by_id[r.child].label == old_by_id[r.child].label
        assert _skeleton(new) == _skeleton(old)
        assert len(new.sentences) == len(old.sentences) and len(new.paragraphs) == len(old.paragraphs)
        for (a, b), (c, d) in zip(new.sentences, old.sentences):  # a sentence grows by what its mentions grew
            assert (b - a) - (d - c) == sum(
                (s.end - s.start) - (old_by_id[s.id].end - old_by_id[s.id].start) for s in new.spans if a <= s.start < b
            )


def test_same_seed_same_documents_and_rate_zero_is_a_copy(docs):
    a = replace_mentions(docs, seed=7, copies=2)
    b = replace_mentions(docs, seed=7, copies=2)
    assert [d.to_dict() for d in a] == [d.to_dict() for d in b]
    assert len(a) == 2 * len(docs) and a[0].text != a[1].text
    assert replace_mentions(docs, seed=8)[0].text != a[0].text
    zero = replace_mentions(docs, seed=7, rate=0.0)
    assert [d.text for d in zero] == [d.text for d in docs]


def test_replacement_reaches_every_kind(docs):
    out = replace_mentions(docs, seed=3)
    changed = {
        s.label for old, new in zip(docs, out) for s in new.spans if new.span_text(s) != old.span_text(old.span_by_id()[s.id])
    }
    assert changed == {"AGENCY", "TITLE", "NUMBER"}


def test_test_fold_documents_are_refused(docs):
    with pytest.raises(VnreorgError, match="test-fold"):
        replace_mentions(docs, seed=0, forbidden_ids=[docs[0].id])
