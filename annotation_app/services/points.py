"""Pointing: every instance of a label, stored in pixels and in 0–100 percent of the image."""

import math
import uuid
from dataclasses import dataclass

from annotation_app.errors import ServiceError
from annotation_app.models import Assignment, PointSet, ProjectKind, User
from annotation_app.services.assignments import assignment_finish, assignment_lock_for_submission
from annotation_app.services.audit import audit_log
from annotation_app.services.idempotency import submit_once
from pixmo_formats.coords import round_pixels, to_percent

MAX_POINTS_PER_SET = 500
MAX_LABEL_LENGTH = 300


@dataclass(frozen=True)
class PointSetInput:
    client_uuid: uuid.UUID
    label: str
    points_px: list[tuple[float, float]]  # pixels of the original image
    not_present: bool = False


def points_to_record(*, points_px: list[tuple[float, float]], width: int, height: int) -> list[dict]:
    """Pixels → [{x_px, y_px, x, y}] with x, y in 0–100 percent of width and height (rounded by
    pixmo_formats.coords' rule: percent to 3 decimals, pixels to 2)."""
    records = []
    for number, (x_px, y_px) in enumerate(points_px, start=1):
        for axis, value in (("x_px", x_px), ("y_px", y_px)):
            # bool is an int in Python; True must not become pixel 1.
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ServiceError(f"{axis} of point {number} must be a finite number of pixels, not {value!r}")
        if not (0 <= x_px <= width and 0 <= y_px <= height):
            raise ServiceError(f"point ({x_px}, {y_px}) lies outside the {width}×{height} px image")
        records.append(
            {
                "x_px": round_pixels(x_px),
                "y_px": round_pixels(y_px),
                "x": to_percent(x_px, width),
                "y": to_percent(y_px, height),
            }
        )
    return records


def point_sets_submit(
    *, assignment: Assignment, annotator: User, point_sets: list[PointSetInput], finish: bool = True
) -> tuple[list[PointSet], bool]:
    """Store the point sets of one image; repeated client UUIDs return the stored rows with
    created=False."""
    project = assignment.project
    if project.kind != ProjectKind.POINTS:
        raise ServiceError("point sets belong to pointing projects only")
    if not point_sets:
        raise ServiceError("send at least one point set (or an explicit 'not present')")
    uuids = [ps.client_uuid for ps in point_sets]
    return submit_once(
        find=lambda: list(PointSet.objects.filter(client_uuid__in=uuids)) or None, annotator=annotator,
        create=lambda: _store(assignment, annotator, point_sets, finish=finish),
    )


def _store(assignment: Assignment, annotator: User, point_sets: list[PointSetInput], *, finish: bool) -> list[PointSet]:
    assignment = assignment_lock_for_submission(assignment=assignment, annotator=annotator)
    project, image = assignment.project, assignment.work_item.image
    rows = [_point_set(assignment, annotator, project, image, ps) for ps in point_sets]
    PointSet.objects.bulk_create(rows)
    if finish:
        assignment_finish(assignment=assignment)
    audit_log(actor=annotator, action="points.submit", target=assignment, sets=len(rows))
    return rows


def _point_set(assignment, annotator, project, image, ps: PointSetInput) -> PointSet:
    label = ps.label.strip()
    if not label:
        raise ServiceError("each point set needs a label or referring expression")
    if len(label) > MAX_LABEL_LENGTH:
        raise ServiceError(f"the label is longer than {MAX_LABEL_LENGTH} characters")
    if project.labels and label not in project.labels:
        raise ServiceError(f"'{label}' is not in this project's label list")
    if ps.not_present and ps.points_px:
        raise ServiceError("a 'not present' answer cannot carry points")
    if not ps.not_present and not ps.points_px:
        raise ServiceError("place at least one point, or answer 'not present'")
    if len(ps.points_px) > MAX_POINTS_PER_SET:
        raise ServiceError(f"at most {MAX_POINTS_PER_SET} points per label")
    return PointSet(
        assignment=assignment,
        work_item_id=assignment.work_item_id,
        annotator=annotator,
        client_uuid=ps.client_uuid,
        label=label,
        points=points_to_record(points_px=ps.points_px, width=image.width, height=image.height),
        not_present=ps.not_present,
        collection_method=project.collection_method,
    )
