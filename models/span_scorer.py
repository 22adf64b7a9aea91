"""`span_scorer` (factory): logistic regressions that decide which of the entity ruler's and a head
lexicon's candidate starts begin an entity and where it ends; each entity gets a confidence."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from spacy.vocab import Vocab

from .docext import ENT_SCORE_KEY, tokens_copy
from .lexicon import lexicon_candidate_starts, lexicon_end_features, lexicon_start_features  # issue 15
from .pipe_base import _factory, _fit_logistic, _FittedCfg

# ---------------------------------------------------------------- span scorer

SCORER_MAX_LEN = {"AGENCY": 24, "TITLE": 20, "MERGE_ACTION": 6, "NUMBER": 4}
# Tokens no span runs across (a name may hold ",", "-", "&", "/", "và").
SCORER_HARD_STOPS = {".", ";", ":", "!", "?", "(", ")", "“", "”", '"', "…"}
# Vietnamese function words (conjunctions, prepositions, aspect and modal markers, determiners): a
# name rarely ends on one and often ends before one.
SCORER_FUNCTION_WORDS = set(
    "đã đang sẽ vào và với làm về được bị thành có là các của cho để từ theo tại trong do nên mà thì khi sau trước "
    "nay này đó cùng hoặc hay như trên dưới ra lên đến tới những mỗi một hai ba gồm nhằm đồng thời cũng vẫn chỉ".split()
)
SCORER_CUE_WORDS = {"không", "chưa", "đồng", "kiêm", "giảm", "chi", "biên", "số", "trung", "khóa", "khoá", "năm", "thứ", "hạng"}


# Token attributes of the doc being scored, read once per doc (a `doc[i]` builds a Token object: it was a
# fifth of the span scorer's time). The scorer works on one doc at a time; the reference keeps `is` exact.
_TOKENS: list = [None, None]


def _tokens(doc: Doc) -> tuple[list[str], list[str], list[str], list[str]]:
    """(texts, lowers, shapes cut to 4, kinds) of the doc's tokens."""
    if _TOKENS[0] is doc:
        return _TOKENS[1]
    texts, lowers, shapes, kinds = [], [], [], []
    for t in doc:
        x = t.text
        texts.append(x)
        lowers.append(t.lower_)
        shapes.append(t.shape_[:4])
        if t.is_punct or not x[:1].isalnum():
            kinds.append("punct")
        elif x[:1].isdigit():
            kinds.append("digit")
        else:
            kinds.append("upper" if x[:1].isupper() else "lower")
    _TOKENS[0], _TOKENS[1] = doc, (texts, lowers, shapes, kinds)
    return _TOKENS[1]


def _low(doc: Doc, i: int, lo: int, hi: int) -> str:
    if i < lo:
        return "<s>"
    if i >= hi:
        return "</s>"
    return _tokens(doc)[1][i]


def _kind(doc: Doc, i: int, lo: int, hi: int) -> str:
    """A coarse class of a token: edge, punct, digit, upper (capitalised), lower."""
    if i < lo or i >= hi:
        return "edge"
    return _tokens(doc)[3][i]


def _shape(doc: Doc, i: int, lo: int, hi: int) -> str:
    if i < lo or i >= hi:
        return "<b>"
    return _tokens(doc)[2][i]


@_factory("span_scorer", requires=["doc.ents"], assigns=["doc.ents"], default_config={"threshold": 0.5})
def make_span_scorer(nlp: Language, name: str, threshold: float) -> "SpanScorer":
    return SpanScorer(nlp.vocab, name, threshold)


class SpanScorer(_FittedCfg):
    """Learned span decisions over rule proposals, for a corpus far too small to learn entities from
    scratch. Candidate starts are the starts of the upstream entity ruler's entities and every match
    of a head lexicon (agency and title heads, any case); candidate ends are every token end up to a
    per-label length, inside the sentence, not across hard punctuation nor (for agencies and titles)
    an action trigger. Two logistic regressions over sparse features decide: whether a (start,
    label) begins an entity (context words and shapes, cues such as a count after an action or a
    negation before it, what the ruler proposed there), and which end it has (boundary words and
    kinds, function words and heads inside, the offset from the ruler's end). Starts at or above the
    threshold are taken greedily by probability without overlaps, each with its most probable end;
    the entity's confidence (start times end probability) goes to `doc.user_data`. Fitted in
    `initialize` on the training examples (scikit-learn); applied with plain Python, so the
    packaged model needs only spaCy."""

    def __init__(self, vocab: Vocab, name: str = "span_scorer", threshold: float = 0.5):
        self.vocab = vocab
        self.name = name
        self.cfg: dict = {
            "threshold": threshold,
            "heads": {},
            "start_weights": {},
            "start_bias": 0.0,
            "end_weights": {},
            "end_bias": 0.0,
        }
        self._index: dict | None = None
        self._starts: set | None = None

    # candidates and features ------------------------------------------------------------
    def _head_index(self) -> dict:
        if self._index is None:
            index: dict[str, list[tuple[list[str], str]]] = {}
            for label, phrases in self.cfg["heads"].items():
                for phrase in phrases:
                    words = phrase.lower().split()
                    index.setdefault(words[0], []).append((words, label))
            self._index = index
        return self._index

    def _head_starts(self) -> set[tuple[str, str]]:
        if self._starts is None:
            self._starts = {(w, label) for w, entries in self._head_index().items() for _, label in entries}
        return self._starts

    def candidate_starts(self, doc: Doc) -> list[tuple[int, str, int, int, int | None, list[str]]]:
        """(start, label, sentence start, sentence end, the ruler's end or None, start features) for
        every candidate start of the doc."""
        index = self._head_index()
        lowers = [t.lower_ for t in doc]
        rule = {(e.start, e.label_): e.end for e in doc.ents}
        starts: set[tuple[int, str]] = set(rule) | lexicon_candidate_starts(doc)  # lexicon hook
        for i, w in enumerate(lowers):
            for words, label in index.get(w, ()):
                if lowers[i : i + len(words)] == words:
                    starts.add((i, label))
        sents = [(s.start, s.end) for s in doc.sents] if doc.has_annotation("SENT_START") else [(0, len(doc))]
        sent_starts = [lo for lo, _ in sents]
        ent_starts = sorted((e.start, e.label_) for e in doc.ents)
        connector: dict[int, bool] = {}
        out = []
        for s, label in sorted(starts):
            lo, hi = sents[bisect_right(sent_starts, s) - 1]
            if lo not in connector:
                words = " " + " ".join(lowers[lo:hi]) + " "
                connector[lo] = " đồng thời là " in words or " kiêm " in words
            rule_end = rule.get((s, label))
            feats = self._context(doc, lowers, s, label, lo, hi, ent_starts, connector[lo])
            feats.append(f"{label}|rule=none" if rule_end is None else f"{label}|rule_len={min(rule_end - s, 8)}")
            out.append((s, label, lo, hi, rule_end, feats))
        return out

    @staticmethod
    def action_tokens(doc: Doc) -> set[int]:
        """Tokens of the ruler's MERGE_ACTION entities: no agency or title runs across a trigger
        ("Trưởng Ban Tuyên giáo kiêm Giám đốc ...")."""
        return {i for e in doc.ents if e.label_ == "MERGE_ACTION" for i in range(e.start, e.end)}

    def candidate_ends(
        self,
        doc: Doc,
        lowers: list[str],
        s: int,
        label: str,
        lo: int,
        hi: int,
        rule_end: int | None,
        actions: set[int] = frozenset(),
    ) -> dict[int, list[str]]:
        """{end: end features} for a candidate start: every end up to the label's length, inside the
        sentence, not across hard punctuation nor (for other labels) an action trigger."""
        ends: dict[int, list[str]] = {}
        for e in range(s + 1, min(hi, s + SCORER_MAX_LEN.get(label, 6)) + 1):
            if e - 1 > s and (_tokens(doc)[0][e - 1] in SCORER_HARD_STOPS or (label != "MERGE_ACTION" and e - 1 in actions)):
                break
            ends[e] = self._boundary(doc, lowers, s, e, label, lo, hi, rule_end)
        return ends

    def _context(
        self,
        doc: Doc,
        lowers: list[str],
        s: int,
        label: str,
        lo: int,
        hi: int,
        ent_starts: list[tuple[int, str]],
        connector: bool,
    ) -> list[str]:
        L = label
        f = [
            f"{L}",
            f"{L}|first={lowers[s]}",
            f"{L}|prev={_low(doc, s - 1, lo, hi)}",
            f"{L}|prev2={_low(doc, s - 2, lo, hi)}",
            f"{L}|prevshape={_shape(doc, s - 1, lo, hi)}",
            f"{L}|firstshape={_shape(doc, s, lo, hi)}",
            f"{L}|prev_first={_low(doc, s - 1, lo, hi)}_{lowers[s]}",
        ]
        f += lexicon_start_features(doc, s, label)  # lexicon hook
        window = set(lowers[max(lo, s - 4) : s])
        f += [f"{L}|before_has={w}" for w in window & SCORER_CUE_WORDS]
        if label in ("MERGE_ACTION", "NUMBER"):
            end = min(hi, s + 9)
            after = lowers[s + 1 : end]
            f += [f"{L}|after_has={w}" for w in set(after) & SCORER_CUE_WORDS]
            if any(doc[j].like_num for j in range(s + 1, end)):
                f.append(f"{L}|num_after")
            a, b = bisect_right(ent_starts, (s, "\uffff")), bisect_left(ent_starts, (min(hi, s + 12), ""))
            f += [f"{L}|ent_after={x}" for x in sorted({lab for _, lab in ent_starts[a:b]})]
            a, b = bisect_left(ent_starts, (max(lo, s - 6), "")), bisect_left(ent_starts, (s, ""))
            f += [f"{L}|ent_before={x}" for x in sorted({lab for _, lab in ent_starts[a:b]})]
            if connector:
                f.append(f"{L}|sent_has_connector")
        return f

    def _boundary(
        self, doc: Doc, lowers: list[str], s: int, e: int, label: str, lo: int, hi: int, rule_end: int | None
    ) -> list[str]:
        L = label
        n = e - s
        last, nxt = lowers[e - 1], _low(doc, e, lo, hi)
        f = [
            f"{L}|len={min(n, 12)}",
            f"{L}|last={last}",
            f"{L}|next={nxt}",
            f"{L}|next2={_low(doc, e + 1, lo, hi)}",
            f"{L}|lastshape={_shape(doc, e - 1, lo, hi)}",
            f"{L}|nextshape={_shape(doc, e, lo, hi)}",
            f"{L}|last_next={last}_{nxt}",
            f"{L}|first_last={lowers[s]}_{last}",
        ]
        texts = _tokens(doc)[0]
        caps = sum(1 for x in texts[s:e] if x[:1].isupper())
        f.append(f"{L}|caps={min(caps, 6)}")
        f.append(f"{L}|lowers={min(n - caps, 8)}")
        heads = self._head_starts()
        n_function = 0
        for i in range(s + 1, e):
            x, w = texts[i], lowers[i]
            if x in {",", "-", "&", "/"} or w == "và":
                f.append(f"{L}|inner={w}")
            elif w in SCORER_FUNCTION_WORDS:
                n_function += 1
                f.append(f"{L}|inner_function={w}")
            if (w, label) in heads:
                f.append(f"{L}|inner_head")
        f.append(f"{L}|n_inner_function={min(n_function, 3)}")
        f.append(f"{L}|nextkind={_kind(doc, e, lo, hi)}")
        if nxt in SCORER_FUNCTION_WORDS:
            f.append(f"{L}|next_function_word")
        elif _kind(doc, e, lo, hi) == "lower":
            f.append(f"{L}|next_content_lower")
        elif nxt in {"-", "/", "&"} and _kind(doc, e + 1, lo, hi) in ("upper", "digit"):
            f.append(f"{L}|next_joins_a_capitalised_word")  # "Trung tâm Văn hóa - Truyền thông"
        if last in SCORER_FUNCTION_WORDS:
            f.append(f"{L}|last_function_word")
        if (nxt, label) in self._head_starts():
            f.append(f"{L}|next_is_head")
        f.append(f"{L}|lastkind={_kind(doc, e - 1, lo, hi)}")
        f.append(f"{L}|kinds={_kind(doc, e - 1, lo, hi)}_{_kind(doc, e, lo, hi)}")
        f += lexicon_end_features(doc, s, e, label)  # lexicon hook
        if rule_end is not None:  # measured: without it the end model fits the few names it saw (0.644 vs 0.714)
            f.append(f"{L}|rule_delta={max(-4, min(e - rule_end, 6))}")
        return f

    # prediction -------------------------------------------------------------------------
    @staticmethod
    def _prob(weights: dict, bias: float, feats: list[str]) -> float:
        z = bias + sum(weights.get(x, 0.0) for x in feats)
        return float(1.0 / (1.0 + numpy.exp(-z)))

    def scored(self, doc: Doc) -> list[tuple[float, int, int, str, float]]:
        """(probability of the start, start, best end, label, probability of that end) for every
        candidate start whose probability reaches the threshold (the ends of the others are never
        computed)."""
        lowers = [t.lower_ for t in doc]
        actions = self.action_tokens(doc)
        out = []
        for s, label, lo, hi, rule_end, start_feats in self.candidate_starts(doc):
            p = self._prob(self.cfg["start_weights"], self.cfg["start_bias"], start_feats)
            if p < self.cfg["threshold"]:
                continue
            ends = self.candidate_ends(doc, lowers, s, label, lo, hi, rule_end, actions)
            p_end = {e: self._prob(self.cfg["end_weights"], self.cfg["end_bias"], f) for e, f in ends.items()}
            best = max(p_end, key=lambda e: (p_end[e], -e))
            out.append((p, s, best, label, p_end[best]))
        return sorted(out, key=lambda x: (-x[0], x[1], x[2], x[3]))

    def __call__(self, doc: Doc) -> Doc:
        """Sets the entities, and for each its confidence (probability of the start times that of
        the end) in `doc.user_data[("vnreorg_ent_score", start, end)]`."""
        taken = numpy.zeros(len(doc), dtype=bool)
        chosen = []
        for p, s, e, label, p_end in self.scored(doc):
            if taken[s:e].any():
                continue
            taken[s:e] = True
            chosen.append(Span(doc, s, e, label=label))
            doc.user_data[(ENT_SCORE_KEY, s, e)] = round(p * p_end, 4)
        doc.ents = sorted(chosen, key=lambda x: x.start)
        return doc

    # training ---------------------------------------------------------------------------
    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        heads: dict | None = None,
        c: float = 1.0,
    ) -> None:
        """Fit on the training examples: the upstream components (the entity ruler) run on a copy of
        each example's tokens, every candidate is labelled 1 when it is exactly a gold entity."""
        validate_get_examples(get_examples, "SpanScorer.initialize")
        self.cfg["heads"] = {k: sorted(v) for k, v in (heads or {}).items()}
        self._loaded()
        upstream = []
        if nlp is not None:
            for name, proc in nlp.pipeline:
                if name == self.name:
                    break
                upstream.append(proc)
        Xs, ys, Xe, ye = [], [], [], []
        for eg in get_examples():
            ref = eg.reference
            doc = tokens_copy(self.vocab, ref)
            for proc in upstream:
                doc = proc(doc)
            gold = {(e.start, e.label_): e.end for e in ref.ents}
            lowers = [t.lower_ for t in doc]
            actions = self.action_tokens(doc)
            for s, label, lo, hi, rule_end, start_feats in self.candidate_starts(doc):
                Xs.append(start_feats)
                ys.append(1 if (s, label) in gold else 0)
                if (s, label) not in gold:
                    continue
                ends = self.candidate_ends(doc, lowers, s, label, lo, hi, rule_end, actions)
                if gold[(s, label)] in ends:
                    for e, feats in ends.items():
                        Xe.append(feats)
                        ye.append(1 if e == gold[(s, label)] else 0)
        for what, X, y in (("start", Xs, ys), ("end", Xe, ye)):
            if len(set(y)) < 2:
                raise ValueError(f"span_scorer: the training examples give no positive and negative {what} candidates")
            self.cfg[f"{what}_weights"], self.cfg[f"{what}_bias"] = _fit_logistic(X, y, c)
        self.cfg["n_start_candidates"], self.cfg["n_start_positive"] = len(ys), int(sum(ys))
        self.cfg["n_end_candidates"], self.cfg["n_end_positive"] = len(ye), int(sum(ye))

    def _loaded(self) -> None:
        self._index = self._starts = None
