"""The knowledge resources as a token-trie lexicon component: `lexicon_matcher`.

Every form of `models/resources/` (agency names and abbreviations, type-prefixed and abbreviated
administrative units, title heads, membership titles and modifiers) is tokenised with the pipeline's
own tokenizer, each token folded as `models.resources.fold` does (case-folded, one tone placement),
and stored in a trie over token sequences: one dictionary step per token, so 80,000 forms cost about
what ten do (the Matcher tries every token pattern at every token: 3,700 token patterns made the
ruler 3-30 times slower).

The component writes every match to `doc.user_data[LEXICON_KEY]` as (start, end, kind) and, with
`set_ents = true` (systems without the span scorer), adds the longest agency-name, abbreviation and
membership-title matches as entities
where they do not overlap the upstream entities, or where they strictly contain one. The span scorer
reads the matches as features and candidate starts (`lexicon_start_features`, `lexicon_end_features`).

This module is bundled into the packaged model's components.py (models/package.py, CODE_MODULES): it
imports only spaCy and its sibling modules (the resources are read by `initialize`, which a packaged model
never runs; the forms are saved with the model). Its module-level names carry a lexicon prefix because the
bundle puts every component module in one namespace.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .pipe_base import _factory, _FittedCfg

LEXICON_KEY = "vnreorg_lex"
# kind -> entity label ("title_mod" is a modifier: it extends a title, never one on its own)
LEXICON_KIND_LABEL = {
    "agency": "AGENCY",
    "agency_abbr": "AGENCY",
    "unit": "AGENCY",
    "title": "TITLE",
    "title_member": "TITLE",
    "title_mod": None,
}
# The kinds `set_ents` turns into entities: official names, their abbreviations and membership titles. A bare
# unit ("tỉnh Sóc Trăng") is often a place, not a body, and a bare title head is already the ruler's: in the
# first CV fold measured, adding them cut the rules baseline's entity F1 from 0.632 to 0.480.
LEXICON_SET_ENTS_KINDS = frozenset({"agency", "agency_abbr", "title_member"})
_LEXICON_END = ""  # trie key holding the kinds of the forms that end at this node


def _lexicon_tone_placements() -> dict[str, str]:
    tones = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
    out = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in tones:
            out[unicodedata.normalize("NFC", first + second + tone)] = unicodedata.normalize("NFC", first + tone + second)
    return out


_LEXICON_TONES = _lexicon_tone_placements()


def lexicon_fold(text: str) -> str:
    """The same comparison form as `vnreorg.models.resources.fold` (tested equal): case-folded NFC text
    with one tone placement ("uỷ" = "ủy")."""
    text = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    for old, new in _LEXICON_TONES.items():
        if old in text:
            text = text.replace(old, new)
    return text


def lexicon_resource_forms(resources) -> dict[str, list[str]]:
    """{kind: [form, ...]} from a `vnreorg.models.resources.Resources` (only called at initialisation)."""
    forms: dict[str, set[str]] = {k: set() for k in LEXICON_KIND_LABEL}
    for a in resources.agencies:
        forms["agency"].add(a.name)
        forms["agency_abbr"].update(a.abbreviations)
    for u in resources.admin_units:
        forms["unit"].update(resources.unit_forms(u))
    for t in resources.titles:
        forms[{"head": "title", "membership": "title_member", "modifier": "title_mod"}[t.kind]].add(t.form)
    return {k: sorted(v) for k, v in forms.items()}


@_factory("lexicon_matcher", default_config={"set_ents": False})
def make_lexicon_matcher(nlp: Language, name: str, set_ents: bool) -> LexiconMatcher:
    return LexiconMatcher(nlp, name, set_ents)


class LexiconMatcher(_FittedCfg):
    def __init__(self, nlp: Language, name: str = "lexicon_matcher", set_ents: bool = False):
        self.nlp = nlp
        self.name = name
        self.cfg: dict = {"set_ents": set_ents, "forms": {}}  # forms: kind -> ["tok tok tok", ...] (folded tokens)
        self._trie: dict | None = None
        self._fold_cache: dict[str, str] = {}

    # building ------------------------------------------------------------------------------
    def initialize(
        self, get_examples=None, *, nlp: Language | None = None, kinds: list[str] | None = None, resources_dir: str | None = None
    ) -> None:
        from vnreorg.models.resources import load_resources

        forms = lexicon_resource_forms(load_resources(resources_dir))
        tok = (nlp or self.nlp).tokenizer
        out: dict[str, list[str]] = {}
        for kind, items in forms.items():
            if kinds is not None and kind not in kinds:
                continue
            seqs = {" ".join(self._fold(t.text) for t in tok(f)) for f in items}
            out[kind] = sorted(s for s in seqs if s)
        self.cfg["forms"] = out
        self._trie = None

    def _fold(self, text: str) -> str:
        got = self._fold_cache.get(text)
        if got is None:
            got = self._fold_cache[text] = lexicon_fold(text)
        return got

    @contextmanager
    def memory_zone(self, mem=None) -> Iterator:
        """Entered by `nlp.memory_zone()`: the folding cache forgets the token texts first seen inside
        the zone (as spaCy's vocab forgets their strings), so it does not grow with the text."""
        before = len(self._fold_cache)
        try:
            yield mem
        finally:
            added = len(self._fold_cache) - before
            for key in list(islice(reversed(self._fold_cache), max(added, 0))):  # a dict keeps insertion order
                del self._fold_cache[key]

    def trie(self) -> dict:
        if self._trie is None:
            root: dict = {}
            for kind, seqs in self.cfg["forms"].items():
                for seq in seqs:
                    node = root
                    for w in seq.split(" "):
                        node = node.setdefault(w, {})
                    node.setdefault(_LEXICON_END, []).append(kind)
            self._trie = root
        return self._trie

    # matching ------------------------------------------------------------------------------
    def matches(self, doc: Doc) -> list[tuple[int, int, str]]:
        """Every (start, end, kind) of a form in the doc (all ends, not only the longest)."""
        root = self.trie()
        keys = [self._fold(t.text) for t in doc]
        out = []
        n = len(keys)
        for i in range(n):
            node = root.get(keys[i])
            j = i + 1
            while node is not None:
                for kind in node.get(_LEXICON_END, ()):
                    out.append((i, j, kind))
                if j >= n:
                    break
                node = node.get(keys[j])
                j += 1
        return out

    def __call__(self, doc: Doc) -> Doc:
        found = self.matches(doc)
        doc.user_data[LEXICON_KEY] = found
        if self.cfg.get("set_ents") and found:
            longest: dict[int, tuple[int, str]] = {}
            for s, e, kind in found:
                label = LEXICON_KIND_LABEL.get(kind) if kind in LEXICON_SET_ENTS_KINDS else None
                if label and (s not in longest or e > longest[s][0]):
                    longest[s] = (e, label)
            ents = list(doc.ents)
            new = [Span(doc, s, e, label=lab) for s, (e, lab) in longest.items()]
            keep = [
                x
                for x in ents
                if not any(n.start <= x.start and x.end <= n.end and (n.end - n.start) > (x.end - x.start) for n in new)
            ]
            taken = {i for x in keep for i in range(x.start, x.end)}
            add = [n for n in filter_spans(new) if not any(i in taken for i in range(n.start, n.end))]
            doc.ents = sorted(keep + add, key=lambda x: x.start)
        return doc

    def pipe(self, docs, batch_size: int = 128):
        for doc in docs:
            yield self(doc)

    # serialisation: the whole state is `cfg` (pipe_base._FittedCfg); the trie is rebuilt from it
    def _loaded(self) -> None:
        self._trie = None


# ------------------------------------------------------------------ span-scorer features
# The span scorer (span_scorer.py) calls these; they read the matches from `doc.user_data[LEXICON_KEY]`:
# without the lexicon component in the pipeline they give nothing (but the coordination and number-shape
# features, which need no lexicon).

LEXICON_LABEL_KINDS = {"AGENCY": ("agency", "agency_abbr", "unit"), "TITLE": ("title", "title_member")}
# Heads whose name goes on after "và", "," or " - " ("Sở Văn hóa, Thể thao và Du lịch"): bodies named by their fields.
LEXICON_FIELD_HEADS = frozenset("sở bộ ban cục vụ phòng trung tâm chi cục hội ủy uỷ viện trường đài".split())
LEXICON_COORD = frozenset({"và", ",", "-", "–"})
LEXICON_MEASURE_UNITS = frozenset({"%", "km2", "km²", "ha", "lần", "triệu", "tỷ", "nghìn", "ngàn"})

_lexicon_last: list = [None, None]  # (the doc's match list, its index): the scorer asks for one doc at a time


def _lexicon_index(doc: Doc) -> dict | None:
    found = doc.user_data.get(LEXICON_KEY)
    if not found:
        return None
    if _lexicon_last[0] is found:
        return _lexicon_last[1]
    starts: dict[int, list[tuple[int, str]]] = {}
    ends: dict[int, set[str]] = {}
    exact: dict[tuple[int, int], set[str]] = {}
    for s, e, kind in found:
        starts.setdefault(s, []).append((e, kind))
        ends.setdefault(e, set()).add(kind)
        exact.setdefault((s, e), set()).add(kind)
    covers: dict[int, set[str]] = {}  # token i strictly inside a match (not its first token)
    for s, e, kind in found:
        for i in range(s + 1, e):
            covers.setdefault(i, set()).add(kind)
    idx = {"starts": starts, "ends": ends, "exact": exact, "covers": covers}
    _lexicon_last[0], _lexicon_last[1] = found, idx
    return idx


def lexicon_candidate_starts(doc: Doc) -> set[tuple[int, str]]:
    """(start, label) of every AGENCY/TITLE form, and of a title modifier before a title form ("quyền Giám đốc")."""
    idx = _lexicon_index(doc)
    if idx is None:
        return set()
    out = set()
    for s, items in idx["starts"].items():
        for e, kind in items:
            label = LEXICON_KIND_LABEL.get(kind)
            if label:
                out.add((s, label))
            elif kind == "title_mod" and any(LEXICON_KIND_LABEL.get(k) == "TITLE" for _, k in idx["starts"].get(e, ())):
                out.add((s, "TITLE"))
    return out


def lexicon_start_features(doc: Doc, s: int, label: str) -> list[str]:
    idx = _lexicon_index(doc)
    if idx is None:
        return []
    L = label
    f = []
    items = idx["starts"].get(s, ())
    kinds = LEXICON_LABEL_KINDS.get(label, ())
    for kind in sorted({k for _, k in items}):
        f.append(f"{L}|lex_start={kind}")
    longest = max((e for e, k in items if k in kinds), default=None)
    if longest is not None:
        f.append(f"{L}|lex_start_len={min(longest - s, 8)}")
    for kind in sorted(idx["covers"].get(s, ())):
        f.append(f"{L}|lex_inside={kind}")
    if "title_mod" in idx["ends"].get(s, ()):
        f.append(f"{L}|after_title_mod")
    return f


def _lexicon_num_shape(doc: Doc, s: int, e: int) -> str:
    out = []
    for t in doc[s:e]:
        w = t.lower_
        if w[:1].isdigit():
            out.append("d")
        elif w in ("-", "–", "/"):
            out.append(w if w != "–" else "-")
        elif w in LEXICON_MEASURE_UNITS:
            out.append("u")
        else:
            out.append("w")
    return "".join(out)


def lexicon_end_features(doc: Doc, s: int, e: int, label: str) -> list[str]:
    L = label
    f = []
    n = len(doc)
    if label == "NUMBER":
        f.append(f"{L}|num_shape={_lexicon_num_shape(doc, s, e)}")
        if e < n and doc[e].lower_ in LEXICON_MEASURE_UNITS:
            f.append(f"{L}|next_unit")
        if e + 1 < n and doc[e].text in ("-", "–", "/") and doc[e + 1].text[:1].isdigit():
            f.append(f"{L}|next_range_continues")
        return f
    if e + 1 < n and doc[e].lower_ in LEXICON_COORD and doc[e + 1].text[:1].isupper():
        nxt = doc[e].lower_ if doc[e].lower_ != "–" else "-"
        f.append(f"{L}|coord_next={nxt}")
        if doc[s].lower_ in LEXICON_FIELD_HEADS:
            f.append(f"{L}|coord_next_field_head={nxt}")
    idx = _lexicon_index(doc)
    if idx is None:
        return f
    kinds = LEXICON_LABEL_KINDS.get(label, ())
    for kind in sorted(idx["exact"].get((s, e), ())):
        f.append(f"{L}|lex_exact={kind}")
    longest = max((x for x, k in idx["starts"].get(s, ()) if k in kinds), default=None)
    if longest is not None:
        f.append(f"{L}|lex_delta={max(-4, min(e - longest, 6))}")
    if idx["ends"].get(e):
        f.append(f"{L}|lex_ends_here")
    if e < n and any(k != "title_mod" for k in idx["covers"].get(e, ())):
        # a known name runs on across this end ("Sở Văn hóa, Thể thao | và Du lịch")
        f.append(f"{L}|lex_cut_inside")
    return f
