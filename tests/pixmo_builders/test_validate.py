import json
import shutil
from pathlib import Path

import pytest

from pixmo_builders.manifest import ReleaseInfo
from pixmo_builders.split import SplitPolicy
from pixmo_builders.validate import validate_location, validate_release
from pixmo_builders.writer import ReleaseWriter

from .conftest import points_rows, write_release


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
    sentence = "holds no manifest.json: it is neither a release nor a dataset folder (or its export has not finished)"
    assert validate_release(release=str(tmp_path)) == [f"{tmp_path} {sentence}"]


def test_a_whole_release_checks_every_dataset_and_its_index(whole_release):
    result = validate_location(location=whole_release)
    assert (result.kind, result.datasets, result.problems) == ("release", ["pixmo-points", "pixmo-count"], [])
    assert validate_location(location=f"{whole_release}/pixmo-count").kind == "dataset"


def test_damage_anywhere_in_a_whole_release_is_named(whole_release):
    root = Path(whole_release)
    shard = root / "pixmo-count" / "shards" / "train-00000.tar"
    shard.write_bytes(shard.read_bytes()[:-10] + b"0" * 10)
    (root / "README.md").write_text("edited")
    (root / "notes.txt").write_text("x")
    shutil.copytree(root / "pixmo-count", root / "extra")
    problems = validate_release(release=whole_release)
    assert "pixmo-count: shards/train-00000.tar has sha256" in "\n".join(problems)
    assert any(p.startswith("README.md has sha256") and "the index says" in p for p in problems)
    assert "notes.txt is in the release but not in its index" in problems
    assert "extra/ is a dataset folder in the release that its index does not list" in problems


def test_a_dataset_manifest_that_disagrees_with_the_index_is_named(whole_release):
    root = Path(whole_release)
    manifest = _manifest(root / "pixmo-points")
    manifest["splits"]["train"]["rows"] -= 1
    _save(root / "pixmo-points", manifest)
    problems = validate_release(release=whole_release)
    assert any(p.startswith("the index counts pixmo-points as train") for p in problems)
    assert any(p.startswith("pixmo-points/manifest.json has sha256") for p in problems)
    assert any("parquet rows, the manifest says" in p for p in problems)


def test_a_folder_of_datasets_without_an_index_is_checked_dataset_by_dataset(tmp_path):
    old = write_release(str(tmp_path / "old"), index=False)
    result = validate_location(location=old)
    assert (result.kind, sorted(result.datasets), result.problems) == ("folder", ["pixmo-count", "pixmo-points"], [])
    (Path(old) / "pixmo-count" / "shards" / "train-00000.tar").write_bytes(b"x")
    assert any(p.startswith("pixmo-count: shards/train-00000.tar has sha256") for p in validate_release(release=old))
