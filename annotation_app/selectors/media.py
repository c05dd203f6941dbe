from django.conf import settings

from annotation_app.models import Image


def image_url(*, image: Image) -> str:
    """A URL the browser can load: presigned on S3, the login-protected media view locally."""
    return image.file.url if settings.PIXMO_STORAGE == "s3" else f"/media/{image.file.name}"


def file_url(*, field_file) -> str:
    return field_file.url if settings.PIXMO_STORAGE == "s3" else f"/media/{field_file.name}"
