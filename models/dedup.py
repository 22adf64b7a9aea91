"""One event per real-world action: the same merger reported by several articles becomes one event with
its mentions.

Two events are the same action when they have the same type, their sources overlap enough (Jaccard of
participant identities at least `min_overlap`), their targets agree (equal, or one side has none), and
their years are compatible (both known: at most `max_years` apart). A participant's identity is its
official unit (code and era) when linked, else its normalised name case-folded. An event with neither
sources nor targets (a cut stated only by its number) is the same action as another only when both carry
the same amounts and nearly the same sentence (word Jaccard at least `min_sentence`): a copied report,
not a like-sounding one. Groups are the connected components of
the "same action" pairs; candidate pairs come from an index on identities, so the work grows with the
events that share a participant, not with all pairs.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from vnreorg.models.resources import fold


def identity(participant: dict[str, Any]) -> str:
    link = participant.get("link") or {}
    if link.get("status") == "linked":
        return f"unit:{link['level']}:{link['code']}:{link['era']}"
    return "name:" + fold(participant.get("name") or participant.get("text") or "")


def _ids(event: dict[str, Any], slot: str) -> frozenset[str]:
    return frozenset(identity(p) for p in event.get(slot) or [])


def _year(event: dict[str, Any]) -> int | None:
    for key in ("event_date", "article_date"):
        value = event.get(key)
        if value and str(value)[:4].isdigit():
            return int(str(value)[:4])
    return None


def _amounts(event: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(fold(str(x.get("text", ""))) for x in event.get("amounts") or []))


def _words(event: dict[str, Any]) -> frozenset[str]:
    return frozenset(fold((event.get("sentence") or {}).get("text", "")).replace(",", " ").replace(".", " ").split())


def _bodiless_same(a: dict[str, Any], b: dict[str, Any], min_sentence: float) -> bool:
    if not _amounts(a) or _amounts(a) != _amounts(b):
        return False
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= min_sentence


def same_action(
    a: dict[str, Any], b: dict[str, Any], min_overlap: float = 0.5, max_years: int = 1, min_sentence: float = 0.8
) -> bool:
    if a.get("type") != b.get("type"):
        return False
    sa, sb, ta, tb = _ids(a, "sources"), _ids(b, "sources"), _ids(a, "targets"), _ids(b, "targets")
    if not (sa or ta) and not (sb or tb):
        if not _bodiless_same(a, b, min_sentence):
            return False
        ya, yb = _year(a), _year(b)
        return ya is None or yb is None or abs(ya - yb) <= max_years
    if not (sa or ta) or not (sb or tb):
        return False
    if ta and tb and ta != tb:
        return False
    if sa or sb:
        if not (sa and sb) or len(sa & sb) / len(sa | sb) < min_overlap:
            return False
    elif not (ta and tb):
        return False
    ya, yb = _year(a), _year(b)
    return ya is None or yb is None or abs(ya - yb) <= max_years


def group_events(events: list[dict[str, Any]], **kw) -> list[list[int]]:
    """Indices of `events` grouped by action (each group sorted, groups in order of first member)."""
    parent = list(range(len(events)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    index: dict[tuple[str, str], list[int]] = {}
    for i, ev in enumerate(events):
        idents = _ids(ev, "sources") | _ids(ev, "targets")
        if not idents and _amounts(ev):
            idents = {"amounts:" + "|".join(_amounts(ev))}
        for ident in idents:
            index.setdefault((ev.get("type"), ident), []).append(i)
    seen: set[tuple[int, int]] = set()
    for members in index.values():
        for i, j in combinations(members, 2):
            if (i, j) in seen or find(i) == find(j):
                continue
            seen.add((i, j))
            if same_action(events[i], events[j], **kw):
                parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(events)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def deduplicate(events: list[dict[str, Any]], **kw) -> list[dict[str, Any]]:
    """One record per action: the first mention's fields, `mentions` (every event of the group, with its
    document, sentence and offsets) and `n_articles`."""
    out = []
    for group in group_events(events, **kw):
        first = dict(events[group[0]])
        first["mentions"] = [
            {
                "event_id": events[i]["event_id"],
                "doc_id": events[i]["doc_id"],
                "outlet": events[i].get("outlet"),
                "article_date": events[i].get("article_date"),
                "sentence": events[i].get("sentence"),
                "trigger_start": events[i].get("trigger_start"),
                "trigger_end": events[i].get("trigger_end"),
            }
            for i in group
        ]
        first["n_articles"] = len({events[i]["doc_id"] for i in group})
        out.append(first)
    return out


def pair_scores(events: list[dict[str, Any]], gold_key: str = "gold_group", **kw) -> dict[str, Any]:
    """Pairwise precision and recall of the grouping against a gold group label per event."""
    from vnreorg.metrics import prf

    pred = set()
    for group in group_events(events, **kw):
        pred |= {(i, j) for i, j in combinations(group, 2)}
    gold = {(i, j) for i, j in combinations(range(len(events)), 2) if events[i][gold_key] == events[j][gold_key]}
    p, r, f = prf(len(pred & gold), len(pred), len(gold))
    return {
        "pairs_gold": len(gold),
        "pairs_predicted": len(pred),
        "pairs_right": len(pred & gold),
        "precision": p,
        "recall": r,
        "f1": f,
        "false_pairs": sorted(pred - gold),
        "missed_pairs": sorted(gold - pred),
    }
