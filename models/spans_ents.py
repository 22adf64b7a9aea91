"""`spans_to_ents` (factory): turn the scored, possibly overlapping spans of spaCy's `spancat` into the
entities the rest of the pipeline reads (`doc.ents`): the most confident span first, never two that
overlap, each span's score kept as the entity's confidence. Used by the `spancat` system, which
measures whether a span classifier trained on the corpus beats the linear span scorer (issue 15)."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from .docext import ENT_SCORE_KEY
from .pipe_base import _factory


@_factory(
    "spans_to_ents",
    requires=["doc.spans"],
    assigns=["doc.ents"],
    default_config={"spans_key": "sc", "threshold": 0.5},
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_spans_to_ents(nlp: Language, name: str, spans_key: str, threshold: float):
    return SpansToEnts(name, spans_key, threshold)


class SpansToEnts:
    def __init__(self, name: str, spans_key: str, threshold: float):
        self.name = name
        self.spans_key = spans_key
        self.threshold = threshold

    def __call__(self, doc: Doc) -> Doc:
        group = doc.spans.get(self.spans_key)
        if group is None:
            return doc
        scores = group.attrs.get("scores")
        ranked = []
        for i, span in enumerate(group):
            score = float(scores[i].max()) if scores is not None and len(scores) > i else 1.0
            if score >= self.threshold:
                ranked.append((score, span.start, span.end, span.label_))
        # most confident first; on equal scores the earlier, then the longer span
        ranked.sort(key=lambda r: (-r[0], r[1], -(r[2] - r[1])))
        taken = [False] * len(doc)
        ents = []
        for score, start, end, label in ranked:
            if any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = True
            ents.append(Span(doc, start, end, label=label))
            doc.user_data[(ENT_SCORE_KEY, start, end)] = round(score, 4)
        doc.ents = sorted(ents, key=lambda s: s.start)
        return doc

    def score(self, examples, **kwargs):
        from spacy.scorer import get_ner_prf

        return get_ner_prf(examples)
