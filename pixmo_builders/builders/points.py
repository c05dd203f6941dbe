"""pixmo-points, pixmo-points-eval and pixmo-count rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby

from pixmo_builders.builders.sources import CountSource, PointSetSource, PointsEvalSource
from pixmo_builders.writer import ExportRow

# Molmo left examples with more than this many points out of training; we keep and flag them.
MAX_TRAINING_POINTS = 40
COLLECTION_METHODS = ("pointing", "counting")


def _point_dicts(points: Iterable[tuple[float, float]]) -> list[dict]:
    return [{"x": float(x), "y": float(y)} for x, y in points]


def build_points_rows(sources: Iterable[PointSetSource]) -> Iterator[ExportRow]:
    """One row per image and label: answers for the same (image, label) that arrive together
    are merged; a not-present answer with no points gives an empty `points` and count 0."""
    for (sha, label), group in groupby(sources, key=lambda source: (source.image_sha256, source.label)):
        answers = list(group)
        first = answers[0]
        for answer in answers:
            if answer.collection_method not in COLLECTION_METHODS:
                raise ValueError(
                    f"collection_method must be one of {COLLECTION_METHODS}, got {answer.collection_method!r}"
                )
        points = sorted({point for answer in answers for point in answer.points_percent})
        method = "counting" if any(a.collection_method == "counting" for a in answers) else "pointing"
        row = {
            "image_url": first.image_url,
            "image_sha256": sha,
            "points": _point_dicts(points),
            "count": len(points),
            "label": label,
            "collection_method": method,
        }
        meta = {"over_40_points": len(points) > MAX_TRAINING_POINTS, "not_present": not points}
        yield ExportRow(row=row, image_sha256=sha, image=first.image, meta=meta)


def build_points_eval_rows(sources: Iterable[PointsEvalSource]) -> Iterator[ExportRow]:
    """Held-out pointing evaluation rows; `masks` is empty where no reviewer drew masks, and the
    release card must then state the distance threshold used instead (see `distance_note`)."""
    for source in sources:
        masks = source.masks or []
        if masks and len(masks) != len(source.points_percent):
            raise ValueError(
                f"{len(masks)} masks for {len(source.points_percent)} points of {source.image_url}; "
                "pointing-eval needs one mask per instance"
            )
        row = {
            "image_url": source.image_url,
            "image_sha256": source.image_sha256,
            "label": source.label,
            "points": _point_dicts(source.points_percent),
            "masks": masks,
        }
        yield ExportRow(
            row=row, image_sha256=source.image_sha256, image=source.image, meta={"has_masks": bool(masks)}
        )


def distance_note(*, threshold_percent: float) -> str:
    return (
        f"Where an instance has no mask, a predicted point counts as correct within {threshold_percent} "
        "percent of the image diagonal of the ground-truth point."
    )


def build_count_rows(sources: Iterable[CountSource]) -> Iterator[ExportRow]:
    for source in sources:
        if source.count < 0:
            raise ValueError(f"count must be >= 0, got {source.count} for {source.image_url}")
        row = {
            "image_url": source.image_url,
            "image_sha256": source.image_sha256,
            "count": source.count,
            "points": _point_dicts(source.points_px),
            "label": source.label,
        }
        yield ExportRow(row=row, image_sha256=source.image_sha256, image=source.image)
