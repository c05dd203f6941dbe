"""`manifest.json`: what a complete release holds, written last so its presence means complete.

Layout (DESIGN.md "Release layout"):
  data/<split>-NNNNN-of-MMMMM.parquet   released columns
  shards/<split>-NNNNN.tar             image bytes + one JSON per sample
  manifest.json                        this file
  README.md                            the data card
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from pixmo_builders.schemas import SCHEMA_VERSION
from pixmo_builders.storage import open_storage

MANIFEST_KEY = "manifest.json"
CARD_KEY = "README.md"
RELEASE_FORMAT = "pixmo-release"


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
    """The location holds no complete release (no manifest.json)."""


def load_manifest(*, release: str) -> dict:
    """The manifest of a complete release in a folder or at `s3://bucket/prefix`."""
    storage = open_storage(location=release)
    try:
        manifest = json.loads(storage.read_bytes(key=MANIFEST_KEY))
    except FileNotFoundError:
        raise ReleaseNotFound(
            f"{release} holds no {MANIFEST_KEY}; the release is missing or incomplete"
        ) from None
    if manifest.get("format") != RELEASE_FORMAT:
        raise ValueError(f"{release}/{MANIFEST_KEY} is not a {RELEASE_FORMAT} manifest")
    _check_schema_version(manifest=manifest, release=release)
    return manifest


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
