"""Asking for a new dataset release from the dashboard: the row now, the export in the background."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

from annotation_app.errors import Conflict, ServiceError
from annotation_app.models import DatasetRelease, Project, User
from annotation_app.models.releases import ReleaseStatus
from annotation_app.services.audit import audit_log

DATASETS = ("pixmo-cap", "pixmo-points", "pixmo-ask-model-anything", "pixmo-cap-qa",
            "pixmo-point-explanations", "pixmo-count")


@transaction.atomic
def release_queue(
    *, actor: User, name: str, datasets: list[str], project_ids: list[int], accepted_only: bool = True
) -> DatasetRelease:
    """A queued DatasetRelease; the export starts after commit and reports progress on the row."""
    if not actor.is_pixmo_admin:
        raise ServiceError("only admins cut releases")
    slug = slugify(name)
    if not slug:
        raise ServiceError("a release needs a name of letters, digits or dashes")
    unknown = sorted(set(datasets) - set(DATASETS))
    if not datasets or unknown:
        raise ServiceError(f"choose datasets among {', '.join(DATASETS)}")
    if DatasetRelease.objects.filter(name=slug).exists():
        raise Conflict(f"a release named '{slug}' already exists")
    release = DatasetRelease.objects.create(
        name=slug,
        datasets=sorted(datasets),
        filters={"projects": sorted(Project.objects.filter(pk__in=project_ids).values_list("slug", flat=True)),
                 "accepted_only": accepted_only},
        uri=release_uri(name=slug),
        created_by=actor,
    )
    audit_log(actor=actor, action="release.queue", target=release, datasets=release.datasets)
    transaction.on_commit(lambda: _start_export(release.pk))
    return release


def release_uri(*, name: str) -> str:
    return f"{settings.PIXMO_RELEASES_URI.rstrip('/')}/{name}"


def _start_export(release_id: int) -> None:
    # The background build fills progress, counts, manifest and validation on the row.
    from annotation_app.services.releases import release_cut

    try:
        release_cut(release_id=release_id)
    except Exception as error:  # the broker is down: say so on the row rather than stay queued
        DatasetRelease.objects.filter(pk=release_id).update(
            status=ReleaseStatus.FAILED, error=f"the export could not start: {error}"
        )
