"""Relations on a spaCy Doc: the `doc._.rel` extension, its reading as tuples, and relation scoring.

`doc._.rel` is {(head_start_token, child_start_token): {label: prob}}, as in spaCy's `rel_component`
tutorial, stored as a msgpack-safe list in `doc.user_data["vnreorg_rel"]` (the key the project's
DocBin format, `vnreorg/docbin.py`, writes). Gold docs hold 1.0 for each true relation, predicted docs
only the labels whose probability reaches the threshold. Copied into the packaged model, so it
imports only spaCy, thinc and numpy (as every module of the components).
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.attrs import SENT_START
from spacy.scorer import PRFScore
from spacy.tokens import Doc
from spacy.training import Example
from spacy.vocab import Vocab

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


def doc_rels(doc: Doc) -> dict:
    """The relation dict of a doc (empty when none was set)."""
    return doc._.rel or {}


def tokens_copy(vocab: Vocab, gold: Doc) -> Doc:
    """The tokens and sentence starts of a gold Doc, without its annotations."""
    doc = Doc(vocab, words=[t.text for t in gold], spaces=[bool(t.whitespace_) for t in gold])
    if gold.has_annotation("SENT_START"):
        doc.from_array([SENT_START], gold.to_array([SENT_START]))
    return doc


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
