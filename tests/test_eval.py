"""The evaluator: hand-worked cases, cross-checks against nervaluate / seqeval / spaCy, laws, bad input."""

from __future__ import annotations

import copy
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from conftest import doc_from_offsets

from vnreorg.errors import VnreorgError
from vnreorg.eval.scoring import SCHEMES, evaluate_documents
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document, Relation, Span

NV_SCHEME = {"strict": "strict", "exact": "exact", "partial": "partial", "type": "ent_type"}
COUNTS = ("correct", "incorrect", "partial", "missed", "spurious")
A, T, M, N = ENTITY_LABELS  # AGENCY, TITLE, MERGE_ACTION, NUMBER


def keep_flat(spans):
    """Drop spans that overlap an earlier kept span (spans sorted by start)."""
    out = []
    for x in sorted(spans):
        if not out or x[0] >= out[-1][1]:
            out.append(x)
    return out


def doc(doc_id: str, spans, relations=(), text: str | None = None, length: int = 200) -> Document:
    return doc_from_offsets(doc_id, text if text is not None else "x" * length, spans, relations)


def counts(result, scheme: str, label: str | None = None) -> dict[str, int]:
    block = result.entities[scheme]["per_label"][label] if label else result.entities[scheme]["micro"]
    return {k: block[k] for k in COUNTS}


def nervaluate_counts(gold_docs, pred_docs):
    """nervaluate 1.2.1 on the same spans: dict loader, inclusive ends, spans in canonical order."""
    from nervaluate import Evaluator

    def to_nv(docs):
        by_id = sorted(docs, key=lambda d: d.id)
        return [
            [
                {"label": s.label, "start": s.start, "end": s.end - 1}
                for s in sorted(d.spans, key=lambda s: (s.start, s.end, s.label))
            ]
            for d in by_id
        ]

    res = Evaluator(to_nv(gold_docs), to_nv(pred_docs), tags=list(ENTITY_LABELS), loader="dict").evaluate()
    overall = {
        s: {k: getattr(res["overall"][NV_SCHEME[s]], k) for k in COUNTS} | {"f1": res["overall"][NV_SCHEME[s]].f1}
        for s in SCHEMES
        if NV_SCHEME[s] in res["overall"]
    }
    per_label = {
        lab: {s: {k: getattr(r[NV_SCHEME[s]], k) for k in COUNTS} | {"f1": r[NV_SCHEME[s]].f1} for s in SCHEMES}
        for lab, r in res["entities"].items()
    }
    return overall, per_label


# --------------------------------------------------------------------------------------------------
# Hand-worked cases (the SemEval-2013 9.1 table that nervaluate popularised)
# --------------------------------------------------------------------------------------------------


def test_semeval_cases_by_hand():
    gold = [doc("d", [(0, 5, A), (10, 15, T), (20, 25, M), (30, 35, N), (40, 45, A)])]
    pred = [
        doc(
            "d",
            [
                (0, 5, A),  # correct everywhere
                (10, 15, A),  # same boundaries, wrong label
                (21, 25, M),  # boundary error, right label
                (31, 33, A),  # boundary and label error
                # (40, 45) missed
                (60, 65, N),
            ],
        )
    ]  # spurious
    r = evaluate_documents(gold, pred, n_boot=0)
    assert counts(r, "strict") == {"correct": 1, "incorrect": 3, "partial": 0, "missed": 1, "spurious": 1}
    assert counts(r, "exact") == {"correct": 2, "incorrect": 2, "partial": 0, "missed": 1, "spurious": 1}
    assert counts(r, "partial") == {"correct": 2, "incorrect": 0, "partial": 2, "missed": 1, "spurious": 1}
    assert counts(r, "type") == {"correct": 2, "incorrect": 2, "partial": 0, "missed": 1, "spurious": 1}
    # P = (COR + 0.5 PAR) / ACT with ACT = 5 predictions, R over POS = 5 gold spans.
    assert r.entities["partial"]["micro"]["precision"] == pytest.approx(3 / 5)
    assert r.entities["strict"]["micro"]["recall"] == pytest.approx(1 / 5)
    # Per label a label swap is missed + spurious (gold TITLE missed, predicted AGENCY spurious).
    assert counts(r, "strict", T) == {"correct": 0, "incorrect": 0, "partial": 0, "missed": 1, "spurious": 0}
    assert r.error_counts["wrong_label"] == 1
    assert r.error_counts["wrong_boundaries"] == 1
    assert r.error_counts["wrong_label_and_boundaries"] == 1
    assert r.error_counts["missed"] == 1 and r.error_counts["spurious"] == 1
    assert r.entities["strict"]["macro"]["labels"] == list(ENTITY_LABELS)


def test_errors_carry_sentence_and_spans():
    text = "Sáp nhập Sở Nội vụ vào UBND tỉnh. Câu thứ hai có Ban Tổ chức."
    gold = [Document("d", text, sentences=[(0, 33), (34, len(text))], spans=[Span("a", 9, 18, A), Span("b", 49, 60, A)])]
    pred = [Document("d", text, sentences=[(0, 33), (34, len(text))], spans=[Span("p", 9, 18, T)])]
    r = evaluate_documents(gold, pred, n_boot=0)
    wrong = next(e for e in r.errors if e["kind"] == "wrong_label")
    assert wrong["sentence"]["text"] == "Sáp nhập Sở Nội vụ vào UBND tỉnh."
    assert wrong["gold"][0]["text"] == "Sở Nội vụ" and wrong["pred"][0]["label"] == T
    missed = next(e for e in r.errors if e["kind"] == "missed")
    assert missed["sentence"]["text"] == "Câu thứ hai có Ban Tổ chức."


# --------------------------------------------------------------------------------------------------
# Our matching rule where it differs from nervaluate 1.2.1 (documented in eval/README.md)
# --------------------------------------------------------------------------------------------------


def test_rule_overlapping_predictions_exact_match_wins_regardless_of_order():
    """nervaluate (issue 84) lets an earlier overlapping prediction consume the gold span that a later
    prediction matches exactly, so its counts depend on the order of predictions. Ours pair exact
    matches first: the exact prediction is correct, the other one spurious, in any order."""
    gold = [doc("d", [(0, 10, A)])]
    short_first = [doc("d", [(0, 4, A), (0, 10, A)])]
    exact_first = [doc("d", [(0, 10, A), (0, 4, A)])]
    for pred in (short_first, exact_first):
        r = evaluate_documents(gold, pred, n_boot=0)
        assert counts(r, "strict") == {"correct": 1, "incorrect": 0, "partial": 0, "missed": 0, "spurious": 1}
    assert any("overlap another predicted span" in n for n in r.notes)
    # nervaluate in canonical order (short span first): the exact prediction ends up spurious.
    nv, _ = nervaluate_counts(gold, short_first)
    assert {k: nv["strict"][k] for k in COUNTS} == {"correct": 0, "incorrect": 1, "partial": 0, "missed": 0, "spurious": 1}


def test_rule_type_scheme_prefers_the_same_label_prediction():
    """Two disjoint predictions inside one gold span: nervaluate's ent_type gives the gold span to the
    first (wrong-label) prediction; ours pairs same-label overlaps first (phase 1)."""
    gold = [doc("d", [(0, 10, T)])]
    pred = [doc("d", [(0, 4, A), (5, 10, T)])]
    r = evaluate_documents(gold, pred, n_boot=0)
    assert counts(r, "type") == {"correct": 1, "incorrect": 0, "partial": 0, "missed": 0, "spurious": 1}
    nv, _ = nervaluate_counts(gold, pred)
    assert {k: nv["type"][k] for k in COUNTS} == {"correct": 0, "incorrect": 1, "partial": 0, "missed": 0, "spurious": 1}


def test_rule_one_prediction_over_two_gold_spans_counts_once():
    """The issue-84 trap of older nervaluate (one prediction counted against both gold spans): ours
    counts it once (INC against the first gold span), the second gold span is missed; nervaluate 1.2.1
    agrees."""
    gold = [doc("d", [(0, 5, A), (6, 12, A)])]
    pred = [doc("d", [(0, 12, A)])]
    r = evaluate_documents(gold, pred, n_boot=0)
    want = {"correct": 0, "incorrect": 1, "partial": 0, "missed": 1, "spurious": 0}
    assert counts(r, "strict") == want
    assert counts(r, "partial") == {**want, "incorrect": 0, "partial": 1}
    assert counts(r, "type") == {"correct": 1, "incorrect": 0, "partial": 0, "missed": 1, "spurious": 0}
    assert r.entities["strict"]["micro"]["actual"] == 1 and r.entities["strict"]["micro"]["possible"] == 2
    nv, _ = nervaluate_counts(gold, pred)
    assert {k: nv["strict"][k] for k in COUNTS} == want


def test_rule_any_overlap_counts_even_for_long_gold_spans():
    """nervaluate needs an overlap of at least 1% of the gold span; ours any shared character."""
    gold = [doc("d", [(0, 150, A)])]
    pred = [doc("d", [(149, 160, A)])]
    r = evaluate_documents(gold, pred, n_boot=0)
    assert counts(r, "strict") == {"correct": 0, "incorrect": 1, "partial": 0, "missed": 0, "spurious": 0}
    nv, _ = nervaluate_counts(gold, pred)
    assert {k: nv["strict"][k] for k in COUNTS} == {"correct": 0, "incorrect": 0, "partial": 0, "missed": 1, "spurious": 1}


# --------------------------------------------------------------------------------------------------
# Cross-check: nervaluate on random flat spans
# --------------------------------------------------------------------------------------------------


@st.composite
def flat_spans(draw, length: int, max_spans: int = 7):
    """Non-overlapping spans: sorted cut points taken in pairs."""
    n = draw(st.integers(0, max_spans))
    points = sorted(draw(st.lists(st.integers(0, length), min_size=2 * n, max_size=2 * n)))
    labels = draw(st.lists(st.sampled_from(ENTITY_LABELS), min_size=n, max_size=n))
    return [(points[2 * i], points[2 * i + 1], labels[i]) for i in range(n) if points[2 * i] < points[2 * i + 1]]


@st.composite
def flat_corpus(draw, max_docs: int = 4, length: int = 40):
    n = draw(st.integers(1, max_docs))
    gold, pred = [], []
    for i in range(n):
        g = draw(flat_spans(length))
        # Predictions: some copies of gold, some perturbed, some random.
        p = draw(flat_spans(length)) if draw(st.booleans()) else [x for x in g if draw(st.booleans())]
        gold.append(doc(f"d{i}", g, length=length))
        pred.append(doc(f"d{i}", p, length=length))
    return gold, pred


def _gold_overlaps_two_predictions(gold, pred) -> bool:
    for g, p in zip(gold, pred):
        for a in g.spans:
            if sum(1 for b in p.spans if b.start < a.end and a.start < b.end) > 1:
                return True
    return False


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flat_corpus())
def test_equal_to_nervaluate_on_flat_spans(corpus):
    gold, pred = corpus
    r = evaluate_documents(gold, pred, n_boot=0)
    nv_overall, nv_labels = nervaluate_counts(gold, pred)
    type_comparable = not _gold_overlaps_two_predictions(gold, pred)
    for s in SCHEMES:
        if s == "type" and not type_comparable:
            continue  # test_rule_type_scheme_prefers_the_same_label_prediction shows this case
        if s in nv_overall:
            assert counts(r, s) == {k: nv_overall[s][k] for k in COUNTS}, s
            assert r.entities[s]["micro"]["f1"] == pytest.approx(nv_overall[s]["f1"], abs=1e-12)
        for lab, by_scheme in nv_labels.items():
            assert counts(r, s, lab) == {k: by_scheme[s][k] for k in COUNTS}, (s, lab)
            assert r.entities[s]["per_label"][lab]["f1"] == pytest.approx(by_scheme[s]["f1"], abs=1e-12)


def test_equal_to_nervaluate_on_a_larger_random_corpus():
    """One bigger run (hundreds of spans, many documents) so cluster code paths get exercised."""
    rng = random.Random(7)
    gold, pred = [], []
    for i in range(60):
        g, p, pos = [], [], 0
        while pos < 900:
            pos += rng.randint(0, 6)
            ln = rng.randint(1, 12)
            lab = rng.choice(ENTITY_LABELS)
            g.append((pos, pos + ln, lab))
            r = rng.random()
            if r < 0.6:
                p.append((pos, pos + ln, lab))
            elif r < 0.7:
                p.append((pos, pos + ln, rng.choice(ENTITY_LABELS)))
            elif r < 0.8:
                p.append((pos + 1, pos + ln + 2, lab))  # may reach into the next gold span
            elif r < 0.85:
                p.append((max(0, pos - 3), pos + ln + 5, lab))
            pos += ln + 2
        p = keep_flat(p)
        gold.append(doc(f"d{i:03d}", g, length=1000))
        pred.append(doc(f"d{i:03d}", p, length=1000))
    r = evaluate_documents(gold, pred, n_boot=0)
    nv_overall, nv_labels = nervaluate_counts(gold, pred)
    for s in ("strict", "exact", "partial"):
        assert counts(r, s) == {k: nv_overall[s][k] for k in COUNTS}, s
        for lab in ENTITY_LABELS:
            assert counts(r, s, lab) == {k: nv_labels[lab][s][k] for k in COUNTS}
    assert r.entities["strict"]["micro"]["incorrect"] > 50  # the case mix really has errors


# --------------------------------------------------------------------------------------------------
# Cross-check: seqeval (strict, IOB2) and spaCy's Scorer, on token-aligned spans
# --------------------------------------------------------------------------------------------------

TEXT = (
    "Thực hiện Nghị quyết số 18-NQ/TW, tỉnh Sóc Trăng đã sáp nhập Ban Tuyên giáo Thành ủy với "
    "Trung tâm Bồi dưỡng chính trị; giảm 12 đơn vị sự nghiệp, 7,5% biên chế và bố trí Bí thư Đảng ủy "
    "đồng thời là Chủ tịch UBND phường 6."
)


@pytest.fixture(scope="module")
def tokens():
    from vnreorg.corpus.tokenize import tokenize

    return tokenize(TEXT)


def token_spans(rng: random.Random, toks, n: int):
    """Random non-overlapping spans on token boundaries."""
    cuts = sorted(rng.sample(range(len(toks) + 1), min(2 * n, len(toks) + 1) // 2 * 2))
    out = []
    for i in range(0, len(cuts), 2):
        a, b = cuts[i], cuts[i + 1]
        if a < b:
            out.append((toks[a][1], toks[b - 1][2], rng.choice(ENTITY_LABELS)))
    return out


def bio(toks, spans):
    tags = ["O"] * len(toks)
    for s, e, lab in spans:
        inside = [i for i, (_, a, b) in enumerate(toks) if a >= s and b <= e]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + lab
    return tags


def random_token_corpus(toks, seed: int, n_docs: int = 6):
    rng = random.Random(seed)
    gold, pred = [], []
    for i in range(n_docs):
        g = token_spans(rng, toks, rng.randint(0, 8))
        p = [x for x in g if rng.random() < 0.6] + [x for x in token_spans(rng, toks, rng.randint(0, 5))]
        p = keep_flat(set(p))
        gold.append(doc(f"d{i}", g, text=TEXT))
        pred.append(doc(f"d{i}", p, text=TEXT))
    return gold, pred


@pytest.mark.parametrize("seed", range(12))
def test_strict_micro_equals_seqeval(tokens, seed):
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2

    gold, pred = random_token_corpus(tokens, seed)
    y_true = [bio(tokens, [(s.start, s.end, s.label) for s in d.spans]) for d in gold]
    y_pred = [bio(tokens, [(s.start, s.end, s.label) for s in d.spans]) for d in pred]
    r = evaluate_documents(gold, pred, n_boot=0).entities
    kw = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    assert r["strict"]["micro"]["precision"] == pytest.approx(precision_score(y_true, y_pred, **kw))
    assert r["strict"]["micro"]["recall"] == pytest.approx(recall_score(y_true, y_pred, **kw))
    assert r["strict"]["micro"]["f1"] == pytest.approx(f1_score(y_true, y_pred, **kw))


@pytest.mark.parametrize("seed", range(12))
def test_strict_micro_and_per_label_equal_spacy_scorer(seed, tokens):
    from spacy.scorer import get_ner_prf
    from spacy.training import Example

    from vnreorg.corpus.tokenize import shared_blank_vi

    nlp = shared_blank_vi()
    gold, pred = random_token_corpus(tokens, seed)
    examples = []
    for g, p in zip(gold, pred):
        gdoc, pdoc = nlp.make_doc(TEXT), nlp.make_doc(TEXT)
        gdoc.ents = [gdoc.char_span(s.start, s.end, s.label) for s in g.spans]
        pdoc.ents = [pdoc.char_span(s.start, s.end, s.label) for s in p.spans]
        examples.append(Example(pdoc, gdoc))
    spacy_scores = get_ner_prf(examples)
    r = evaluate_documents(gold, pred, n_boot=0).entities["strict"]
    assert r["micro"]["precision"] == pytest.approx(spacy_scores["ents_p"])
    assert r["micro"]["recall"] == pytest.approx(spacy_scores["ents_r"])
    assert r["micro"]["f1"] == pytest.approx(spacy_scores["ents_f"])
    for lab, prf in (spacy_scores["ents_per_type"] or {}).items():
        assert r["per_label"][lab]["precision"] == pytest.approx(prf["p"])
        assert r["per_label"][lab]["recall"] == pytest.approx(prf["r"])
        assert r["per_label"][lab]["f1"] == pytest.approx(prf["f"])


# --------------------------------------------------------------------------------------------------
# Relations (Taillé et al. 2020)
# --------------------------------------------------------------------------------------------------


def test_relations_strict_and_boundaries():
    gold = [
        doc(
            "d",
            [(0, 5, M), (10, 15, A), (20, 22, N), (30, 35, A)],
            [("s0", "s1", "source"), ("s0", "s2", "amount"), ("s0", "s3", "target")],
        )
    ]
    pred = [
        doc(
            "d",
            [(0, 5, M), (10, 15, T), (20, 22, N), (31, 35, A), (50, 55, A)],
            [
                ("s0", "s1", "source"),  # child label wrong: boundaries only
                ("s0", "s2", "amount"),  # right
                ("s0", "s3", "target"),  # child boundary wrong: neither
                ("s0", "s4", "source"),
            ],
        )
    ]  # child matches no gold span: spurious, no crash
    r = evaluate_documents(gold, pred, n_boot=0)
    assert r.relations["strict"]["micro"]["tp"] == 1
    assert r.relations["boundaries"]["micro"]["tp"] == 2
    assert r.relations["strict"]["micro"]["precision"] == pytest.approx(1 / 4)
    assert r.relations["strict"]["micro"]["recall"] == pytest.approx(1 / 3)
    assert r.relations["boundaries"]["per_label"]["source"] == {
        "tp": 1,
        "pred": 2,
        "gold": 1,
        "precision": 0.5,
        "recall": 1.0,
        "f1": pytest.approx(2 / 3),
    }
    assert r.error_counts["relation_missed"] == 2 and r.error_counts["relation_spurious"] == 3
    reasons = {e["reason"] for e in r.errors if e["kind"] == "relation_spurious"}
    assert "an argument span is not a gold span" in reasons


def test_relation_label_and_direction_matter():
    gold = [doc("d", [(0, 5, M), (10, 15, A)], [("s0", "s1", "source")])]
    wrong_label = [doc("d", [(0, 5, M), (10, 15, A)], [("s0", "s1", "target")])]
    reversed_ = [doc("d", [(0, 5, M), (10, 15, A)], [("s1", "s0", "source")])]
    for pred in (wrong_label, reversed_):
        r = evaluate_documents(gold, pred, n_boot=0)
        assert r.relations["strict"]["micro"]["tp"] == 0 and r.relations["boundaries"]["micro"]["tp"] == 0


# --------------------------------------------------------------------------------------------------
# Laws (hypothesis): order invariance, perfect = 1, empty -> recall 0
# --------------------------------------------------------------------------------------------------


@st.composite
def any_corpus(draw, max_docs: int = 4, length: int = 30):
    """Arbitrary spans (overlaps allowed on both sides) and relations between them."""
    span = st.tuples(st.integers(0, length - 1), st.integers(1, 8), st.sampled_from(ENTITY_LABELS)).map(
        lambda t: (t[0], min(length, t[0] + t[1]), t[2])
    )
    n = draw(st.integers(1, max_docs))
    gold, pred = [], []
    for i in range(n):
        sides = []
        for _ in range(2):
            spans = draw(st.lists(span, max_size=6))
            rels = []
            if len(spans) >= 2:
                rels = draw(
                    st.lists(
                        st.tuples(
                            st.integers(0, len(spans) - 1), st.integers(0, len(spans) - 1), st.sampled_from(RELATION_LABELS)
                        ),
                        max_size=4,
                    )
                )
            sides.append(doc(f"d{i}", spans, [(f"s{h}", f"s{c}", lab) for h, c, lab in rels], length=length))
        gold.append(sides[0])
        pred.append(sides[1])
    return gold, pred


def _shuffled(docs, rng: random.Random):
    out = copy.deepcopy(docs)
    rng.shuffle(out)
    for d in out:
        rng.shuffle(d.spans)
        rng.shuffle(d.relations)
    return out


@settings(max_examples=60, deadline=None)
@given(any_corpus(), st.integers(0, 10**6))
def test_scores_invariant_under_document_and_span_order(corpus, seed):
    gold, pred = corpus
    rng = random.Random(seed)
    a = evaluate_documents(gold, pred, n_boot=30).to_dict()
    b = evaluate_documents(_shuffled(gold, rng), _shuffled(pred, rng), n_boot=30).to_dict()
    assert a["entities"] == b["entities"]
    assert a["relations"] == b["relations"]
    assert a["ci95"] == b["ci95"]
    assert a["confusion"] == b["confusion"]
    assert a["error_counts"] == b["error_counts"]


@settings(max_examples=60, deadline=None)
@given(any_corpus())
def test_perfect_prediction_scores_one(corpus):
    gold, _ = corpus
    r = evaluate_documents(gold, copy.deepcopy(gold), n_boot=20)
    if r.n_gold_spans:
        for s in SCHEMES:
            assert r.entities[s]["micro"]["f1"] == 1.0
            assert r.entities[s]["micro"]["precision"] == 1.0 and r.entities[s]["micro"]["recall"] == 1.0
            assert r.ci[f"entities.{s}"] == [1.0, 1.0]
        assert r.entities["strict"]["macro"]["f1"] == 1.0
    if r.n_gold_relations:
        assert r.relations["strict"]["micro"]["f1"] == 1.0 and r.relations["boundaries"]["micro"]["f1"] == 1.0
    assert all(v == 0 for v in r.error_counts.values())


@settings(max_examples=60, deadline=None)
@given(any_corpus())
def test_empty_prediction_has_recall_zero(corpus):
    gold, _ = corpus
    empty = [Document(d.id, d.text) for d in gold]
    r = evaluate_documents(gold, empty, n_boot=20)
    for s in SCHEMES:
        assert r.entities[s]["micro"]["recall"] == 0.0 and r.entities[s]["micro"]["f1"] == 0.0
        assert r.entities[s]["micro"]["missed"] == r.n_gold_spans
    assert r.relations["strict"]["micro"]["recall"] == 0.0
    assert r.error_counts["missed"] == r.n_gold_spans


@settings(max_examples=60, deadline=None)
@given(any_corpus())
def test_counts_add_up(corpus):
    """Every gold span and every prediction is classified exactly once, in every scheme and label."""
    gold, pred = corpus
    r = evaluate_documents(gold, pred, n_boot=0)
    for s in SCHEMES:
        m = r.entities[s]["micro"]
        assert m["actual"] == r.n_pred_spans and m["possible"] == r.n_gold_spans
        for lab in ENTITY_LABELS:
            pl = r.entities[s]["per_label"][lab]
            assert pl["actual"] == pl["predicted"] and pl["possible"] == pl["support"]
    conf = r.confusion["matrix"]
    assert sum(map(sum, conf)) - conf[-1][-1] == r.n_gold_spans + r.entities["type"]["micro"]["spurious"]


# --------------------------------------------------------------------------------------------------
# Bootstrap
# --------------------------------------------------------------------------------------------------


def _noisy_corpus(n_docs: int = 30, seed: int = 3):
    rng = random.Random(seed)
    gold, pred = [], []
    for i in range(n_docs):
        g = [(k * 10, k * 10 + 5, rng.choice(ENTITY_LABELS)) for k in range(rng.randint(1, 12))]
        p = [x if rng.random() < 0.7 else (x[0] + 1, x[1], x[2]) for x in g if rng.random() < 0.9]
        gold.append(doc(f"d{i:02d}", g))
        pred.append(doc(f"d{i:02d}", p))
    return gold, pred


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    gold, pred = _noisy_corpus()
    a = evaluate_documents(gold, pred, seed=1, n_boot=300)
    b = evaluate_documents(gold, pred, seed=1, n_boot=300)
    c = evaluate_documents(gold, pred, seed=2, n_boot=300)
    assert a.ci == b.ci and a.ci != c.ci
    lo, hi = a.ci["entities.strict"]
    assert 0 <= lo < a.entities["strict"]["micro"]["f1"] < hi <= 1
    assert evaluate_documents(gold, pred, n_boot=0).ci == {}


# --------------------------------------------------------------------------------------------------
# Bad input: a clear error naming the place, or a reported rule
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "have no prediction"),
        ("extra", "not in gold"),
        ("dup_doc", "occurs twice"),
        ("text", "text differs"),
        ("label", "unknown label 'PERSON'"),
        ("rel_label", "unknown label 'merge'"),
        ("rel_missing", "refers to missing span 's9'"),
        ("offsets", "bad offsets [5, 3)"),
        ("beyond", "bad offsets [190, 250)"),
        ("float", "offsets must be integers"),
        ("dup_span", "span id 's0' used 2 times"),
        ("no_gold", "no gold documents"),
    ],
)
def test_bad_input_is_a_located_error(case, message):
    gold = [doc("a", [(0, 5, A), (10, 15, M)], [("s1", "s0", "source")]), doc("b", [(0, 5, N)])]
    pred = [doc("a", [(0, 5, A)]), doc("b", [])]
    if case == "missing":
        pred = pred[:1]
    elif case == "extra":
        pred.append(doc("c", []))
    elif case == "dup_doc":
        pred.append(doc("b", []))
    elif case == "text":
        pred[1] = doc("b", [], text="x" * 199 + "y")
    elif case == "label":
        pred[0].spans[0].label = "PERSON"
    elif case == "rel_label":
        pred[0] = doc("a", [(0, 5, M), (6, 9, A)], [("s0", "s1", "merge")])
    elif case == "rel_missing":
        pred[0] = doc("a", [(0, 5, M)], [("s0", "s9", "source")])
    elif case == "offsets":
        pred[0].spans[0].start, pred[0].spans[0].end = 5, 3
    elif case == "beyond":
        pred[0].spans[0].start, pred[0].spans[0].end = 190, 250
    elif case == "float":
        pred[0].spans[0].end = 5.0
    elif case == "dup_span":
        pred[0] = doc("a", [(0, 5, M), (6, 9, A)], [("s0", "s1", "source")])
        pred[0].spans[1].id = "s0"
    elif case == "no_gold":
        gold, pred = [], []
    with pytest.raises(VnreorgError) as exc:
        evaluate_documents(gold, pred, n_boot=0, gold_source="gold.jsonl", pred_source="pred.jsonl")
    assert message in str(exc.value)
    if case in ("text", "label", "rel_label", "rel_missing", "offsets", "beyond", "float", "dup_span"):
        assert "pred.jsonl doc=" in str(exc.value)


def test_overlapping_gold_and_predictions_are_scored_and_reported():
    gold = [doc("d", [(0, 10, A), (5, 12, T)])]
    pred = [doc("d", [(0, 10, A), (2, 6, T), (5, 12, T)])]
    r = evaluate_documents(gold, pred, n_boot=0)
    assert counts(r, "strict") == {"correct": 2, "incorrect": 0, "partial": 0, "missed": 0, "spurious": 1}
    assert any("predicted span(s) overlap" in n for n in r.notes)
    assert any("gold span(s) overlap" in n for n in r.notes)


def test_fallback_without_integer_keys_gives_the_same_scores(monkeypatch):
    """Texts too long for one int64 key per span take a slower path (lexsort, dense ranks): same result."""
    import vnreorg.eval.scoring as scoring

    gold, pred = _noisy_corpus(n_docs=8, seed=11)
    for g, p in zip(gold, pred):
        g.relations = [Relation(g.spans[0].id, s.id, "source") for s in g.spans[1:3]]
        ids = {s.id for s in p.spans}
        p.relations = [r for r in g.relations if r.head in ids and r.child in ids]
    fast = evaluate_documents(gold, pred, n_boot=50).to_dict()
    monkeypatch.setattr(scoring, "_KEY_LIMIT", 0)
    slow = evaluate_documents(gold, pred, n_boot=50).to_dict()
    assert slow == fast
    assert fast["relations"]["strict"]["micro"]["tp"] > 0


@settings(max_examples=80, deadline=None)
@given(any_corpus())
def test_per_label_shortcut_equals_scoring_each_label_alone(corpus):
    """Per-label counts reuse the overall phase-1 pairs; check them against aligning each label's
    spans on their own (the definition), on corpora with overlapping spans on both sides."""
    import numpy as np

    import vnreorg.eval.scoring as sc

    gold, pred = corpus
    r = evaluate_documents(gold, pred, n_boot=0)
    docs_g, docs_p = sc._pair_documents(gold, pred, None, None)
    lengths = np.array([len(d.text) + 1 for d in docs_g])
    base = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    g, _ = sc._extract(docs_g, base, int(lengths.max()), None, "gold")
    p, _ = sc._extract(docs_p, base, int(lengths.max()), None, "prediction")
    for li, label in enumerate(ENTITY_LABELS):
        gs, ps = g.subset(g.label == li), p.subset(p.label == li)
        exact = sc._align(gs, ps, "exact")
        alone = {
            "strict": sc._align(gs, ps, "strict"),
            "exact": exact,
            "partial": sc._as_partial(exact),
            "type": sc._align(gs, ps, "type"),
        }
        for s in SCHEMES:
            assert counts(r, s, label) == alone[s].counts(), (s, label)
