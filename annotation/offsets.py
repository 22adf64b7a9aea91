"""Offsets between Python code points (the corpus) and UTF-16 code units (the browser).

Label Studio's frontend measures `start`/`end` in JavaScript string indices, i.e. UTF-16 code
units: every character outside the Basic Multilingual Plane (most emoji) counts twice. The corpus
counts code points. Without conversion every offset after an emoji drifts by one (label-studio
issue 1347). Everything we send to Label Studio is in UTF-16 units and converted back on return.
"""
from __future__ import annotations

from bisect import bisect_left


class OffsetMap:
    """Conversion tables for one text; built once, O(1) lookups."""

    def __init__(self, text: str):
        self.text = text
        self._astral = any(ord(ch) > 0xFFFF for ch in text)
        if not self._astral:
            self.utf16_length = len(text)
            return
        to16 = [0] * (len(text) + 1)
        unit = 0
        for i, ch in enumerate(text):
            to16[i] = unit
            unit += 2 if ord(ch) > 0xFFFF else 1
        to16[len(text)] = unit
        self._to16 = to16
        self.utf16_length = unit

    def to_utf16(self, cp: int) -> int:
        if not 0 <= cp <= len(self.text):
            raise ValueError(f"code-point offset {cp} outside the text (length {len(self.text)})")
        return self._to16[cp] if self._astral else cp

    def from_utf16(self, unit: int) -> int:
        """Code-point offset of a UTF-16 offset; ValueError inside a surrogate pair or outside the text."""
        if not 0 <= unit <= self.utf16_length:
            raise ValueError(f"offset {unit} outside the text (length {self.utf16_length} UTF-16 units)")
        if not self._astral:
            return unit
        cp = bisect_left(self._to16, unit)
        if self._to16[cp] != unit:
            raise ValueError(f"offset {unit} falls inside the surrogate pair of {self.text[cp - 1]!r}")
        return cp


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
