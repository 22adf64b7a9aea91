"""`relation_scorer` (factory): a logistic regression over (action, entity) pair features; optionally
the guidelines decide source vs target."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_get_examples

from .candidates import ESTABLISH_TRIGGERS, RESULT_CUES, TARGET_CUES, _between, action_candidates
from .docext import doc_rels, score_relations
from .pipe_base import _factory, _fit_logistic, _FittedCfg, allowed_relations

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
        self.cfg: dict = {
            "threshold": threshold,
            "max_length": max_length,
            "direction": direction,
            "weights": {},
            "bias": {},
            "allowed": {},
        }

    def _classes(self) -> dict[str, dict[str, list[str]]]:
        """What the classifier decides: the schema's relations, with source and target as one
        participant class when the guidelines decide the direction."""
        allowed = self.cfg["allowed"]
        if self.cfg.get("direction") != "guidelines" or not all(d in allowed for d in DIRECTED):
            return allowed
        out = {k: v for k, v in allowed.items() if k not in DIRECTED}
        out[PARTICIPANT] = {
            key: sorted(set(allowed["source"][key]) | set(allowed["target"][key])) for key in ("heads", "children")
        }
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
        f = [
            f"{L}",
            f"{L}|{side}",
            f"{L}|{side}|gap={min(gap, 5) if gap < 6 else (10 if gap < 11 else 20)}",
            f"{L}|{side}|act={head.text.lower()}",
            f"{L}|child_first={child[0].lower_}",
        ]
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

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Language | None = None,
        allowed: dict | None = None,
        c: float = 1.0,
    ) -> None:
        """Fit on the gold entities and relations of the training examples."""
        validate_get_examples(get_examples, "RelationScorer.initialize")
        examples = list(get_examples())
        self.cfg["allowed"] = allowed_relations(examples, allowed)
        classes = self._classes()
        X, y = [], []
        for eg in examples:
            ref = eg.reference
            gold = {
                (h, c2): max(labs, key=labs.get) for (h, c2), labs in doc_rels(ref).items() if labs and max(labs.values()) >= 0.5
            }
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
