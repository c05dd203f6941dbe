"""Read a complete release, or one dataset folder of it, from a folder or `s3://bucket/prefix`.

`iter_samples` streams one split's tar shards; each `Sample` is one image with every released
row of it. Given a whole release it reads the split of every dataset that has one (or of the
`datasets` named), one dataset's shards after another; `Sample.record["dataset"]` tells whose. Shards are dealt round-robin to (rank, worker) pairs, so with `world_size` ranks and
`num_workers` loader workers each shard is read by exactly one of them; a pair with no shard
yields nothing. Decoding the image is left to the caller (a loader worker).

Sample.record is the shard JSON:
  {"dataset": "pixmo-points", "split": "train", "image_sha256": "…", "image_ext": "jpg",
   "rows": [<released columns, without the embedded image column>, …],
   "metas": [<per-row facts outside the release, e.g. {"over_40_points": true}>, …]}
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow.parquet as pq

from pixmo_builders.manifest import DatasetFolder, load_manifest, open_release, shard_keys
from pixmo_builders.storage import Storage, open_storage

__all__ = ["Sample", "dataset_folders", "iter_rows", "iter_samples", "load_manifest", "shards_for_worker"]


@dataclass(frozen=True)
class Sample:
    key: str
    image_bytes: bytes
    record: dict


def shards_for_worker(
    *, shards: list, rank: int, world_size: int, worker_id: int, num_workers: int
) -> list:
    """This reader's share of `shards` (keys, or (dataset location, key) pairs)."""
    if not (0 <= rank < world_size and 0 <= worker_id < num_workers):
        raise ValueError(
            f"need 0 <= rank < world_size and 0 <= worker_id < num_workers, got "
            f"rank={rank} world_size={world_size} worker_id={worker_id} num_workers={num_workers}"
        )
    readers = world_size * num_workers
    slot = rank * num_workers + worker_id
    return [key for index, key in enumerate(shards) if index % readers == slot]


def iter_samples(
    release: str,
    *,
    split: str,
    datasets: list[str] | None = None,
    rank: int = 0,
    world_size: int = 1,
    worker_id: int = 0,
    num_workers: int = 1,
) -> Iterator[Sample]:
    folders = dataset_folders(release=release, split=split, datasets=datasets)
    shards = [(folder.location, key) for folder in folders for key in shard_keys(manifest=folder.manifest, split=split)]
    mine = shards_for_worker(
        shards=shards, rank=rank, world_size=world_size, worker_id=worker_id, num_workers=num_workers
    )
    storages: dict[str, Storage] = {}
    for location, key in mine:
        if location not in storages:
            storages[location] = open_storage(location=location)
        yield from iter_shard(storage=storages[location], key=key)


def dataset_folders(*, release: str, split: str, datasets: list[str] | None = None) -> list[DatasetFolder]:
    """The dataset folders of `release` to read `split` from: a lone dataset folder as it is (an
    unknown split is an error); in a whole release the `datasets` named (each must have the
    split), or, with none named, every dataset that has the split."""
    layout = open_release(location=release)
    folders = list(layout.datasets.values())
    if datasets:
        unknown = sorted(set(datasets) - {folder.name for folder in folders})
        if unknown:
            raise ValueError(f"{release} has no dataset {', '.join(unknown)}; it has {', '.join(layout.names())}")
        folders = [folder for folder in folders if folder.name in datasets]
    if len(folders) == 1 or datasets:
        for folder in folders:
            shard_keys(manifest=folder.manifest, split=split)  # names the splits it does have
        return folders
    with_split = [folder for folder in folders if split in folder.manifest["splits"]]
    if not with_split:
        raise ValueError(f"no dataset of {release} has a split {split!r} ({', '.join(layout.names())})")
    return with_split


def iter_shard(*, storage: Storage, key: str) -> Iterator[Sample]:
    """Samples of one tar shard, read as a stream (members of a sample are adjacent)."""
    with storage.open_read(key=key) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
        current_key, parts = None, {}
        for member in tar:
            if not member.isfile():
                continue
            sample_key, _, extension = member.name.partition(".")
            if current_key is not None and sample_key != current_key:
                yield _sample(key=current_key, parts=parts)
                parts = {}
            current_key = sample_key
            parts[extension] = tar.extractfile(member).read()
        if current_key is not None:
            yield _sample(key=current_key, parts=parts)


def _sample(*, key: str, parts: dict[str, bytes]) -> Sample:
    record = json.loads(parts.pop("json"))
    image = parts.get(record["image_ext"], b"")
    return Sample(key=key, image_bytes=image, record=record)


def iter_rows(
    release: str, *, split: str, columns: list[str] | None = None, dataset: str | None = None
) -> Iterator[dict]:
    """Released rows of one split from the parquet files, one row group in memory at a time. In a
    whole release of several datasets with that split, name the `dataset` (their columns differ)."""
    folders = dataset_folders(release=release, split=split, datasets=[dataset] if dataset else None)
    if len(folders) > 1:
        raise ValueError(
            f"{release} has {len(folders)} datasets with a {split} split "
            f"({', '.join(f.name for f in folders)}); name the one to read rows of"
        )
    folder = folders[0]
    storage = open_storage(location=folder.location)
    for key in folder.manifest["splits"][split]["parquet"]:
        with storage.open_read(key=key) as stream:
            parquet = pq.ParquetFile(_seekable(stream))
            for batch in parquet.iter_batches(columns=columns):
                yield from batch.to_pylist()


SPOOL_IN_MEMORY_BYTES = 16 * 1024 * 1024


def _seekable(stream: BinaryIO) -> BinaryIO:
    """Parquet needs seeks; an S3 body is a stream, so spool it (to disk past 16 MiB)."""
    if getattr(stream, "seekable", lambda: False)():
        return stream
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool
