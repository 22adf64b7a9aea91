"""Mention replacement: new training documents in which AGENCY, TITLE and NUMBER mentions are swapped for
other entries of the same kind, so the models see more names than five seed articles hold.

- AGENCY -> an official agency name or abbreviation, or a type-prefixed administrative unit
  ("TP. Vinh", "xã Hợp Nhất"; never a bare name), from the knowledge resources (models/resources.py);
- TITLE -> a title head or membership title from the resources, sometimes with a modifier ("Phó",
  "Quyền", "Nguyên" before; "Thường trực" after a deputy) and a body ("Giám đốc Sở Y tế");
- NUMBER -> the same shape with other digits ("15-20%" -> "37-64%", "7.739" -> "2.408"): punctuation,
  units and words are kept, a leading zero stays a zero.

Spans keep their ids and labels, relations are kept as they are (they refer to span ids), and every
offset (spans, sentences, paragraphs) is recomputed. A replacement that would not fall on token edges of
the project tokenizer is undone (the mention keeps its text), so the result always validates.

Training-time only: called inside each fold on that fold's training documents; the output is never
exported and never reaches a test fold (`forbidden_ids` takes the fold's test ids and refuses them).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache

from vnreorg.errors import VnreorgError
from vnreorg.models.resources import Resources, load_resources
from vnreorg.schema import Document, Span

REPLACED_LABELS = ("AGENCY", "TITLE", "NUMBER")


@lru_cache(maxsize=4)
def _pools(res: Resources) -> dict[str, tuple[str, ...]]:
    """Candidate texts per kind; only forms that begin and end with a letter or digit (span edges)."""

    def clean(forms: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted({f for f in forms if f and f[0].isalnum() and f[-1].isalnum()}))

    return {
        "agency": clean(f for a in res.agencies for f in a.forms),
        # inside a sentence a unit is written "xã Tân Lập", "TP. Vinh" (the capitalised full name starts one)
        "unit": clean(f for u in res.admin_units for f in res.unit_forms(u) if f != u.full_name),
        "head": clean(t.form for t in res.titles_of("head")),
        "membership": clean(t.form for t in res.titles_of("membership")),
        "prefix": clean(t.form for t in res.titles_of("modifier") if t.position == "prefix"),
        "suffix": clean(t.form for t in res.titles_of("modifier") if t.position == "suffix"),
        "body": clean(a.name for a in res.agencies),
    }


def _agency(rng: random.Random, pools: dict) -> str:
    return rng.choice(pools["agency"] if rng.random() < 0.6 else pools["unit"])


def _title(rng: random.Random, pools: dict) -> str:
    if rng.random() < 0.25:
        return rng.choice(pools["membership"])
    head = rng.choice(pools["head"])
    deputy = head.split()[0] in pools["prefix"]
    generic = all(w.islower() for w in head.split()[1:])  # "Giám đốc" takes a body, "Trưởng Ban Dân vận" has one
    if not deputy and rng.random() < 0.3:
        head = f"{rng.choice(pools['prefix'])} {head}"
    if deputy and rng.random() < 0.2:
        head = f"{head} {rng.choice(pools['suffix'])}"
    if generic and rng.random() < 0.5:
        head = f"{head} {rng.choice(pools['body'])}"
    return head


def _number(rng: random.Random, text: str) -> str:
    """Same shape, other digits; a run of digits keeps its length and never gains a leading zero."""
    out = []
    for i, ch in enumerate(text):
        if not ch.isdigit():
            out.append(ch)
            continue
        run_start = i == 0 or not text[i - 1].isdigit()
        next_digit = i + 1 < len(text) and text[i + 1].isdigit()
        if ch == "0" and run_start and next_digit:
            out.append("0")  # "03" stays zero-padded
        elif run_start and next_digit:
            out.append(str(rng.randint(1, 9)))
        else:
            out.append(str(rng.randint(0, 9)))
    return "".join(out)


def _replacement(span: Span, text: str, rng: random.Random, pools: dict) -> str:
    if span.label == "AGENCY":
        return _agency(rng, pools)
    if span.label == "TITLE":
        return _title(rng, pools)
    return _number(rng, text)


def _rebuild(doc: Document, new_texts: dict[str, str], new_id: str) -> Document:
    """The document with span texts replaced; offsets shifted by the replacements before them."""
    spans = sorted(doc.spans, key=lambda s: (s.start, s.end))
    pieces, pos, shifts = [], 0, []  # shifts: (old end, cumulative delta after it)
    delta = 0
    new_spans = []
    for span in spans:
        new = new_texts.get(span.id, doc.text[span.start : span.end])
        pieces.append(doc.text[pos : span.start])
        start = span.start + delta
        pieces.append(new)
        delta += len(new) - (span.end - span.start)
        shifts.append((span.end, delta))
        new_spans.append(replace(span, start=start, end=start + len(new), text=new if span.text is not None else None))
        pos = span.end
    pieces.append(doc.text[pos:])

    def moved(offset: int) -> int:
        d = 0
        for end, cum in shifts:
            if end <= offset:
                d = cum
            else:
                break
        return offset + d

    return Document(
        id=new_id,
        text="".join(pieces),
        meta=dict(doc.meta),
        paragraphs=[(moved(s), moved(e)) for s, e in doc.paragraphs],
        sentences=[(moved(s), moved(e)) for s, e in doc.sentences],
        spans=new_spans,
        relations=[replace(r) for r in doc.relations],
        provenance=list(doc.provenance),
    )


def replace_mentions(
    docs: Sequence[Document],
    resources: Resources | None = None,
    *,
    seed: int = 0,
    copies: int = 1,
    rate: float = 1.0,
    labels: Sequence[str] = REPLACED_LABELS,
    forbidden_ids: Iterable[str] = (),
) -> list[Document]:
    """`copies` new documents per input document, each mention of `labels` replaced with probability `rate`.

    Deterministic for a seed (each copy draws from its own generator seeded by seed, document id and copy
    number). New ids are `<id>.aug<k>`; `meta["augmented"]` and a provenance entry say what was done."""
    from vnreorg.corpus.validate import validate_documents

    forbidden = set(forbidden_ids)
    clash = sorted(d.id for d in docs if d.id in forbidden)
    if clash:
        raise VnreorgError(f"mention replacement of test-fold documents refused: {', '.join(clash)}")
    pools = _pools(resources or load_resources())
    out = []
    for doc in docs:
        for k in range(copies):
            rng = random.Random(f"{seed}:{doc.id}:{k}")
            sentence_starts = {a for a, _ in doc.sentences}
            new_texts = {}
            for s in sorted(doc.spans, key=lambda s: s.start):
                if s.label in labels and rng.random() < rate:
                    new = _replacement(s, doc.text[s.start : s.end], rng, pools)
                    new_texts[s.id] = new[0].upper() + new[1:] if s.start in sentence_starts else new
            new_id = f"{doc.id}.aug{k + 1}"
            aug = _rebuild(doc, new_texts, new_id)
            for _ in range(3):  # undo replacements that do not fall on token edges
                bad = {p.span_id for p in validate_documents([aug]) if p.span_id in new_texts}
                if not bad:
                    break
                for span_id in bad:
                    new_texts.pop(span_id)
                aug = _rebuild(doc, new_texts, new_id)
            aug.meta["augmented"] = {
                "from": doc.id,
                "method": "mention replacement",
                "seed": seed,
                "copy": k + 1,
                "replaced": len(new_texts),
            }
            aug.provenance = [
                *doc.provenance,
                {
                    "pass": "mention replacement (training only, never exported)",
                    "from": doc.id,
                    "seed": seed,
                    "replaced": len(new_texts),
                },
            ]
            out.append(aug)
    return out
