"""pixmo_formats.points over the shared vectors (pointtext.js runs over the same file:
tests/annotation_app/test_pointtext_js.py)."""

import json
from importlib import resources

import pytest

from pixmo_formats.points import (
    NONE_ANSWER,
    find_point_tags,
    format_count,
    format_points,
    points_in_text,
    stray_tags,
    strip_point_markup,
    strip_stray_tags,
)

VECTORS = json.loads(resources.files("pixmo_formats").joinpath("vectors/point_text.json").read_text())


def _pairs(points) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in points]


def _tag_record(tag) -> dict:
    return {
        "name": tag.name,
        "alt": tag.alt,
        "text": tag.text,
        "points": _pairs(tag.points),
        "malformed": tag.malformed,
    }


def _outside_tags(text: str) -> list[str]:
    """The stretches of `text` between its complete tags."""
    gaps, last = [], 0
    for tag in find_point_tags(text):
        gaps.append(text[last : tag.start])
        last = tag.end
    return [*gaps, text[last:]]


@pytest.mark.parametrize("case", VECTORS["render"], ids=lambda case: case["name"])
def test_render(case):
    render = format_count if case["counting"] else format_points
    text = render([tuple(p) for p in case["points"]], case["label"])
    assert text == case["text"]
    rounded = sorted([round(x, 1), round(y, 1)] for x, y in case["points"])
    assert [p for tag in find_point_tags(text) for p in _pairs(tag.points)] == rounded
    assert _pairs(points_in_text(text)) == rounded


@pytest.mark.parametrize("case", VECTORS["parse"], ids=lambda case: case["name"])
def test_parse(case):
    text = case["text"]
    tags = find_point_tags(text)
    assert [_tag_record(tag) for tag in tags] == case["tags"]
    assert all(text[tag.start : tag.end] == tag.source for tag in tags)
    assert [s for gap in _outside_tags(text) for s in stray_tags(gap)] == case["stray"]
    pieces = _outside_tags(text)
    kept = [strip_stray_tags(pieces[0])]
    for tag, gap in zip(tags, pieces[1:], strict=True):
        kept += [tag.source, strip_stray_tags(gap)]
    assert "".join(kept) == case["without_stray"]
    assert _pairs(points_in_text(text)) == case["lenient_points"]


def test_a_point_off_the_percent_range_is_not_rendered():
    with pytest.raises(ValueError, match="0-100"):
        format_points([(120.0, 3.0)], "x")
    assert format_count([], "x") == NONE_ANSWER


def test_markup_is_replaced_by_spaces_for_reading_counts():
    assert strip_point_markup('I see <POINTS x1="1" y1="2">3 cats</Points>.') == "I see  3 cats ."
