import hashlib
import json
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pixmo_builders.manifest import ReleaseInfo, load_manifest
from pixmo_builders.reader import iter_rows, iter_samples
from pixmo_builders.split import SplitPolicy
from pixmo_builders.writer import PROGRESS_KEY, ReleaseWriter

from .conftest import iter_points_rows, points_rows

POLICY = SplitPolicy(validation_fraction=0.25, seed=5)


def _writer(location: Path, **kwargs) -> ReleaseWriter:
    return ReleaseWriter(
        location=str(location),
        info=ReleaseInfo(dataset="pixmo-points"),
        split_policy=POLICY,
        shard_max_samples=kwargs.pop("shard_max_samples", 4),
        **kwargs,
    )


def _parquet_rows(release: Path, split: str) -> list[dict]:
    return list(iter_rows(str(release), split=split))


def test_release_layout_counts_and_checksums(tmp_path):
    manifest = _writer(tmp_path / "release").write_all(points_rows(images=30))
    release = tmp_path / "release"
    total = sum(split["rows"] for split in manifest["splits"].values())
    assert total == 60 and set(manifest["splits"]) == {"train", "validation"}
    train = manifest["splits"]["train"]
    assert train["parquet"][0] == f"data/train-00000-of-{len(train['parquet']):05d}.parquet"
    assert train["shards"][0] == "shards/train-00000.tar"
    for key, entry in manifest["files"].items():
        assert hashlib.sha256((release / key).read_bytes()).hexdigest() == entry["sha256"], key
    assert json.loads((release / "manifest.json").read_text()) == load_manifest(release=str(release))
    assert "No image reached any language model" in (release / "README.md").read_text()
    assert not (release / PROGRESS_KEY).exists() and not (release / ".staging").exists()


def test_rows_of_one_image_share_a_sample(tmp_path):
    _writer(tmp_path / "r").write_all(points_rows(images=10, labels=("cat", "dog", "cup")))
    samples = list(iter_samples(str(tmp_path / "r"), split="train"))
    assert all([row["label"] for row in s.record["rows"]] == ["cat", "dog", "cup"] for s in samples)
    assert all(hashlib.sha256(s.image_bytes).hexdigest() == s.record["image_sha256"] for s in samples)
    assert pq.read_schema(
        tmp_path / "r" / load_manifest(release=str(tmp_path / "r"))["splits"]["train"]["parquet"][0]
    ).names == ["image_url", "image_sha256", "points", "count", "label", "collection_method"]


class Crash(Exception):
    pass


def _crashing(rows, at: int):
    for index, row in enumerate(rows):
        if index == at:
            raise Crash()
        yield row


def test_crashed_write_resumes_without_duplicates_or_a_false_manifest(tmp_path):
    release = tmp_path / "release"
    with pytest.raises(Crash):
        _writer(release).write_all(_crashing(points_rows(images=40), at=55))
    assert not (release / "manifest.json").exists()
    assert (release / PROGRESS_KEY).exists()
    loads: list[int] = []
    writer = _writer(release)
    assert writer.resumed_rows > 0
    writer.write_all(points_rows(images=40, loads=loads))
    clean = tmp_path / "clean"
    _writer(clean).write_all(points_rows(images=40))
    for split in ("train", "validation"):
        assert _parquet_rows(release, split) == _parquet_rows(clean, split)
    assert min(loads) > 0, "images of committed samples must not be loaded again"
    assert load_manifest(release=str(release))["splits"] == load_manifest(release=str(clean))["splits"]


def test_resume_refuses_other_settings_and_complete_releases(tmp_path):
    release = tmp_path / "release"
    with pytest.raises(Crash):
        _writer(release).write_all(_crashing(points_rows(images=20), at=30))
    with pytest.raises(ValueError, match="other settings"):
        _writer(release, shard_max_samples=9)
    _writer(release).write_all(points_rows(images=20))
    with pytest.raises(FileExistsError, match="complete release"):
        _writer(release)


def test_invalid_rows_are_refused_with_the_reason(tmp_path):
    rows = points_rows(images=1)
    rows[0].row["points"] = [{"x": 140.0, "y": 2.0}]
    with pytest.raises(ValueError, match="outside 0–100"):
        _writer(tmp_path / "r").write_all(rows)
    rows = points_rows(images=1)
    del rows[0].row["label"]
    with pytest.raises(ValueError, match="lacks columns"):
        _writer(tmp_path / "r2").write_all(rows)


def test_progress_callback_reports_committed_files(tmp_path):
    seen = []
    _writer(tmp_path / "r", on_progress=seen.append).write_all(points_rows(images=12))
    assert seen[-1].finished and seen[-1].rows_seen == 24 and seen[-1].files_committed >= 4


def _peak_bytes(tmp_path: Path, images: int) -> int:
    tracemalloc.start()
    _writer(tmp_path / f"m{images}", shard_max_samples=100).write_all(
        iter_points_rows(images=images, labels=("cat",))
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_memory_does_not_grow_with_rows(tmp_path):
    _peak_bytes(tmp_path, 50)  # first use allocates pyarrow and Pillow state once
    small = _peak_bytes(tmp_path, 300)
    large = _peak_bytes(tmp_path, 2_400)
    print(f"peak traced bytes: {small} at 300 rows, {large} at 2400 rows")
    assert large < small * 1.5, (small, large)


def test_duplicate_rows_are_dropped_wherever_they_come_in_the_stream(tmp_path):
    rows = points_rows(images=20)
    # The same annotations again, far from the originals and under another image URL.
    repeats = [replace(item, row={**item.row, "image_url": "https://mirror.example/x.png"}) for item in rows[:10]]
    changed = replace(rows[3], row={**rows[3].row, "label": "bird"})  # same image, new label: kept
    manifest = _writer(tmp_path / "r").write_all([*rows, *repeats, changed])
    assert manifest["rows_duplicate"] == 10
    assert sum(split["rows"] for split in manifest["splits"].values()) == 41
    assert "duplicates" in (tmp_path / "r" / "README.md").read_text()
    labels = [row["label"] for split in ("train", "validation") for row in _parquet_rows(tmp_path / "r", split)]
    assert labels.count("bird") == 1 and len(labels) == 41
    assert not list((tmp_path / "r").rglob("*.sqlite3")), "the dedupe table is scratch, not release"


def test_dedupe_can_be_turned_off_and_is_part_of_the_resume_fingerprint(tmp_path):
    rows = points_rows(images=5)
    manifest = _writer(tmp_path / "all", dedupe=False).write_all([*rows, *rows])
    assert manifest["rows_duplicate"] == 0
    assert sum(split["rows"] for split in manifest["splits"].values()) == 20
    with pytest.raises(Crash):
        _writer(tmp_path / "r").write_all(_crashing(points_rows(images=30), at=40))
    with pytest.raises(ValueError, match="other settings"):
        _writer(tmp_path / "r", dedupe=False)


def test_a_resumed_write_drops_the_same_duplicates(tmp_path):
    rows = points_rows(images=30)
    stream = [*rows[:30], *rows[:12], *rows[30:]]
    with pytest.raises(Crash):
        _writer(tmp_path / "r").write_all(_crashing(stream, at=50))
    resumed = _writer(tmp_path / "r").write_all(stream)
    clean = _writer(tmp_path / "clean").write_all(stream)
    assert resumed["splits"] == clean["splits"] and resumed["rows_duplicate"] == clean["rows_duplicate"] == 12


@pytest.mark.parametrize("name,size", [("000000001.png", 2048), ("123456789.json", 0), ("a" * 100, 8**11 - 1),
                                       ("x" * 101, 5), ("000000002.jpg", 8**11)])
def test_shard_headers_are_the_bytes_tarfile_writes(name, size):
    import tarfile

    from pixmo_builders.chunk import ustar_header

    info = tarfile.TarInfo(name=name)
    info.size, info.mode = size, 0o444
    if len(name) > 100 or size >= 8**11:  # beyond USTAR: both refuse the same way
        with pytest.raises(ValueError):
            info.tobuf(format=tarfile.USTAR_FORMAT)
        with pytest.raises(ValueError):
            ustar_header(name=name, size=size)
        return
    assert ustar_header(name=name, size=size) == info.tobuf(format=tarfile.USTAR_FORMAT)
