"""A journal of finished docs attempts, kept in the release's own storage (folder or S3).

One small JSON object per attempt under `_work/docs-attempts/`, written when the attempt is
done and removed once the release's manifest is written. Records carry the fingerprint of the
settings they were made under; a record from other settings is ignored and made again.
"""

from __future__ import annotations

import json

from pixmo_builders.storage import Storage

PREFIX = "_work/docs-attempts/"


class StorageJournal:
    def __init__(self, *, storage: Storage, fingerprint: str) -> None:
        self.storage = storage
        self.fingerprint = fingerprint
        self.present = set(storage.list_keys(prefix=PREFIX))

    @staticmethod
    def _key(index: int) -> str:
        return f"{PREFIX}{index:07d}.json"

    def get(self, index: int) -> dict | None:
        key = self._key(index)
        if key not in self.present:
            return None
        entry = json.loads(self.storage.read_bytes(key=key))
        if entry.get("fingerprint") != self.fingerprint:
            return None
        return entry["record"]

    def put(self, index: int, record: dict) -> None:
        entry = {"fingerprint": self.fingerprint, "record": record}
        self.storage.put_bytes(data=json.dumps(entry).encode(), key=self._key(index))

    def clear(self) -> None:
        for key in self.storage.list_keys(prefix=PREFIX):
            self.storage.delete(key=key)
