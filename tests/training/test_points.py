import pytest

from training.points import NONE_ANSWER, format_count, format_points, parse_count, parse_points


def test_single_point_text():
    assert (
        format_points([(12.34, 45.66)], "red car") == '<point x="12.3" y="45.7" alt="red car">red car</point>'
    )


def test_several_points_sorted_x_major_and_numbered_from_one():
    text = format_points([(30.5, 40.1), (10.0, 20.0), (10.0, 5.0)], "cat")
    assert text == '<points x1="10.0" y1="5.0" x2="10.0" y2="20.0" x3="30.5" y3="40.1" alt="cat">cat</points>'


@pytest.mark.parametrize("points", [[], [(0.0, 100.0)], [(55.5, 1.2), (3.3, 99.9), (50.0, 50.0)]])
def test_round_trip(points):
    parsed = parse_points(format_points(points, "dog"))
    assert parsed == sorted((round(x, 1), round(y, 1)) for x, y in points)


def test_none_and_counting_answers():
    assert format_points([], "x") == NONE_ANSWER
    text = format_count([(1, 2), (3, 4)], "red car")
    assert text.startswith("Counting the <points x1=") and text.endswith("</points> shows a total of 2.")
    assert parse_points(text) == [(1.0, 2.0), (3.0, 4.0)]


@pytest.mark.parametrize(("text", "count"), [
    ("Counting the <points x1=\"1.0\" y1=\"2.0\" x2=\"3.0\" y2=\"4.0\" alt=\"a\">a</points> shows a total of 2.", 2),
    ("There are none.", 0), ("I can see 3 birds, maybe 4", 4), ("There are five.", 5), ("hard to say", None), ("There are no cats.", 0),
])  # fmt: skip
def test_parse_count(text, count):
    assert parse_count(text) == count


def test_out_of_range_point_is_an_error():
    with pytest.raises(ValueError, match="0-100"):
        format_points([(120.0, 3.0)], "x")
