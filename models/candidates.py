"""Candidate (action, entity) pairs for the relation components, their position features, and the
cue words the relation components read."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable

import numpy
from spacy.tokens import Doc, Span
from spacy.util import registry

N_FEATURES = 8  # child after head, then six distance buckets, then "an action in between"
DISTANCE_BUCKETS = (1, 2, 4, 8, 16)
TARGET_CUES = frozenset({"vào", "thành", "về", "là", "sang", "cho", "với", "thuộc"})
# Guidelines (relations): what comes after "vào", "thành", "về" ... results or receives; what is
# established is a target.
RESULT_CUES = frozenset({"vào", "thành", "về", "sang", "làm"})
ESTABLISH_TRIGGERS = frozenset({"thành lập", "hình thành"})


# ---------------------------------------------------------------- candidates


def action_candidates(
    doc: Doc, head_labels: Iterable[str], child_labels: Iterable[str], max_length: int
) -> list[tuple[Span, Span]]:
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
