import json
import shutil
from pathlib import Path

import pytest

from pixmo_builders.manifest import ReleaseInfo
from pixmo_builders.split import SplitPolicy
from pixmo_builders.validate import validate_release
from pixmo_builders.writer import ReleaseWriter

from .conftest import points_rows


@pytest.fixture
def release(tmp_path) -> Path:
    location = tmp_path / "release"
    ReleaseWriter(
        location=str(location),
        info=ReleaseInfo(dataset="pixmo-points"),
        split_policy=SplitPolicy(validation_fraction=0.3, seed=2),
        shard_max_samples=4,
    ).write_all(points_rows(images=24))
    return location


def _manifest(release: Path) -> dict:
    return json.loads((release / "manifest.json").read_text())


def _save(release: Path, manifest: dict) -> None:
    (release / "manifest.json").write_text(json.dumps(manifest))


def test_a_sound_release_has_no_problems(release):
    assert validate_release(release=str(release)) == []


def test_damaged_missing_and_stray_files_are_named(release):
    shard = release / "shards" / "train-00000.tar"
    shard.write_bytes(shard.read_bytes()[:-10] + b"0" * 10)
    (release / "data" / "validation-00000-of-00002.parquet").unlink(missing_ok=True)
    (release / "shards" / "extra.tar").write_bytes(b"x")
    problems = validate_release(release=str(release))
    assert any("train-00000.tar has sha256" in p for p in problems)
    assert any("extra.tar is in the release but not in the manifest" in p for p in problems)


def test_an_image_in_two_splits_is_leakage(release):
    manifest = _manifest(release)
    source = release / manifest["splits"]["train"]["shards"][0]
    copied = "shards/validation-00099.tar"
    shutil.copy(source, release / copied)
    train_entry = manifest["files"][manifest["splits"]["train"]["shards"][0]]
    manifest["files"][copied] = dict(train_entry, split="validation")
    manifest["splits"]["validation"]["shards"].append(copied)
    _save(release, manifest)
    problems = validate_release(release=str(release))
    assert any("appears in both train and validation" in p for p in problems)
    assert any("belongs in train, not validation" in p for p in problems)
    assert any("split validation shards hold" in p for p in problems)


def test_counts_against_the_manifest(release):
    manifest = _manifest(release)
    manifest["splits"]["train"]["rows"] += 1
    _save(release, manifest)
    assert any("parquet rows, the manifest says" in p for p in validate_release(release=str(release)))


def test_no_manifest_is_one_problem(tmp_path):
    assert validate_release(release=str(tmp_path)) == [
        f"{tmp_path} holds no manifest.json; the release is missing or incomplete"
    ]
