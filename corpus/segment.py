"""Paragraph and sentence boundaries as character offsets into cleaned, NFC text.

Vietnamese news needs care: "TP.", "TS.", "ThS." are abbreviations, "7.739" and "14/05/2018" are
numbers, quoted speech (“...”) may hold several sentences that belong to the sentence that quotes
them, and list items ("- ", "Thứ nhất,") start paragraphs, not sentences inside them.
"""

from __future__ import annotations

import re

# Abbreviations that end with a period but do not end a sentence (compared case-sensitively).
ABBREVIATIONS = frozenset(
    {
        "TP",
        "Tp",
        "TS",
        "ThS",
        "PGS",
        "GS",
        "BS",
        "KS",
        "Th",
        "TT",
        "TX",
        "St",
        "Mr",
        "Mrs",
        "Dr",
        "tr",
        "Tr",
        "Đ/c",
        "đ/c",
    }
)

OPEN_QUOTES = "“‘«"
CLOSE_QUOTES = "”’»"
SENTENCE_END = ".!?…"
# After a sentence end: optional closing quotes/brackets, then whitespace, then a sentence start.
_END_RE = re.compile(r"(?:\.\.\.|…|[.!?])[”’»\")\]]*(?=\s+)")
_START_RE = re.compile(r"\s+([“\"‘«(\[]*)(\w)")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraphs are separated by blank lines (or single newlines); offsets exclude whitespace."""
    spans = []
    for m in re.finditer(r"[^\n]+", text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _word_before(text: str, pos: int, floor: int) -> str:
    """The run of non-space characters ending just before `pos` (the period's position)."""
    i = pos
    while i > floor and not text[i - 1].isspace():
        i -= 1
    return text[i:pos]


class _QuoteDepth:
    """How deep in quoted speech a position of a paragraph is, counted from the paragraph start.
    Positions are asked in increasing order, so each character is read once (a paragraph of one
    huge line with thousands of sentences stays linear)."""

    def __init__(self, text: str, start: int):
        self.text, self.pos, self.depth, self.straight_open = text, start, 0, False

    def before(self, pos: int) -> int:
        if pos < self.pos:
            raise ValueError("quote depth asked for an earlier position")
        for ch in self.text[self.pos : pos]:
            if ch in OPEN_QUOTES:
                self.depth += 1
            elif ch in CLOSE_QUOTES:
                self.depth = max(0, self.depth - 1)
            elif ch == '"':
                self.straight_open = not self.straight_open
        self.pos = pos
        return self.depth + (1 if self.straight_open else 0)


def _is_boundary(text: str, para_start: int, end_match: re.Match, quotes: _QuoteDepth) -> bool:
    punct_pos = end_match.start()
    mark = text[punct_pos]
    nxt = _START_RE.match(text, end_match.end())
    if nxt is None:
        return False
    first = nxt.group(2)
    if not (first.isupper() or first.isdigit()):
        return False
    if mark == "." and not text.startswith("...", punct_pos):
        word = _word_before(text, punct_pos, para_start).lstrip('(“"‘«[')
        if word in ABBREVIATIONS:
            return False
        if len(word) == 1 and word.isalpha() and word.isupper():  # an initial: "H. Lan"
            return False
    # Inside quoted speech the quoting sentence goes on.
    closing_end = end_match.end()
    if quotes.before(closing_end) > 0:
        return False
    return True


def sentences_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside one paragraph [start, end)."""
    out = []
    cur = start
    quotes = _QuoteDepth(text, start)
    for m in _END_RE.finditer(text, start, end):
        if m.end() >= end:
            break
        if _is_boundary(text, start, m, quotes):
            out.append((cur, m.end()))
            nxt = m.end()
            while nxt < end and text[nxt].isspace():
                nxt += 1
            cur = nxt
    if cur < end:
        out.append((cur, end))
    return [(s, e) for s, e in out if e > s]


def sentences(text: str, paras: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Sentence spans of every paragraph. Invisible format characters (a ZWJ after a full stop, a
    bidi mark before a capital) must not move a boundary: the text is split without them and the
    offsets mapped back (a sentence's edges then exclude them)."""
    from vnreorg.invisible import VisibleText

    paras = paragraphs(text) if paras is None else paras
    vis = VisibleText.of(text)
    if vis.removed:
        visible_paras = [(vis.to_visible(s), vis.to_visible(e)) for s, e in paras]
        return [(vis.to_original_start(s), vis.to_original_end(e)) for s, e in sentences(vis.text, visible_paras)]
    out: list[tuple[int, int]] = []
    for start, end in paras:
        out.extend(sentences_in(text, start, end))
    return out


_WORD_RE = re.compile(r"\w+(?:[./,-]\w+)*")


def count_words(text: str) -> int:
    """Syllable-words: runs of letters/digits (joined by . / , - inside numbers and codes)."""
    return len(_WORD_RE.findall(text))
