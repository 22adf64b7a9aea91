"""spaCy components and architectures of the vnreorg pipeline.

This one module is copied into the packaged model (`spacy package --code`), so it imports only
spaCy, thinc and numpy, never `vnreorg`. It registers:

- `relation_extractor` (factory): a trainable relation classifier in the shape of spaCy's
  `rel_component` tutorial. Candidates are pairs (action, entity) from each head entity
  (MERGE_ACTION) to the entities of its sentence within a token window; each pair is represented by
  the pooled token vectors of the head, the child and the tokens between them, plus order and
  distance features; a small feed-forward classifier gives one probability per relation label;
  a threshold (tuned on dev by the trainer) decides.
- `relation_rules` (factory): the rules-only baseline for relations (nearest entities after the
  trigger; "vào / thành / về / là ..." before a child marks a target).
- architectures `vnreorg.RelationModel.v1`, `vnreorg.InstanceTensor.v1`,
  `vnreorg.RelationClassifier.v1` and the candidate generator `vnreorg.action_candidates.v1`.

Relations live on the Doc as `doc._.rel`: {(head_start_token, child_start_token): {label: prob}},
as in the tutorial (a getter/setter over a msgpack-safe list in `doc.user_data`); gold docs hold 1.0 for each true relation, predicted docs only the labels whose
probability reaches the threshold.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path

import catalogue
import numpy
import srsly
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.pipeline.trainable_pipe import TrainablePipe
from spacy.scorer import PRFScore
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples
from spacy.util import registry
from spacy.vocab import Vocab
from thinc.api import Linear, Logistic, Model, Relu, chain
from thinc.types import Floats2d

REL_USER_DATA = "vnreorg_rel"
ENT_SCORE_KEY = "vnreorg_ent_score"  # doc.user_data[(ENT_SCORE_KEY, start, end)]: an entity's confidence


def _get_rel(doc: Doc) -> dict:
    return {(h, c): dict(labels) for h, c, labels in doc.user_data.get(REL_USER_DATA, [])}


def _set_rel(doc: Doc, value: dict | None) -> None:
    # Stored as a list of [head, child, labels]: msgpack (DocBin, nlp.pipe with n_process > 1)
    # cannot read back a dict whose keys are tuples.
    doc.user_data[REL_USER_DATA] = [[h, c, dict(labels)] for (h, c), labels in sorted((value or {}).items())]


if not Doc.has_extension("rel"):
    Doc.set_extension("rel", getter=_get_rel, setter=_set_rel)

N_FEATURES = 8  # child after head, then six distance buckets, then "an action in between"
DISTANCE_BUCKETS = (1, 2, 4, 8, 16)
TARGET_CUES = frozenset({"vào", "thành", "về", "là", "sang", "cho", "với", "thuộc"})
# Guidelines (relations): what comes after "vào", "thành", "về" ... results or receives; what is
# established is a target.
RESULT_CUES = frozenset({"vào", "thành", "về", "sang", "làm"})
ESTABLISH_TRIGGERS = frozenset({"thành lập", "hình thành"})


def doc_rels(doc: Doc) -> dict:
    """The relation dict of a doc (empty when none was set)."""
    return doc._.rel or {}


def _factory(name: str, **kwargs):
    """Language.factory that tolerates a second copy of this module (the packaged model and the
    installed project both register the same names; the first registration wins)."""

    def wrap(fn):
        # Look only at what is registered in memory: asking `Language.has_factory` would load the
        # installed project's entry points, and `spacy package` would then list `vnreorg` as a
        # requirement of the wheel.
        key = (*registry.factories.namespace, Language.get_factory_name(name))
        if key in catalogue.REGISTRY:
            return fn
        return Language.factory(name, **kwargs)(fn)

    return wrap


def tokens_copy(vocab: Vocab, gold: Doc) -> Doc:
    """The tokens and sentence starts of a gold Doc, without its annotations."""
    doc = Doc(vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold])
    if gold.has_annotation("SENT_START"):
        doc.from_array([SENT_START], gold.to_array([SENT_START]))
    return doc


def allowed_relations(examples: list[Example], allowed: dict | None) -> dict[str, dict[str, list[str]]]:
    """Which entity labels each relation connects ({relation: {"heads": [...], "children": [...]}}):
    `allowed` (the project schema) when given, else what the gold relations of the examples show."""
    if allowed:
        return {k: {"heads": sorted(v["heads"]), "children": sorted(v["children"])} for k, v in allowed.items()}
    found: dict[str, dict[str, set]] = {}
    for eg in examples:
        starts = {e.start: e for e in eg.reference.ents}
        for (h, c), labs in doc_rels(eg.reference).items():
            for label, value in labs.items():
                if value >= 0.5 and h in starts and c in starts:
                    spec = found.setdefault(label, {"heads": set(), "children": set()})
                    spec["heads"].add(starts[h].label_)
                    spec["children"].add(starts[c].label_)
    return {k: {"heads": sorted(v["heads"]), "children": sorted(v["children"])} for k, v in found.items()}


class _FittedCfg:
    """Serialisation of a component whose whole state is `self.cfg` (fitted weights included), as
    JSON on disk and msgpack in bytes; `_loaded()` drops caches derived from it."""

    cfg: dict

    def _loaded(self) -> None:
        pass

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return srsly.msgpack_dumps(self.cfg)

    def from_bytes(self, data: bytes, *, exclude=tuple()):
        self.cfg = srsly.msgpack_loads(data)
        self._loaded()
        return self

    def to_disk(self, path, *, exclude=tuple()):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.cfg)

    def from_disk(self, path, *, exclude=tuple()):
        self.cfg = srsly.read_json(Path(path) / "cfg.json")
        self._loaded()
        return self


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


def _low(doc: Doc, i: int, lo: int, hi: int) -> str:
    if i < lo:
        return "<s>"
    if i >= hi:
        return "</s>"
    return doc[i].lower_


def _kind(doc: Doc, i: int, lo: int, hi: int) -> str:
    """A coarse class of a token: edge, punct, digit, upper (capitalised), lower."""
    if i < lo or i >= hi:
        return "edge"
    t = doc[i]
    if t.is_punct or not t.text[:1].isalnum():
        return "punct"
    if t.text[:1].isdigit():
        return "digit"
    return "upper" if t.text[:1].isupper() else "lower"


def _shape(doc: Doc, i: int, lo: int, hi: int) -> str:
    if i < lo or i >= hi:
        return "<b>"
    return doc[i].shape_[:4]


@_factory("span_scorer", requires=["doc.ents"], assigns=["doc.ents"], default_config={"threshold": 0.5})
def make_span_scorer(nlp: Language, name: str, threshold: float) -> "SpanScorer":
    return SpanScorer(nlp.vocab, name, threshold)


def _fit_logistic(X: list[list[str]], y: list[int], c: float) -> tuple[dict[str, float], float]:
    """L2 logistic regression over binary features (scikit-learn, liblinear: deterministic);
    returns {feature: weight} without the zero weights, and the bias."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    matrix = vec.fit_transform([dict.fromkeys(f, 1.0) for f in X]).tocsr()
    matrix.indices = matrix.indices.astype(numpy.int32)  # liblinear refuses 64-bit indices
    matrix.indptr = matrix.indptr.astype(numpy.int32)
    clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=0)
    clf.fit(matrix, y)
    coef = clf.coef_[0]
    return {name: float(coef[i]) for name, i in sorted(vec.vocabulary_.items()) if coef[i] != 0.0}, float(clf.intercept_[0])


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
        self.cfg: dict = {"threshold": threshold, "heads": {}, "start_weights": {}, "start_bias": 0.0, "end_weights": {}, "end_bias": 0.0}
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
        starts: set[tuple[int, str]] = set(rule)
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

    def candidate_ends(self, doc: Doc, lowers: list[str], s: int, label: str, lo: int, hi: int, rule_end: int | None,
                       actions: set[int] = frozenset()) -> dict[int, list[str]]:
        """{end: end features} for a candidate start: every end up to the label's length, inside the
        sentence, not across hard punctuation nor (for other labels) an action trigger."""
        ends: dict[int, list[str]] = {}
        for e in range(s + 1, min(hi, s + SCORER_MAX_LEN.get(label, 6)) + 1):
            if e - 1 > s and (doc[e - 1].text in SCORER_HARD_STOPS or (label != "MERGE_ACTION" and e - 1 in actions)):
                break
            ends[e] = self._boundary(doc, lowers, s, e, label, lo, hi, rule_end)
        return ends

    def _context(self, doc: Doc, lowers: list[str], s: int, label: str, lo: int, hi: int, ent_starts: list[tuple[int, str]],
                 connector: bool) -> list[str]:
        L = label
        f = [f"{L}", f"{L}|first={lowers[s]}", f"{L}|prev={_low(doc, s - 1, lo, hi)}", f"{L}|prev2={_low(doc, s - 2, lo, hi)}",
             f"{L}|prevshape={_shape(doc, s - 1, lo, hi)}", f"{L}|firstshape={_shape(doc, s, lo, hi)}",
             f"{L}|prev_first={_low(doc, s - 1, lo, hi)}_{lowers[s]}"]
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

    def _boundary(self, doc: Doc, lowers: list[str], s: int, e: int, label: str, lo: int, hi: int, rule_end: int | None) -> list[str]:
        L = label
        n = e - s
        last, nxt = lowers[e - 1], _low(doc, e, lo, hi)
        f = [f"{L}|len={min(n, 12)}", f"{L}|last={last}", f"{L}|next={nxt}", f"{L}|next2={_low(doc, e + 1, lo, hi)}",
             f"{L}|lastshape={_shape(doc, e - 1, lo, hi)}", f"{L}|nextshape={_shape(doc, e, lo, hi)}",
             f"{L}|last_next={last}_{nxt}", f"{L}|first_last={lowers[s]}_{last}"]
        inner = doc[s:e]
        caps = sum(1 for t in inner if t.text[:1].isupper())
        f.append(f"{L}|caps={min(caps, 6)}")
        f.append(f"{L}|lowers={min(n - caps, 8)}")
        heads = self._head_starts()
        n_function = 0
        for t in inner[1:]:
            if t.text in {",", "-", "&", "/"} or t.lower_ == "và":
                f.append(f"{L}|inner={t.lower_}")
            elif t.lower_ in SCORER_FUNCTION_WORDS:
                n_function += 1
                f.append(f"{L}|inner_function={t.lower_}")
            if (t.lower_, label) in heads:
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
    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Language | None = None, heads: dict | None = None,
                   c: float = 1.0) -> None:
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


# ---------------------------------------------------------------- relation scorer

REL_SCORER_NONE = "NONE"


@_factory(
    "relation_scorer",
    requires=["doc.ents"],
    assigns=["doc._.rel"],
    default_config={"threshold": 0.5, "max_length": 30, "direction": "learned"},
    default_score_weights={"rel_micro_f": 1.0},
)
def make_relation_scorer(nlp: Language, name: str, threshold: float, max_length: int, direction: str) -> "RelationScorer":
    return RelationScorer(name, threshold, max_length, direction)


# The relations whose direction the guidelines decide (`direction = "guidelines"`): the classifier
# learns one "participant" class from both, and the direction comes from the sentence.
DIRECTED = ("source", "target")
PARTICIPANT = "participant"


def guideline_direction(doc: Doc, head: Span, child: Span) -> str:
    """`target` when the entity follows the action with a result cue ("vào", "thành", "về", "sang",
    "làm") among the words between them that are not inside an entity, or directly follows an
    establishing action ("thành lập Z"); `source` otherwise (guidelines, relations)."""
    if child.start < head.end:
        return "source"
    inside = {i for e in doc.ents for i in range(e.start, e.end)}
    between = {doc[i].lower_ for i in range(max(head.end, child.start - 12), child.start) if i not in inside}
    if between & RESULT_CUES:
        return "target"
    if child.start - head.end <= 1 and head.text.lower() in ESTABLISH_TRIGGERS:
        return "target"
    return "source"


class RelationScorer(_FittedCfg):
    """Relations from a logistic regression over sparse features of each (action, entity) pair of a
    sentence (direction, distance, the words and entities between them, cue words such as "vào",
    "thành", "về" before the entity, the action's own words, the entity's rank among its label on its
    side of the action). One-vs-rest over source / target / amount / none, masked by the schema (the
    allowed child labels of each relation, learnt from the data); the most probable allowed label is
    kept when it reaches the threshold. Fitted in `initialize` on gold entities and relations
    (scikit-learn); applied with plain Python."""

    def __init__(self, name: str = "relation_scorer", threshold: float = 0.5, max_length: int = 30, direction: str = "learned"):
        if direction not in ("learned", "guidelines"):
            raise ValueError(f"relation_scorer: direction must be 'learned' or 'guidelines', not {direction!r}")
        self.name = name
        self.cfg: dict = {"threshold": threshold, "max_length": max_length, "direction": direction, "weights": {}, "bias": {}, "allowed": {}}

    def _classes(self) -> dict[str, dict[str, list[str]]]:
        """What the classifier decides: the schema's relations, with source and target as one
        participant class when the guidelines decide the direction."""
        allowed = self.cfg["allowed"]
        if self.cfg.get("direction") != "guidelines" or not all(d in allowed for d in DIRECTED):
            return allowed
        out = {k: v for k, v in allowed.items() if k not in DIRECTED}
        out[PARTICIPANT] = {key: sorted(set(allowed["source"][key]) | set(allowed["target"][key])) for key in ("heads", "children")}
        return out

    def _pairs(self, doc: Doc) -> list[tuple[Span, Span]]:
        children = {c for spec in self.cfg["allowed"].values() for c in spec["children"]}
        heads = {h for spec in self.cfg["allowed"].values() for h in spec["heads"]}
        return action_candidates(doc, heads, children, self.cfg["max_length"])

    @staticmethod
    def _action_starts(doc: Doc, classes: dict[str, dict[str, list[str]]]) -> list[int]:
        """Sorted starts of the doc's entities that can head a relation (the actions)."""
        return sorted(e.start for e in doc.ents if any(e.label_ in spec["heads"] for spec in classes.values()))

    @staticmethod
    def features(doc: Doc, head: Span, child: Span, heads_by_start: list[int]) -> list[str]:
        after = child.start >= head.end
        lo, hi = _between(head, child)
        gap = hi - lo
        L = child.label_
        side = "after" if after else "before"
        f = [f"{L}", f"{L}|{side}", f"{L}|{side}|gap={min(gap, 5) if gap < 6 else (10 if gap < 11 else 20)}",
             f"{L}|{side}|act={head.text.lower()}", f"{L}|child_first={child[0].lower_}"]
        between = doc[lo:hi]
        ents_between = [e for e in doc.ents if lo <= e.start and e.end <= hi]
        f.append(f"{L}|{side}|n_ents_between={min(len(ents_between), 3)}")
        for e in ents_between:
            f.append(f"{L}|{side}|ent_between={e.label_}")
        if bisect_left(heads_by_start, hi) > bisect_left(heads_by_start, lo):
            f.append(f"{L}|{side}|action_between")
        words = {t.lower_ for t in between}
        if gap <= 8:
            f += [f"{L}|{side}|w={w}" for w in words]
        f += [f"{L}|{side}|cue={w}" for w in words & TARGET_CUES]
        f.append(f"{L}|{side}|prev_word={doc[child.start - 1].lower_ if child.start > 0 else '<s>'}")
        f.append(f"{L}|{side}|after_head={doc[head.end].lower_ if head.end < len(doc) else '</s>'}")
        same = [e for e in ents_between if e.label_ == L]
        f.append(f"{L}|{side}|rank={min(len(same), 3)}")
        # The guidelines' target cues as one shared feature, so that "vào" teaches "về" and "thành".
        if after and {t.lower_ for t in doc[max(lo, child.start - 2) : child.start]} & RESULT_CUES:
            f.append(f"{L}|result_cue_before_child")
        if after and gap <= 1 and head.text.lower() in ESTABLISH_TRIGGERS:
            f.append(f"{L}|establish_object")
        return f

    def _predict(self, doc: Doc) -> dict:
        classes = self._classes()
        heads_by_start = self._action_starts(doc, classes)
        rels: dict = {}
        for head, child in self._pairs(doc):
            feats = self.features(doc, head, child, heads_by_start)
            probs = {}
            for label, spec in classes.items():
                if child.label_ in spec["children"] and head.label_ in spec["heads"]:
                    w = self.cfg["weights"].get(label, {})
                    z = self.cfg["bias"].get(label, 0.0) + sum(w.get(x, 0.0) for x in feats)
                    p = float(1.0 / (1.0 + numpy.exp(-z)))
                    probs[guideline_direction(doc, head, child) if label == PARTICIPANT else label] = p
            if probs:
                rels[(head.start, child.start)] = probs
        return rels

    def __call__(self, doc: Doc) -> Doc:
        rels = {}
        for key, probs in self._predict(doc).items():
            label = max(probs, key=probs.get)
            if probs[label] >= self.cfg["threshold"]:
                rels[key] = {label: probs[label]}
        doc._.rel = rels
        return doc

    def pair_scores(self, docs: list[Doc]) -> list[tuple[Doc, Span, Span, dict[str, float]]]:
        out = []
        for doc in docs:
            starts = {e.start: e for e in doc.ents}
            for (h, c), probs in self._predict(doc).items():
                out.append((doc, starts[h], starts[c], probs))
        return out

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Language | None = None, allowed: dict | None = None,
                   c: float = 1.0) -> None:
        """Fit on the gold entities and relations of the training examples."""
        validate_get_examples(get_examples, "RelationScorer.initialize")
        examples = list(get_examples())
        self.cfg["allowed"] = allowed_relations(examples, allowed)
        classes = self._classes()
        X, y = [], []
        for eg in examples:
            ref = eg.reference
            gold = {(h, c2): max(labs, key=labs.get) for (h, c2), labs in doc_rels(ref).items() if labs and max(labs.values()) >= 0.5}
            if PARTICIPANT in classes:
                gold = {k: PARTICIPANT if v in DIRECTED else v for k, v in gold.items()}
            heads_by_start = self._action_starts(ref, classes)
            for head, child in self._pairs(ref):
                X.append(self.features(ref, head, child, heads_by_start))
                y.append(gold.get((head.start, child.start), REL_SCORER_NONE))
        labels = sorted(set(y))
        if len(labels) < 2:
            raise ValueError("relation_scorer: the training examples give no relation candidates with and without a relation")
        self.cfg["weights"], self.cfg["bias"] = {}, {}
        for label in labels:
            if label == REL_SCORER_NONE:
                continue
            w, b = _fit_logistic(X, [1 if v == label else 0 for v in y], c)
            self.cfg["weights"][label], self.cfg["bias"][label] = w, b
        self.cfg["n_pairs"], self.cfg["n_relations"] = len(y), sum(1 for v in y if v != REL_SCORER_NONE)

    def score(self, examples: Iterable[Example], **kwargs) -> dict[str, float]:
        return score_relations(examples)


# ---------------------------------------------------------------- candidates


def action_candidates(doc: Doc, head_labels: Iterable[str], child_labels: Iterable[str], max_length: int) -> list[tuple[Span, Span]]:
    """Pairs (head, child): a head entity and every other entity of the allowed child labels in the
    same sentence (when sentence boundaries are set) and at most `max_length` tokens away.
    Linear in the number of entities (bisect on start offsets), so a huge text stays fast."""
    heads_ok, children_ok = set(head_labels), set(child_labels)
    ents = list(doc.ents)
    if not ents:
        return []
    starts = [e.start for e in ents]
    longest = max(len(e) for e in ents)
    sent_starts = [s.start for s in doc.sents] if doc.has_annotation("SENT_START") else None
    pairs = []
    for head in ents:
        if head.label_ not in heads_ok:
            continue
        head_sent = bisect_right(sent_starts, head.start) if sent_starts else 0
        lo = bisect_left(starts, head.start - max_length - longest)
        hi = bisect_right(starts, head.end + max_length)
        for child in ents[lo:hi]:
            if child.start == head.start or child.label_ not in children_ok:
                continue
            if sent_starts and bisect_right(sent_starts, child.start) != head_sent:
                continue
            gap = child.start - head.end if child.start >= head.end else head.start - child.end
            if gap > max_length:
                continue
            pairs.append((head, child))
    return pairs


@registry.misc("vnreorg.action_candidates.v1")
def make_action_candidates(max_length: int = 40) -> Callable:
    def get_candidates(doc: Doc, head_labels, child_labels):
        return action_candidates(doc, head_labels, child_labels, max_length)

    return get_candidates


def _pair_features(head_starts: list[int], head: Span, child: Span) -> numpy.ndarray:
    feats = numpy.zeros((N_FEATURES,), dtype="f")
    after = child.start >= head.end
    feats[0] = 1.0 if after else 0.0
    gap = child.start - head.end if after else head.start - child.end
    bucket = sum(1 for b in DISTANCE_BUCKETS if gap >= b)
    feats[1 + bucket] = 1.0
    lo, hi = (head.end, child.start) if after else (child.end, head.start)
    if bisect_left(head_starts, hi) > bisect_left(head_starts, lo):  # another action in between
        feats[7] = 1.0
    return feats


def _between(head: Span, child: Span) -> tuple[int, int]:
    return (head.end, child.start) if child.start >= head.end else (child.end, head.start)


# ---------------------------------------------------------------- model


@registry.architectures("vnreorg.RelationModel.v1")
def create_relation_model(
    create_instance_tensor: Model[list[Doc], Floats2d],
    classification_layer: Model[Floats2d, Floats2d],
) -> Model[list[Doc], Floats2d]:
    model = chain(create_instance_tensor, classification_layer)
    model.attrs["get_instances"] = create_instance_tensor.attrs["get_instances"]
    model.set_ref("instances", create_instance_tensor)
    model.set_ref("output_layer", classification_layer.get_ref("output_layer"))
    return model


@registry.architectures("vnreorg.RelationClassifier.v1")
def create_classification_layer(hidden_width: int = 64, dropout: float = 0.1, nO: int | None = None) -> Model[Floats2d, Floats2d]:
    output = Linear(nO=nO)
    if hidden_width > 0:
        model = chain(Relu(nO=hidden_width, dropout=dropout), output, Logistic())
    else:
        model = chain(output, Logistic())
    model.set_ref("output_layer", output)
    return model


@registry.architectures("vnreorg.InstanceTensor.v1")
def create_instance_tensor(tok2vec: Model[list[Doc], list[Floats2d]], get_instances: Callable) -> Model[list[Doc], Floats2d]:
    return Model(
        "rel_instance_tensor",
        _instance_forward,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        attrs={"get_instances": get_instances, "head_labels": [], "child_labels": []},
        init=_instance_init,
    )


def _instances(model: Model, docs: list[Doc]) -> list[list[tuple[Span, Span]]]:
    get = model.attrs["get_instances"]
    heads, children = model.attrs["head_labels"], model.attrs["child_labels"]
    return [get(doc, heads, children) for doc in docs]


def _instance_forward(model: Model, docs: list[Doc], is_train: bool):
    tok2vec = model.get_ref("tok2vec")
    all_instances = _instances(model, docs)
    tokvecs, bp_tokvecs = tok2vec(docs, is_train)
    width = tok2vec.get_dim("nO")
    n_rows = sum(len(inst) for inst in all_instances)
    out = numpy.zeros((n_rows, 3 * width + N_FEATURES), dtype="f")
    head_labels = set(model.attrs["head_labels"])
    pools = []  # (row, doc index, [(start, end, column)])
    row = 0
    for i, (doc, instances) in enumerate(zip(docs, all_instances)):
        if not instances:
            continue
        vecs = model.ops.to_numpy(tokvecs[i])
        head_starts = sorted(e.start for e in doc.ents if e.label_ in head_labels)
        # Mean pooling of many token ranges at once: differences of a cumulative sum.
        csum = numpy.vstack([numpy.zeros((1, width), dtype="f"), numpy.cumsum(vecs, axis=0, dtype="f")])
        bounds = numpy.array([[h.start, h.end, c.start, c.end, *_between(h, c)] for h, c in instances], dtype="i")
        rows = slice(row, row + len(instances))
        for k in range(3):
            lo, hi = bounds[:, 2 * k], bounds[:, 2 * k + 1]
            n = numpy.maximum(hi - lo, 1)[:, None].astype("f")
            out[rows, k * width : (k + 1) * width] = numpy.where((hi > lo)[:, None], (csum[hi] - csum[lo]) / n, 0.0)
        for r, (head, child) in enumerate(instances):
            out[row + r, 3 * width :] = _pair_features(head_starts, head, child)
            if not is_train:
                continue
            b = bounds[r]
            used = [(b[2 * k], b[2 * k + 1], k * width) for k in range(3) if b[2 * k + 1] > b[2 * k]]
            pools.append((row + r, i, used))
        row += len(instances)

    def backprop(d_out: Floats2d) -> list:
        d_out = model.ops.to_numpy(d_out)
        d_tokvecs = [numpy.zeros(model.ops.to_numpy(t).shape, dtype="f") for t in tokvecs]
        for r, i, used in pools:
            for start, end, col in used:
                d_tokvecs[i][start:end] += d_out[r, col : col + width] / (end - start)
        return bp_tokvecs([model.ops.asarray2f(d) for d in d_tokvecs])

    return model.ops.asarray2f(out), backprop


def _instance_init(model: Model, X=None, Y=None) -> Model:
    tok2vec = model.get_ref("tok2vec")
    if X is not None:
        tok2vec.initialize(X)
    return model


# ---------------------------------------------------------------- trainable component


@_factory(
    "relation_extractor",
    requires=["doc.ents", "token.ent_iob", "token.ent_type"],
    assigns=["doc._.rel"],
    default_config={"threshold": 0.5},
    default_score_weights={"rel_micro_p": None, "rel_micro_r": None, "rel_micro_f": 0.5},
)
def make_relation_extractor(nlp: Language, name: str, model: Model, threshold: float) -> "RelationExtractor":
    return RelationExtractor(nlp.vocab, model, name, threshold=threshold)


class RelationExtractor(TrainablePipe):
    """Classifies candidate (action, entity) pairs into relation labels (multi-label, sigmoid)."""

    def __init__(self, vocab: Vocab, model: Model, name: str = "rel", *, threshold: float = 0.5):
        self.vocab = vocab
        self.model = model
        self.name = name
        self.cfg = {"labels": [], "threshold": threshold, "allowed": {}}

    # labels and the schema of allowed (relation, head label, child label) ------------------
    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def threshold(self) -> float:
        return float(self.cfg["threshold"])

    def add_label(self, label: str) -> int:
        if label in self.cfg["labels"]:
            return 0
        self.cfg["labels"] = list(self.labels) + [label]
        return 1

    def _sync_model_attrs(self) -> None:
        allowed = self.cfg.get("allowed") or {}
        heads = sorted({h for spec in allowed.values() for h in spec["heads"]})
        children = sorted({c for spec in allowed.values() for c in spec["children"]})
        inst = self.model.get_ref("instances")
        inst.attrs["head_labels"] = heads
        inst.attrs["child_labels"] = children

    def _label_mask(self, instances: list[tuple[Span, Span]]) -> numpy.ndarray:
        """1 where a label may connect the pair's entity types, else 0."""
        allowed = self.cfg.get("allowed") or {}
        mask = numpy.ones((len(instances), len(self.labels)), dtype="f")
        for r, (head, child) in enumerate(instances):
            for j, label in enumerate(self.labels):
                spec = allowed.get(label)
                if spec and (head.label_ not in spec["heads"] or child.label_ not in spec["children"]):
                    mask[r, j] = 0.0
        return mask

    # prediction ---------------------------------------------------------------------------
    def predict(self, docs: Iterable[Doc]) -> Floats2d:
        docs = list(docs)
        if not any(len(doc.ents) for doc in docs):
            return numpy.zeros((0, len(self.labels)), dtype="f")
        return self.model.predict(docs)

    def set_annotations(self, docs: Iterable[Doc], scores: Floats2d) -> None:
        docs = list(docs)
        scores = self.model.ops.to_numpy(scores)
        inst_model = self.model.get_ref("instances")
        row = 0
        for doc, instances in zip(docs, _instances(inst_model, docs) if len(scores) else [[] for _ in docs]):
            rels = {}
            mask = self._label_mask(instances)
            for r, (head, child) in enumerate(instances):
                probs = scores[row] * mask[r]
                row += 1
                kept = {label: float(p) for label, p in zip(self.labels, probs) if p >= self.threshold}
                if kept:
                    best = max(kept, key=kept.get)  # one label per pair: the most probable
                    rels[(head.start, child.start)] = {best: kept[best]}
            doc._.rel = rels

    def pair_scores(self, docs: list[Doc]) -> list[tuple[Doc, Span, Span, dict[str, float]]]:
        """Every candidate pair with all its label probabilities (for threshold tuning)."""
        scores = self.model.ops.to_numpy(self.predict(docs))
        inst_model = self.model.get_ref("instances")
        out, row = [], 0
        if not len(scores):
            return out
        for doc, instances in zip(docs, _instances(inst_model, docs)):
            mask = self._label_mask(instances)
            for r, (head, child) in enumerate(instances):
                out.append((doc, head, child, dict(zip(self.labels, (scores[row] * mask[r]).tolist()))))
                row += 1
        return out

    # training -----------------------------------------------------------------------------
    def _with_gold_ents(self, examples: Iterable[Example]) -> list[Doc]:
        """Training sees the gold entities on the predicted docs (same tokenizer, same tokens)."""
        docs = []
        for eg in examples:
            pred, ref = eg.predicted, eg.reference
            if len(pred) != len(ref):
                raise ValueError(f"relation_extractor: predicted and gold docs tokenise differently ({len(pred)} vs {len(ref)} tokens)")
            pred.ents = [Span(pred, e.start, e.end, label=e.label_) for e in ref.ents]
            if ref.has_annotation("SENT_START"):
                pred.from_array([SENT_START], ref.to_array([SENT_START]))
            docs.append(pred)
        return docs

    def _truth(self, examples: list[Example], docs: list[Doc]) -> numpy.ndarray:
        inst_model = self.model.get_ref("instances")
        rows = []
        for eg, instances in zip(examples, _instances(inst_model, docs)):
            gold = doc_rels(eg.reference)
            for head, child in instances:
                labels = gold.get((head.start, child.start), {})
                rows.append([float(labels.get(label, 0.0)) for label in self.labels])
        return numpy.asarray(rows, dtype="f").reshape((-1, len(self.labels)))

    def update(self, examples: Iterable[Example], *, drop: float = 0.0, sgd=None, losses: dict | None = None) -> dict:
        losses = {} if losses is None else losses
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_get_examples(lambda: examples, "RelationExtractor.update")
        docs = self._with_gold_ents(examples)
        # The shared tok2vec listener expects to be called on every batch it was given.
        scores, backprop = self.model.begin_update(docs)
        if len(scores):
            loss, gradient = self.get_loss(examples, scores, docs)
            backprop(gradient)
            if sgd is not None:
                self.finish_update(sgd)
            losses[self.name] += loss
        else:
            backprop(self.model.ops.alloc2f(0, len(self.labels)))
        return losses

    def get_loss(self, examples: Iterable[Example], scores, docs: list[Doc] | None = None) -> tuple[float, Floats2d]:
        examples = list(examples)
        docs = docs if docs is not None else self._with_gold_ents(examples)
        truth = self._truth(examples, docs)
        inst_model = self.model.get_ref("instances")
        mask = numpy.concatenate([self._label_mask(i) for i in _instances(inst_model, docs)] or [numpy.zeros((0, len(self.labels)), dtype="f")])
        scores = self.model.ops.to_numpy(scores)
        gradient = (scores - truth) * mask
        loss = float((gradient**2).sum())
        return loss, self.model.ops.asarray2f(gradient)

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Language | None = None, labels=None, allowed=None) -> None:
        """Labels and the allowed (head, child) entity labels per relation: from `allowed`
        (relation -> {"heads": [...], "children": [...]}, the project schema) or from the data."""
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        examples = list(get_examples())
        self.cfg["allowed"] = allowed_relations(examples, allowed)
        for label in labels or sorted(self.cfg["allowed"]):
            self.add_label(label)
        if not self.labels:
            raise ValueError("relation_extractor: no relation labels found in the training data")
        self._sync_model_attrs()
        sample = list(islice(examples, 10))
        docs = self._with_gold_ents(sample)
        truth = self._truth(sample, docs)
        self.model.get_ref("output_layer").set_dim("nO", len(self.labels))
        self.model.initialize(X=docs, Y=truth if len(truth) else None)

    # scoring (spaCy's training loop shows it) ------------------------------------------
    def score(self, examples: Iterable[Example], **kwargs) -> dict[str, float]:
        return score_relations(examples)

    # serialisation: keep model attrs in sync with cfg after loading ------------------------
    def from_disk(self, path, *, exclude=tuple()):
        out = super().from_disk(path, exclude=exclude)
        self._sync_model_attrs()
        return out

    def from_bytes(self, bytes_data, *, exclude=tuple()):
        out = super().from_bytes(bytes_data, exclude=exclude)
        self._sync_model_attrs()
        return out


def relation_tuples(doc: Doc) -> set[tuple]:
    """(head start, head end, head label, child start, child end, child label, relation) of a doc."""
    starts = {e.start: e for e in doc.ents}
    out = set()
    for (h, c), labels in doc_rels(doc).items():
        if h not in starts or c not in starts:
            continue
        head, child = starts[h], starts[c]
        for label, value in labels.items():
            if value > 0:  # gold stores 1.0; predicted docs keep only labels at or above the threshold
                out.add((head.start, head.end, head.label_, child.start, child.end, child.label_, label))
    return out


def score_relations(examples: Iterable[Example]) -> dict[str, float]:
    """Strict relation micro P/R/F: both argument spans exact with their types, and the label."""
    prf = PRFScore()  # spaCy's bookkeeping: this module is copied into the wheel, which has no vnreorg.metrics
    for eg in examples:
        prf.score_set(relation_tuples(eg.predicted), relation_tuples(eg.reference))
    return {"rel_micro_p": prf.precision, "rel_micro_r": prf.recall, "rel_micro_f": prf.fscore}


# ---------------------------------------------------------------- rules baseline


@_factory(
    "relation_rules",
    requires=["doc.ents"],
    assigns=["doc._.rel"],
    default_config={"max_length": 12, "head_label": "MERGE_ACTION", "amount_label": "NUMBER", "agent_labels": ["AGENCY", "TITLE"]},
    default_score_weights={"rel_micro_f": 1.0},
)
def make_relation_rules(nlp: Language, name: str, max_length: int, head_label: str, amount_label: str, agent_labels: list[str]):
    return RelationRules(name, max_length, head_label, amount_label, agent_labels)


class RelationRules:
    """Rules-only relations: after each action trigger, up to the next trigger or the sentence end,
    the first number within reach is its amount; agencies and titles are sources, or targets once
    a target cue ("vào", "thành", "về", "là", ...) has been passed; one agency or title just before
    the trigger (at most 3 tokens away) is a source."""

    def __init__(self, name: str, max_length: int, head_label: str, amount_label: str, agent_labels: list[str]):
        self.name = name
        self.max_length = max_length
        self.head_label = head_label
        self.amount_label = amount_label
        self.agent_labels = set(agent_labels)

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        rels: dict = {}
        has_sents = doc.has_annotation("SENT_START")
        for k, head in enumerate(ents):
            if head.label_ != self.head_label:
                continue
            limit = min(len(doc), head.end + self.max_length)
            if has_sents:
                limit = min(limit, head.sent.end)
            nxt = next((e.start for e in ents[k + 1 :] if e.label_ == self.head_label), len(doc))
            limit = min(limit, nxt)
            found_amount = False
            for child in ents[k + 1 :]:
                if child.start >= limit:
                    break
                between = {t.lower_ for t in doc[head.end : child.start]}
                if child.label_ == self.amount_label and not found_amount:
                    rels[(head.start, child.start)] = {"amount": 1.0}
                    found_amount = True
                elif child.label_ in self.agent_labels:
                    label = "target" if between & TARGET_CUES else "source"
                    rels[(head.start, child.start)] = {label: 1.0}
            if k > 0:
                prev = ents[k - 1]
                same_sent = not has_sents or prev.sent.start == head.sent.start
                if prev.label_ in self.agent_labels and head.start - prev.end <= 3 and same_sent:
                    rels.setdefault((head.start, prev.start), {"source": 1.0})
        doc._.rel = rels
        return doc

    def to_disk(self, path, *, exclude=tuple()):
        pass

    def from_disk(self, path, *, exclude=tuple()):
        return self

    def to_bytes(self, *, exclude=tuple()):
        return b""

    def from_bytes(self, data, *, exclude=tuple()):
        return self
