"""Point text as Molmo2 was trained to write it (its "html-v1" unified format): what training's
molmo2 family writes into answers and what every reader of a Molmo2 model's answers parses; our
own `<point x=… y=…>` format is `pixmo_formats.points`.

    pointing:  <points coords="1 1 123 456 2 300 071">cat</points>
    counting:  Counting the <points coords="1 1 123 456 2 300 071">cat</points> shows a total of 2.
    none:      There are none.

`coords` is the image number (1 for a single image) followed by `index x y` triplets, x and y
in thousandths of the width and height as integers of at least three digits, sorted by (x, y)
after rounding, numbered from 1. Our releases hold 0-100 percent points.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NONE_ANSWER = "There are none."

_COORDS_TAG = re.compile(r"<(?:points|tracks)\b[^>]*?\bcoords=\"([0-9\t:;, .]+)\"[^>]*>", re.IGNORECASE)
_FRAME = re.compile(r"(?:^|[\t:,;])\s*([0-9.]+) ([0-9. ]+)")
_TRIPLET = re.compile(r"([0-9]+) ([0-9]{3,4}) ([0-9]{3,4})")


def _thousandths(value: float) -> int:
    if not 0 <= value <= 100:
        raise ValueError(f"a point coordinate {value} is outside 0-100")
    return round(value * 10)


def points_tag(points: Iterable[tuple[float, float]], label: str) -> str:
    scaled = sorted((_thousandths(x), _thousandths(y)) for x, y in points)
    triplets = " ".join(f"{i} {x:03d} {y:03d}" for i, (x, y) in enumerate(scaled, start=1))
    return f'<points coords="1 {triplets}">{label}</points>'


def format_points(points: Iterable[tuple[float, float]], label: str) -> str:
    """`points` as (x, y) in 0-100; none of them gives `There are none.`"""
    points = list(points)
    return points_tag(points, label) if points else NONE_ANSWER


def format_count(points: Iterable[tuple[float, float]], label: str) -> str:
    points = list(points)
    if not points:
        return NONE_ANSWER
    return f"Counting the {points_tag(points, label)} shows a total of {len(points)}."


def parse_points(text: str) -> list[tuple[float, float]]:
    """Every point in `coords` attributes, as 0-100 percent, in the order written; triplets
    outside 0-1000 are not points."""
    out = []
    for tag in _COORDS_TAG.finditer(text):
        for frame in _FRAME.finditer(tag.group(1)):
            for _, x, y in _TRIPLET.findall(frame.group(2)):
                if int(x) <= 1000 and int(y) <= 1000:
                    out.append((int(x) / 10, int(y) / 10))
    return out
