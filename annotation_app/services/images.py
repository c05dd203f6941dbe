"""Image import: from a folder, a file of URLs, or an S3 prefix, deduplicated by sha256."""

import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from annotation_app.models import Image, Project
from annotation_app.services.audit import audit_log
from annotation_app.services.image_decode import ImageRefused, image_decode
from annotation_app.services.projects import project_add_images
from annotation_app.services.url_fetch import FetchRefused, url_fetch

logger = logging.getLogger("pixmo.images")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class ImageSource:
    """One image to import: how to get its bytes, and what we know about it."""

    name: str
    load: Callable[[], bytes]
    source_url: str = ""
    license: str = ""
    topics: tuple[str, ...] = ()


@dataclass
class ImportSummary:
    imported: list[Image] = field(default_factory=list)
    duplicates: list[Image] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)

    @property
    def images(self) -> list[Image]:
        return self.imported + self.duplicates

    def as_dict(self) -> dict:
        return {
            "imported": len(self.imported),
            "duplicates": len(self.duplicates),
            "refused": [{"name": name, "reason": reason} for name, reason in self.refused],
        }


def images_import(
    *,
    sources: Iterable[ImageSource],
    imported_by=None,
    project: Project | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Import each source on its own: one bad file is refused with its reason, the rest go on."""
    summary = ImportSummary()
    for source in sources:
        try:
            image, created = image_import_one(source=source, imported_by=imported_by)
        except (ImageRefused, FetchRefused, OSError) as error:
            summary.refused.append((source.name, str(error)))
            logger.info("image.refused name=%s reason=%s", source.name, error)
        else:
            (summary.imported if created else summary.duplicates).append(image)
        if progress:
            progress(source.name)
    if project is not None and summary.images:
        project_add_images(project=project, images=summary.images, actor=imported_by)
    return summary


def image_import_one(*, source: ImageSource, imported_by=None) -> tuple[Image, bool]:
    decoded = image_decode(
        data=source.load(),
        max_bytes=settings.PIXMO_MAX_IMAGE_BYTES,
        max_pixels=settings.PIXMO_MAX_IMAGE_PIXELS,
    )
    existing = Image.objects.filter(sha256=decoded.sha256).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            image = Image(
                sha256=decoded.sha256,
                mime=decoded.mime,
                byte_size=len(decoded.data),
                width=decoded.width,
                height=decoded.height,
                source_url=source.source_url,
                source_name=source.name[:512],
                license=source.license,
                topics=list(source.topics),
                imported_by=imported_by,
            )
            key = f"{decoded.sha256[:2]}/{decoded.sha256}.{decoded.extension}"
            image.file.save(key, ContentFile(decoded.data), save=False)
            image.save()
            audit_log(actor=imported_by, action="image.import", target=image, source=source.name)
    except IntegrityError:
        # A concurrent import stored the same bytes first.
        return Image.objects.get(sha256=decoded.sha256), False
    return image, True


def image_sources_from_folder(*, root: Path, license: str = "") -> Iterator[ImageSource]:
    """Every image file under `root`; its folder names (relative to root) become its topics."""
    if not root.is_dir():
        raise FileNotFoundError(f"'{root}' is not a folder")
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
        topics = tuple(part for part in path.relative_to(root).parent.parts)
        yield ImageSource(name=str(path), load=path.read_bytes, license=license, topics=topics)


def image_sources_from_url_file(*, path: Path, allowed_networks: tuple[str, ...] = ()) -> Iterator[ImageSource]:
    """A file of URLs: one per line, or a CSV with a `url` column and optional `license`, `topics`.

    `topics` in a CSV is a `;`-separated list.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        first = handle.readline()
        handle.seek(0)
        if "url" in [column.strip().lower() for column in first.split(",")]:
            rows = [{k.strip().lower(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]
        else:
            rows = [{"url": line.strip()} for line in handle if line.strip() and not line.startswith("#")]
    for row in rows:
        url = row["url"]
        yield ImageSource(
            name=url,
            load=_url_loader(url, allowed_networks),
            source_url=url,
            license=row.get("license", ""),
            topics=tuple(t.strip() for t in row.get("topics", "").split(";") if t.strip()),
        )


def _url_loader(url: str, allowed_networks: tuple[str, ...]) -> Callable[[], bytes]:
    def load() -> bytes:
        limit = Image._meta.get_field("source_url").max_length
        if len(url) > limit:
            raise ImageRefused(f"the URL is {len(url):,} characters long, over the {limit:,}-character limit")
        return url_fetch(
            url,
            max_bytes=settings.PIXMO_MAX_IMAGE_BYTES,
            timeout_s=settings.PIXMO_URL_FETCH_TIMEOUT_S,
            allowed_networks=allowed_networks or tuple(settings.PIXMO_URL_FETCH_ALLOWED_NETWORKS),
        )

    return load


def image_sources_from_s3(*, uri: str, license: str = "") -> Iterator[ImageSource]:
    """Every image object under s3://bucket/prefix; its key's folders below the prefix are topics."""
    from annotation_app.services.s3 import s3_client
    from pixmo_builders.storage import split_s3_uri

    bucket, prefix = split_s3_uri(uri)
    client = s3_client()
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if Path(key).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            relative = Path(key[len(prefix):].lstrip("/"))
            yield ImageSource(
                name=f"s3://{bucket}/{key}",
                load=lambda key=key: client.get_object(Bucket=bucket, Key=key)["Body"].read(),
                license=license,
                topics=tuple(relative.parent.parts),
            )
