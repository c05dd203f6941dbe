"""Synthetic pixmo-clocks: rendered analog watch faces at random times, the time as the answer.

Columns (PIXMO_SPEC.md §1): hour/minute/second_visible hold the value the hand shows, or -1
when that hand is not drawn; `text` is the answer, e.g. "7:57:39 AM" (no seconds when the
face has no seconds hand).
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable, Iterator

from pixmo_builders.clock_faces import DEFAULT_FACE_COUNT, face_catalogue
from pixmo_builders.clock_render import ClockTime, render_clock
from pixmo_builders.manifest import ReleaseInfo
from pixmo_builders.split import SplitPolicy
from pixmo_builders.writer import ExportRow, ReleaseWriter, WriteProgress

DEFAULT_SIZE_PX = 384
MAX_SIZE_PX = 2048
JPEG_QUALITY = 90
SECONDS_HAND_PROBABILITY = 0.6
HIDDEN_HAND = -1


def clock_answer(*, time: ClockTime, shows_seconds: bool) -> str:
    hour12 = time.hour % 12 or 12
    meridiem = "AM" if time.hour < 12 else "PM"
    if shows_seconds:
        return f"{hour12}:{time.minute:02d}:{time.second:02d} {meridiem}"
    return f"{hour12}:{time.minute:02d} {meridiem}"


def clock_row(
    *, example_id: str, face_id: int, face_name: str, time: ClockTime, shows_seconds: bool, jpeg: bytes
) -> dict:
    return {
        "example_id": example_id,
        "watchface_id": face_id,
        "watchface_name": face_name,
        "watch_time": f"{time.hour:02d}:{time.minute:02d}:{time.second:02d}",
        "time_format": "h:mm:ss AM/PM" if shows_seconds else "h:mm AM/PM",
        "shows_seconds": shows_seconds,
        "hour_visible": time.hour % 12 or 12,
        "minute_visible": time.minute,
        "second_visible": time.second if shows_seconds else HIDDEN_HAND,
        "text": clock_answer(time=time, shows_seconds=shows_seconds),
        "image": {"bytes": jpeg, "path": f"{example_id}.jpg"},
    }


def generate_clocks(
    *, n: int, seed: int = 0, size: int = DEFAULT_SIZE_PX, faces: int = DEFAULT_FACE_COUNT
) -> Iterator[ExportRow]:
    """`n` clock rows with their JPEG bytes; the same seed gives the same images."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 32 <= size <= MAX_SIZE_PX:
        raise ValueError(f"size must be between 32 and {MAX_SIZE_PX} px, got {size}")
    catalogue = face_catalogue(count=faces)
    for index in range(n):
        rng = random.Random(f"{seed}-{index}")
        face = rng.choice(catalogue)
        time = ClockTime(hour=rng.randrange(24), minute=rng.randrange(60), second=rng.randrange(60))
        shows_seconds = rng.random() < SECONDS_HAND_PROBABILITY
        image = render_clock(face=face, time=time, shows_seconds=shows_seconds, size=size, rng=rng)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=JPEG_QUALITY)
        jpeg = buffer.getvalue()
        example_id = f"clock-{seed}-{index:08d}"
        row = clock_row(
            example_id=example_id,
            face_id=face.face_id,
            face_name=face.name,
            time=time,
            shows_seconds=shows_seconds,
            jpeg=jpeg,
        )
        yield ExportRow(row=row, image_sha256=hashlib.sha256(jpeg).hexdigest(), image=jpeg)


def write_clocks_release(
    *,
    n: int,
    location: str,
    seed: int = 0,
    size: int = DEFAULT_SIZE_PX,
    validation_fraction: float = 0.03,
    shard_max_samples: int = 1000,
    on_progress: Callable[[WriteProgress], None] | None = None,
) -> dict:
    """A complete pixmo-clocks release; re-running on a crashed location resumes it."""
    info = ReleaseInfo(
        dataset="pixmo-clocks",
        filters={"generator": "pixmo_builders.clocks", "n": n, "seed": seed, "size_px": size},
        accepted_only=False,
        description="Synthetic analog clocks rendered by PixMo Studio's own Pillow renderer; the answer is the time shown.",
        notes=("No person or model wrote any field: every value comes from the renderer's parameters.",),
    )
    writer = ReleaseWriter(
        location=location,
        info=info,
        split_policy=SplitPolicy(validation_fraction=validation_fraction, seed=seed),
        shard_max_samples=shard_max_samples,
        on_progress=on_progress,
    )
    return writer.write_all(generate_clocks(n=n, seed=seed, size=size))
