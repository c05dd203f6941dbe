"""Annotation quality: agreement between annotators of one item, and scores on hidden gold items.

Agreement (items worked by more than one annotator):
- captions: word error rate between the transcripts of the same image, symmetrised as the mean
  of WER(a→b) and WER(b→a), averaged over every pair of transcripts;
- points: the two sets of one label are matched one-to-one by Hungarian assignment on distance in
  0–100 percent coordinates; reported are the mean matched distance, the share of points matched
  within POINT_MATCH_THRESHOLD, and the absolute count difference.

Gold items (honeypots) carry `WorkItem.gold_answer` in one of these shapes, by project kind:
- points:  {"label": str, "points": [{"x": 0–100, "y": 0–100}], "not_present": bool}
           score = F1 of the points matched within POINT_MATCH_THRESHOLD; a not-present gold
           scores 1 only for a not-present answer;
- caption: {"keywords": [str, ...]} — score = share of the keywords found in the transcript;
- compare: {"winner": "a" | "b" | "tie"} — score = 1 when the judgment names the same winner
           ("tie" also accepts "tie_bad"), else 0.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.optimize import linear_sum_assignment

from pipelines.metrics import normalise_words, word_error_rate

# Two points of one instance lie within this distance, in percent of the image's width/height.
POINT_MATCH_THRESHOLD = 5.0


def transcript_pair_wer(*, first: str, second: str) -> float:
    """Word error rate made symmetric: neither transcript is the truth."""
    return (word_error_rate(reference=first, hypothesis=second) + word_error_rate(reference=second, hypothesis=first)) / 2


def transcripts_agreement(*, texts: list[str]) -> float | None:
    """Mean symmetric WER over every pair of transcripts; None with fewer than two."""
    pairs = list(combinations(texts, 2))
    if not pairs:
        return None
    return float(np.mean([transcript_pair_wer(first=a, second=b) for a, b in pairs]))


def points_match(*, first: list[dict], second: list[dict]) -> dict:
    """Hungarian matching of two point lists in 0–100 coordinates.

    Returns {"matched", "within", "mean_distance" (None when nothing matched), "count_difference"}.
    """
    count_difference = abs(len(first) - len(second))
    if not first or not second:
        return {"matched": 0, "within": 0, "mean_distance": None, "count_difference": count_difference}
    a = np.array([[p["x"], p["y"]] for p in first], dtype=float)
    b = np.array([[p["x"], p["y"]] for p in second], dtype=float)
    distances = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(distances)
    matched = distances[rows, cols]
    return {
        "matched": len(matched),
        "within": int((matched <= POINT_MATCH_THRESHOLD).sum()),
        "mean_distance": float(matched.mean()),
        "count_difference": count_difference,
    }


def point_sets_agreement(*, sets: list[dict]) -> dict | None:
    """Mean matched distance, share matched within the threshold and mean count difference over pairs.

    `sets` are [{"points": [...], "not_present": bool}] for one label on one item.
    """
    pairs = list(combinations(sets, 2))
    if not pairs:
        return None
    results = [points_match(first=a["points"], second=b["points"]) for a, b in pairs]
    distances = [r["mean_distance"] for r in results if r["mean_distance"] is not None]
    largest = [max(len(a["points"]), len(b["points"])) for a, b in pairs]
    within = [r["within"] / n if n else 1.0 for r, n in zip(results, largest)]
    return {
        "mean_distance": float(np.mean(distances)) if distances else None,
        "within_share": float(np.mean(within)),
        "count_difference": float(np.mean([r["count_difference"] for r in results])),
        "pairs": len(pairs),
    }


def gold_points_score(*, gold: dict, points: list[dict], not_present: bool) -> float:
    """F1 of the answer's points against the gold points, matched within the threshold."""
    gold_points = gold.get("points") or []
    if gold.get("not_present") or not gold_points:
        return 1.0 if (not_present or not points) else 0.0
    if not_present or not points:
        return 0.0
    within = points_match(first=gold_points, second=points)["within"]
    precision, recall = within / len(points), within / len(gold_points)
    return 0.0 if within == 0 else 2 * precision * recall / (precision + recall)


def gold_caption_score(*, gold: dict, transcript: str) -> float:
    """Share of the gold keywords (each one or more words) that the transcript mentions."""
    keywords = [normalise_words(k) for k in gold.get("keywords") or []]
    keywords = [k for k in keywords if k]
    if not keywords:
        return 0.0
    text = " " + " ".join(normalise_words(transcript)) + " "
    return sum(f" {' '.join(k)} " in text for k in keywords) / len(keywords)


def gold_compare_score(*, gold: dict, winner: str) -> float:
    expected = gold.get("winner")
    if expected == "tie":
        return 1.0 if winner in ("tie", "tie_bad") else 0.0
    return 1.0 if winner == expected else 0.0
