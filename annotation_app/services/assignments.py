"""Work leases: claim the next item, renew by heartbeat, submit, skip, and expire.

Concurrency contract: `WorkItem.open_slots` (overlap k minus live-or-finished assignments) is
read and written only while holding the item's row lock — on PostgreSQL inside the one claim
statement (`CLAIM_SQL`, `FOR UPDATE SKIP LOCKED`); on SQLite the whole write transaction holds
the database lock (BEGIN IMMEDIATE) — so concurrent claimers never over-assign an item and never
block on each other's rows.
"""

import functools
import logging
from contextlib import nullcontext
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from annotation_app.errors import Conflict, NoWorkAvailable, PermissionDenied
from annotation_app.models import Assignment, CompareItem, Image, Project, ProjectKind, User, WorkItem
from annotation_app.models.work import AssignmentStatus
from annotation_app.selectors.projects import not_a_member_message, project_get_visible, project_open_to
from annotation_app.services.audit import audit_log
from annotation_app.services.claim_sql import CLAIM_SQL, ITEM_COLUMNS, PROJECT_COLUMNS

logger = logging.getLogger("pixmo.assignments")

# A heartbeat gap longer than this counts as idle, not as active time.
MAX_ACTIVE_GAP_S = 120.0


def assignment_claim_next(*, annotator: User, project_id: int) -> Assignment:
    """The claim endpoint's door: on PostgreSQL one statement takes the next item in the common
    case; when it takes nothing, the project is looked up as a page would (NotFound when the user
    may not see it) and `assignment_claim` says why or returns the live lease."""
    if connection.vendor == "postgresql":
        try:
            assignment = _claim_statement(annotator=annotator, project_id=project_id)
        except IntegrityError:
            assignment = None  # two tabs at once: the path below retries
        if assignment is not None:
            return assignment
    return assignment_claim(annotator=annotator, project=project_get_visible(user=annotator, project_id=project_id))


def assignment_claim(*, annotator: User, project: Project) -> Assignment:
    """The annotator's live assignment in the project, or a new lease on the next open item."""
    if not project.is_active:
        raise Conflict(f"project '{project.slug}' is closed")
    if connection.vendor == "postgresql":
        return _claim_postgresql(annotator=annotator, project=project)
    # Whatever the role: reviewers and admins see every project, but claim only where added.
    if not project_open_to(user=annotator, project=project):
        raise PermissionDenied(not_a_member_message(project=project))
    return _claim_sqlite(annotator=annotator, project=project)


def _claim_sqlite(*, annotator: User, project: Project) -> Assignment:
    current = _live_assignment(annotator=annotator, project=project)
    if current is not None:
        return current
    for _ in range(3):
        try:
            with transaction.atomic():
                item = _lock_next_item(annotator=annotator, project=project)
                if item is None:
                    raise NoWorkAvailable(f"no open items left for you in project '{project.slug}'")
                return _create_assignment(item=item, annotator=annotator, project=project)
        except IntegrityError:
            # The same annotator claimed in two tabs at once; the loser retries.
            continue
    raise Conflict("could not claim an item, try again")


def _claim_postgresql(*, annotator: User, project: Project) -> Assignment:
    """The claim as one statement (`CLAIM_SQL`: membership, lease, slot, audit row). When it
    takes nothing, the rare path says why: not a member, a live lease to return, or no work."""
    for _ in range(3):
        try:
            assignment = _claim_statement(annotator=annotator, project_id=project.pk)
        except IntegrityError:
            # The same annotator claimed in two tabs at once; the loser retries.
            continue
        if assignment is not None:
            return assignment
        # Whatever the role: reviewers and admins see every project, but claim only where added.
        if not project_open_to(user=annotator, project=project):
            raise PermissionDenied(not_a_member_message(project=project))
        current = _live_assignment(annotator=annotator, project=project)
        if current is not None:
            return current
        raise NoWorkAvailable(f"no open items left for you in project '{project.slug}'")
    raise Conflict("could not claim an item, try again")


def _claim_statement(*, annotator: User, project_id: int) -> Assignment | None:
    now = timezone.now()
    expires = now + timedelta(seconds=settings.PIXMO_LEASE_SECONDS)
    params = {"project": project_id, "annotator": annotator.pk, "now": now, "expires": expires}
    # One statement is atomic by itself; inside a caller's transaction it gets a savepoint, so
    # that a unique violation (two tabs claiming at once) can be retried.
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None
    # The answer to the claimer is built from these rows: no query runs after the lease is
    # acknowledged.
    projects, items = len(PROJECT_COLUMNS), len(ITEM_COLUMNS)
    project = _model_from_row(Project, row[1:1 + projects])
    item = _model_from_row(WorkItem, row[1 + projects:1 + projects + items])
    item.image = _model_from_row(Image, row[1 + projects + items:])
    if project.kind == ProjectKind.COMPARE and (compare := CompareItem.objects.filter(work_item_id=item.pk).first()):
        item.compare = compare
    assignment = Assignment(
        id=row[0], work_item=item, project=project, annotator=annotator,
        status=AssignmentStatus.ACTIVE, claimed_at=now, expires_at=expires, heartbeat_at=now,
    )
    assignment._state.adding = False
    assignment._state.db = connection.alias
    return assignment


def _model_from_row(model, values):
    """A model instance from its concrete columns' raw values, converted as a queryset would
    (JSON text parsed, time zones applied)."""
    attnames, converters = _row_converters(model, connection.vendor)
    converted = list(values)
    if len(converted) != len(attnames):
        raise ValueError(f"{model.__name__}: {len(converted)} values for {len(attnames)} columns")
    for index, column, field_converters in converters:
        for converter in field_converters:
            converted[index] = converter(converted[index], column, connection)
    return model.from_db(connection.alias, attnames, converted)


@functools.cache
def _row_converters(model, vendor: str) -> tuple[list[str], list[tuple[int, object, list]]]:
    """A model's attribute names and, for each column that has them, its value converters: the
    same for every claim on a backend, so they are listed once per process (the claim path builds
    three models per call). Each converter is given the calling thread's connection."""
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        field_converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]
        if field_converters:
            converters.append((index, column, field_converters))
    return [field.attname for field in fields], converters


def _live_assignment(*, annotator: User, project: Project) -> Assignment | None:
    return (
        Assignment.objects.filter(
            annotator=annotator, project=project, status=AssignmentStatus.ACTIVE, expires_at__gt=timezone.now()
        )
        .select_related("project", "work_item__image", "work_item__compare")
        .first()
    )


def _lock_next_item(*, annotator: User, project: Project) -> WorkItem | None:
    """SQLite, inside a transaction: BEGIN IMMEDIATE already serialises writers, and the
    conditional decrement in `_create_assignment` is the guard (PostgreSQL uses `CLAIM_SQL`)."""
    return (
        WorkItem.objects.filter(project=project, open_slots__gt=0)
        .exclude(assignments__annotator=annotator)
        .select_related("image", "compare")
        .order_by("id")
        .first()
    )


def _create_assignment(*, item: WorkItem, annotator: User, project: Project) -> Assignment:
    """Should be called while holding the item's lock (see `_lock_next_item`)."""
    updated = WorkItem.objects.filter(pk=item.pk, open_slots__gt=0).update(open_slots=F("open_slots") - 1)
    if not updated:
        raise NoWorkAvailable(f"no open items left for you in project '{project.slug}'")
    now = timezone.now()
    assignment = Assignment.objects.create(
        work_item=item,
        project=project,
        annotator=annotator,
        expires_at=now + timedelta(seconds=settings.PIXMO_LEASE_SECONDS),
        heartbeat_at=now,
    )
    audit_log(actor=annotator, action="assignment.claim", target=assignment, work_item=item.pk)
    return assignment


@transaction.atomic
def assignment_heartbeat(*, assignment: Assignment, annotator: User) -> Assignment:
    """Renew the lease and add the time since the last heartbeat (capped) to active time."""
    assignment = _locked_own(assignment=assignment, annotator=annotator)
    now = timezone.now()
    if assignment.expires_at <= now:
        raise Conflict("the lease on this item has expired; claim a new item")
    gap = (now - assignment.heartbeat_at).total_seconds()
    assignment.active_seconds += min(max(gap, 0.0), MAX_ACTIVE_GAP_S)
    assignment.heartbeat_at = now
    assignment.expires_at = now + timedelta(seconds=settings.PIXMO_LEASE_SECONDS)
    assignment.save(update_fields=["active_seconds", "heartbeat_at", "expires_at"])
    return assignment


def assignment_lock_for_submission(*, assignment: Assignment, annotator: User) -> Assignment:
    """Should be called inside the submitting service's transaction; returns the row locked.

    A submission is accepted while the lease is active. Work that arrives after beat expired
    the lease is kept too (nothing an annotator made is thrown away): it re-takes a slot if the
    item still has one, otherwise it is stored without holding a slot, so k is never exceeded.
    """
    assignment = _locked_own(assignment=assignment, annotator=annotator)
    if assignment.status == AssignmentStatus.SUBMITTED:
        raise Conflict("this assignment was already submitted")
    if assignment.status == AssignmentStatus.SKIPPED:
        raise Conflict("this assignment was skipped")
    return assignment


def assignment_finish(*, assignment: Assignment) -> Assignment:
    """Should be called while holding the assignment's row lock, inside the submitting transaction.

    The slot stays taken: a submitted assignment counts toward the item's overlap k.
    """
    if assignment.status == AssignmentStatus.EXPIRED:
        retaken = WorkItem.objects.filter(pk=assignment.work_item_id, open_slots__gt=0).update(
            open_slots=F("open_slots") - 1
        )
        if not retaken:
            return assignment  # stored as late work; the item's k live-or-finished stay intact
    now = timezone.now()
    gap = (now - assignment.heartbeat_at).total_seconds()
    assignment.active_seconds += min(max(gap, 0.0), MAX_ACTIVE_GAP_S)
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.finished_at = now
    assignment.heartbeat_at = now
    assignment.save(update_fields=["status", "finished_at", "heartbeat_at", "active_seconds"])
    WorkItem.objects.filter(pk=assignment.work_item_id).update(finished_count=F("finished_count") + 1)
    return assignment


@transaction.atomic
def assignment_skip(*, assignment: Assignment, annotator: User) -> Assignment:
    """Give the item back to the pool; this annotator will not be offered it again."""
    assignment = _locked_own(assignment=assignment, annotator=annotator)
    _release(assignment=assignment, status=AssignmentStatus.SKIPPED)
    audit_log(actor=annotator, action="assignment.skip", target=assignment)
    return assignment


def assignments_expire(*, now=None) -> int:
    """Return expired leases to the pool (beat runs this every minute); returns how many."""
    now = now or timezone.now()
    expired_ids = list(
        Assignment.objects.filter(status=AssignmentStatus.ACTIVE, expires_at__lte=now).values_list("id", flat=True)
    )
    count = 0
    for assignment_id in expired_ids:
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update()
                .filter(pk=assignment_id, status=AssignmentStatus.ACTIVE, expires_at__lte=now)
                .first()
            )
            if assignment is None:  # renewed or submitted since we looked
                continue
            _release(assignment=assignment, status=AssignmentStatus.EXPIRED)
            audit_log(actor=None, action="assignment.expire", target=assignment)
            count += 1
    if count:
        logger.info("assignments.expire count=%d", count)
    return count


def _release(*, assignment: Assignment, status: str) -> None:
    """Should be called while holding the assignment's row lock, inside a transaction."""
    if assignment.status != AssignmentStatus.ACTIVE:
        raise Conflict(f"this assignment is already {assignment.status}")
    assignment.status = status
    assignment.finished_at = timezone.now()
    assignment.save(update_fields=["status", "finished_at"])
    # The UPDATE takes the item's row lock, so a claimer sees the freed slot only after commit.
    WorkItem.objects.filter(pk=assignment.work_item_id).update(open_slots=F("open_slots") + 1)


def _locked_own(*, assignment: Assignment, annotator: User) -> Assignment:
    if assignment.annotator_id != annotator.pk:
        raise PermissionDenied("this assignment belongs to another annotator")
    # The row lock is on the assignment alone; the joined rows come along for the response.
    return (Assignment.objects.select_for_update(of=("self",))
            .select_related("project", "work_item__image", "work_item__compare").get(pk=assignment.pk))


@transaction.atomic
def problem_report_create(*, assignment: Assignment, reporter: User, reason: str):
    from annotation_app.models import ProblemReport

    report = ProblemReport.objects.create(work_item=assignment.work_item, reporter=reporter, reason=reason.strip())
    audit_log(actor=reporter, action="item.report_problem", target=report)
    return report
