"""Evaluation: pointing precision / recall / F1 with one-to-one Hungarian matching, counting
accuracy, clock reading (exact, and hour and minute within one), caption length and fact
density, and a runner that asks a checkpoint about a release."""

from __future__ import annotations

import io
import statistics
import re
from collections.abc import Iterator

import numpy as np
from PIL import Image
from scipy.optimize import linear_sum_assignment

from training.formatting import CLOCK_QUESTION, style_for, task_of
from training.points import parse_count, parse_points
from training.preprocessor import load_image

DEFAULT_DISTANCE_THRESHOLD = 5.0  # 0-100 units (percent of width/height), used where no masks exist


def pointing_prf(
    pred, gt, masks=None, threshold: float = DEFAULT_DISTANCE_THRESHOLD
) -> tuple[float, float, float]:
    """Points in 0-100. Predictions and ground-truth instances are matched one-to-one by distance
    (Hungarian); a matched prediction is correct if it lies inside its instance's mask, or, where
    there are no masks, within `threshold` (0-100 units, Euclidean) of its point. No ground truth:
    perfect only if nothing is predicted."""
    pred, gt = np.asarray(pred, float).reshape(-1, 2), np.asarray(gt, float).reshape(-1, 2)
    if len(gt) == 0:
        score = float(len(pred) == 0)
        return score, score, score
    if len(pred) == 0:
        return 0.0, 0.0, 0.0
    dist = np.linalg.norm(pred[:, None] - gt[None], axis=-1)
    rows, cols = linear_sum_assignment(dist)
    correct = sum(_hit(pred[r], c, dist[r, c], masks, threshold) for r, c in zip(rows, cols))
    precision, recall = correct / len(pred), correct / len(gt)
    f1 = 0.0 if correct == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def _hit(point, instance: int, distance: float, masks, threshold: float) -> bool:
    if masks is None or len(masks) == 0:
        return distance <= threshold
    mask = np.asarray(masks[instance], bool)
    h, w = mask.shape
    x, y = int(min(w - 1, max(0, point[0] / 100 * w))), int(min(h - 1, max(0, point[1] / 100 * h)))
    return bool(mask[y, x])


def count_scores(predicted_texts: list[str], truths: list[int]) -> dict[str, float]:
    """Exact and within-one accuracy; an unparseable answer counts as wrong."""
    parsed = [parse_count(t) for t in predicted_texts]
    exact = [p is not None and p == t for p, t in zip(parsed, truths)]
    near = [p is not None and abs(p - t) <= 1 for p, t in zip(parsed, truths)]
    n = max(1, len(truths))
    return {"count_exact": sum(exact) / n, "count_within_one": sum(near) / n, "n": len(truths)}


# A time as a clock answer writes it: "5:12", "5:12 PM", "17:12:18", "5.12".
_CLOCK_TIME = re.compile(r"(?<!\d)(\d{1,2})\s*[:.]\s*(\d{2})(?:\s*[:.]\s*\d{2})?(?!\d)")


def _clock_truth(row: dict) -> tuple[int, int]:
    """(hour on the 12-hour dial, minute) the face shows: its hour/minute columns, else its answer text."""
    if row.get("hour_visible") is not None and row.get("minute_visible") is not None:
        return int(row["hour_visible"]) % 12, int(row["minute_visible"])
    match = _CLOCK_TIME.search(row["text"])
    if match is None:
        raise ValueError(f"the clock row's answer {row['text']!r} holds no time")
    return int(match.group(1)) % 12, int(match.group(2))


def clock_scores(predicted_texts: list[str], truths: list[tuple[int, int]]) -> dict[str, float]:
    """Clock reading against the (hour, minute) the face shows: exact (hour on the 12-hour dial
    and minute), hour right, hour within one and minute within one (both around the dial), and
    how many answers held a time at all. An answer with no time counts as wrong everywhere."""
    exact = hour = hour_near = minute_near = parsed = 0
    for text, (true_hour, true_minute) in zip(predicted_texts, truths, strict=True):
        match = _CLOCK_TIME.search(text)
        if match is None or int(match.group(2)) > 59:
            continue
        parsed += 1
        got_hour, got_minute = int(match.group(1)) % 12, int(match.group(2))
        hour_gap = min((got_hour - true_hour) % 12, (true_hour - got_hour) % 12)
        minute_gap = min((got_minute - true_minute) % 60, (true_minute - got_minute) % 60)
        exact += hour_gap == 0 and minute_gap == 0
        hour += hour_gap == 0
        hour_near += hour_gap <= 1
        minute_near += minute_gap <= 1
    n = max(len(truths), 1)
    return {"clock_exact": exact / n, "clock_hour": hour / n, "clock_hour_within_one": hour_near / n,
            "clock_minute_within_one": minute_near / n, "clock_parsed": parsed / n, "n_clock": len(truths)}


# Words that carry no fact of their own; everything else in a caption counts as content.
_FUNCTION_WORDS = frozenset("""a an the and or but of in on at to for with from by as is are was were be been being it its
this that these those there here their they them he she his her we you your i my our me us which who whom whose what
where when while than then so very also just can could would should will may might do does did has have had not no
into onto over under above below near next behind beside between up down out off about around some any each every
all both few more most other such one image picture photo shows showing shown see seen appears looks like""".split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def caption_stats(captions: list[str]) -> dict[str, float]:
    """Length, and fact density: a caption's distinct content words (what it names and
    describes) per caption and per 100 words."""
    words = [len(c.split()) for c in captions] or [0]
    facts = [len({w for w in _WORD.findall(c.lower()) if w not in _FUNCTION_WORDS}) for c in captions] or [0]
    return {
        "words_mean": statistics.fmean(words),
        "words_median": statistics.median(words),
        "words_max": max(words),
        "content_words_mean": statistics.fmean(facts),
        "fact_density": 100 * sum(facts) / max(sum(words), 1),
        "n": len(captions),
    }


def _questions(kind: str, rows: list[dict], size: tuple[int, int]) -> Iterator[tuple[str, str, object]]:
    """(scoring, prompt, truth) for each row the evaluation can score, by the dataset's task."""
    task = task_of(kind)
    for r in rows:
        if task == "pointing":
            yield (
                "point",
                f"Point to {r['label']}",
                ([(p["x"], p["y"]) for p in r.get("points") or []], r.get("masks")),
            )
        elif task == "counting":
            yield "count", f"How many {r['label']} are there?", r["count"]
        elif task == "caption":
            yield "caption", "Describe this image in detail.", r.get("caption", "")
        elif task == "clock_reading":  # academic style: always prefixed
            yield "clock", f"{style_for(kind).name}: {CLOCK_QUESTION}", _clock_truth(r)
        elif task in ("user_qa", "dialogue_qa"):
            yield "exact", r["question"], r["answer"]


def evaluate(molmo, release: str, *, split: str = "validation", limit: int | None = None, threshold: float = DEFAULT_DISTANCE_THRESHOLD,
             max_new_tokens: int = 128, progress: bool = False) -> dict:  # fmt: skip
    """Greedy answers of `molmo` (training.infer.Molmo) on one release split, scored per task."""
    from pixmo_builders.manifest import load_manifest
    from pixmo_builders.reader import iter_samples

    kind = load_manifest(release=release)["dataset"]
    prf, counts, count_truth, captions, exact, clocks, clock_truth = [], [], [], [], [], [], []
    samples = iter_samples(release, split=split)
    if progress:
        from tqdm import tqdm

        samples = tqdm(samples, desc="eval", unit="image")
    for n_images, sample in enumerate(samples):
        if limit is not None and n_images >= limit:
            break
        image = load_image(Image.open(io.BytesIO(sample.image_bytes)), rgb=False)  # the model converts
        for task, prompt, truth in _questions(kind, sample.record["rows"], image.size):
            answer = molmo.generate(image, prompt, max_new_tokens=max_new_tokens)
            if task == "point":
                prf.append(pointing_prf(parse_points(answer), truth[0], truth[1], threshold))
            elif task == "count":
                counts.append(answer)
                count_truth.append(truth)
            elif task == "caption":
                captions.append(answer)
            elif task == "clock":
                clocks.append(answer)
                clock_truth.append(truth)
            else:
                exact.append(answer.strip() == str(truth).strip())
    result: dict = {"dataset": kind, "split": split}
    if prf:
        p, r, f = np.mean(prf, axis=0)
        result.update(
            precision=float(p),
            recall=float(r),
            f1=float(f),
            n_pointing=len(prf),
            distance_threshold=threshold,
        )
    if counts:
        result.update(count_scores(counts, count_truth))
    if clocks:
        result.update(clock_scores(clocks, clock_truth))
    if captions:
        result["caption_length"] = caption_stats(captions)
    if exact:
        result.update(exact_match=sum(exact) / len(exact), n_exact=len(exact))
    return result
