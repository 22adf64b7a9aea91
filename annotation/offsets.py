"""The one offset rule between the corpus and Label Studio, as the pinned version's browser counts.

Measured (2026-11-30, Label Studio 1.23.2, headless Chromium driven by Playwright with real mouse
drags; re-checked by tests/test_browser.py on every run): the labeling interface saves a region's
`start`/`end` in **code points**, the same unit as Python string offsets, and draws pre-annotations by
that same rule. A region over "Tỉnh ủy" after "🇻🇳" comes back at its code-point offset. The corpus
counts code points too, so the rule is the identity; it lives here, once, so that push (annotations
and predictions), pull and offline convert cannot disagree, and so that a new Label Studio version is
measured again before it is trusted (`MEASURED_LABEL_STUDIO`; a test fails on any other version).

vnreorg before this rule sent UTF-16 code units (what older Label Studio issue threads describe, e.g.
label-studio #1347). Every task pushed now carries `data.offset_unit = "codepoint"`; a task without
the marker whose text holds characters outside the Basic Multilingual Plane is a *legacy* task: each
region is read in whichever unit makes its offsets cut exactly its saved `text`, and refused when both
or neither do. `OffsetMap` below is kept only for that reading.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

MEASURED_LABEL_STUDIO = "1.23.2"  # the Label Studio version whose browser was measured
OFFSET_FIELD = "offset_unit"  # task data key written at push
OFFSET_UNIT = "codepoint"  # its value
LEGACY_UNIT = "utf16"  # what a task without the marker may hold


def has_astral(text: str) -> bool:
    return any(ord(ch) > 0xFFFF for ch in text)


def to_label_studio(text: str, start: int, end: int) -> tuple[int, int]:
    """Corpus offsets -> the offsets Label Studio stores and draws (code points: the identity)."""
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span [{start}:{end}] outside the text (length {len(text)})")
    return start, end


def task_offset_unit(data: dict[str, Any]) -> str:
    """The unit a task's stored regions use: ours when marked, else legacy if the units can differ at all."""
    unit = data.get(OFFSET_FIELD)
    if unit == OFFSET_UNIT:
        return OFFSET_UNIT
    if unit not in (None, LEGACY_UNIT):
        raise ValueError(f"unknown `data.{OFFSET_FIELD}` {unit!r} (expected {OFFSET_UNIT!r})")
    text = data.get("text")
    return LEGACY_UNIT if isinstance(text, str) and has_astral(text) else OFFSET_UNIT


class OffsetMap:
    """UTF-16 <-> code-point tables for one text (legacy tasks only); built once, O(1) lookups."""

    def __init__(self, text: str):
        self.text = text
        self._astral = has_astral(text)
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
