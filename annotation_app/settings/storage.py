"""File storage: a local media folder by default, S3/MinIO when `PIXMO_STORAGE=s3`."""

from pixmo_builders.storage import S3Settings, s3_client_config

from .env import VAR_DIR, env_int, env_str

PIXMO_STORAGE = env_str("PIXMO_STORAGE", "local")
MEDIA_URL = "/media/"
MEDIA_ROOT = env_str("PIXMO_MEDIA_ROOT", str(VAR_DIR / "media"))

AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY")
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "pixmo")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None  # None: boto3's chain (AWS_DEFAULT_REGION, ~/.aws)
# Media files (django-storages) use the same retries and SigV4 as every other S3 client here.
AWS_S3_CLIENT_CONFIG = s3_client_config(settings=S3Settings())
# A presigned link must outlive a large release download.
AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 6 * 3600)
AWS_DEFAULT_ACL = None
AWS_S3_FILE_OVERWRITE = False

if PIXMO_STORAGE == "s3":
    _default_backend = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {}}
else:
    _default_backend = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {}}

STORAGES = {
    "default": _default_backend,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Where dataset releases are written: a folder or s3://bucket/prefix.
PIXMO_RELEASES_URI = env_str("PIXMO_RELEASES_URI", str(VAR_DIR / "releases"))
# Training run folders (`pixmo train --out`); the dashboard's evaluation page reads their eval/.
PIXMO_RUNS_DIR = env_str("PIXMO_RUNS_DIR", str(VAR_DIR / "runs"))

# Image import limits, named in every refusal.
PIXMO_MAX_IMAGE_BYTES = env_int("PIXMO_MAX_IMAGE_BYTES", 40 * 1024 * 1024)
PIXMO_MAX_IMAGE_PIXELS = env_int("PIXMO_MAX_IMAGE_PIXELS", 64_000_000)
PIXMO_URL_FETCH_TIMEOUT_S = env_int("PIXMO_URL_FETCH_TIMEOUT_S", 30)
# CIDR ranges URL import may reach despite being non-public (tests, trusted intranets). Empty: none.
PIXMO_URL_FETCH_ALLOWED_NETWORKS = [n for n in env_str("PIXMO_URL_FETCH_ALLOWED_NETWORKS").split(",") if n]
# Audio receipts: the upload limit named in the error.
PIXMO_MAX_AUDIO_BYTES = env_int("PIXMO_MAX_AUDIO_BYTES", 40 * 1024 * 1024)
