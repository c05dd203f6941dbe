"""The Django process's S3 client: pixmo_builders' one client, reached as the Django settings say."""

from django.conf import settings

from pixmo_builders.storage import S3Settings
from pixmo_builders.storage import s3_client as build_s3_client


def s3_settings() -> S3Settings:
    return S3Settings(
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        region_name=settings.AWS_S3_REGION_NAME,
        access_key_id=settings.AWS_ACCESS_KEY_ID or None,
        secret_access_key=settings.AWS_SECRET_ACCESS_KEY or None,
    )


def s3_client():
    return build_s3_client(settings=s3_settings())
