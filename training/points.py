"""Point text as training reads and writes it (PIXMO_SPEC §3): the shared format lives in
`pixmo_formats.points`; what is training's own is reading a count from a model's answer.

Coordinates in text are percent of width / height, 0-100, one decimal; several points are
sorted x-major and numbered from 1.
"""

from __future__ import annotations

import re

from pixmo_formats import molmo2_points
from pixmo_formats.points import NONE_ANSWER, format_count, format_points, points_in_text, strip_point_markup

__all__ = ["NONE_ANSWER", "format_count", "format_points", "parse_count", "parse_points"]

_TOTAL = re.compile(r"a total of\s+(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"\b(\d+)\b")
_NONE_WORDS = re.compile(r"\b(none|no|zero)\b", re.IGNORECASE)
_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    )
}


def parse_points(text: str) -> list[tuple[float, float]]:
    """All points in `text` (0-100), in the order written; a reply cut off inside its tag still
    counts. A Molmo2 answer (`<points coords="1 1 123 456">`) is read in its own format."""
    return points_in_text(text) or molmo2_points.parse_points(text)


def parse_count(text: str) -> int | None:
    """The count an answer states: "a total of N", else the final number, else 0 for "none"."""
    if m := _TOTAL.search(text):
        return int(m.group(1))
    plain = strip_point_markup(text)
    if numbers := _NUMBER.findall(plain):
        return int(numbers[-1])
    words = [w for w in re.findall(r"[a-z]+", plain.lower()) if w in _WORD_NUMBERS]
    if words:
        return _WORD_NUMBERS[words[-1]]
    if _NONE_WORDS.search(plain):
        return 0
    return None
