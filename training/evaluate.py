"""Evaluation: pointing precision / recall / F1 with one-to-one Hungarian matching, counting
accuracy, caption length statistics, and a runner that asks a checkpoint about a release."""

from __future__ import annotations

import io
import statistics
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


def caption_stats(captions: list[str]) -> dict[str, float]:
    words = [len(c.split()) for c in captions] or [0]
    return {
        "words_mean": statistics.fmean(words),
        "words_median": statistics.median(words),
        "words_max": max(words),
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
            yield "exact", f"{style_for(kind).name}: {CLOCK_QUESTION}", r["text"]
        elif task in ("user_qa", "dialogue_qa"):
            yield "exact", r["question"], r["answer"]


def evaluate(molmo, release: str, *, split: str = "validation", limit: int | None = None, threshold: float = DEFAULT_DISTANCE_THRESHOLD,
             max_new_tokens: int = 128, progress: bool = False) -> dict:  # fmt: skip
    """Greedy answers of `molmo` (training.infer.Molmo) on one release split, scored per task."""
    from pixmo_builders.manifest import load_manifest
    from pixmo_builders.reader import iter_samples

    kind = load_manifest(release=release)["dataset"]
    prf, counts, count_truth, captions, exact = [], [], [], [], []
    samples = iter_samples(release, split=split)
    if progress:
        from tqdm import tqdm

        samples = tqdm(samples, desc="eval", unit="image")
    for n_images, sample in enumerate(samples):
        if limit is not None and n_images >= limit:
            break
        image = load_image(Image.open(io.BytesIO(sample.image_bytes)))
        for task, prompt, truth in _questions(kind, sample.record["rows"], image.size):
            answer = molmo.generate(image, prompt, max_new_tokens=max_new_tokens)
            if task == "point":
                prf.append(pointing_prf(parse_points(answer), truth[0], truth[1], threshold))
            elif task == "count":
                counts.append(answer)
                count_truth.append(truth)
            elif task == "caption":
                captions.append(answer)
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
    if captions:
        result["caption_length"] = caption_stats(captions)
    if exact:
        result.update(exact_match=sum(exact) / len(exact), n_exact=len(exact))
    return result
