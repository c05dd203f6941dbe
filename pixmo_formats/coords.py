"""Percent <-> pixel conversion with one rounding rule.

Percent is 0–100 of the image's width (x) or height (y); pixels are of the original image.
- stored percent: 3 decimals (0.001 % is well under a pixel of any image we take);
- stored pixels: 2 decimals;
- percent in text (point tags, prompts): 1 decimal, Python's correctly rounded `{:.1f}`.

A coordinate read from text stands for a stored one when they differ by at most half of the
text's last digit (TEXT_TOLERANCE), so a tag written from a 3-decimal point still names it.
"""

from __future__ import annotations

PERCENT_DECIMALS = 3
PIXEL_DECIMALS = 2
TEXT_DECIMALS = 1
TEXT_TOLERANCE = 0.05  # percent: half of the last digit written in text
# binary floats: 23.15 written as "23.2" is 0.0500000000000007 away; that still matches
_FLOAT_SLACK = 1e-9


def round_percent(value: float) -> float:
    return round(float(value), PERCENT_DECIMALS)


def round_pixels(value: float) -> float:
    return round(float(value), PIXEL_DECIMALS)


def to_percent(pixels: float, size: int) -> float:
    """Pixels along an axis of `size` px -> stored percent (3 decimals)."""
    return round(100.0 * pixels / size, PERCENT_DECIMALS)


def to_pixels(percent: float, size: int) -> float:
    """Percent of an axis of `size` px -> stored pixels (2 decimals)."""
    return round(percent * size / 100.0, PIXEL_DECIMALS)


def percent_text(value: float) -> str:
    """Percent as text writes it: one decimal."""
    return f"{float(value):.{TEXT_DECIMALS}f}"


def matches_text(written: float, stored: float) -> bool:
    """Whether a coordinate read from text stands for a stored one (within TEXT_TOLERANCE)."""
    return abs(written - stored) <= TEXT_TOLERANCE + _FLOAT_SLACK
