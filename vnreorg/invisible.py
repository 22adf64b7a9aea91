"""Invisible format characters: zero-width joiners, bidi marks, soft hyphens and a BOM inside a text.

Copied from web pages, they are kept in the text and in every offset, but must not change what is
matched or learned: "Sáp nhập" with a ZWJ after "nhập" is still "Sáp nhập". Whatever reads text for
matching or features (the project tokenizer, the segmenter, the Document <-> Doc converter) works on
`VisibleText.text` and maps offsets back; `corpus validate` and `extract` warn where such characters occur.
Shared by the corpus and model stages, so it imports nothing of the project.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

INVISIBLE_FORMAT_CHARS: dict[str, str] = {
    "\u00ad": "SOFT HYPHEN",
    "\u200c": "ZERO WIDTH NON-JOINER",
    "\u200d": "ZERO WIDTH JOINER",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE (BOM)",
}
_INVISIBLE_RE = re.compile("[" + "".join(INVISIBLE_FORMAT_CHARS) + "]")


def invisible_offsets(text: str) -> list[int]:
    """Offsets of the invisible format characters in `text`."""
    return [m.start() for m in _INVISIBLE_RE.finditer(text)]


def invisible_warning(text: str, where: str | None = None, shown: int = 10) -> str | None:
    """One warning line naming the place (when given) and the offsets (the first `shown`), or None."""
    offsets = invisible_offsets(text)
    if not offsets:
        return None
    names = sorted({INVISIBLE_FORMAT_CHARS[text[o]] for o in offsets})
    more = f" (and {len(offsets) - shown} more)" if len(offsets) > shown else ""
    return (
        f"{where + ': ' if where else ''}{len(offsets)} invisible format character(s) ({', '.join(names)}) at offset(s) "
        f"{', '.join(map(str, offsets[:shown]))}{more}; kept in the text and offsets, ignored by matching and models"
    )


def without_invisible(text: str) -> str:
    return _INVISIBLE_RE.sub("", text)


@dataclass(frozen=True)
class VisibleText:
    """A text without its invisible format characters, and the offset maps both ways.

    `removed` holds the original offsets of the dropped characters (sorted). A visible offset `c`
    is original offset `c + k`, k = the number of dropped characters before it."""

    text: str
    removed: tuple[int, ...] = ()
    gaps: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # the visible offset before which each dropped character stood (non-decreasing)
        object.__setattr__(self, "gaps", tuple(o - i for i, o in enumerate(self.removed)))

    @classmethod
    def of(cls, original: str) -> "VisibleText":
        removed = tuple(invisible_offsets(original))
        return cls(without_invisible(original) if removed else original, removed)

    @classmethod
    def from_removed(cls, removed) -> "VisibleText":
        """The maps alone (the visible text itself is not needed to map offsets)."""
        return cls("", tuple(removed))

    def to_visible(self, offset: int) -> int:
        """An original offset (a boundary) as a visible offset: dropped characters before it are not counted."""
        return offset - bisect_left(self.removed, offset)

    def to_original_start(self, offset: int) -> int:
        """The original offset of the visible character at `offset` (a span start)."""
        return offset + bisect_right(self.gaps, offset)

    def to_original_end(self, offset: int) -> int:
        """The original offset just after the visible character before `offset` (a span end): dropped
        characters at a span's edges stay outside it."""
        return self.to_original_start(offset - 1) + 1 if offset > 0 else 0
