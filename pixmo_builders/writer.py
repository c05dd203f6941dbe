"""ReleaseWriter: streams released rows and image bytes into a release, resumably.

Contract for callers (the export service, the synthetic generators):
- Feed `ExportRow`s in a deterministic order (e.g. ORDER BY primary key over a fixed filter).
  Rows of one image that arrive consecutively within a split share one shard sample.
- After a crash, build a new writer on the same location and feed the *same* stream from the
  start: rows already committed are skipped (their image loaders are never called) and writing
  continues where it stopped. `_progress.json` holds the committed state between runs.
- `finish()` writes the data card and then `manifest.json`, atomically and last: a dataset
  is complete exactly when its manifest exists. A release of several datasets gets its index
  (`manifest.release_index_write`) once every dataset is finished.
- Rows that repeat an earlier row of the stream (same image, same released values) are
  dropped and counted (`rows_duplicate`), wherever in the stream they come; see `dedupe`.
Memory is bounded by one parquet row group and one sample per split, never by the row count.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from pixmo_builders.card import render_data_card
from pixmo_builders.chunk import ChunkWriter, ClosedChunk, ShardSample
from pixmo_builders.dedupe import SeenRows, row_key
from pixmo_builders.manifest import CARD_KEY, MANIFEST_KEY, PROGRESS_KEY, RELEASE_FORMAT, ReleaseInfo
from pixmo_builders.row_checks import row_problems
from pixmo_builders.schemas import SCHEMA_VERSION, dataset_schema
from pixmo_builders.split import SPLITS, SplitPolicy, assign_split
from pixmo_builders.storage import local_scratch_dir, open_storage
from pixmo_builders.version import code_version

DEFAULT_SHARD_MAX_SAMPLES = 1000
DEFAULT_SHARD_MAX_BYTES = 256 * 1024 * 1024
PROGRESS_EVERY_ROWS = 100


@dataclass(frozen=True)
class ExportRow:
    """One released row, the hash of its image, and the image bytes (or a loader for them)."""

    row: dict
    image_sha256: str
    image: bytes | Callable[[], bytes]
    # Facts kept in the shard JSON but not in the released columns, e.g. {"over_40_points": True}.
    meta: dict = field(default_factory=dict)

    def image_bytes(self) -> bytes:
        return self.image() if callable(self.image) else self.image


@dataclass(frozen=True)
class WriteProgress:
    rows_seen: int
    rows_written: int
    rows_already_committed: int
    rows_held_out: int
    files_committed: int
    bytes_committed: int
    finished: bool = False
    rows_duplicate: int = 0


@dataclass
class _SplitState:
    name: str
    committed: list[dict] = field(default_factory=list)
    committed_rows: int = 0
    rows_seen: int = 0
    committed_samples: int = 0
    pending: list[ExportRow] = field(default_factory=list)
    chunk: ChunkWriter | None = None


class ReleaseWriter:
    def __init__(
        self,
        *,
        location: str,
        info: ReleaseInfo,
        split_policy: SplitPolicy | None = None,
        shard_max_samples: int = DEFAULT_SHARD_MAX_SAMPLES,
        shard_max_bytes: int = DEFAULT_SHARD_MAX_BYTES,
        on_progress: Callable[[WriteProgress], None] | None = None,
        dedupe: bool = True,
        resume_key: str = "",
    ) -> None:
        """`resume_key` names whatever else the stream depends on (e.g. a generator's model and
        prompts); a resume under another key is refused like one under other settings."""
        if shard_max_samples < 1 or shard_max_bytes < 1:
            raise ValueError("shard_max_samples and shard_max_bytes must be at least 1")
        self.schema = dataset_schema(name=info.dataset)
        self.info = info
        self.policy = split_policy or SplitPolicy()
        self.shard_max_samples = shard_max_samples
        self.shard_max_bytes = shard_max_bytes
        self.on_progress = on_progress
        self.dedupe = dedupe
        self.resume_key = resume_key
        self.storage = open_storage(location=location)
        if self.storage.exists(key=MANIFEST_KEY):
            raise FileExistsError(f"{location} already holds a complete release")
        self.scratch = local_scratch_dir(storage=self.storage)
        self.splits = {name: _SplitState(name=name) for name in SPLITS}
        self.counters = {"seen": 0, "written": 0, "skipped": 0, "held_out": 0, "duplicate": 0}
        self.meta_counts: Counter[str] = Counter()
        self.manifest: dict | None = None
        self._resume()
        self.seen_rows = SeenRows(path=self.scratch / "seen-rows.sqlite3") if dedupe else None
        self.dedupe_columns = tuple(self.schema.columns)

    # -- resuming -------------------------------------------------------------------------

    def _fingerprint(self) -> dict:
        heldout = "\n".join(sorted(self.policy.heldout_image_sha256)).encode()
        return {
            "dataset": self.schema.name,
            "schema_version": SCHEMA_VERSION,
            "split_policy": self.policy.describe(),
            "heldout_sha256": hashlib.sha256(heldout).hexdigest(),
            "shard_max_samples": self.shard_max_samples,
            "shard_max_bytes": self.shard_max_bytes,
            "dedupe": self.dedupe,
            "resume_key": self.resume_key,
        }

    def _resume(self) -> None:
        if self.storage.exists(key=PROGRESS_KEY):
            state = json.loads(self.storage.read_bytes(key=PROGRESS_KEY))
            if state["fingerprint"] != self._fingerprint():
                raise ValueError(
                    f"{self.storage.location} holds an unfinished release written with other settings; "
                    "use the same dataset, split policy and shard sizes, or a new location"
                )
            for name, entries in state["splits"].items():
                self.splits[name].committed = entries
                self.splits[name].committed_rows = sum(entry["rows"] for entry in entries)
                self.splits[name].committed_samples = sum(entry["samples"] for entry in entries)
        self._delete_uncommitted_files()

    def _delete_uncommitted_files(self) -> None:
        keep = {
            key for state in self.splits.values() for entry in state.committed for key in _entry_keys(entry)
        }
        for prefix in ("data/", "shards/"):
            for key in self.storage.list_keys(prefix=prefix):
                if key not in keep:
                    self.storage.delete(key=key)
        for leftover in self.scratch.iterdir():
            leftover.unlink()

    @property
    def resumed_rows(self) -> int:
        """Rows committed by an earlier, interrupted run of this release."""
        return sum(state.committed_rows for state in self.splits.values())

    # -- writing --------------------------------------------------------------------------

    def add(self, item: ExportRow) -> None:
        if self.manifest is not None:
            raise RuntimeError("this release is finished; rows can no longer be added")
        problems = row_problems(schema=self.schema, row=item.row)
        if problems:
            raise ValueError(
                f"row {self.counters['seen']} of {self.schema.name} is invalid: {'; '.join(problems)}"
            )
        if self.seen_rows is not None and not self.seen_rows.add(
            row_key(image_sha256=item.image_sha256, row=item.row, columns=self.dedupe_columns)
        ):
            self.counters["duplicate"] += 1
            return
        self.counters["seen"] += 1
        self.meta_counts.update(key for key, value in item.meta.items() if value is True)
        split = assign_split(image_sha256=item.image_sha256, policy=self.policy)
        if split is None:
            self.counters["held_out"] += 1
            return
        state = self.splits[split]
        state.rows_seen += 1
        if state.rows_seen <= state.committed_rows:
            self.counters["skipped"] += 1
            return
        if state.pending and state.pending[0].image_sha256 != item.image_sha256:
            self._emit_sample(state=state)
        state.pending.append(item)
        self.counters["written"] += 1
        if self.counters["seen"] % PROGRESS_EVERY_ROWS == 0:
            self._report()

    def write_all(self, items: Iterable[ExportRow]) -> dict:
        """Add every item and finish; on an exception, committed chunks stay for a resume."""
        with self:
            for item in items:
                self.add(item)
        return self.manifest

    def _emit_sample(self, *, state: _SplitState) -> None:
        first = state.pending[0]
        samples_so_far = state.committed_samples + (state.chunk.samples if state.chunk else 0)
        sample = ShardSample(
            key=f"{samples_so_far:09d}",
            image_sha256=first.image_sha256,
            image_bytes=first.image_bytes(),
            rows=[item.row for item in state.pending],
            metas=[item.meta for item in state.pending],
        )
        state.pending = []
        if state.chunk is None:
            state.chunk = self._open_chunk(state=state)
        state.chunk.add(sample=sample)
        if state.chunk.samples >= self.shard_max_samples or state.chunk.shard_bytes >= self.shard_max_bytes:
            self._commit_chunk(state=state)

    def _open_chunk(self, *, state: _SplitState) -> ChunkWriter:
        index = len(state.committed)
        return ChunkWriter(
            schema=self.schema,
            split=state.name,
            parquet_path=self.scratch / f"{state.name}-{index:05d}.parquet",
            shard_path=self.scratch / f"{state.name}-{index:05d}.tar",
        )

    def _commit_chunk(self, *, state: _SplitState) -> None:
        closed: ClosedChunk = state.chunk.close()
        state.chunk = None
        index = len(state.committed)
        entry = {
            "index": index,
            "parquet": f"data/{state.name}-{index:05d}.parquet",
            "shard": f"shards/{state.name}-{index:05d}.tar",
            "rows": closed.rows,
            "samples": closed.samples,
            "parquet_sha256": closed.parquet_sha256,
            "shard_sha256": closed.shard_sha256,
            "parquet_bytes": closed.parquet_bytes,
            "shard_bytes": closed.shard_bytes,
        }
        self.storage.put_file(local_path=closed.parquet_path, key=entry["parquet"])
        self.storage.put_file(local_path=closed.shard_path, key=entry["shard"])
        state.committed.append(entry)
        state.committed_rows += closed.rows
        state.committed_samples += closed.samples
        self._save_progress()
        self._report()

    def _save_progress(self) -> None:
        splits = {name: state.committed for name, state in self.splits.items() if state.committed}
        state = {"fingerprint": self._fingerprint(), "splits": splits}
        self.storage.put_bytes(data=json.dumps(state, indent=1).encode(), key=PROGRESS_KEY)

    def _report(self, *, finished: bool = False) -> None:
        if self.on_progress is None:
            return
        entries = [entry for state in self.splits.values() for entry in state.committed]
        self.on_progress(
            WriteProgress(
                rows_seen=self.counters["seen"],
                rows_written=self.counters["written"],
                rows_already_committed=self.counters["skipped"],
                rows_held_out=self.counters["held_out"],
                files_committed=2 * len(entries),
                bytes_committed=sum(entry["parquet_bytes"] + entry["shard_bytes"] for entry in entries),
                finished=finished,
                rows_duplicate=self.counters["duplicate"],
            )
        )

    # -- finishing ------------------------------------------------------------------------

    def finish(self, *, notes: tuple[str, ...] = ()) -> dict:
        """Commit what is left, then write the card and the manifest; `notes` join the card."""
        if notes:
            self.info = replace(self.info, notes=(*self.info.notes, *notes))
        for state in self.splits.values():
            if state.pending:
                self._emit_sample(state=state)
            if state.chunk is not None:
                self._commit_chunk(state=state)
        for state in self.splits.values():
            self._give_final_names(state=state)
        manifest = self._manifest()
        card = render_data_card(manifest=manifest).encode()
        self.storage.put_bytes(data=card, key=CARD_KEY)
        manifest["files"][CARD_KEY] = {"sha256": hashlib.sha256(card).hexdigest(), "bytes": len(card)}
        self.storage.put_bytes(data=json.dumps(manifest, indent=1).encode(), key=MANIFEST_KEY)
        self.storage.delete(key=PROGRESS_KEY)
        self._close_seen_rows()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.manifest = manifest
        self._report(finished=True)
        return manifest

    def _give_final_names(self, *, state: _SplitState) -> None:
        total = len(state.committed)
        for entry in state.committed:
            final = f"data/{state.name}-{entry['index']:05d}-of-{total:05d}.parquet"
            if entry["parquet"] != final and self.storage.exists(key=entry["parquet"]):
                self.storage.rename(source=entry["parquet"], target=final)
            entry["final_parquet"] = final
        if state.committed:
            self._save_progress()

    def _manifest(self) -> dict:
        splits, files = {}, {}
        for state in self.splits.values():
            if not state.committed:
                continue
            splits[state.name] = {
                "rows": state.committed_rows,
                "samples": state.committed_samples,
                "parquet": [entry["final_parquet"] for entry in state.committed],
                "shards": [entry["shard"] for entry in state.committed],
            }
            for entry in state.committed:
                files[entry["final_parquet"]] = _file_entry(entry=entry, kind="parquet", split=state.name)
                files[entry["shard"]] = _file_entry(entry=entry, kind="shard", split=state.name)
        return {
            "format": RELEASE_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "dataset": self.schema.name,
            "columns": {name: str(self.schema.arrow.field(name).type) for name in self.schema.columns},
            "code_version": code_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "splits": splits,
            "rows_held_out": self.counters["held_out"],
            "rows_duplicate": self.counters["duplicate"],
            "meta_counts": self._meta_counts(),
            "split_policy": self.policy.describe(),
            "shard_max_samples": self.shard_max_samples,
            "shard_max_bytes": self.shard_max_bytes,
            "release": self.info.as_dict(),
            "files": files,
        }

    def _meta_counts(self) -> dict:
        # Counted over this run's stream, which on a resume is the whole stream again.
        return dict(sorted(self.meta_counts.items()))

    def _close_seen_rows(self) -> None:
        if self.seen_rows is not None:
            self.seen_rows.close()
            self.seen_rows = None

    def __enter__(self) -> ReleaseWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            if self.manifest is None:
                self.finish()
            return
        self._close_seen_rows()
        for state in self.splits.values():
            if state.chunk is not None:
                state.chunk.discard()
                state.chunk = None


def _entry_keys(entry: dict) -> list[str]:
    keys = [entry["parquet"], entry["shard"]]
    if "final_parquet" in entry:
        keys.append(entry["final_parquet"])
    return keys


def _file_entry(*, entry: dict, kind: str, split: str) -> dict:
    return {
        "kind": kind,
        "split": split,
        "sha256": entry[f"{kind}_sha256"],
        "bytes": entry[f"{kind}_bytes"],
        "rows": entry["rows"],
        "samples": entry["samples"],
    }
