"""What `--data` reads: a whole release (its datasets the config names, else every one the mixture
knows), one dataset folder as given, an old folder of datasets with no index; folders and S3."""

import shutil
from pathlib import Path

import pytest

from pixmo_builders.manifest import ReleaseNotFound, release_index_write
from tests.pixmo_builders.conftest import write_release
from tests.s3_server import s3_bucket, s3_server  # noqa: F401  (the fixture)
from training.data import DataConfig, image_groups, release_summaries


@pytest.fixture
def release_with_clocks(clocks_release, tmp_path) -> str:
    """A release of pixmo-points, pixmo-count and pixmo-clocks, with its index."""
    location = write_release(str(tmp_path / "nov"), index=False)
    shutil.copytree(clocks_release, Path(location) / "pixmo-clocks")
    release_index_write(release=location, datasets=["pixmo-points", "pixmo-count", "pixmo-clocks"])
    return location


def _kinds(summaries) -> list[str]:
    return [s.kind for s in summaries]


def test_a_whole_release_gives_every_dataset_the_mixture_knows(release_with_clocks):
    summaries = release_summaries([release_with_clocks], DataConfig())
    assert _kinds(summaries) == ["pixmo-points", "pixmo-count", "pixmo-clocks"]
    assert summaries[2].path == f"{release_with_clocks}/pixmo-clocks" and summaries[2].size > 0
    only_points = DataConfig(groups={"pixmo-points": "pointing"})
    assert _kinds(release_summaries([release_with_clocks], only_points)) == ["pixmo-points"]


def test_the_config_names_the_datasets_to_read_from_a_release(release_with_clocks, clocks_release):
    config = DataConfig(datasets=["pixmo-clocks", "pixmo-count"])
    assert _kinds(release_summaries([release_with_clocks], config)) == ["pixmo-count", "pixmo-clocks"]
    with pytest.raises(ValueError, match=r"has no dataset pixmo-cap \(data.datasets\); it has pixmo-points \(train"):
        release_summaries([release_with_clocks], DataConfig(datasets=["pixmo-cap"]))
    # A dataset folder named on the command line is read as given.
    assert _kinds(release_summaries([clocks_release], DataConfig(datasets=["pixmo-cap"]))) == ["pixmo-clocks"]


def test_a_split_no_dataset_has_and_a_folder_that_is_no_release_are_sentences(release_with_clocks, tmp_path):
    with pytest.raises(ValueError, match="has no dataset the training mixture knows with a 'test' split"):
        release_summaries([release_with_clocks], DataConfig(split="test"))
    with pytest.raises(ReleaseNotFound, match="neither a release nor a dataset folder"):
        release_summaries([str(tmp_path / "nothing")], DataConfig())


def test_an_old_release_without_an_index_trains_as_its_datasets(tmp_path):
    old = write_release(str(tmp_path / "old"), index=False)
    assert sorted(_kinds(release_summaries([old], DataConfig()))) == ["pixmo-count", "pixmo-points"]


def test_a_whole_release_on_s3_streams_its_datasets(s3_server, monkeypatch):  # noqa: F811
    s3_bucket(monkeypatch, endpoint=s3_server, bucket="training")
    location = write_release("s3://training/releases/nov")
    summaries = release_summaries([location], DataConfig())
    assert [s.path for s in summaries] == [f"{location}/pixmo-points", f"{location}/pixmo-count"]
    image, rows, _ = next(image_groups(summaries[1].path, "train", 0, 1, 0, 1))
    assert image.startswith(b"\x89PNG") and rows[0]["label"] == "cat"
