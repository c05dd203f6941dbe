"""The boto3 client for S3 or any S3-compatible store (MinIO), configured from settings."""

import boto3
from botocore.config import Config
from django.conf import settings


def s3_client():
    return boto3.client(
        "s3",
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        region_name=settings.AWS_S3_REGION_NAME,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID or None,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY or None,
        # SigV4: AWS refuses SigV2 presigned links in newer regions; MinIO takes both.
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, signature_version="s3v4"),
    )


def s3_split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"'{uri}' is not an s3://bucket/prefix URI")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    if not bucket:
        raise ValueError(f"'{uri}' names no bucket")
    return bucket, prefix
