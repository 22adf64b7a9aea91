"""Entity and relation scoring: four SemEval-2013 schemes, relations, bootstrap, confusion, errors.

Why this module exists: the scores decide what we ship, so they must be exact, explained and fast.
Everything is computed from one pass over flat NumPy arrays; the only Python loop over spans is the
one that reads them out of the `Document` objects (and a small loop for "complex" overlap clusters).

Entity schemes (the names nervaluate uses in brackets), each with counts
COR (correct), INC (incorrect), PAR (partial), MIS (missed), SPU (spurious):

- ``strict``  (strict):   same boundaries and same label -> COR; overlap otherwise -> INC.
- ``exact``   (exact):    same boundaries, label ignored -> COR; overlap otherwise -> INC.
- ``partial`` (partial):  same boundaries -> COR; overlap otherwise -> PAR (half credit); label ignored.
- ``type``    (ent_type): overlap and same label -> COR; overlap with another label -> INC.

ACT = COR+INC+PAR+SPU (= number of predicted spans), POS = COR+INC+PAR+MIS (= number of gold spans).
P = (COR + 0.5 PAR) / ACT, R = (COR + 0.5 PAR) / POS (PAR is always 0 outside ``partial``), F1 the
harmonic mean; 0 where undefined.

Our matching rule (one-to-one, order independent; see eval/README.md, "Matching rule"):

1. Spans of a document are put in canonical order: by (start, end, label).
2. Phase 1 pairs the *correct* matches first, over the whole document: identical keys ((start, end,
   label) for strict, (start, end) for exact/partial) are paired one to one; for ``type``, each
   predicted span in canonical order takes the unmatched overlapping gold span of the same label
   with the closest boundaries (|Δstart| + |Δend|; ties: first in canonical order).
3. Phase 2 pairs what is left: each remaining predicted span, in canonical order, takes the first
   remaining gold span (canonical order) that overlaps it by at least one character -> INC or PAR.
4. Predicted spans still unpaired are SPU; gold spans still unpaired are MIS.

So one prediction that overlaps two gold entities is counted once (INC/PAR against the first one,
the other is MIS), and a prediction can never "steal" a gold span that another prediction matches
exactly. Overlapping predictions are allowed and scored by the same rule. Where both the gold spans
and the predicted spans of a document are free of overlaps (and no gold span is longer than 100
characters), the counts are identical to nervaluate 1.2.1 for strict, exact and partial, and for
``type`` whenever no gold span overlaps two predictions; tests/test_eval.py shows the cases that differ.

Per-label scores restrict both gold and prediction to one label and apply the same rule (as
nervaluate does: a label swap is INC overall, MIS + SPU per label). Micro = the all-label counts;
macro = the unweighted mean of per-label P, R and F1 over labels that occur in gold or prediction.

Relations (Taillé et al. 2020): a predicted relation is correct under ``strict`` when its head and
child spans have the boundaries and labels of a gold relation's head and child and the relation
label is the same; under ``boundaries`` when boundaries and relation label match (entity labels
ignored). Relations are matched as multisets, so predicted spans that match no gold span simply
make their relations false positives.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vnreorg.errors import VnreorgError
from vnreorg.metrics import check_spans, prf
from vnreorg.schema import ENTITY_LABELS, RELATION_LABELS, Document

SCHEMES: tuple[str, ...] = ("strict", "exact", "partial", "type")
RELATION_SCHEMES: tuple[str, ...] = ("strict", "boundaries")
COUNT_NAMES: tuple[str, ...] = ("correct", "incorrect", "partial", "missed", "spurious")
COR, INC, PAR, MIS, SPU = range(5)

ERROR_KINDS: tuple[str, ...] = (
    "wrong_label",  # same boundaries, other label
    "wrong_boundaries",  # overlap, same label
    "wrong_label_and_boundaries",  # overlap, other label
    "missed",  # gold span with no overlapping prediction left
    "spurious",  # predicted span with no overlapping gold span left
    "relation_missed",
    "relation_spurious",
)
ERROR_KIND_TITLES: dict[str, str] = {
    "wrong_label": "Right boundaries, wrong label",
    "wrong_boundaries": "Right label, wrong boundaries",
    "wrong_label_and_boundaries": "Wrong label and boundaries",
    "missed": "Missed spans",
    "spurious": "Spurious spans",
    "relation_missed": "Missed relations",
    "relation_spurious": "Spurious relations",
}

_LABEL_ID = {label: i for i, label in enumerate(ENTITY_LABELS)}
_REL_ID = {label: i for i, label in enumerate(RELATION_LABELS)}
_NONE_LABEL = "O"  # the confusion matrix's "no span" row/column


# --------------------------------------------------------------------------------------------------
# Flat arrays
# --------------------------------------------------------------------------------------------------


@dataclass
class _Spans:
    """Spans of all documents as arrays sorted by (doc, start, end, label).

    `s`/`e` are *global* offsets: document i's offsets plus the sum of the lengths (+1) of the
    documents before it, so spans of different documents never overlap and one sweep serves all.
    `key` encodes (s, e, label) in one integer with the same ordering (shared by gold and
    prediction; None if texts are too long for int64), `orig` maps a sorted position back to the
    flat original order (doc by doc, list order).
    """

    s: np.ndarray
    e: np.ndarray
    label: np.ndarray
    doc: np.ndarray
    orig: np.ndarray
    key: np.ndarray | None = None

    def subset(self, mask: np.ndarray) -> "_Spans":
        """Only what matching needs (per-label scoring does not look at documents)."""
        empty = np.zeros(0, np.int64)
        return _Spans(self.s[mask], self.e[mask], self.label[mask], empty, empty, None if self.key is None else self.key[mask])

    def __len__(self) -> int:
        return len(self.s)


_NL = len(ENTITY_LABELS) + 1  # label radix of the span keys
_KEY_LIMIT = 2**62  # keys must stay below this (int64)


@dataclass
class _Relations:
    head: np.ndarray  # sorted span positions
    child: np.ndarray
    label: np.ndarray
    doc: np.ndarray


def _where(source: str | None, doc_id: str, extra: str = "") -> str:
    parts = [p for p in (source, f"doc={doc_id}", extra) if p]
    return " ".join(parts)


def _span_error(d: Document, side: str, source: str | None) -> None:
    """Raise the first problem of a document's spans (the one span check, overlaps allowed)."""
    check_spans(d.text, d.spans, f"{_where(source, d.id)} ({side})", overlaps=True)
    raise AssertionError("unreachable")  # pragma: no cover  (called only when the fast check failed)


def _extract(docs: list[Document], base: np.ndarray, width: int, source: str | None, side: str) -> tuple[_Spans, _Relations]:
    """Read spans and relations into arrays, checking labels, offsets, span ids and relation ends.

    `width` bounds every span length (longest text + 1); it must be the same for gold and prediction."""
    counts = np.fromiter((len(d.spans) for d in docs), dtype=np.int64, count=len(docs))
    n = int(counts.sum())
    flat = list(itertools.chain.from_iterable([d.spans for d in docs]))
    starts = [sp.start for sp in flat]
    ends = [sp.end for sp in flat]
    labels = [sp.label for sp in flat]
    ids = [sp.id for sp in flat] if any(d.relations for d in docs) else []
    del flat
    doc = np.repeat(np.arange(len(docs), dtype=np.int64), counts)
    s = np.asarray(starts) if n else np.zeros(0, np.int64)
    e = np.asarray(ends) if n else np.zeros(0, np.int64)
    if s.dtype.kind != "i" or e.dtype.kind != "i":
        for d in docs:
            if any(type(sp.start) is not int or type(sp.end) is not int for sp in d.spans):
                _span_error(d, side, source)
    s = s.astype(np.int64, copy=False)
    e = e.astype(np.int64, copy=False)
    lab = np.fromiter(map(_LABEL_ID.get, labels, itertools.repeat(-1)), dtype=np.int64, count=n)
    text_len = np.fromiter((len(d.text) for d in docs), dtype=np.int64, count=len(docs))
    bad = (lab < 0) | (s < 0) | (e > text_len[doc]) | (s >= e)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        _span_error(docs[int(doc[k])], side, source)
    gs = s + base[doc]
    ge = e + base[doc]
    top = int(base[-1]) + width if len(base) else 1
    if top * width * _NL < _KEY_LIMIT:
        key = (gs * width + (ge - gs)) * _NL + lab  # same order as (gs, ge, lab)
        order = np.argsort(key, kind="stable")  # fast on the mostly sorted input
        spans = _Spans(gs[order], ge[order], lab[order], doc[order], order, key[order])
    else:  # astronomically long texts: no single-integer key
        order = np.lexsort((lab, ge, gs)) if n else np.zeros(0, np.int64)
        spans = _Spans(gs[order], ge[order], lab[order], doc[order], order)

    # Relations: resolve span ids per document (only documents that have relations pay for a dict).
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    heads: list[int] = []
    childs: list[int] = []
    rlabels: list[int] = []
    rdocs: list[int] = []
    offset = 0
    for i, d in enumerate(docs):
        if d.relations:
            doc_ids = ids[offset : offset + len(d.spans)]
            index = dict(zip(doc_ids, range(offset, offset + len(doc_ids))))
            if len(index) != len(doc_ids):
                _span_error(d, side, source)
            try:
                heads.extend(map(index.__getitem__, [r.head for r in d.relations]))
                childs.extend(map(index.__getitem__, [r.child for r in d.relations]))
                rlabels.extend(map(_REL_ID.__getitem__, [r.label for r in d.relations]))
            except (KeyError, TypeError):
                _relation_error(d, index, side, source)
            rdocs.extend([i] * len(d.relations))
        offset += len(d.spans)
    rel = _Relations(
        rank[np.array(heads, dtype=np.int64)],
        rank[np.array(childs, dtype=np.int64)],
        np.array(rlabels, dtype=np.int64),
        np.array(rdocs, dtype=np.int64),
    )
    return spans, rel


def _relation_error(d: Document, index: dict[str, int], side: str, source: str | None) -> None:
    for r in d.relations:
        if r.label not in _REL_ID:
            raise VnreorgError(
                f"{side} relation {r.head}->{r.child} has unknown label {r.label!r} (known: {', '.join(RELATION_LABELS)})",
                _where(source, d.id),
            )
        for end_id in (r.head, r.child):
            if end_id not in index:
                raise VnreorgError(
                    f"{side} relation {r.head}->{r.child} ({r.label}) refers to missing span {end_id!r}", _where(source, d.id)
                )
    raise AssertionError("unreachable")  # pragma: no cover


def _pair_documents(
    gold: list[Document], pred: list[Document], gold_source: str | None, pred_source: str | None
) -> tuple[list[Document], list[Document]]:
    """Pair documents by id in canonical (id-sorted) order; any mismatch is an error, never a drop."""
    if not gold:
        raise VnreorgError("no gold documents to evaluate", gold_source)
    by_id: dict[str, Document] = {}
    for side, docs, src in (("gold", gold, gold_source), ("prediction", pred, pred_source)):
        seen: set[str] = set()
        for d in docs:
            if d.id in seen:
                raise VnreorgError(f"{side} document id {d.id!r} occurs twice", src)
            seen.add(d.id)
        if side == "gold":
            by_id = {d.id: d for d in docs}
    pred_ids = {d.id for d in pred}
    missing = sorted(set(by_id) - pred_ids)
    extra = sorted(pred_ids - set(by_id))
    if missing or extra:
        msg = []
        if missing:
            msg.append(f"{len(missing)} gold document(s) have no prediction (first: {', '.join(missing[:5])})")
        if extra:
            msg.append(f"{len(extra)} predicted document(s) are not in gold (first: {', '.join(extra[:5])})")
        raise VnreorgError("; ".join(msg), pred_source)
    gold_sorted = sorted(gold, key=lambda d: d.id)
    pred_by_id = {d.id: d for d in pred}
    pred_sorted = [pred_by_id[d.id] for d in gold_sorted]
    for g, p in zip(gold_sorted, pred_sorted):
        if g.text != p.text:
            k = next((i for i, (a, b) in enumerate(zip(g.text, p.text)) if a != b), min(len(g.text), len(p.text)))
            raise VnreorgError(
                f"predicted text differs from gold text (first difference at offset {k}; "
                f"lengths {len(g.text)} and {len(p.text)})",
                _where(pred_source, g.id, f"offset={k}"),
            )
    return gold_sorted, pred_sorted


# --------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------


def _match_sorted_keys(gk: np.ndarray, pk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair equal keys one to one (k-th occurrence with k-th); both arrays sorted ascending.

    Returns (pred -> gold position or -1, gold matched mask).
    """
    p2g = np.full(len(pk), -1, dtype=np.int64)
    gm = np.zeros(len(gk), dtype=bool)
    if not len(pk) or not len(gk):
        return p2g, gm
    idx = np.arange(len(pk))
    run_start = np.ones(len(pk), dtype=bool)
    run_start[1:] = pk[1:] != pk[:-1]
    occurrence = idx - np.maximum.accumulate(np.where(run_start, idx, 0))
    cand = np.searchsorted(gk, pk, "left") + occurrence
    inside = cand < len(gk)
    hit = np.zeros(len(pk), dtype=bool)
    hit[inside] = gk[cand[inside]] == pk[inside]  # gk sorted: cand-th is equal iff enough equal keys
    p2g[hit] = cand[hit]
    gm[p2g[hit]] = True
    return p2g, gm


def _match_unsorted_keys(gk: np.ndarray, pk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    go = np.argsort(gk, kind="stable")
    po = np.argsort(pk, kind="stable")
    p2g_sorted, gm_sorted = _match_sorted_keys(gk[go], pk[po])
    p2g = np.full(len(pk), -1, dtype=np.int64)
    hit = p2g_sorted >= 0
    p2g[po[hit]] = go[p2g_sorted[hit]]
    gm = np.zeros(len(gk), dtype=bool)
    gm[go[gm_sorted]] = True
    return p2g, gm


def _overlap_pairs(g: _Spans, p: _Spans, gidx: np.ndarray, pidx: np.ndarray, same_label: bool) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one overlap pairing of the gold spans `gidx` and predicted spans `pidx`.

    Each prediction in canonical order takes the first unmatched overlapping gold span (or, with
    `same_label`, the same-label one with the closest boundaries). Spans are grouped into clusters of
    the line (maximal runs of chained overlaps); clusters with one gold and one predicted span are
    paired with array operations, only larger clusters go through the Python loop.
    Returns (paired pred positions, their gold positions).
    """
    empty = np.zeros(0, dtype=np.int64)
    if not len(gidx) or not len(pidx):
        return empty, empty
    ng = len(gidx)
    S = np.concatenate([g.s[gidx], p.s[pidx]])
    E = np.concatenate([g.e[gidx], p.e[pidx]])
    order = np.argsort(S, kind="stable")
    ends_sorted = E[order]
    new = np.ones(len(S), dtype=bool)
    new[1:] = S[order][1:] >= np.maximum.accumulate(ends_sorted)[:-1]
    cid = np.empty(len(S), dtype=np.int64)
    cid[order] = np.cumsum(new) - 1
    nc = int(cid.max()) + 1
    gc, pc = cid[:ng], cid[ng:]
    n_g = np.bincount(gc, minlength=nc)
    n_p = np.bincount(pc, minlength=nc)

    simple = (n_g == 1) & (n_p == 1)
    gold_of = np.full(nc, -1, dtype=np.int64)
    gsel = simple[gc]
    gold_of[gc[gsel]] = gidx[gsel]
    psel = simple[pc]
    pp = pidx[psel]
    gg = gold_of[pc[psel]]
    if same_label:
        keep = g.label[gg] == p.label[pp]
        pp, gg = pp[keep], gg[keep]

    complex_ = (n_g >= 1) & (n_p >= 1) & ~simple
    if not complex_.any():
        return pp, gg
    cg = gidx[complex_[gc]]
    cgc = gc[complex_[gc]]
    cp = pidx[complex_[pc]]
    cpc = pc[complex_[pc]]
    # Python lists of just the spans in complex clusters; k indexes them.
    gs_, ge_, gl_, gpos = g.s[cg].tolist(), g.e[cg].tolist(), g.label[cg].tolist(), cg.tolist()
    extra_p: list[int] = []
    extra_g: list[int] = []
    # cg/cp are in canonical order, and cluster ids grow with start, so each cluster is a contiguous run.
    clusters = np.unique(cpc)
    g_lo = np.searchsorted(cgc, clusters, "left").tolist()
    g_hi = np.searchsorted(cgc, clusters, "right").tolist()
    p_runs = np.split(np.arange(len(cp)), np.flatnonzero(np.diff(cpc)) + 1)
    ps_, pe_, pl_, ppos = p.s[cp].tolist(), p.e[cp].tolist(), p.label[cp].tolist(), cp.tolist()
    for run, lo, hi in zip(p_runs, g_lo, g_hi):
        used: set[int] = set()
        for j in run.tolist():
            a, b, lab = ps_[j], pe_[j], pl_[j]
            best = -1
            best_d = 0
            for k in range(lo, hi):
                if k in used or gs_[k] >= b or ge_[k] <= a:
                    continue
                if not same_label:
                    best = k
                    break
                if gl_[k] == lab:
                    d = abs(gs_[k] - a) + abs(ge_[k] - b)
                    if best < 0 or d < best_d:
                        best, best_d = k, d
            if best >= 0:
                used.add(best)
                extra_p.append(ppos[j])
                extra_g.append(gpos[best])
    return (np.concatenate([pp, np.array(extra_p, dtype=np.int64)]), np.concatenate([gg, np.array(extra_g, dtype=np.int64)]))


@dataclass
class _Alignment:
    """Per-span outcome of one scheme: category per gold and predicted span, and the pairing."""

    gold_cat: np.ndarray
    pred_cat: np.ndarray
    pred_gold: np.ndarray  # gold position paired with each prediction, -1 if none

    def counts(self) -> dict[str, int]:
        c = np.bincount(self.pred_cat, minlength=5)
        m = np.bincount(self.gold_cat, minlength=5)
        return {
            "correct": int(c[COR]),
            "incorrect": int(c[INC]),
            "partial": int(c[PAR]),
            "missed": int(m[MIS]),
            "spurious": int(c[SPU]),
        }


def _span_keys(g: _Spans, p: _Spans, with_label: bool) -> tuple[np.ndarray, np.ndarray]:
    """Integer keys ordered like (start, end[, label]); both sides share the encoding."""
    if g.key is not None and p.key is not None:
        return (g.key, p.key) if with_label else (g.key // _NL, p.key // _NL)
    if not len(g) or not len(p):
        return g.s.copy(), p.s.copy()
    width = int(max((g.e - g.s).max(), (p.e - p.s).max())) + 1
    top = int(max(g.s.max(), p.s.max())) + 1
    nl = len(ENTITY_LABELS) + 1
    if top * width * nl >= _KEY_LIMIT:  # astronomically long texts: fall back to dense ranks
        allk = np.stack(
            [
                np.concatenate([g.s, p.s]),
                np.concatenate([g.e, p.e]),
                np.concatenate([g.label, p.label]) if with_label else np.zeros(len(g) + len(p), np.int64),
            ],
            1,
        )
        _, inv = np.unique(allk, axis=0, return_inverse=True)
        inv = inv.ravel()
        return inv[: len(g)], inv[len(g) :]

    def key(x: _Spans) -> np.ndarray:
        k = x.s * width + (x.e - x.s)
        return k * nl + x.label if with_label else k

    return key(g), key(p)


def _align(g: _Spans, p: _Spans, scheme: str) -> _Alignment:
    """Apply the matching rule (module docstring) for one scheme ("strict", "exact" or "type")."""
    gold_cat = np.full(len(g), MIS, dtype=np.int64)
    pred_cat = np.full(len(p), SPU, dtype=np.int64)
    pred_gold = np.full(len(p), -1, dtype=np.int64)
    if scheme in ("strict", "exact"):
        gk, pk = _span_keys(g, p, with_label=scheme == "strict")
        p2g, gm = _match_sorted_keys(gk, pk)
        hit = p2g >= 0
        pred_cat[hit] = COR
        gold_cat[gm] = COR
        pred_gold[hit] = p2g[hit]
        pp, gg = _overlap_pairs(g, p, np.flatnonzero(~gm), np.flatnonzero(~hit), same_label=False)
        pred_cat[pp] = INC
        gold_cat[gg] = INC
        pred_gold[pp] = gg
    elif scheme == "type":
        pp, gg = _overlap_pairs(g, p, np.arange(len(g)), np.arange(len(p)), same_label=True)
        pred_cat[pp] = COR
        gold_cat[gg] = COR
        pred_gold[pp] = gg
        pp, gg = _overlap_pairs(g, p, np.flatnonzero(gold_cat == MIS), np.flatnonzero(pred_cat == SPU), same_label=False)
        pred_cat[pp] = INC
        gold_cat[gg] = INC
        pred_gold[pp] = gg
    else:  # pragma: no cover - internal
        raise ValueError(scheme)
    return _Alignment(gold_cat, pred_cat, pred_gold)


def _as_partial(a: _Alignment) -> _Alignment:
    """The partial scheme pairs exactly like exact; its overlap-only pairs are PAR instead of INC."""
    return _Alignment(np.where(a.gold_cat == INC, PAR, a.gold_cat), np.where(a.pred_cat == INC, PAR, a.pred_cat), a.pred_gold)


# --------------------------------------------------------------------------------------------------
# Precision / recall / F1
# --------------------------------------------------------------------------------------------------


def prf_from_counts(c: dict[str, int], scheme: str) -> dict[str, float]:
    """nervaluate's formulas: half credit for PAR in the partial scheme."""
    act = c["correct"] + c["incorrect"] + c["partial"] + c["spurious"]
    pos = c["correct"] + c["incorrect"] + c["partial"] + c["missed"]
    num = c["correct"] + (0.5 * c["partial"] if scheme == "partial" else 0.0)
    return {**prf(num, act, pos)._asdict(), "actual": act, "possible": pos}


def _prf(tp: float, n_pred: float, n_gold: float) -> dict[str, float]:
    return prf(tp, n_pred, n_gold)._asdict()


def _f1_vec(num: np.ndarray, act: np.ndarray, pos: np.ndarray, undefined: float = 0.0) -> np.ndarray:
    """F1 from counts; `undefined` where there is nothing to score (no gold and no prediction)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(act > 0, num / np.maximum(act, 1), 0.0)
        r = np.where(pos > 0, num / np.maximum(pos, 1), 0.0)
        f = np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), 0.0)
        return np.where((act > 0) | (pos > 0), f, undefined)


# Per-document count columns kept for the bootstrap (and for pooling CV folds).
DOC_COLUMNS: tuple[str, ...] = tuple(f"entities.{s}.{c}" for s in SCHEMES for c in COUNT_NAMES) + tuple(
    f"relations.{s}.{c}" for s in RELATION_SCHEMES for c in ("tp", "pred", "gold")
)


def micro_f1_from_columns(totals: np.ndarray, undefined: float = 0.0) -> dict[str, np.ndarray]:
    """Micro F1 per metric from summed per-document counts (last axis = DOC_COLUMNS).

    `undefined` is returned where a sample has neither gold nor predicted items (the bootstrap
    passes NaN so that such resamples are left out of the interval instead of counting as 0)."""
    col = {name: i for i, name in enumerate(DOC_COLUMNS)}
    out: dict[str, np.ndarray] = {}
    for s in SCHEMES:
        cor, inc, par, mis, spu = (totals[..., col[f"entities.{s}.{c}"]] for c in COUNT_NAMES)
        num = cor + (0.5 * par if s == "partial" else 0.0)
        out[f"entities.{s}"] = _f1_vec(num, cor + inc + par + spu, cor + inc + par + mis, undefined)
    for s in RELATION_SCHEMES:
        tp, npred, ngold = (totals[..., col[f"relations.{s}.{c}"]] for c in ("tp", "pred", "gold"))
        out[f"relations.{s}"] = _f1_vec(tp, npred, ngold, undefined)
    return out


def bootstrap_indices_totals(counts: np.ndarray, *, seed: int, n_boot: int, chunk: int = 100):
    """Yield resampled column totals (chunk x columns): documents drawn with replacement, seeded."""
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    rng = np.random.default_rng(seed)
    n = counts.shape[0]
    cf = counts.astype(np.float64)
    done = 0
    # One BLAS thread: the products are small, and spinning BLAS threads on a busy machine cost seconds.
    with threadpool_limits(limits=1, user_api="blas"):
        while done < n_boot:
            m = min(chunk, n_boot - done)
            idx = rng.integers(0, n, size=(m, n))
            weights = np.bincount((idx + (np.arange(m) * n)[:, None]).ravel(), minlength=m * n).reshape(m, n)
            yield weights.astype(np.float64) @ cf
            done += m


def bootstrap_ci(counts: np.ndarray, *, seed: int = 0, n_boot: int = 1000, level: float = 0.95) -> dict[str, list[float]]:
    """Percentile interval of every micro F1 over a document-level bootstrap."""
    if n_boot <= 0 or counts.shape[0] == 0:
        return {}
    parts: dict[str, list[np.ndarray]] = {}
    for totals in bootstrap_indices_totals(counts, seed=seed, n_boot=n_boot):
        for k, v in micro_f1_from_columns(totals, undefined=np.nan).items():
            parts.setdefault(k, []).append(v)
    alpha = (1 - level) / 2 * 100
    out: dict[str, list[float]] = {}
    for k, v in parts.items():
        values = np.concatenate(v)
        values = values[~np.isnan(values)]  # resamples with nothing to score
        if len(values):
            out[k] = [float(x) for x in np.percentile(values, [alpha, 100 - alpha])]
    return out


# --------------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------------


@dataclass
class EvalResult:
    """Everything one evaluation produced; `to_dict()` is the JSON report, the renderers read it."""

    n_documents: int
    n_gold_spans: int
    n_pred_spans: int
    n_gold_relations: int
    n_pred_relations: int
    entities: dict[str, dict[str, Any]]  # scheme -> {micro, macro, per_label}
    relations: dict[str, dict[str, Any]]  # scheme -> {micro, per_label}
    ci: dict[str, list[float]]  # "entities.strict" -> [low, high] of micro F1
    confusion: dict[str, Any]  # {labels, matrix, note}
    errors: list[dict[str, Any]]
    error_counts: dict[str, int]
    notes: list[str]
    bootstrap: dict[str, Any]
    doc_ids: list[str] = field(default_factory=list)
    doc_counts: np.ndarray = field(default_factory=lambda: np.zeros((0, len(DOC_COLUMNS))))
    meta: dict[str, Any] = field(default_factory=dict)

    def micro_f1s(self) -> dict[str, float]:
        out = {f"entities.{s}": self.entities[s]["micro"]["f1"] for s in SCHEMES}
        out.update({f"relations.{s}": self.relations[s]["micro"]["f1"] for s in RELATION_SCHEMES})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "counts": {
                "documents": self.n_documents,
                "gold_spans": self.n_gold_spans,
                "pred_spans": self.n_pred_spans,
                "gold_relations": self.n_gold_relations,
                "pred_relations": self.n_pred_relations,
            },
            "entities": self.entities,
            "relations": self.relations,
            "ci95": self.ci,
            "bootstrap": self.bootstrap,
            "confusion": self.confusion,
            "error_counts": self.error_counts,
            "errors": self.errors,
            "notes": self.notes,
            "per_document": {"columns": list(DOC_COLUMNS), "ids": self.doc_ids, "counts": self.doc_counts.astype(int).tolist()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EvalResult":
        c = d["counts"]
        per = d.get("per_document") or {}
        cols = per.get("columns") or list(DOC_COLUMNS)
        if tuple(cols) != DOC_COLUMNS:
            raise VnreorgError("report.json per-document columns differ from this version of the evaluator")
        return cls(
            c["documents"],
            c["gold_spans"],
            c["pred_spans"],
            c["gold_relations"],
            c["pred_relations"],
            d["entities"],
            d["relations"],
            d.get("ci95", {}),
            d.get("confusion", {}),
            d.get("errors", []),
            d.get("error_counts", {}),
            d.get("notes", []),
            d.get("bootstrap", {}),
            list(per.get("ids", [])),
            np.array(per.get("counts") or np.zeros((0, len(DOC_COLUMNS))), dtype=np.int64).reshape(-1, len(DOC_COLUMNS)),
            d.get("meta", {}),
        )


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------


def _entity_scores(g: _Spans, p: _Spans) -> tuple[dict[str, dict[str, Any]], dict[str, _Alignment]]:
    overall = {"strict": _align(g, p, "strict"), "exact": _align(g, p, "exact"), "type": _align(g, p, "type")}
    overall["partial"] = _as_partial(overall["exact"])
    per_label: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in SCHEMES}
    strict, typ = overall["strict"], overall["type"]
    for li, label in enumerate(ENTITY_LABELS):
        gm, pm = g.label == li, p.label == li
        n_g, n_p = int(gm.sum()), int(pm.sum())
        # Restricted to one label, strict and exact pair alike. Their phase 1 (identical keys) is the
        # overall strict phase 1 restricted to the label; only phase 2 (overlaps) is run again.
        cor = int((pm & (strict.pred_cat == COR)).sum())
        pp, _ = _overlap_pairs(
            g, p, np.flatnonzero(gm & (strict.gold_cat != COR)), np.flatnonzero(pm & (strict.pred_cat != COR)), same_label=False
        )
        inc = len(pp)
        by_scheme = {"strict": (cor, inc, 0), "exact": (cor, inc, 0), "partial": (cor, 0, inc)}
        # type: phase 1 (same-label overlaps) never involves other labels, and restricted to one label
        # phase 2 finds nothing left to pair (phase 1 would have paired it).
        by_scheme["type"] = (int((pm & (typ.pred_cat == COR)).sum()), 0, 0)
        for s in SCHEMES:
            c_, i_, p_ = by_scheme[s]
            c = {"correct": c_, "incorrect": i_, "partial": p_, "missed": n_g - c_ - i_ - p_, "spurious": n_p - c_ - i_ - p_}
            per_label[s][label] = {**c, **prf_from_counts(c, s), "support": n_g, "predicted": n_p}
    scores: dict[str, dict[str, Any]] = {}
    for s in SCHEMES:
        c = overall[s].counts()
        used = [lab for lab, v in per_label[s].items() if v["support"] or v["predicted"]]
        macro = {
            k: (float(np.mean([per_label[s][lab][k] for lab in used])) if used else 0.0) for k in ("precision", "recall", "f1")
        }
        macro["labels"] = used
        scores[s] = {"micro": {**c, **prf_from_counts(c, s)}, "macro": macro, "per_label": per_label[s]}
    return scores, overall


def _relation_keys(g: _Spans, p: _Spans, gr: _Relations, pr: _Relations, with_types: bool) -> tuple[np.ndarray, np.ndarray]:
    """Relation keys from (head span, child span, label), spans identified by their key's first gold
    position; a predicted relation whose argument equals no gold span gets a key no gold one has."""
    gk, pk = _span_keys(g, p, with_label=with_types)  # both sorted
    idx = np.arange(len(gk))
    run_start = np.ones(len(gk), dtype=bool)
    run_start[1:] = gk[1:] != gk[:-1]
    gid = np.maximum.accumulate(np.where(run_start, idx, 0)) if len(gk) else idx
    if len(gk):
        pos = np.searchsorted(gk, pk, "left")
        posc = np.minimum(pos, len(gk) - 1)
        pid = np.where(gk[posc] == pk, pos, -1)
    else:
        pid = np.full(len(pk), -1, dtype=np.int64)
    n = len(gk) + 1
    nr = len(RELATION_LABELS)
    gkey = (gid[gr.head] * n + gid[gr.child]) * nr + gr.label
    ph, pc = pid[pr.head], pid[pr.child]
    pkey = np.where((ph >= 0) & (pc >= 0), (ph * n + pc) * nr + pr.label, -1 - np.arange(len(pr.label)))
    return gkey, pkey


def _relation_scores(g: _Spans, p: _Spans, gr: _Relations, pr: _Relations, n_docs: int):
    scores: dict[str, dict[str, Any]] = {}
    doc_cols: dict[str, np.ndarray] = {}
    matches: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s in RELATION_SCHEMES:
        gk, pk = _relation_keys(g, p, gr, pr, with_types=s == "strict")
        p2g, gm = _match_unsorted_keys(gk, pk)
        phit = p2g >= 0
        matches[s] = (gm, phit)
        per_label = {}
        for ri, label in enumerate(RELATION_LABELS):
            tp = int((phit & (pr.label == ri)).sum())
            n_pred, n_gold = int((pr.label == ri).sum()), int((gr.label == ri).sum())
            per_label[label] = {"tp": tp, "pred": n_pred, "gold": n_gold, **_prf(tp, n_pred, n_gold)}
        tp = int(phit.sum())
        scores[s] = {"micro": {"tp": tp, "pred": len(pk), "gold": len(gk), **_prf(tp, len(pk), len(gk))}, "per_label": per_label}
        doc_cols[f"relations.{s}.tp"] = np.bincount(pr.doc[phit], minlength=n_docs)
        doc_cols[f"relations.{s}.pred"] = np.bincount(pr.doc, minlength=n_docs)
        doc_cols[f"relations.{s}.gold"] = np.bincount(gr.doc, minlength=n_docs)
    return scores, doc_cols, matches


def _confusion(g: _Spans, p: _Spans, a: _Alignment) -> dict[str, Any]:
    """Label confusion over the ``type`` alignment: paired spans, missed (gold vs O), spurious (O vs pred)."""
    from sklearn.metrics import confusion_matrix

    none = len(ENTITY_LABELS)
    paired = a.pred_gold >= 0
    y_true = np.concatenate(
        [g.label[a.pred_gold[paired]], g.label[a.gold_cat == MIS], np.full(int((a.pred_cat == SPU).sum()), none)]
    )
    y_pred = np.concatenate([p.label[paired], np.full(int((a.gold_cat == MIS).sum()), none), p.label[a.pred_cat == SPU]])
    labels = list(ENTITY_LABELS) + [_NONE_LABEL]
    if len(y_true):
        m = confusion_matrix(y_true, y_pred, labels=list(range(len(labels))))
    else:
        m = np.zeros((len(labels), len(labels)), dtype=np.int64)
    return {
        "labels": labels,
        "matrix": m.astype(int).tolist(),
        "note": "rows = gold label, columns = predicted label; spans paired by overlap (type scheme); "
        "O = no span (missed in the last column, spurious in the last row)",
    }


def _overlap_count(x: _Spans) -> int:
    """Number of spans that overlap an earlier span (canonical order) of the same side."""
    if len(x) < 2:
        return 0
    return int((x.s[1:] < np.maximum.accumulate(x.e)[:-1]).sum())


class _Context:
    """Builds error records (sentence + highlighted spans) for the few errors that are listed."""

    def __init__(self, gold_docs: list[Document], pred_docs: list[Document]):
        self.gold_docs = gold_docs
        self.pred_docs = pred_docs
        self._flat: dict[int, np.ndarray] = {}

    def span(self, docs: list[Document], doc_i: int, orig: int) -> dict[str, Any]:
        """The span at flat original position `orig` (documents in canonical order, spans in list order)."""
        key = id(docs)
        starts = self._flat.get(key)
        if starts is None:
            starts = self._flat[key] = np.concatenate([[0], np.cumsum([len(d.spans) for d in docs])])
        d = docs[doc_i]
        sp = d.spans[orig - int(starts[doc_i])]
        return {"id": sp.id, "start": sp.start, "end": sp.end, "label": sp.label, "text": d.text[sp.start : sp.end]}

    def record(self, kind: str, doc_i: int, gold: list[dict], pred: list[dict], **extra: Any) -> dict[str, Any]:
        doc = self.gold_docs[doc_i]
        lo = min(x["start"] for x in gold + pred)
        hi = max(x["end"] for x in gold + pred)
        s0, s1 = _sentence_bounds(doc, lo, hi)
        return {
            "kind": kind,
            "doc_id": doc.id,
            "sentence": {"start": s0, "end": s1, "text": doc.text[s0:s1]},
            "gold": gold,
            "pred": pred,
            **extra,
        }


def _sentence_bounds(doc: Document, lo: int, hi: int, window: int = 80) -> tuple[int, int]:
    """The sentence(s) covering [lo, hi); without sentence offsets, a window cut at whitespace."""
    if doc.sentences:
        starts = [s for s, _ in doc.sentences]
        i = max(bisect.bisect_right(starts, lo) - 1, 0)
        j = max(bisect.bisect_right(starts, max(hi - 1, lo)) - 1, i)
        s0, s1 = doc.sentences[i][0], doc.sentences[j][1]
        if s0 <= lo and hi <= s1:
            return s0, s1
    s0 = max(0, lo - window)
    s1 = min(len(doc.text), hi + window)
    if s0 > 0:
        k = doc.text.find(" ", s0, lo)
        s0 = k + 1 if k >= 0 else s0
    if s1 < len(doc.text):
        k = doc.text.rfind(" ", hi, s1)
        s1 = k if k >= 0 else s1
    return s0, s1


def _entity_errors(g: _Spans, p: _Spans, a: _Alignment, ctx: _Context, limit: int) -> tuple[dict[str, int], list[dict]]:
    """Errors of the strict alignment, grouped by kind; all counted, the first `limit` of each listed."""
    inc = np.flatnonzero(a.pred_cat == INC)
    gi = a.pred_gold[inc]
    same_bounds = (p.s[inc] == g.s[gi]) & (p.e[inc] == g.e[gi])
    same_label = p.label[inc] == g.label[gi]
    kinds = {
        "wrong_label": inc[same_bounds],
        "wrong_boundaries": inc[~same_bounds & same_label],
        "wrong_label_and_boundaries": inc[~same_bounds & ~same_label],
        "missed": np.flatnonzero(a.gold_cat == MIS),
        "spurious": np.flatnonzero(a.pred_cat == SPU),
    }
    counts = {k: int(len(v)) for k, v in kinds.items()}
    records: list[dict] = []
    for kind, idx in kinds.items():
        for k in idx[:limit].tolist():
            if kind == "missed":
                d = int(g.doc[k])
                records.append(ctx.record(kind, d, [ctx.span(ctx.gold_docs, d, int(g.orig[k]))], []))
            else:
                d = int(p.doc[k])
                pred = [ctx.span(ctx.pred_docs, d, int(p.orig[k]))]
                gold = [] if kind == "spurious" else [ctx.span(ctx.gold_docs, d, int(g.orig[a.pred_gold[k]]))]
                records.append(ctx.record(kind, d, gold, pred))
    return counts, records


def _relation_errors(
    g: _Spans, p: _Spans, gr: _Relations, pr: _Relations, matches, strict_align: _Alignment, ctx: _Context, limit: int
) -> tuple[dict[str, int], list[dict]]:
    gm, phit = matches["strict"]
    gold_ok = strict_align.gold_cat == COR
    pred_ok = strict_align.pred_cat == COR
    missed = np.flatnonzero(~gm)
    spurious = np.flatnonzero(~phit)
    records: list[dict] = []
    for k in missed[:limit].tolist():
        d = int(gr.doc[k])
        h, c = int(gr.head[k]), int(gr.child[k])
        reason = "relation not predicted" if gold_ok[h] and gold_ok[c] else "an argument span was not predicted exactly"
        spans = [ctx.span(ctx.gold_docs, d, int(g.orig[x])) for x in (h, c)]
        records.append(ctx.record("relation_missed", d, spans, [], relation=RELATION_LABELS[int(gr.label[k])], reason=reason))
    for k in spurious[:limit].tolist():
        d = int(pr.doc[k])
        h, c = int(pr.head[k]), int(pr.child[k])
        reason = "no such relation in gold" if pred_ok[h] and pred_ok[c] else "an argument span is not a gold span"
        spans = [ctx.span(ctx.pred_docs, d, int(p.orig[x])) for x in (h, c)]
        records.append(ctx.record("relation_spurious", d, [], spans, relation=RELATION_LABELS[int(pr.label[k])], reason=reason))
    return {"relation_missed": int(len(missed)), "relation_spurious": int(len(spurious))}, records


def evaluate_documents(
    gold: list[Document],
    pred: list[Document],
    *,
    seed: int = 0,
    n_boot: int = 1000,
    max_errors_per_kind: int = 200,
    gold_source: str | None = None,
    pred_source: str | None = None,
) -> EvalResult:
    """Score predicted documents against gold documents (paired by id; texts must be identical).

    Raises VnreorgError for documents missing on either side, differing texts, unknown labels, bad
    offsets, duplicate span ids and relations to missing spans. Overlapping spans are allowed and
    reported in `notes`. `n_boot=0` skips the bootstrap.
    """
    # The cyclic garbage collector would walk every Span object again and again while we build
    # lists of a million numbers; nothing here creates reference cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(
            gold,
            pred,
            seed=seed,
            n_boot=n_boot,
            max_errors_per_kind=max_errors_per_kind,
            gold_source=gold_source,
            pred_source=pred_source,
        )
    finally:
        if enabled:
            gc.enable()


def _evaluate(
    gold: list[Document],
    pred: list[Document],
    *,
    seed: int,
    n_boot: int,
    max_errors_per_kind: int,
    gold_source: str | None,
    pred_source: str | None,
) -> EvalResult:
    gold_docs, pred_docs = _pair_documents(gold, pred, gold_source, pred_source)
    n_docs = len(gold_docs)
    lengths = np.fromiter((len(d.text) + 1 for d in gold_docs), dtype=np.int64, count=n_docs)
    base = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    width = int(lengths.max()) if n_docs else 1
    g, grel = _extract(gold_docs, base, width, gold_source, "gold")
    p, prel = _extract(pred_docs, base, width, pred_source, "prediction")

    entities, overall = _entity_scores(g, p)
    relations, rel_cols, rel_matches = _relation_scores(g, p, grel, prel, n_docs)

    cols: dict[str, np.ndarray] = {}
    for s in SCHEMES:
        a = overall[s]
        for ci, name in ((COR, "correct"), (INC, "incorrect"), (PAR, "partial"), (SPU, "spurious")):
            cols[f"entities.{s}.{name}"] = np.bincount(p.doc[a.pred_cat == ci], minlength=n_docs)
        cols[f"entities.{s}.missed"] = np.bincount(g.doc[a.gold_cat == MIS], minlength=n_docs)
    cols.update(rel_cols)
    doc_counts = (
        np.stack([cols[c] for c in DOC_COLUMNS], axis=1).astype(np.int64) if n_docs else np.zeros((0, len(DOC_COLUMNS)), np.int64)
    )

    ci = bootstrap_ci(doc_counts, seed=seed, n_boot=n_boot)
    ctx = _Context(gold_docs, pred_docs)
    ent_counts, ent_errors = _entity_errors(g, p, overall["strict"], ctx, max_errors_per_kind)
    rel_counts, rel_errors = _relation_errors(g, p, grel, prel, rel_matches, overall["strict"], ctx, max_errors_per_kind)

    notes = []
    n_pred_overlap, n_gold_overlap = _overlap_count(p), _overlap_count(g)
    if n_pred_overlap:
        notes.append(
            f"{n_pred_overlap} predicted span(s) overlap another predicted span; scored one to one by our "
            "matching rule (exact matches first, then overlaps), see eval/README.md"
        )
    if n_gold_overlap:
        notes.append(f"{n_gold_overlap} gold span(s) overlap another gold span (the guidelines ask for flat spans)")
    for kind in ERROR_KINDS:
        n = {**ent_counts, **rel_counts}[kind]
        if n > max_errors_per_kind:
            notes.append(f"{kind}: {n} errors, the first {max_errors_per_kind} (document id, offset order) are listed")
    return EvalResult(
        n_documents=n_docs,
        n_gold_spans=len(g),
        n_pred_spans=len(p),
        n_gold_relations=len(grel.label),
        n_pred_relations=len(prel.label),
        entities=entities,
        relations=relations,
        ci=ci,
        confusion=_confusion(g, p, overall["type"]),
        errors=ent_errors + rel_errors,
        error_counts={**ent_counts, **rel_counts},
        notes=notes,
        bootstrap={"n_boot": n_boot, "seed": seed, "level": 0.95, "unit": "document"},
        doc_ids=[d.id for d in gold_docs],
        doc_counts=doc_counts,
    )


def f1_is_close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
