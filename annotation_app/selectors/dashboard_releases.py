"""Releases page: filtered list, counts per dataset and split, filters as a sentence, per-file
checksums from the release index, and download links (each to a file the index lists)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from annotation_app.errors import NotFound
from annotation_app.models import DatasetRelease
from annotation_app.models.releases import ReleaseStatus
from annotation_app.services.broker_queue import broker_tasks
from annotation_app.services.release_runs import release_stuck_reason
from pixmo_builders.card import counts_grid, filters_sentence
from pixmo_builders.storage import split_s3_uri

RELEASES_SHOWN = 100
# The release index and card come first in the file list (see DESIGN.md "Release layout").
TOP_FILES = ("manifest.json", "README.md")


def releases_filtered(*, status: str = "", dataset: str = "", name: str = "") -> QuerySet[DatasetRelease]:
    releases = DatasetRelease.objects.select_related("created_by").order_by("-created_at")
    if status in ReleaseStatus.values:
        releases = releases.filter(status=status)
    if dataset:
        releases = releases.filter(datasets__contains=[dataset])
    if name:
        releases = releases.filter(name__icontains=name)
    return releases


def release_files(*, release: DatasetRelease, signer=None) -> list[dict]:
    """[{"key", "sha256", "bytes", "url"}] of a release's files: the manifest first, then its entries.

    `signer` is an S3 client reused across releases (see `_presigning_client`)."""
    if release.status != ReleaseStatus.COMPLETE:
        return []
    entries = (release.manifest or {}).get("files", {})
    keys = [k for k in TOP_FILES if k in entries] + sorted(k for k in entries if k not in TOP_FILES)
    return [
        {"key": key, "sha256": entries.get(key, {}).get("sha256", ""), "bytes": entries.get(key, {}).get("bytes"),
         "url": release_file_url(release=release, key=key, signer=signer)}
        for key in keys
    ]


def release_file_url(*, release: DatasetRelease, key: str, signer=None) -> str:
    """A presigned link on S3, valid AWS_QUERYSTRING_EXPIRE seconds (hours, for large shards);
    otherwise the login-protected download view of the dashboard."""
    if release.uri.startswith("s3://"):
        bucket, prefix = split_s3_uri(release.uri)
        return (signer or _presigning_client()).generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": f"{prefix.rstrip('/')}/{key}" if prefix else key},
            ExpiresIn=settings.AWS_QUERYSTRING_EXPIRE,
        )
    return reverse("dashboard:release-file", kwargs={"release_id": release.pk, "key": key})


def _presigning_client():
    from annotation_app.services.s3 import s3_client

    return s3_client()


def release_local_file(*, release: DatasetRelease, key: str) -> Path:
    """The path of one listed file of a release kept in a folder; anything else is not found."""
    listed = set((release.manifest or {}).get("files", {}))
    if release.uri.startswith("s3://") or key not in listed:
        raise NotFound(f"release {release.name} has no file {key}")
    root = Path(release.uri).resolve()
    path = (root / key).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(f"release {release.name} has no file {key}")
    return path


def releases_page(*, status: str = "", dataset: str = "", name: str = "") -> dict:
    releases = list(releases_filtered(status=status, dataset=dataset, name=name)[:RELEASES_SHOWN])
    signer = _presigning_client() if any(r.uri.startswith("s3://") for r in releases) else None
    unfinished = any(r.status in (ReleaseStatus.QUEUED, ReleaseStatus.BUILDING) for r in releases)
    broker, now = (broker_tasks() if unfinished else None), timezone.now()
    rows = [{"release": r, "files": release_files(release=r, signer=signer), "counts": release_counts(release=r),
             "filters": filters_sentence(r.filters) if r.filters else "",
             "validation_ok": _validation_ok(r.validation), "problems": (r.validation or {}).get("problems", []),
             "stuck": release_stuck_reason(r, now=now, broker=broker) if unfinished else None}
            for r in releases]
    return {"rows": rows, "building": any(r.status in (ReleaseStatus.QUEUED, ReleaseStatus.BUILDING) for r in releases)}


def release_counts(*, release: DatasetRelease) -> dict | None:
    """{"splits": [...], "rows": [(dataset, [rows or None per split])]} of the stored counts,
    {dataset: {split: rows}}; None before any count."""
    if not release.counts:
        return None
    splits, rows = counts_grid(release.counts)
    return {"splits": splits, "rows": rows}


def _validation_ok(validation: dict) -> bool | None:
    """True/False once validated; None when no validation was recorded."""
    if not validation:
        return None
    if "ok" in validation:
        return bool(validation["ok"])
    return not validation.get("problems")
