"""A document's text, normalised and cut into parts of at most 1,000,000 characters at line ends.

Why: spaCy refuses a Doc over 1,000,000 characters and a 50 MB article must not be held whole. A
document is never skipped or truncated for its length: it is processed part by part, and each part
knows its offset in the whole normalised text, so every offset reported is relative to the original.

Normalisation is the corpus rule (CR LF and CR become LF, then NFC). It is applied to text that ends
at a line break, where NFC of the pieces equals NFC of the whole (a line break never composes). A
single line longer than a part is cut at a space (or, with no space in reach, before a character
that combines with nothing); the part records that cut as a warning.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

PART_CHARS = 1_000_000


@dataclass
class Part:
    index: int
    start: int  # offset of the part in the whole normalised text
    text: str
    last: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _inside_line_cut(text: str, limit: int) -> int:
    """A cut position <= limit inside a line: after a space in the second half, else before a
    non-combining character."""
    cut = text.rfind(" ", limit // 2, limit) + 1
    if cut <= 0:
        cut = limit
        while cut > 1 and unicodedata.combining(text[cut]):
            cut -= 1
    return cut


def _part_cut(text: str, limit: int) -> tuple[int, bool]:
    """Where the next part ends: after the last line break within `limit`; (cut, inside_a_line)."""
    cut = text.rfind("\n", 0, limit) + 1
    if cut > 0:
        return cut, False
    return _inside_line_cut(text, limit), True


def iter_parts(chunks: Iterable[str], limit: int = PART_CHARS) -> Iterator[Part]:
    """Parts of the normalised text, in order; the last one has `last=True`. A part given out before
    the end always has text after it (it is cut only when more than `limit` characters are waiting),
    so `last` is known without reading ahead. If reading fails, the parts already given out stand
    and the error is raised from here."""
    raw = ""  # decoded, not yet normalised: what follows the last line break seen
    buf = ""  # normalised, not yet given out
    start = index = 0

    def take(final: bool) -> Iterator[Part]:
        nonlocal buf, start, index
        while len(buf) > limit or (final and buf):
            if len(buf) > limit:
                cut, inside = _part_cut(buf, limit)
            else:
                cut, inside = len(buf), False
            part = Part(index, start, buf[:cut], last=final and cut == len(buf))
            if inside:
                part.warnings.append(
                    f"a line longer than {limit:,} characters was cut at offset {start + cut} (at a space where possible)"
                )
            buf = buf[cut:]
            start, index = start + cut, index + 1
            yield part

    for chunk in chunks:
        raw += chunk
        cut = raw.rfind("\n") + 1
        if cut == 0 and len(raw) > limit:  # no line break within a part: cut the line itself
            cut = _inside_line_cut(raw, limit)
        if cut:
            buf += normalise(raw[:cut])
            raw = raw[cut:]
            yield from take(final=False)
    buf += normalise(raw)
    yield from take(final=True)
