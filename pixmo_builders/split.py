"""Deterministic train/validation split by image, never by row.

An image's split depends only on its sha256 and the seed, so every annotation of one image
lands in the same split, in every release and on every machine. Images of the pointing
evaluation set are held out of every training split.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

TRAIN = "train"
VALIDATION = "validation"
TEST = "test"
SPLITS = (TRAIN, VALIDATION, TEST)
DEFAULT_SEED = 17
DEFAULT_VALIDATION_FRACTION = 0.02
SHA256_HEX_LENGTH = 64


@dataclass(frozen=True)
class SplitPolicy:
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION
    seed: int = DEFAULT_SEED
    # sha256 of images that must never appear in train or validation (e.g. pixmo-points-eval).
    heldout_image_sha256: frozenset[str] = field(default_factory=frozenset)
    # Every row goes to this split instead (e.g. "test" for an evaluation set).
    fixed_split: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {self.validation_fraction}")
        if self.fixed_split is not None and self.fixed_split not in SPLITS:
            raise ValueError(f"fixed_split must be one of {SPLITS}, got {self.fixed_split!r}")

    def describe(self) -> dict:
        return {
            "validation_fraction": self.validation_fraction,
            "seed": self.seed,
            "heldout_images": len(self.heldout_image_sha256),
            "fixed_split": self.fixed_split,
        }


def image_unit_interval(*, image_sha256: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by the image hash and the seed."""
    digest = hashlib.sha256(f"{seed}:{image_sha256}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(*, image_sha256: str, policy: SplitPolicy) -> str | None:
    """The split an image belongs to, or None when it is held out of this release."""
    if len(image_sha256) != SHA256_HEX_LENGTH:
        raise ValueError(f"image_sha256 must be {SHA256_HEX_LENGTH} hex characters, got {image_sha256!r}")
    if policy.fixed_split is not None:
        return policy.fixed_split
    if image_sha256 in policy.heldout_image_sha256:
        return None
    if image_unit_interval(image_sha256=image_sha256, seed=policy.seed) < policy.validation_fraction:
        return VALIDATION
    return TRAIN
