"""The S3 path against a real S3-protocol server (moto's standalone server) on 127.0.0.1."""

import hashlib
import os

import pytest

from pixmo_builders.manifest import ReleaseInfo, ReleaseNotFound, load_manifest, open_release
from pixmo_builders.reader import iter_samples
from pixmo_builders.split import SplitPolicy
from pixmo_builders.storage import S3Settings, s3_client, split_s3_uri
from pixmo_builders.validate import validate_location, validate_release
from pixmo_builders.writer import ExportRow, ReleaseWriter
from pixmo_cli.main import main
from tests.s3_server import s3_bucket, s3_server  # noqa: F401  (the fixture)

from .conftest import points_rows, write_release

BUCKET = "releases"
MULTIPART_SIZED_IMAGE_BYTES = 9 * 1024 * 1024  # above the 8 MiB multipart threshold


@pytest.fixture
def s3_env(s3_server, monkeypatch):  # noqa: F811
    return s3_bucket(monkeypatch, endpoint=s3_server, bucket=BUCKET)


def _big_image_row() -> ExportRow:
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(MULTIPART_SIZED_IMAGE_BYTES)
    sha = hashlib.sha256(data).hexdigest()
    row = {
        "image_url": "https://images.example/big.png",
        "image_sha256": sha,
        "points": [],
        "count": 0,
        "label": "nothing",
        "collection_method": "pointing",
    }
    return ExportRow(row=row, image_sha256=sha, image=data)


def _writer(location: str) -> ReleaseWriter:
    return ReleaseWriter(
        location=location,
        info=ReleaseInfo(dataset="pixmo-points"),
        split_policy=SplitPolicy(validation_fraction=0.2),
        shard_max_samples=3,
    )


def test_release_round_trips_through_s3_with_a_resume(s3_env):
    location = f"s3://{BUCKET}/points/v1"
    rows = points_rows(images=15) + [_big_image_row()]

    def crashing():
        for index, row in enumerate(rows):
            if index == 20:
                raise RuntimeError("worker lost")
            yield row

    with pytest.raises(RuntimeError):
        _writer(location).write_all(crashing())
    with pytest.raises(FileNotFoundError):
        load_manifest(release=location)
    manifest = _writer(location).write_all(rows)
    assert sum(split["rows"] for split in manifest["splits"].values()) == 31
    assert validate_release(release=location) == []
    samples = [s for split in manifest["splits"] for s in iter_samples(location, split=split)]
    assert len(samples) == 16
    assert max(len(s.image_bytes) for s in samples) > MULTIPART_SIZED_IMAGE_BYTES
    keys = [item["Key"] for item in s3_env.list_objects_v2(Bucket=BUCKET, Prefix="points/v1/")["Contents"]]
    assert "points/v1/_progress.json" not in keys and "points/v1/manifest.json" in keys
    assert all("-of-" in key for key in keys if key.endswith(".parquet"))


def test_a_whole_release_on_s3_validates_and_reads_like_a_folder(s3_env, capsys):
    location = write_release(f"s3://{BUCKET}/whole/nov")
    keys = [item["Key"] for item in s3_env.list_objects_v2(Bucket=BUCKET, Prefix="whole/nov/")["Contents"]]
    assert "whole/nov/manifest.json" in keys and "whole/nov/README.md" in keys
    result = validate_location(location=location)
    assert (result.kind, result.datasets, result.problems) == ("release", ["pixmo-points", "pixmo-count"], [])
    samples = list(iter_samples(location, split="train"))
    assert {s.record["dataset"] for s in samples} == {"pixmo-points", "pixmo-count"}
    assert open_release(location=f"{location}/pixmo-count").kind == "dataset"
    assert main(["validate", location]) == 0
    assert "valid (release of pixmo-points, pixmo-count)" in capsys.readouterr().out
    s3_env.put_object(Bucket=BUCKET, Key="whole/nov/README.md", Body=b"edited")
    assert main(["validate", location]) == 1
    assert "README.md has sha256" in capsys.readouterr().err
    with pytest.raises(ReleaseNotFound, match="neither a release nor a dataset folder"):
        open_release(location=f"s3://{BUCKET}/whole/nothing")
    assert main(["validate", f"s3://{BUCKET}/whole/nothing"]) == 2
    assert "neither a release nor a dataset folder" in capsys.readouterr().err
    assert main(["validate", "s3://no-such-bucket/nov"]) == 2
    assert "cannot read s3://no-such-bucket/nov" in capsys.readouterr().err


def test_the_one_s3_client_signs_v4_retries_and_takes_a_key_pair_only_whole():
    settings = S3Settings(endpoint_url="http://127.0.0.1:9", region_name="eu-west-1", access_key_id="half")
    client = s3_client(settings=settings)
    assert client.meta.config.signature_version == "s3v4"
    assert client.meta.config.retries == {"total_max_attempts": settings.max_attempts, "mode": "standard"}
    assert client.meta.region_name == "eu-west-1"
    credentials = client._request_signer._credentials
    assert credentials is None or credentials.access_key != "half"
    whole = s3_client(settings=S3Settings(access_key_id="key", secret_access_key="secret"))
    assert whole._request_signer._credentials.access_key == "key"


def test_s3_uris_split_into_bucket_and_prefix():
    assert split_s3_uri("s3://photos/batch1/") == ("photos", "batch1/")
    assert split_s3_uri("s3://photos") == ("photos", "")
    with pytest.raises(ValueError, match="names no bucket"):
        split_s3_uri("s3:///prefix")
    with pytest.raises(ValueError, match="not an s3://"):
        split_s3_uri("/var/releases")
