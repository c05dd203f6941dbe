import pytest

from pixmo_builders.manifest import ReleaseInfo, ReleaseNotFound, load_manifest
from pixmo_builders.reader import iter_rows, iter_samples, shards_for_worker
from pixmo_builders.split import SplitPolicy
from pixmo_builders.writer import ReleaseWriter

from .conftest import points_rows, write_release


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


def test_a_whole_release_reads_every_dataset_or_the_ones_named(whole_release):
    every = list(iter_samples(whole_release, split="train"))
    by_dataset = {name: [s for s in every if s.record["dataset"] == name] for name in ("pixmo-points", "pixmo-count")}
    alone = {name: list(iter_samples(f"{whole_release}/{name}", split="train")) for name in by_dataset}
    assert all(by_dataset[name] and len(by_dataset[name]) == len(alone[name]) for name in by_dataset)
    named = list(iter_samples(whole_release, split="train", datasets=["pixmo-count"]))
    assert [s.record["image_sha256"] for s in named] == [s.record["image_sha256"] for s in alone["pixmo-count"]]
    parts = [list(iter_samples(whole_release, split="train", rank=r, world_size=2)) for r in range(2)]
    assert sorted(s.record["image_sha256"] for p in parts for s in p) == sorted(s.record["image_sha256"] for s in every)
    with pytest.raises(ValueError, match="has no dataset pixmo-cap; it has pixmo-points, pixmo-count"):
        next(iter_samples(whole_release, split="train", datasets=["pixmo-cap"]))


def test_rows_of_a_whole_release_need_the_dataset_named(whole_release):
    with pytest.raises(ValueError, match="has 2 datasets with a train split"):
        next(iter_rows(whole_release, split="train"))
    rows = list(iter_rows(whole_release, split="train", dataset="pixmo-count"))
    assert rows and all(set(row) == {"image_url", "image_sha256", "count", "points", "label"} for row in rows)


def test_an_old_release_without_an_index_reads_as_its_datasets(tmp_path):
    old = write_release(str(tmp_path / "old"), index=False)
    assert {s.record["dataset"] for s in iter_samples(old, split="train")} == {"pixmo-points", "pixmo-count"}
