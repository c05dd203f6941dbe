from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q

from annotation_app.errors import ServiceError
from annotation_app.models import Image, Project, WorkItem
from annotation_app.models.work import SLOT_HOLDING_STATUSES
from annotation_app.services.audit import audit_log


@transaction.atomic
def project_create(*, name: str, slug: str, kind: str, actor=None, **options) -> Project:
    if Project.objects.filter(slug=slug).exists():
        raise ServiceError(f"a project with slug '{slug}' already exists")
    project = Project(name=name, slug=slug, kind=kind, created_by=actor, **options)
    project.full_clean()
    project.save()
    audit_log(actor=actor, action="project.create", target=project, kind=kind)
    return project


@transaction.atomic
def project_add_images(*, project: Project, images: Iterable[Image], actor=None) -> int:
    """Add a work item per image that is not yet in the project; returns how many were added."""
    present = set(project.items.filter(variant=0).values_list("image_id", flat=True))
    new_items = [
        WorkItem(project=project, image=image, open_slots=project.overlap_k)
        for image in {image.pk: image for image in images}.values()
        if image.pk not in present
    ]
    WorkItem.objects.bulk_create(new_items, batch_size=1000)
    if new_items:
        audit_log(actor=actor, action="project.add_images", target=project, count=len(new_items))
    return len(new_items)


@transaction.atomic
def project_set_overlap(*, project: Project, overlap_k: int, actor=None) -> Project:
    """Change k and recompute every item's open slots from its slot-holding assignments."""
    if overlap_k < 1:
        raise ServiceError("overlap k must be at least 1")
    project.overlap_k = overlap_k
    project.save(update_fields=["overlap_k"])
    # Lock first (FOR UPDATE cannot carry GROUP BY), then count the slot-holding assignments.
    items = list(WorkItem.objects.select_for_update().filter(project=project))
    held = dict(
        WorkItem.objects.filter(project=project)
        .annotate(held=Count("assignments", filter=Q(assignments__status__in=SLOT_HOLDING_STATUSES)))
        .values_list("id", "held")
    )
    for item in items:
        item.open_slots = max(overlap_k - held[item.pk], 0)
    WorkItem.objects.bulk_update(items, ["open_slots"], batch_size=1000)
    audit_log(actor=actor, action="project.set_overlap", target=project, overlap_k=overlap_k)
    return project


