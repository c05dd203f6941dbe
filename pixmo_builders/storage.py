"""Where a release lives: a local folder or `s3://bucket/prefix`, behind one small interface.

Keys are `/`-separated paths relative to the release root (`data/train-00000-of-00001.parquet`).
Every write is all-or-nothing: local files are written beside their target and renamed into
place; S3 objects only appear once their (multipart) upload completes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

S3_SCHEME = "s3://"
MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024
S3_MAX_ATTEMPTS = 10


class Storage(Protocol):
    location: str

    # Moves a finished local file into the release; the local file is gone afterwards.
    def put_file(self, *, local_path: Path, key: str) -> None: ...
    def put_bytes(self, *, data: bytes, key: str) -> None: ...
    def read_bytes(self, *, key: str) -> bytes: ...
    def open_read(self, *, key: str) -> BinaryIO: ...
    def exists(self, *, key: str) -> bool: ...
    def delete(self, *, key: str) -> None: ...
    def rename(self, *, source: str, target: str) -> None: ...
    def list_keys(self, *, prefix: str) -> list[str]: ...


def open_storage(*, location: str) -> Storage:
    """A folder path or `s3://bucket/prefix`."""
    if location.startswith(S3_SCHEME):
        return S3Storage(location=location)
    return LocalStorage(location=location)


class LocalStorage:
    def __init__(self, *, location: str) -> None:
        self.location = location
        self.root = Path(location)

    def _path(self, key: str) -> Path:
        return self.root / key

    def put_file(self, *, local_path: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local_path, target)
        except OSError:  # another filesystem: copy beside the target, then rename
            staging = target.with_name(target.name + ".part")
            shutil.copyfile(local_path, staging)
            os.replace(staging, target)
            Path(local_path).unlink()

    def put_bytes(self, *, data: bytes, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".part")
        with open(staging, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, target)

    def read_bytes(self, *, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open_read(self, *, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def exists(self, *, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, *, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def rename(self, *, source: str, target: str) -> None:
        self._path(target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path(source), self._path(target))

    def list_keys(self, *, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.is_dir():
            return []
        return sorted(str(path.relative_to(self.root)) for path in base.rglob("*") if path.is_file())


class S3Storage:
    """S3 or any S3-protocol server; the endpoint comes from `AWS_S3_ENDPOINT_URL` when set."""

    def __init__(self, *, location: str) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.location = location.rstrip("/")
        bucket_and_prefix = self.location[len(S3_SCHEME) :]
        self.bucket, _, self.prefix = bucket_and_prefix.partition("/")
        if not self.bucket:
            raise ValueError(f"{location!r} names no bucket; expected s3://bucket/prefix")
        retries = Config(retries={"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"})
        endpoint = os.environ.get("AWS_S3_ENDPOINT_URL") or None
        self.client = boto3.client("s3", endpoint_url=endpoint, config=retries)
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_CHUNK_BYTES, multipart_chunksize=MULTIPART_CHUNK_BYTES
        )

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, *, local_path: Path, key: str) -> None:
        self.client.upload_file(str(local_path), self.bucket, self._key(key), Config=self.transfer)
        Path(local_path).unlink()

    def put_bytes(self, *, data: bytes, key: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def read_bytes(self, *, key: str) -> bytes:
        with self.open_read(key=key) as body:
            return body.read()

    def open_read(self, *, key: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"{self.location}/{key}") from None

    def exists(self, *, key: str) -> bool:
        response = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(key), MaxKeys=1)
        return any(item["Key"] == self._key(key) for item in response.get("Contents", []))

    def delete(self, *, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def rename(self, *, source: str, target: str) -> None:
        copy_source = {"Bucket": self.bucket, "Key": self._key(source)}
        self.client.copy(copy_source, self.bucket, self._key(target), Config=self.transfer)
        self.delete(key=source)

    def list_keys(self, *, prefix: str) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        root = self._key("")
        keys = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            keys.extend(item["Key"][len(root) :] for item in page.get("Contents", []))
        return sorted(keys)


def local_scratch_dir(*, storage: Storage) -> Path:
    """Where files are assembled before they are put: beside the release when it is local."""
    if isinstance(storage, LocalStorage):
        scratch = storage.root / ".staging"
        scratch.mkdir(parents=True, exist_ok=True)
        return scratch
    return Path(tempfile.mkdtemp(prefix="pixmo-release-"))
