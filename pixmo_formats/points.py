"""Point text: how answers write points and how every room reads them back.

    one:      <point x="12.3" y="45.6" alt="cat">cat</point>
    several:  <points x1="10.0" y1="5.0" x2="30.5" y2="40.1" alt="cat">cat</points>  (x-major)
    none:     There are none.
    counting: Counting the <points …>cat</points> shows a total of 2.

Coordinates are 0–100 percent, one decimal in text (`coords.percent_text`).

Reading: a tag is `<point …>…</point>` or `<points …>…</points>` (lower case, closed by its own
name). Attributes are `name="value"`, with any spacing around `=`. A tag's points come from x/y
(the same as x1/y1) or x1/y1, x2/y2, …, in index order; a coordinate that is not a plain decimal
number, or an x without its y, makes the tag `malformed` (its complete pairs are still given).
Anything that looks like a tag but is not part of a complete one is a stray tag. The browser's
`annotation_app/static/annotation_app/ui/pointtext.js` reads the same way; the cases both are
tested on are in `vectors/point_text.json`. All patterns are ASCII-only, as JavaScript's are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pixmo_formats.coords import percent_text

NONE_ANSWER = "There are none."

_TAG = re.compile(r"<(points?)\b([^>]*)>(.*?)</\1>", re.ASCII | re.DOTALL)
_STRAY_TAG = re.compile(r"</?points?\b[^>]*>", re.ASCII)
# model output, read leniently: opening tags of any case, closed or not (a reply may be cut off)
_ANY_OPENING_TAG = re.compile(r"<points?\b([^>]*)>", re.ASCII | re.IGNORECASE)
_ANY_CLOSING_TAG = re.compile(r"</points?>", re.ASCII | re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([A-Za-z_][\w-]*)[ \t\r\n]*=[ \t\r\n]*"([^"]*)"', re.ASCII)
_COORDINATE_NAME = re.compile(r"([xy])(\d*)", re.ASCII)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)", re.ASCII)

Point = tuple[float, float]


@dataclass(frozen=True)
class PointTag:
    """One complete tag in a text; `start`/`end` index `source` within that text."""

    start: int
    end: int
    source: str  # the whole tag as written
    name: str  # "point" or "points"
    alt: str | None  # None when the tag has no alt attribute
    text: str  # the words between the opening and closing tag
    points: tuple[Point, ...]  # 0–100 percent, in index order
    malformed: bool  # a coordinate is not a number, or lacks its other axis


def format_points(points: Iterable[Point], label: str) -> str:
    """`points` as (x, y) in 0–100: one tag, sorted x-major after rounding to text; none of them
    gives `There are none.` A point outside 0–100 is an error."""
    rounded = sorted((float(percent_text(x)), float(percent_text(y))) for x, y in points)
    for x, y in rounded:
        if not (0 <= x <= 100 and 0 <= y <= 100):
            raise ValueError(f"point ({x}, {y}) is outside 0-100 percent coordinates")
    if not rounded:
        return NONE_ANSWER
    alt = label.replace('"', "'")
    if len(rounded) == 1:
        x, y = rounded[0]
        return f'<point x="{percent_text(x)}" y="{percent_text(y)}" alt="{alt}">{label}</point>'
    coords = " ".join(
        f'x{i}="{percent_text(x)}" y{i}="{percent_text(y)}"' for i, (x, y) in enumerate(rounded, start=1)
    )
    return f'<points {coords} alt="{alt}">{label}</points>'


def format_count(points: Iterable[Point], label: str) -> str:
    """Counting answer: `Counting the <points …>label</points> shows a total of N.`"""
    points = list(points)
    if not points:
        return NONE_ANSWER
    return f"Counting the {format_points(points, label)} shows a total of {len(points)}."


def find_point_tags(text: str) -> list[PointTag]:
    """The complete point tags of `text`, in the order written."""
    tags = []
    for match in _TAG.finditer(text):
        attributes = _ATTRIBUTE.findall(match.group(2))
        points, malformed = _coordinates(attributes)
        alts = [value for name, value in attributes if name == "alt"]
        tags.append(
            PointTag(
                start=match.start(),
                end=match.end(),
                source=match.group(0),
                name=match.group(1),
                alt=alts[-1] if alts else None,
                text=match.group(3),
                points=points,
                malformed=malformed,
            )
        )
    return tags


def stray_tags(text: str) -> list[str]:
    """Tag fragments in `text` (call it on text outside, or inside, complete tags)."""
    return _STRAY_TAG.findall(text)


def strip_stray_tags(text: str) -> str:
    return _STRAY_TAG.sub("", text)


def points_in_text(text: str) -> list[Point]:
    """Every complete point of every opening tag, in the order written: the lenient reading of a
    model's reply (any case, closing tag optional)."""
    out: list[Point] = []
    for match in _ANY_OPENING_TAG.finditer(text):
        out.extend(_coordinates(_ATTRIBUTE.findall(match.group(1)))[0])
    return out


def strip_point_markup(text: str, replacement: str = " ") -> str:
    """`text` with every opening and closing point tag (any case) replaced by `replacement`."""
    return _ANY_OPENING_TAG.sub(replacement, _ANY_CLOSING_TAG.sub(replacement, text))


def _coordinates(attributes: list[tuple[str, str]]) -> tuple[tuple[Point, ...], bool]:
    """(complete (x, y) pairs in index order, malformed) of a tag's attributes; x/y is x1/y1."""
    found: dict[int, dict[str, str]] = {}
    for name, value in attributes:
        if match := _COORDINATE_NAME.fullmatch(name):
            axis, index = match.groups()
            found.setdefault(int(index or "1"), {})[axis] = value
    points, malformed = [], False
    for index in sorted(found):
        axes = found[index]
        if set(axes) != {"x", "y"} or not all(_NUMBER.fullmatch(v) for v in axes.values()):
            malformed = True
            continue
        points.append((float(axes["x"]), float(axes["y"])))
    return tuple(points), malformed
