import pytest

from pixmo_builders.manifest import ReleaseInfo, ReleaseNotFound, load_manifest
from pixmo_builders.reader import iter_samples, shards_for_worker
from pixmo_builders.split import SplitPolicy
from pixmo_builders.writer import ReleaseWriter

from .conftest import points_rows


@pytest.fixture
def release(tmp_path):
    location = str(tmp_path / "release")
    ReleaseWriter(
        location=location,
        info=ReleaseInfo(dataset="pixmo-points"),
        split_policy=SplitPolicy(validation_fraction=0.0),
        shard_max_samples=3,
    ).write_all(points_rows(images=20))
    return location


def test_ranks_and_workers_read_each_sample_exactly_once(release):
    everything = [s.key for s in iter_samples(release, split="train")]
    assert len(everything) == 20
    parts = [
        [
            s.key
            for s in iter_samples(release, split="train", rank=r, world_size=2, worker_id=w, num_workers=2)
        ]
        for r in range(2)
        for w in range(2)
    ]
    assert sorted(key for part in parts for key in part) == sorted(everything)
    assert all(part for part in parts)


def test_shards_for_worker_checks_its_arguments():
    assert shards_for_worker(shards=["a", "b", "c"], rank=0, world_size=1, worker_id=1, num_workers=2) == [
        "b"
    ]
    with pytest.raises(ValueError, match="rank < world_size"):
        shards_for_worker(shards=["a"], rank=2, world_size=2, worker_id=0, num_workers=1)


def test_missing_or_unknown_split_is_a_clear_error(release, tmp_path):
    with pytest.raises(ValueError, match="no split 'validation'"):
        next(iter_samples(release, split="validation"))
    with pytest.raises(ReleaseNotFound, match="incomplete"):
        load_manifest(release=str(tmp_path / "nothing"))
