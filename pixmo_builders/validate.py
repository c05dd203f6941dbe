"""Re-read a release and list what is wrong with it, one sentence per problem.

Checks: the manifest, every file's size and sha256, no stray files, the parquet schema, every
row (columns, hashes, coordinate ranges), each image's bytes against its sha256, counts against
the manifest, that no image appears in two splits, and that each image sits in the split the
recorded policy assigns it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pyarrow.parquet as pq

from pixmo_builders.chunk import HASH_BLOCK_BYTES
from pixmo_builders.manifest import ReleaseNotFound, load_manifest
from pixmo_builders.reader import _seekable, iter_shard
from pixmo_builders.row_checks import row_problems
from pixmo_builders.schemas import dataset_schema
from pixmo_builders.split import SplitPolicy, assign_split
from pixmo_builders.storage import Storage, open_storage

# Past this many row-level problems the rest are dropped: the first ones name the fault.
MAX_PROBLEMS = 200


def validate_release(*, release: str, on_file: Callable[[str], None] | None = None) -> list[str]:
    """Every problem found, as sentences; an empty list means the release is sound."""
    try:
        manifest = load_manifest(release=release)
    except (ReleaseNotFound, ValueError) as error:
        return [str(error)]
    storage = open_storage(location=release)
    problems = _file_problems(storage=storage, manifest=manifest, on_file=on_file)
    if problems:
        return problems  # contents of damaged files would only repeat the same fault
    problems.extend(_parquet_problems(storage=storage, manifest=manifest))
    problems.extend(_shard_problems(storage=storage, manifest=manifest))
    return problems


def _file_problems(*, storage: Storage, manifest: dict, on_file) -> list[str]:
    problems = []
    listed = set(manifest["files"])
    present = set(storage.list_keys(prefix="data/")) | set(storage.list_keys(prefix="shards/"))
    for stray in sorted(present - listed):
        problems.append(f"{stray} is in the release but not in the manifest")
    for key, entry in manifest["files"].items():
        if on_file:
            on_file(key)
        if not storage.exists(key=key):
            problems.append(f"{key} is listed in the manifest but missing")
            continue
        digest, size = _hash(storage=storage, key=key)
        if size != entry["bytes"] or digest != entry["sha256"]:
            problems.append(
                f"{key} has sha256 {digest[:12]}… and {size} bytes, the manifest says "
                f"{entry['sha256'][:12]}… and {entry['bytes']} bytes"
            )
    return problems


def _hash(*, storage: Storage, key: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with storage.open_read(key=key) as stream:
        while block := stream.read(HASH_BLOCK_BYTES):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _parquet_problems(*, storage: Storage, manifest: dict) -> list[str]:
    schema = dataset_schema(name=manifest["dataset"])
    problems: list[str] = []
    for split_name, split in manifest["splits"].items():
        rows = 0
        for key in split["parquet"]:
            with storage.open_read(key=key) as stream:
                parquet = pq.ParquetFile(_seekable(stream))
                if not parquet.schema_arrow.remove_metadata().equals(schema.arrow):
                    problems.append(f"{key} does not have the {schema.name} columns and types")
                    continue
                for batch in parquet.iter_batches():
                    for row in batch.to_pylist():
                        rows += 1
                        _extend_capped(
                            problems, [f"{key} row {rows}: {p}" for p in row_problems(schema=schema, row=row)]
                        )
        if rows != split["rows"]:
            problems.append(f"split {split_name} has {rows} parquet rows, the manifest says {split['rows']}")
    return problems


def _shard_problems(*, storage: Storage, manifest: dict) -> list[str]:
    policy = _policy(manifest=manifest)
    problems: list[str] = []
    image_split: dict[str, str] = {}
    for split_name, split in manifest["splits"].items():
        rows = samples = 0
        for key in split["shards"]:
            for sample in iter_shard(storage=storage, key=key):
                samples += 1
                rows += len(sample.record["rows"])
                sha = sample.record["image_sha256"]
                _extend_capped(
                    problems, _sample_problems(key=key, sample=sample, split=split_name, policy=policy)
                )
                earlier = image_split.setdefault(sha, split_name)
                if earlier != split_name:
                    _extend_capped(
                        problems, [f"image {sha[:12]}… appears in both {earlier} and {split_name}"]
                    )
        if (rows, samples) != (split["rows"], split["samples"]):
            problems.append(
                f"split {split_name} shards hold {rows} rows in {samples} samples, the manifest says "
                f"{split['rows']} rows in {split['samples']} samples"
            )
    return problems


def _sample_problems(*, key: str, sample, split: str, policy: SplitPolicy) -> list[str]:
    sha = sample.record["image_sha256"]
    problems = []
    if hashlib.sha256(sample.image_bytes).hexdigest() != sha:
        problems.append(f"{key} sample {sample.key}: image bytes do not match image_sha256 {sha[:12]}…")
    expected = assign_split(image_sha256=sha, policy=policy)
    if expected != split:
        problems.append(f"{key} sample {sample.key}: image {sha[:12]}… belongs in {expected}, not {split}")
    return problems


def _policy(*, manifest: dict) -> SplitPolicy:
    recorded = manifest["split_policy"]
    return SplitPolicy(
        validation_fraction=recorded["validation_fraction"],
        seed=recorded["seed"],
        fixed_split=recorded["fixed_split"],
    )


def _extend_capped(problems: list[str], new: list[str]) -> None:
    room = MAX_PROBLEMS - len(problems)
    problems.extend(new[: max(room, 0)])
