"""Agreement (WER between transcripts, Hungarian-matched points) and honeypot scores."""

import pytest

from annotation_app.selectors.dashboard_quality import caption_agreement, honeypot_scores, point_agreement
from annotation_app.services.quality import (
    gold_caption_score,
    gold_compare_score,
    gold_points_score,
    points_match,
    transcripts_agreement,
)


def test_identical_transcripts_agree_fully_and_wer_is_symmetric():
    assert transcripts_agreement(texts=["A red square.", "a red square"]) == 0.0
    forward = transcripts_agreement(texts=["a red square on a table", "a red square"])
    backward = transcripts_agreement(texts=["a red square", "a red square on a table"])
    assert forward == backward == pytest.approx((3 / 6 + 3 / 3) / 2)
    assert transcripts_agreement(texts=["only one"]) is None


def test_points_are_matched_one_to_one_by_distance():
    first = [{"x": 10, "y": 10}, {"x": 90, "y": 90}]
    # Listed in the other order, and one is 3 units off: Hungarian pairs each with its neighbour.
    second = [{"x": 93, "y": 90}, {"x": 10, "y": 10}, {"x": 50, "y": 50}]
    result = points_match(first=first, second=second)
    assert result["matched"] == 2 and result["within"] == 2
    assert result["mean_distance"] == pytest.approx(1.5)
    assert result["count_difference"] == 1


def test_gold_scores():
    gold = {"label": "dog", "points": [{"x": 20, "y": 20}, {"x": 80, "y": 80}]}
    assert gold_points_score(gold=gold, points=[{"x": 21, "y": 20}, {"x": 80, "y": 79}], not_present=False) == 1.0
    assert gold_points_score(gold=gold, points=[{"x": 21, "y": 20}], not_present=False) == pytest.approx(2 / 3)
    assert gold_points_score(gold=gold, points=[], not_present=True) == 0.0
    assert gold_points_score(gold={"not_present": True}, points=[], not_present=True) == 1.0
    assert gold_caption_score(gold={"keywords": ["red square", "table"]}, transcript="A red square on a chair") == 0.5
    assert gold_compare_score(gold={"winner": "tie"}, winner="tie_bad") == 1.0
    assert gold_compare_score(gold={"winner": "a"}, winner="b") == 0.0


def test_seeded_agreement_and_honeypots(seeded):
    (caption_row,) = caption_agreement()
    assert caption_row["transcripts"] == 2 and 0 < caption_row["wer"] < 1
    (point_row,) = point_agreement()  # "cat" and "Cat" are one label
    assert point_row["sets"] == 2 and point_row["count_difference"] == 1 and point_row["mean_distance"] == 1.0
    honeypots = honeypot_scores()
    assert honeypots["gold_items"] == 1
    assert honeypots["annotators"] == [{"username": "seed-anna", "answers": 1, "score": 1.0}]
