import pytest

from pipelines.metrics import normalise_words, word_error_rate


def test_identical_text_has_zero_error_ignoring_case_and_punctuation():
    assert word_error_rate(reference="A red car, parked.", hypothesis="a red car parked") == 0.0


def test_counts_substitution_deletion_and_insertion():
    reference = "the red car is parked near two trees"  # 8 words
    hypothesis = "the blue car parked near two tall trees"  # red->blue, -is, +tall
    assert word_error_rate(reference=reference, hypothesis=hypothesis) == pytest.approx(3 / 8)


def test_empty_reference():
    assert word_error_rate(reference="", hypothesis="") == 0.0
    assert word_error_rate(reference="", hypothesis="words") == 1.0


def test_error_rate_can_exceed_one_with_insertions():
    assert word_error_rate(reference="cat", hypothesis="a big black cat sat") == 4.0


def test_normalise_keeps_apostrophes_and_numbers():
    assert normalise_words("It's 10 o'clock!") == ["it's", "10", "o'clock"]
