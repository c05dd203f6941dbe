"""Re-read a release and list what is wrong with it, one sentence per problem.

Per dataset: the manifest, every file's size and sha256, no stray files, the parquet schema,
every row (columns, hashes, coordinate ranges), each image's bytes against its sha256, counts
against the manifest, that no image appears in two splits, and that each image sits in the split
the recorded policy assigns it. For a whole release, the same for every dataset it lists, and
the index against them: every listed file's sha256 and size (the data files' through their
dataset's check), each dataset's counts, and no file in the release that the index does not list.
A folder of datasets with no index (written before releases had one) is checked dataset by dataset.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow.parquet as pq

from pixmo_builders.chunk import HASH_BLOCK_BYTES
from pixmo_builders.manifest import (
    INDEX_FORMAT,
    KIND_DATASET,
    KIND_FOLDER,
    KIND_RELEASE,
    MANIFEST_KEY,
    ReleaseNotFound,
    ReleaseUnreadable,
    join_location,
    load_manifest,
    open_release,
    read_manifest_json,
    storage_errors,
)
from pixmo_builders.reader import _seekable, iter_shard
from pixmo_builders.row_checks import row_problems
from pixmo_builders.schemas import dataset_schema
from pixmo_builders.split import SplitPolicy, assign_split
from pixmo_builders.storage import Storage, open_storage

# Past this many row-level problems the rest are dropped: the first ones name the fault.
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Validation:
    location: str
    kind: str  # manifest.KIND_RELEASE, KIND_DATASET or KIND_FOLDER
    datasets: list[str]  # folder paths inside the release (a lone dataset folder: its dataset)
    problems: list[str]


def validate_release(*, release: str, on_file: Callable[[str], None] | None = None) -> list[str]:
    """Every problem found, as sentences; an empty list means the release is sound."""
    try:
        return validate_location(location=release, on_file=on_file).problems
    except (ReleaseNotFound, ReleaseUnreadable, ValueError) as error:
        return [str(error)]


def validate_location(*, location: str, on_file: Callable[[str], None] | None = None) -> Validation:
    """Check a whole release, one dataset folder, or a folder of datasets with no index.

    Raises ReleaseNotFound / ReleaseUnreadable / ValueError (each a sentence) when `location` is
    none of these or cannot be read; every other fault is a problem in the result."""
    location = location.rstrip("/") or location
    try:
        top = read_manifest_json(location=location)
    except storage_errors() as error:
        if isinstance(error, ReleaseNotFound):
            raise
        raise ReleaseUnreadable(f"cannot read {location}: {error}") from None
    if top is not None and top.get("format") == INDEX_FORMAT:
        return Validation(location, KIND_RELEASE, list(top.get("datasets", {})),
                          _release_problems(release=location, index=top, on_file=on_file))
    layout = open_release(location=location)
    if layout.kind == KIND_DATASET:
        (folder,) = layout.datasets.values()
        return Validation(location, KIND_DATASET, [folder.name], _dataset_problems(release=location, on_file=on_file))
    problems = []
    for path, folder in layout.datasets.items():
        problems += [f"{path}: {p}" for p in _dataset_problems(release=folder.location, on_file=_prefixed(on_file, path))]
    return Validation(location, KIND_FOLDER, list(layout.datasets), problems)


def _dataset_problems(*, release: str, on_file: Callable[[str], None] | None) -> list[str]:
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


def _prefixed(on_file: Callable[[str], None] | None, path: str) -> Callable[[str], None] | None:
    return None if on_file is None else (lambda key: on_file(f"{path}/{key}"))


# -- a whole release: its datasets and the index over them ---------------------------------


def _release_problems(*, release: str, index: dict, on_file: Callable[[str], None] | None) -> list[str]:
    listed: dict = index.get("files", {})
    problems: list[str] = []
    for path, entry in index.get("datasets", {}).items():
        location = join_location(release, path)
        try:
            manifest = load_manifest(release=location)
        except (ReleaseNotFound, ValueError) as error:
            problems.append(f"the index lists {path}/, but {error}")
            continue
        problems += _index_against_dataset(path=path, entry=entry, manifest=manifest, listed=listed)
        problems += [f"{path}: {p}" for p in _dataset_problems(release=location, on_file=_prefixed(on_file, path))]
    storage = open_storage(location=release)
    problems += _index_own_files(storage=storage, index=index, on_file=on_file)
    problems += _unlisted(storage=storage, index=index)
    return problems


def _index_against_dataset(*, path: str, entry: dict, manifest: dict, listed: dict) -> list[str]:
    """The index's copy of a dataset (counts, name, file checksums) against the dataset's manifest."""
    problems = []
    if entry.get("dataset") != manifest["dataset"]:
        problems.append(f"the index says {path}/ holds {entry.get('dataset')}, its manifest says {manifest['dataset']}")
    theirs = {split: {"rows": info["rows"], "samples": info["samples"]} for split, info in manifest["splits"].items()}
    if entry.get("splits") != theirs:
        problems.append(f"the index counts {path} as {_counts(entry.get('splits', {}))}, its manifest as {_counts(theirs)}")
    own = {f"{path}/{key}": value for key, value in manifest.get("files", {}).items()}
    indexed = {key for key in listed if key.startswith(f"{path}/") and key != f"{path}/{MANIFEST_KEY}"}
    for key in sorted(set(own) - indexed):
        problems.append(f"{key} is in its dataset manifest but not in the release index")
    for key in sorted(indexed - set(own)):
        problems.append(f"{key} is in the release index but not in its dataset manifest")
    for key in sorted(set(own) & indexed):
        if (listed[key].get("sha256"), listed[key].get("bytes")) != (own[key]["sha256"], own[key]["bytes"]):
            problems.append(f"the index and the dataset manifest give {key} different checksums or sizes")
    manifest_entry = listed.get(f"{path}/{MANIFEST_KEY}", {})
    if manifest_entry.get("sha256") != entry.get("manifest_sha256"):
        problems.append(f"the index gives {path}/{MANIFEST_KEY} two different sha256")
    return problems


def _counts(splits: dict) -> str:
    return ", ".join(f"{split} {info.get('rows')} rows in {info.get('samples')} samples" for split, info in splits.items()) or "empty"


def _index_own_files(*, storage: Storage, index: dict, on_file) -> list[str]:
    """Hash the files no dataset manifest covers: the release card and each dataset's manifest."""
    problems = []
    covered = {f"{path}/" for path in index.get("datasets", {})}
    for key, entry in index.get("files", {}).items():
        inside_dataset = any(key.startswith(prefix) for prefix in covered) and not key.endswith(f"/{MANIFEST_KEY}")
        if inside_dataset:
            continue
        if on_file:
            on_file(key)
        problems += _checksum_problems(storage=storage, key=key, entry=entry, listed_in="the index")
    return problems


def _unlisted(*, storage: Storage, index: dict) -> list[str]:
    """Files in the release the index does not list (a dataset's data/ and shards/ are its own check)."""
    listed = set(index.get("files", {})) | {MANIFEST_KEY}
    own = tuple(f"{path}/{part}/" for path in index.get("datasets", {}) for part in ("data", "shards"))
    strays = [key for key in storage.list_keys(prefix="") if key not in listed and not key.startswith(own)]
    folders = sorted({key.split("/")[0] for key in strays if key.endswith(f"/{MANIFEST_KEY}") and key.count("/") == 1})
    problems = [f"{folder}/ is a dataset folder in the release that its index does not list" for folder in folders]
    loose = [key for key in strays if key.split("/")[0] not in folders]
    problems += [f"{key} is in the release but not in its index" for key in loose[:MAX_PROBLEMS]]
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
        problems += _checksum_problems(storage=storage, key=key, entry=entry, listed_in="the manifest")
    return problems


def _checksum_problems(*, storage: Storage, key: str, entry: dict, listed_in: str) -> list[str]:
    if not storage.exists(key=key):
        return [f"{key} is listed in {listed_in} but missing"]
    digest, size = _hash(storage=storage, key=key)
    if size != entry.get("bytes") or digest != entry.get("sha256"):
        said = f"{str(entry.get('sha256'))[:12]}… and {entry.get('bytes')} bytes"
        return [f"{key} has sha256 {digest[:12]}… and {size} bytes, {listed_in} says {said}"]
    return []


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
