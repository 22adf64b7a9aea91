"""Tokens and IOB2 tags of a gold document, with the project tokenizer; shared by every token export.

A span that does not start and end on token edges is an error naming the document and offset:
a token-level export never drops or shifts a gold span.
"""

from __future__ import annotations

from dataclasses import dataclass

from vnreorg.errors import VnreorgError
from vnreorg.schema import Document


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def doc_tokens(doc: Document) -> list[Token]:
    from vnreorg.corpus.tokenize import tokenize

    return [Token(t, s, e) for t, s, e in tokenize(doc.text)]


def bio_tags_for(doc: Document, tokens: list[Token], where: str = "") -> list[str]:
    """IOB2 tag per token; raises VnreorgError on a span that does not align or on overlapping spans."""
    tags = ["O"] * len(tokens)
    index_of_start = {t.start: i for i, t in enumerate(tokens)}
    index_of_end = {t.end: i for i, t in enumerate(tokens)}
    for span in sorted(doc.spans, key=lambda s: (s.start, s.end)):
        loc = f"{where}doc={doc.id} span={span.id} offset={span.start}".lstrip()
        first, last = index_of_start.get(span.start), index_of_end.get(span.end)
        if first is None or last is None or last < first:
            edge = "start" if first is None else "end"
            raise VnreorgError(
                f"span {doc.text[span.start : span.end]!r} [{span.start}, {span.end}) {edge} is not "
                "on a token edge of the project tokenizer; fix the span in gold",
                loc,
            )
        if any(tag != "O" for tag in tags[first : last + 1]):
            raise VnreorgError("span overlaps another span; gold spans must be flat", loc)
        tags[first] = f"B-{span.label}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{span.label}"
    return tags


def sentence_groups(doc: Document, tokens: list[Token]) -> list[tuple[str, list[int]]]:
    """Token indices grouped by sentence, in text order, with a sentence id `<doc>-<n>`.

    Tokens outside every sentence (there should be none) form their own groups, so nothing is lost.
    """
    groups: list[tuple[object, list[int]]] = []
    si = 0
    sentences = list(doc.sentences)
    for i, tok in enumerate(tokens):
        while si < len(sentences) and sentences[si][1] <= tok.start:
            si += 1
        inside = si < len(sentences) and sentences[si][0] <= tok.start
        key: object = si if inside else ("gap", si)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(i)
        else:
            groups.append((key, [i]))
    named = []
    for key, idx in groups:
        name = f"{doc.id}-{key}" if isinstance(key, int) else f"{doc.id}-gap{key[1]}"
        named.append((name, idx))
    return named
