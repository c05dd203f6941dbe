import numpy as np
import pytest

from training.evaluate import caption_stats, count_scores, pointing_prf


def test_pointing_perfect_and_extra_prediction():
    gt = [(10, 10), (50, 50)]
    assert pointing_prf([(11, 10), (50, 52)], gt) == (1.0, 1.0, 1.0)
    p, r, f = pointing_prf([(11, 10), (50, 52), (90, 90)], gt)
    assert (p, r) == (pytest.approx(2 / 3), 1.0) and f == pytest.approx(0.8)


def test_matching_is_one_to_one():
    p, r, _ = pointing_prf([(10, 10), (10.5, 10)], [(10, 10)])
    assert (p, r) == (0.5, 1.0)


def test_mask_containment_decides_correctness():
    mask = np.zeros((10, 10), bool)
    mask[:5, :5] = True  # top-left quarter
    assert pointing_prf([(20, 20)], [(30, 30)], masks=[mask], threshold=0.1)[2] == 1.0
    assert pointing_prf([(80, 80)], [(30, 30)], masks=[mask], threshold=1000)[2] == 0.0


def test_no_ground_truth_is_perfect_only_without_predictions():
    assert pointing_prf([], []) == (1.0, 1.0, 1.0)
    assert pointing_prf([(1, 1)], []) == (0.0, 0.0, 0.0)


def test_count_scores_and_caption_stats():
    scores = count_scores(["a total of 3.", "There are none.", "4", "garbage"], [3, 1, 5, 2])
    assert scores["count_exact"] == 0.25 and scores["count_within_one"] == 0.75
    assert caption_stats(["a b c", "a"])["words_mean"] == 2


def test_clock_scores_read_the_time_around_the_dial():
    from training.evaluate import clock_scores

    truths = [(5, 12), (5, 12), (11, 59), (0, 0), (3, 30), (3, 30)]
    answers = ["5:12 PM", "It is 6:13.", "12:00", "12:00 AM", "half past three", "3:3O"]
    scores = clock_scores(answers, truths)
    assert scores["n_clock"] == 6
    assert scores["clock_exact"] == 2 / 6  # 5:12 PM on a 5:12 face; 12:00 on a 0:00 face
    assert scores["clock_hour"] == 2 / 6
    assert scores["clock_hour_within_one"] == 4 / 6  # 6 for 5, 12 for 11 (around the dial)
    assert scores["clock_minute_within_one"] == 4 / 6  # 13 for 12, 00 for 59 (around the hour)
    assert scores["clock_parsed"] == 4 / 6  # no digits in two answers


def test_fact_density_counts_distinct_content_words():
    stats = caption_stats(["A red apple and a red apple on the table.", "Three blue mugs."])
    assert stats["content_words_mean"] == (3 + 3) / 2  # red, apple, table; three, blue, mugs
    assert stats["fact_density"] == 100 * 6 / 13
