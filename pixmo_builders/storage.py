"""Where a release lives: a local folder or `s3://bucket/prefix`, behind one small interface.

Keys are `/`-separated paths relative to the release root (`data/train-00000-of-00001.parquet`).
Every write is all-or-nothing: local files are written beside their target and renamed into
place; S3 objects only appear once their (multipart) upload completes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

S3_SCHEME = "s3://"
MULTIPART_CHUNK_BYTES = 8 * 1024 * 1024
# One retry policy for every S3 call in the house: botocore's "standard" mode (exponential
# backoff with jitter, throttling and transient 5xx retried), this many attempts in all
# (the first try included).
S3_MAX_ATTEMPTS = 10
# SigV4 only: AWS refuses SigV2 presigned links in newer regions; MinIO and moto take both.
S3_SIGNATURE_VERSION = "s3v4"


@dataclass(frozen=True, kw_only=True)
class S3Settings:
    """Where and how to reach S3 or any S3-protocol server (MinIO).

    One rule for what is left unset: an explicit key pair is used only when both halves are
    given, and a region only when named; otherwise boto3's own chain decides (AWS_ACCESS_KEY_ID /
    AWS_DEFAULT_REGION environment, ~/.aws, instance or pod role).
    """

    endpoint_url: str | None = None  # None: AWS itself
    region_name: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    max_attempts: int = S3_MAX_ATTEMPTS
    signature_version: str = S3_SIGNATURE_VERSION

    @classmethod
    def from_env(cls) -> S3Settings:
        """The same variables, and defaults, as the Django settings (`annotation_app/settings/storage.py`)."""
        return cls(
            endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            region_name=os.environ.get("AWS_S3_REGION_NAME") or None,
            access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        )


def s3_client(*, settings: S3Settings) -> Any:
    """The one way the house builds a boto3 S3 client."""
    import boto3

    credentials = {}
    if settings.access_key_id and settings.secret_access_key:
        credentials = {
            "aws_access_key_id": settings.access_key_id,
            "aws_secret_access_key": settings.secret_access_key,
        }
    return boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region_name,
        config=s3_client_config(settings=settings),
        **credentials,
    )


def s3_client_config(*, settings: S3Settings) -> Any:
    """The botocore Config of `s3_client`; django-storages takes it too (AWS_S3_CLIENT_CONFIG)."""
    from botocore.config import Config

    return Config(
        retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
        signature_version=settings.signature_version,
    )


def split_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "prefix") of `s3://bucket/prefix`; the prefix keeps a trailing "/" if it has one."""
    if not uri.startswith(S3_SCHEME):
        raise ValueError(f"{uri!r} is not an s3://bucket/prefix URI")
    bucket, _, prefix = uri[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket; expected s3://bucket/prefix")
    return bucket, prefix


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


def open_storage(*, location: str, s3: S3Settings | None = None) -> Storage:
    """A folder path or `s3://bucket/prefix` (reached with `s3`, default: from the environment)."""
    if location.startswith(S3_SCHEME):
        return S3Storage(location=location, settings=s3 or S3Settings.from_env())
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
    """S3 or any S3-protocol server, reached as `settings` say."""

    def __init__(self, *, location: str, settings: S3Settings) -> None:
        from boto3.s3.transfer import TransferConfig

        self.location = location.rstrip("/")
        self.bucket, self.prefix = split_s3_uri(self.location)
        self.client = s3_client(settings=settings)
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
