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


def count_rows(*, images: int) -> list[ExportRow]:
    """`images` images with one pixmo-count row each (points in pixels)."""
    rows = []
    for index in range(images):
        data = png_bytes(index=1000 + index)
        sha = hashlib.sha256(data).hexdigest()
        row = {"image_url": f"https://images.example/c{index}.png", "image_sha256": sha, "count": 1,
               "points": [{"x": 2.0, "y": 3.0}], "label": "cat"}
        rows.append(ExportRow(row=row, image_sha256=sha, image=data))
    return rows


RELEASE_FILTERS = {"projects": [], "annotators": [], "since": None, "until": None, "accepted_only": True}


def write_release(location: str, *, index: bool = True, points_images: int = 12, count_images: int = 6) -> str:
    """A whole release of pixmo-points and pixmo-count (3 samples a shard, 30 % validation), with
    its index unless `index` is False (a release as written before releases had one)."""
    from pixmo_builders.manifest import ReleaseInfo, join_location, release_index_write
    from pixmo_builders.split import SplitPolicy
    from pixmo_builders.writer import ReleaseWriter

    for dataset, rows in (("pixmo-points", points_rows(images=points_images)),
                          ("pixmo-count", count_rows(images=count_images))):
        ReleaseWriter(
            location=join_location(location, dataset),
            info=ReleaseInfo(dataset=dataset, filters=RELEASE_FILTERS),
            split_policy=SplitPolicy(validation_fraction=0.3, seed=1),
            shard_max_samples=3,
        ).write_all(rows)
    if index:
        release_index_write(release=location, name="nov", datasets=["pixmo-points", "pixmo-count"])
    return location


@pytest.fixture
def whole_release(tmp_path) -> str:
    return write_release(str(tmp_path / "nov"))
