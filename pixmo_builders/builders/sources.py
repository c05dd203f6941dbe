"""Plain source rows the export service hands to the builders; no ORM object crosses this line.

`image` is the image bytes or a zero-argument loader for them; the writer calls a loader only
for rows it actually writes (not for rows a resumed export already committed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ImageBytes = bytes | Callable[[], bytes]


@dataclass(frozen=True)
class ImageCaptionSource:
    """One image's caption and the transcripts it was refined from, for pixmo-cap.

    Not annotation_app's CaptionSource, which says where a caption version's text came from.
    """

    image_url: str
    image_sha256: str
    image: ImageBytes
    caption: str
    transcripts: list[str]


@dataclass(frozen=True)
class PointSetSource:
    """One annotator's answer for one label on one image; points in 0–100 percent."""

    image_url: str
    image_sha256: str
    image: ImageBytes
    label: str
    points_percent: list[tuple[float, float]]
    not_present: bool = False
    collection_method: str = "pointing"  # or "counting"


@dataclass(frozen=True)
class PointsEvalSource:
    image_url: str
    image_sha256: str
    image: ImageBytes
    label: str
    points_percent: list[tuple[float, float]]
    # One boolean mask (rows of pixels) per point, where a reviewer drew them; else None.
    masks: list[list[list[bool]]] | None = None


@dataclass(frozen=True)
class QuestionAnswerSource:
    """One accepted Ask-Model-Anything question and its final answer."""

    image_url: str
    image_sha256: str
    image: ImageBytes
    question: str
    answer: str


@dataclass(frozen=True)
class DialogueSource:
    """A CapQA dialogue written from a caption: (question, answer) turns in order."""

    image_url: str
    image_sha256: str
    image: ImageBytes
    turns: list[tuple[str, str]]


@dataclass(frozen=True)
class PointExplanationSource:
    """A question and an answer whose point tags (<point …>/<points …>) refer to the image."""

    image_url: str
    image_sha256: str
    image: ImageBytes
    question: str
    response: str


@dataclass(frozen=True)
class CountSource:
    """A counting example; points in pixels of the image."""

    image_url: str
    image_sha256: str
    image: ImageBytes
    label: str
    count: int
    points_px: list[tuple[float, float]] = field(default_factory=list)
