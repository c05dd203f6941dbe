from pixmo_formats.coords import matches_text, percent_text, round_percent, to_percent, to_pixels


def test_the_one_rounding_rule():
    assert to_percent(123.4567, 640) == 19.29  # 19.2901... -> 3 decimals
    assert to_percent(1, 3) == 33.333
    assert to_pixels(25.04, 640) == 160.26
    assert to_pixels(33.333, 3) == 1.0
    assert round_percent(12.34567) == 12.346
    assert percent_text(12.34567) == "12.3" and percent_text(100) == "100.0"


def test_text_names_a_stored_point_within_half_its_last_digit():
    assert matches_text(25.1, 25.05) and matches_text(23.1, 23.15)  # binary floats: 0.0500000000000007
    assert matches_text(12.3, 12.25) and matches_text(12.2, 12.25)  # either way a tie was rounded
    assert not matches_text(23.2, 23.14)
