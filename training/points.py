"""Point text: how the model writes and reads points (PIXMO_SPEC §3).

Coordinates in text are percent of width / height, 0-100, one decimal; several points are
sorted x-major and numbered from 1.
"""

from __future__ import annotations

import re

NONE_ANSWER = "There are none."
_COORD = re.compile(r'\b([xy])(\d*)\s*=\s*"([-+]?\d*\.?\d+)"')
_POINT_TAG = re.compile(r"<points?\b([^>]*)>", re.IGNORECASE)
_TOTAL = re.compile(r"a total of\s+(\d+)", re.IGNORECASE)
_NUMBER = re.compile(r"\b(\d+)\b")
_NONE_WORDS = re.compile(r"\b(none|no|zero)\b", re.IGNORECASE)
_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    )
}


def _sorted(points) -> list[tuple[float, float]]:
    return sorted((round(float(x), 1), round(float(y), 1)) for x, y in points)


def format_points(points, label: str) -> str:
    """`points` as (x, y) in 0-100. None of them gives `There are none.`"""
    pts = _sorted(points)
    for x, y in pts:
        if not (0 <= x <= 100 and 0 <= y <= 100):
            raise ValueError(f"point ({x}, {y}) is outside 0-100 percent coordinates")
    alt = label.replace('"', "'")
    if not pts:
        return NONE_ANSWER
    if len(pts) == 1:
        x, y = pts[0]
        return f'<point x="{x:.1f}" y="{y:.1f}" alt="{alt}">{label}</point>'
    coords = " ".join(f'x{i}="{x:.1f}" y{i}="{y:.1f}"' for i, (x, y) in enumerate(pts, start=1))
    return f'<points {coords} alt="{alt}">{label}</points>'


def format_count(points, label: str) -> str:
    """Counting answer: `Counting the <points ...>label</points> shows a total of N.`"""
    if not len(points):
        return NONE_ANSWER
    return f"Counting the {format_points(points, label)} shows a total of {len(points)}."


def parse_points(text: str) -> list[tuple[float, float]]:
    """All points in `text` (0-100), in the order written."""
    out: list[tuple[float, float]] = []
    for tag in _POINT_TAG.finditer(text):
        xs: dict[str, float] = {}
        ys: dict[str, float] = {}
        for axis, idx, value in _COORD.findall(tag.group(1)):
            (xs if axis == "x" else ys)[idx] = float(value)
        out.extend((xs[i], ys[i]) for i in sorted(xs, key=lambda s: int(s or 0)) if i in ys)
    return out


def parse_count(text: str) -> int | None:
    """The count an answer states: "a total of N", else the final number, else 0 for "none"."""
    if m := _TOTAL.search(text):
        return int(m.group(1))
    plain = _POINT_TAG.sub(" ", re.sub(r"</points?>", " ", text))
    if numbers := _NUMBER.findall(plain):
        return int(numbers[-1])
    words = [w for w in re.findall(r"[a-z]+", plain.lower()) if w in _WORD_NUMBERS]
    if words:
        return _WORD_NUMBERS[words[-1]]
    if _NONE_WORDS.search(plain):
        return 0
    return None
