"""Fixtures that make their own images and released rows."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from pixmo_builders.writer import ExportRow


def png_bytes(*, index: int, size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (index % 256, index // 256 % 256, 7)).save(buffer, "PNG")
    return buffer.getvalue()


def points_rows(
    *, images: int, labels: tuple[str, ...] = ("cat", "dog"), loads: list | None = None
) -> list[ExportRow]:
    return list(iter_points_rows(images=images, labels=labels, loads=loads))


def iter_points_rows(
    *, images: int, labels: tuple[str, ...] = ("cat", "dog"), loads: list | None = None
) -> Iterator[ExportRow]:
    """`images` images with one pixmo-points row per label, rows of one image adjacent."""
    for index in range(images):
        data = png_bytes(index=index)
        sha = hashlib.sha256(data).hexdigest()

        def load(data=data, index=index) -> bytes:
            if loads is not None:
                loads.append(index)
            return data

        for label in labels:
            row = {
                "image_url": f"https://images.example/{index}.png",
                "image_sha256": sha,
                "points": [{"x": 10.0 + index % 80, "y": 20.5}],
                "count": 1,
                "label": label,
                "collection_method": "pointing",
            }
            yield ExportRow(row=row, image_sha256=sha, image=load)


@pytest.fixture
def make_points_rows():
    return points_rows
