"""Stream-wide row dedupe in bounded memory.

A row is a duplicate when an earlier row of the same stream has the same image and the same
released values (the image's URL and bytes aside: the image hash already names the image). The
keys seen so far live in an SQLite table in the writer's scratch folder, so memory stays flat
however many rows pass; the table is rebuilt on every run, which keeps a resumed export's
stream — and so its split counters — identical to the first run's.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

# Columns that name or carry the image rather than describe the annotation.
IMAGE_COLUMNS = ("image", "image_url")
COMMIT_EVERY = 50_000


def row_key(*, image_sha256: str, row: dict, columns: tuple[str, ...]) -> bytes:
    """128 bits of the image hash and the released values in the schema's column order. `repr` of
    the plain values a row holds (str, int, float, bool, None, lists, dicts) is exact, and half
    the cost of canonical JSON, which matters at a million rows."""
    values = [row.get(name) for name in columns if name not in IMAGE_COLUMNS]
    return hashlib.blake2b(f"{image_sha256}\n{values!r}".encode(), digest_size=16).digest()


class SeenRows:
    """A disk-backed set of row keys; `add` says whether the key is new."""

    def __init__(self, *, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-8192")  # 8 MiB of page cache, whatever the row count
        self.db.execute("CREATE TABLE seen (key BLOB PRIMARY KEY) WITHOUT ROWID")
        self.db.execute("BEGIN")
        self.pending = 0

    def add(self, key: bytes) -> bool:
        cursor = self.db.execute("INSERT OR IGNORE INTO seen (key) VALUES (?)", (key,))
        self.pending += 1
        if self.pending >= COMMIT_EVERY:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")
            self.pending = 0
        return cursor.rowcount == 1

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)
