"""The two manifests of a release, each written last so that its presence means complete.

A release is one folder or `s3://bucket/prefix` (DESIGN.md "Release layout"):

  <release>/manifest.json              the release index (format "pixmo-release-index")
  <release>/README.md                  the release's data card
  <release>/<dataset>/manifest.json    the dataset manifest (format "pixmo-release")
  <release>/<dataset>/README.md        the dataset's data card
  <release>/<dataset>/data/<split>-NNNNN-of-MMMMM.parquet   released columns
  <release>/<dataset>/shards/<split>-NNNNN.tar              image bytes + one JSON per sample

The dataset manifest (written by `writer.ReleaseWriter`) holds: format, schema_version, dataset,
columns, code_version, created_at, splits {split: {rows, samples, parquet: [keys], shards:
[keys]}}, rows_held_out, rows_duplicate, meta_counts, split_policy, shard sizes, release (the
`ReleaseInfo`: filters, provenance, licence, …) and files {key: {sha256, bytes, …}} with keys
relative to the dataset folder.

The release index, `index_version` 1 (written by `release_index_write`, after every dataset
manifest and the release card, in one atomic put: a local file is written beside its target and
renamed into place, an S3 object appears only once whole):

  {"format": "pixmo-release-index", "index_version": 1, "name": "nov-release",
   "schema_version": "1.0", "code_version": "git:<commit>" | "pixmo-studio==<version>",
   "created_at": "2026-11-02T10:00:00+00:00",
   "filters": {...} | null,   # what every dataset was cut with (null: the datasets differ)
   "datasets": {"pixmo-cap": {"path": "pixmo-cap", "schema_version": "1.0",
                              "code_version": "...", "created_at": "...", "filters": {...},
                              "splits": {"train": {"rows": 120, "samples": 118}},
                              "manifest_sha256": "..."}},
   "files": {"README.md": {"kind": "card", "sha256": "...", "bytes": 900},
             "pixmo-cap/manifest.json": {"kind": "manifest", "dataset": "pixmo-cap", "sha256": ..., "bytes": ...},
             "pixmo-cap/data/train-00000-of-00001.parquet": {"kind": "parquet", "dataset": "pixmo-cap",
                 "split": "train", "sha256": ..., "bytes": ..., "rows": ..., "samples": ...}, ...}}

`files` lists every file of the release but the index itself, keyed from the release root.

`open_release` tells which of three things a location is: a whole release (it has an index),
one dataset folder (its manifest.json is a dataset manifest; inside a release or on its own, as
`pixmo generate` writes), or a folder of dataset folders with no index: a release written before
releases had an index, read as the datasets it holds (`pixmo validate --write-index` adds one).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from pixmo_builders.card import render_release_card
from pixmo_builders.schemas import SCHEMA_VERSION
from pixmo_builders.storage import Storage, open_storage
from pixmo_builders.version import code_version

MANIFEST_KEY = "manifest.json"
CARD_KEY = "README.md"
PROGRESS_KEY = "_progress.json"
RELEASE_FORMAT = "pixmo-release"  # a dataset manifest
INDEX_FORMAT = "pixmo-release-index"
INDEX_VERSION = 1

KIND_RELEASE = "release"  # a release with its index
KIND_DATASET = "dataset"  # one dataset folder
KIND_FOLDER = "folder"  # dataset folders without an index (written before releases had one)


@dataclass(frozen=True)
class ProvenanceEntry:
    """One model that touched one released field."""

    field: str
    step: str  # e.g. "asr", "caption-refine", "docs-code"
    model: str
    revision: str = ""
    prompt_id: str = ""
    prompt_sha256: str = ""


@dataclass(frozen=True)
class ReleaseInfo:
    """What the caller knows about a release that the rows do not say."""

    dataset: str
    filters: dict = field(default_factory=dict)
    provenance: tuple[ProvenanceEntry, ...] = ()
    accepted_only: bool = True
    audio_receipts_kept: bool = False
    licence: str = "ODC-BY-1.0"
    description: str = ""
    # Facts for the card, e.g. the pointing-eval distance threshold where no masks were drawn.
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


class ReleaseNotFound(FileNotFoundError):
    """The location holds no complete release or dataset (no manifest.json)."""


class ReleaseUnreadable(OSError):
    """The location could not be read at all (no such bucket, no access, no network)."""


# -- dataset manifests ----------------------------------------------------------------------


def load_manifest(*, release: str) -> dict:
    """The manifest of one complete dataset in a folder or at `s3://bucket/prefix`."""
    manifest = _read_json(storage=open_storage(location=release), key=MANIFEST_KEY)
    if manifest is None:
        raise ReleaseNotFound(f"{release} holds no {MANIFEST_KEY}; the release is missing or incomplete")
    if manifest.get("format") == INDEX_FORMAT:
        names = list(manifest.get("datasets", {}))
        raise ValueError(
            f"{release} is a whole release of {len(names)} dataset(s) ({', '.join(names)}); this reads one "
            f"dataset: name its folder, e.g. {join_location(release, names[0] if names else 'DATASET')}"
        )
    if manifest.get("format") != RELEASE_FORMAT:
        raise ValueError(f"{release}/{MANIFEST_KEY} is not a {RELEASE_FORMAT} manifest")
    _check_schema_version(manifest=manifest, release=release)
    return manifest


def read_manifest_json(*, location: str) -> dict | None:
    """`location`/manifest.json parsed, whichever manifest it is; None when there is none."""
    return _read_json(storage=open_storage(location=location), key=MANIFEST_KEY)


def _read_json(*, storage: Storage, key: str) -> dict | None:
    """The parsed JSON at `key`, None when there is no such file."""
    try:
        data = storage.read_bytes(key=key)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return json.loads(data)
    except ValueError:
        raise ValueError(f"{storage.location}/{key} is not JSON") from None


def _check_schema_version(*, manifest: dict, release: str) -> None:
    ours = int(SCHEMA_VERSION.split(".")[0])
    theirs = int(str(manifest.get("schema_version", "0")).split(".")[0])
    if theirs > ours:
        raise ValueError(
            f"{release} has schema version {manifest['schema_version']}, newer than ours {SCHEMA_VERSION}"
        )


def shard_keys(*, manifest: dict, split: str) -> list[str]:
    splits = manifest["splits"]
    if split not in splits:
        raise ValueError(f"release has no split {split!r}; it has {sorted(splits)}")
    return list(splits[split]["shards"])


def join_location(location: str, path: str) -> str:
    """A folder or S3 prefix inside `location` (the same rule for both: `/`-joined)."""
    return f"{location.rstrip('/')}/{path}" if path else location


# -- the release index ----------------------------------------------------------------------


def load_release_index(*, release: str) -> dict:
    """The index of a complete release; ReleaseNotFound when the location has none."""
    index = _read_json(storage=open_storage(location=release), key=MANIFEST_KEY)
    if index is None or index.get("format") != INDEX_FORMAT:
        raise ReleaseNotFound(f"{release} holds no release index ({MANIFEST_KEY} of format {INDEX_FORMAT})")
    _check_index_version(index=index, release=release)
    return index


def encode_index(index: dict) -> bytes:
    return json.dumps(index, indent=1).encode()


def release_index_write(
    *, release: str, datasets: list[str], name: str = "", filters: dict | None = None
) -> dict:
    """Write the release card, then the index, over the finished datasets `datasets` (folder names
    inside `release`); `filters` default to those every dataset states, when they agree."""
    storage = open_storage(location=release)
    entries, files = {}, {}
    for dataset in datasets:
        raw = _dataset_manifest_bytes(storage=storage, release=release, dataset=dataset)
        manifest = json.loads(raw)
        entries[dataset] = _index_entry(dataset=dataset, manifest=manifest, raw=raw)
        files.update(_index_files(dataset=dataset, manifest=manifest, raw=raw))
    index = {
        "format": INDEX_FORMAT,
        "index_version": INDEX_VERSION,
        "name": name or release.rstrip("/").rsplit("/", 1)[-1],
        "schema_version": SCHEMA_VERSION,
        "code_version": code_version(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "filters": filters if filters is not None else _common_filters(entries),
        "datasets": entries,
        "files": files,
    }
    card = render_release_card(index=index).encode()
    storage.put_bytes(data=card, key=CARD_KEY)
    index["files"] = {CARD_KEY: _bytes_entry(kind="card", data=card), **files}
    storage.put_bytes(data=encode_index(index), key=MANIFEST_KEY)  # last: the release is complete
    return index


def _dataset_manifest_bytes(*, storage: Storage, release: str, dataset: str) -> bytes:
    key = f"{dataset}/{MANIFEST_KEY}"
    try:
        raw = storage.read_bytes(key=key)
    except FileNotFoundError:
        raise ReleaseNotFound(f"{join_location(release, dataset)} is not a finished dataset (no {MANIFEST_KEY})") from None
    if json.loads(raw).get("format") != RELEASE_FORMAT:
        raise ValueError(f"{join_location(release, key)} is not a {RELEASE_FORMAT} manifest")
    return raw


def _index_entry(*, dataset: str, manifest: dict, raw: bytes) -> dict:
    return {
        "path": dataset,
        "dataset": manifest["dataset"],
        "schema_version": manifest["schema_version"],
        "code_version": manifest.get("code_version", "unknown"),
        "created_at": manifest.get("created_at", ""),
        "filters": manifest.get("release", {}).get("filters", {}),
        "splits": {
            split: {"rows": info["rows"], "samples": info["samples"]} for split, info in manifest["splits"].items()
        },
        "manifest_sha256": hashlib.sha256(raw).hexdigest(),
    }


def _index_files(*, dataset: str, manifest: dict, raw: bytes) -> dict:
    files = {f"{dataset}/{MANIFEST_KEY}": {"dataset": dataset, **_bytes_entry(kind="manifest", data=raw)}}
    for key, entry in manifest.get("files", {}).items():
        kind = entry.get("kind", "card" if key == CARD_KEY else "file")
        files[f"{dataset}/{key}"] = {**entry, "kind": kind, "dataset": dataset}
    return files


def _bytes_entry(*, kind: str, data: bytes) -> dict:
    return {"kind": kind, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _common_filters(entries: dict) -> dict | None:
    filters = [entry["filters"] for entry in entries.values()]
    return filters[0] if filters and all(f == filters[0] for f in filters) else None


# -- what a location is ---------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetFolder:
    name: str  # the released dataset, e.g. pixmo-cap
    path: str  # the folder inside the release ("pixmo-cap"); for a lone dataset folder, its own name
    location: str  # the folder or s3:// prefix itself
    manifest: dict


@dataclass(frozen=True)
class ReleaseLayout:
    location: str
    kind: str  # KIND_RELEASE, KIND_DATASET or KIND_FOLDER
    datasets: dict[str, DatasetFolder]  # by folder path
    index: dict | None = None

    def names(self) -> list[str]:
        return [folder.name for folder in self.datasets.values()]

    def describe(self) -> str:
        names = ", ".join(self.names())
        if self.kind == KIND_DATASET:
            return f"{self.location} is one dataset folder ({names})"
        if self.kind == KIND_RELEASE:
            return f"{self.location} is a release of {len(self.datasets)} dataset(s): {names}"
        return (
            f"{self.location} has no release index (it was written before releases had one); read as a "
            f"folder of {len(self.datasets)} dataset(s): {names}. `pixmo validate {self.location} --write-index` "
            "checks them and writes the index"
        )


def open_release(*, location: str) -> ReleaseLayout:
    """What `location` holds: a whole release, one dataset folder, or dataset folders with no index.

    Raises ReleaseNotFound (a sentence) for a location that holds none of these, or whose index
    lists a dataset that is not there; ValueError for a manifest this code cannot read;
    ReleaseUnreadable when the storage itself cannot be read."""
    location = location.rstrip("/") or location
    try:
        return _open_release(location=location)
    except (ReleaseNotFound, ValueError):
        raise
    except storage_errors() as error:
        raise ReleaseUnreadable(f"cannot read {location}: {error}") from None


def _open_release(*, location: str) -> ReleaseLayout:
    storage = open_storage(location=location)
    top = _read_json(storage=storage, key=MANIFEST_KEY)
    if top is None:
        return _folder_of_datasets(storage=storage, location=location)
    if top.get("format") != INDEX_FORMAT:
        folder = _dataset_folder(location=location, path=location.rsplit("/", 1)[-1])
        return ReleaseLayout(location=location, kind=KIND_DATASET, datasets={folder.path: folder})
    _check_index_version(index=top, release=location)
    folders = [
        _dataset_folder(location=join_location(location, entry["path"]), path=entry["path"], listed_by=location)
        for entry in top["datasets"].values()
    ]
    return ReleaseLayout(location=location, kind=KIND_RELEASE, datasets={f.path: f for f in folders}, index=top)


def _check_index_version(*, index: dict, release: str) -> None:
    _check_schema_version(manifest=index, release=release)
    if int(index.get("index_version", 0)) > INDEX_VERSION:
        raise ValueError(
            f"{release}/{MANIFEST_KEY} is a release index of version {index['index_version']}, newer than "
            f"this code reads ({INDEX_VERSION})"
        )


def _dataset_folder(*, location: str, path: str, listed_by: str = "") -> DatasetFolder:
    try:
        manifest = load_manifest(release=location)
    except ReleaseNotFound:
        if not listed_by:
            raise
        raise ReleaseNotFound(
            f"{listed_by} lists the dataset {location}, which holds no {MANIFEST_KEY}; "
            f"`pixmo validate {listed_by}` names what is wrong"
        ) from None
    return DatasetFolder(name=manifest["dataset"], path=path, location=location, manifest=manifest)


def _folder_of_datasets(*, storage: Storage, location: str) -> ReleaseLayout:
    keys = storage.list_keys(prefix="")
    if PROGRESS_KEY in keys:
        raise ReleaseNotFound(
            f"{location} is a dataset export that has not finished (no {MANIFEST_KEY} yet); run the export "
            "again to resume it"
        )
    finished = _folders_with(keys=keys, name=MANIFEST_KEY)
    unfinished = sorted(set(_folders_with(keys=keys, name=PROGRESS_KEY)) - set(finished))
    if unfinished:
        raise ReleaseNotFound(
            f"{location} is not a complete release: it has no index, and the export of "
            f"{', '.join(unfinished)} has not finished; run the export again to resume it"
        )
    if not finished:
        raise ReleaseNotFound(
            f"{location} holds no {MANIFEST_KEY}: it is neither a release nor a dataset folder (or its export "
            "has not finished)"
        )
    folders = [_dataset_folder(location=join_location(location, path), path=path) for path in finished]
    return ReleaseLayout(location=location, kind=KIND_FOLDER, datasets={f.path: f for f in folders})


def _folders_with(*, keys: list[str], name: str) -> list[str]:
    """Top-level folders that hold a file `name` directly."""
    return sorted(key.split("/")[0] for key in keys if key.count("/") == 1 and key.endswith(f"/{name}"))


def storage_errors() -> tuple[type[BaseException], ...]:
    """What reading a folder or S3 can raise besides a missing file (S3's own errors too)."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)
