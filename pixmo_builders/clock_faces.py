"""The catalogue of analog watch faces: each face id fixes shape, colours, numerals and hands."""

from __future__ import annotations

import random
from dataclasses import dataclass

NUMERAL_STYLES = ("arabic", "roman", "none")
TICK_STYLES = ("minute-and-hour", "hour", "none")
HAND_STYLES = ("line", "tapered", "arrow", "skeleton")
FACE_SHAPES = ("circle", "rounded-square", "circle-bezel")
PALETTES = (
    ("ivory", (250, 246, 232), (30, 30, 30)),
    ("white", (255, 255, 255), (20, 20, 40)),
    ("black", (18, 18, 22), (235, 235, 235)),
    ("navy", (20, 34, 74), (240, 220, 160)),
    ("green", (28, 70, 52), (245, 240, 220)),
    ("silver", (200, 204, 210), (25, 25, 25)),
    ("cream", (240, 228, 200), (90, 50, 20)),
    ("red", (150, 20, 30), (250, 250, 250)),
)
SECOND_HAND_COLOURS = ((210, 30, 30), (240, 140, 20), (40, 120, 220), (20, 160, 80))
DEFAULT_FACE_COUNT = 96


@dataclass(frozen=True)
class ClockFace:
    face_id: int
    name: str
    shape: str
    dial: tuple[int, int, int]
    ink: tuple[int, int, int]
    second_colour: tuple[int, int, int]
    numerals: str
    ticks: str
    hands: str
    hand_width_scale: float
    has_logo: bool


def make_face(*, face_id: int) -> ClockFace:
    rng = random.Random(f"clock-face-{face_id}")
    palette_name, dial, ink = rng.choice(PALETTES)
    numerals = NUMERAL_STYLES[face_id % len(NUMERAL_STYLES)]
    hands = rng.choice(HAND_STYLES)
    shape = rng.choice(FACE_SHAPES)
    return ClockFace(
        face_id=face_id,
        name=f"{palette_name}-{shape}-{numerals}-{hands}",
        shape=shape,
        dial=dial,
        ink=ink,
        second_colour=rng.choice(SECOND_HAND_COLOURS),
        numerals=numerals,
        ticks=rng.choice(TICK_STYLES) if numerals != "none" else rng.choice(TICK_STYLES[:2]),
        hands=hands,
        hand_width_scale=rng.uniform(0.7, 1.5),
        has_logo=rng.random() < 0.4,
    )


def face_catalogue(*, count: int = DEFAULT_FACE_COUNT) -> list[ClockFace]:
    if count < 1:
        raise ValueError(f"a catalogue needs at least 1 face, got {count}")
    return [make_face(face_id=face_id) for face_id in range(count)]
