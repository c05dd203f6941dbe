"""Media files: the URLs the browser loads, and which stored file a /media/ path may serve."""

from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db.models import Q

from annotation_app.errors import NotFound
from annotation_app.models import Image, Recording, User
from annotation_app.selectors.projects import projects_visible_to


def image_url(*, image: Image) -> str:
    """A URL the browser can load: presigned on S3, the login-protected media view locally."""
    return image.file.url if settings.PIXMO_STORAGE == "s3" else f"/media/{image.file.name}"


def file_url(*, field_file) -> str:
    return field_file.url if settings.PIXMO_STORAGE == "s3" else f"/media/{field_file.name}"


def recording_playback_url(*, recording: Recording) -> str:
    """What audio players load: the copy whose header states the length where the received file
    states none (see Recording.playback_file), else the received file itself."""
    return file_url(field_file=recording.playback_file or recording.file) if recording.file else ""


@dataclass(frozen=True)
class MediaFile:
    file: File  # open for reading; the response closes it
    content_type: str


def media_file_open_visible(*, user: User, path: str) -> MediaFile:
    """Open the stored file a /media/ path names, if a row the user may see owns it.

    Access follows the row, never the spelling of the path: the path is normalised (`.`, `..`,
    empty segments) to a stored file name, the Recording or Image holding exactly that name is
    looked up, and only its file is opened. Reviewers and admins see every recording and image;
    annotators their own recordings and the images of projects open to them. A path that climbs
    out of the media folder, names no row, or names one the user may not see is NotFound alike,
    so the answer never tells whether someone else's file exists.
    """
    name = media_name_normalised(path)
    row = (_visible_recording(user=user, name=name) or _visible_image(user=user, name=name)) if name else None
    if row is None:
        raise NotFound("no such file")
    try:
        handle = row.file.storage.open(name, "rb")
    except FileNotFoundError:
        raise NotFound("no such file") from None
    return MediaFile(file=handle, content_type=row.mime or "application/octet-stream")


def media_name_normalised(path: str) -> str | None:
    """The stored file name a URL path (already percent-decoded once) names; None when it climbs
    out of the media folder. Pure string work: the filesystem never sees the requested path."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or None


def _visible_recording(*, user: User, name: str) -> Recording | None:
    recordings = Recording.objects.filter(Q(file=name) | Q(playback_file=name))
    if not user.is_reviewer:
        recordings = recordings.filter(annotator=user)
    return recordings.only("file", "playback_file", "mime").first()


def _visible_image(*, user: User, name: str) -> Image | None:
    images = Image.objects.filter(file=name)
    if not user.is_reviewer:
        images = images.filter(work_items__project__in=projects_visible_to(user=user))
    return images.only("file", "mime").first()
