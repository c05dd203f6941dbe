import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from annotation_app.errors import Conflict, NoWorkAvailable, PermissionDenied
from annotation_app.models import Assignment, WorkItem
from annotation_app.models.work import AssignmentStatus
from annotation_app.services.assignments import (
    assignment_claim,
    assignment_heartbeat,
    assignment_skip,
    assignments_expire,
)
from annotation_app.services.projects import project_set_overlap
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


def test_claim_creates_a_lease_and_returns_the_same_live_assignment(annotator, settings):
    settings.PIXMO_LEASE_SECONDS = 600
    item = WorkItemFactory()
    first = assignment_claim(annotator=annotator, project=item.project)
    again = assignment_claim(annotator=annotator, project=item.project)
    assert first.pk == again.pk
    assert first.work_item == item
    assert 590 < (first.expires_at - timezone.now()).total_seconds() <= 600
    item.refresh_from_db()
    assert item.open_slots == 0


def test_item_is_never_given_to_more_than_k_annotators_nor_twice_to_one():
    project = ProjectFactory(overlap_k=2)
    item = WorkItemFactory(project=project)
    users = [UserFactory() for _ in range(3)]
    assert assignment_claim(annotator=users[0], project=project).work_item == item
    assert assignment_claim(annotator=users[1], project=project).work_item == item
    with pytest.raises(NoWorkAvailable, match="no open items"):
        assignment_claim(annotator=users[2], project=project)


def test_skip_frees_the_slot_for_others_but_not_for_the_skipper(annotator, other_annotator):
    item = WorkItemFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    assignment_skip(assignment=assignment, annotator=annotator)
    with pytest.raises(NoWorkAvailable):
        assignment_claim(annotator=annotator, project=item.project)
    assert assignment_claim(annotator=other_annotator, project=item.project).work_item == item


def test_heartbeat_renews_the_lease_and_counts_capped_active_time(annotator):
    item = WorkItemFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    Assignment.objects.filter(pk=assignment.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=30))
    renewed = assignment_heartbeat(assignment=assignment, annotator=annotator)
    assert 29 <= renewed.active_seconds <= 32
    Assignment.objects.filter(pk=assignment.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))
    renewed = assignment_heartbeat(assignment=renewed, annotator=annotator)
    assert renewed.active_seconds <= 32 + 120  # an idle gap counts at most two minutes


def test_heartbeat_of_someone_elses_assignment_is_refused(annotator, other_annotator):
    item = WorkItemFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    with pytest.raises(PermissionDenied):
        assignment_heartbeat(assignment=assignment, annotator=other_annotator)


def test_expired_lease_returns_the_item_to_the_pool(annotator, other_annotator):
    item = WorkItemFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert assignments_expire() == 1
    assert assignments_expire() == 0
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.EXPIRED
    with pytest.raises(Conflict, match="expired"):
        assignment_heartbeat(assignment=assignment, annotator=annotator)
    assert assignment_claim(annotator=other_annotator, project=item.project).work_item == item


def test_raising_overlap_reopens_items(annotator, other_annotator):
    item = WorkItemFactory()
    assignment_claim(annotator=annotator, project=item.project)
    project_set_overlap(project=item.project, overlap_k=2)
    assert assignment_claim(annotator=other_annotator, project=item.project).work_item == item


def test_closed_project_refuses_claims(annotator):
    item = WorkItemFactory(project=ProjectFactory(is_active=False))
    with pytest.raises(Conflict, match="closed"):
        assignment_claim(annotator=annotator, project=item.project)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks with SKIP LOCKED need PostgreSQL")
def test_many_concurrent_claimers_never_over_assign_and_lose_nothing():
    """24 annotators in threads drain 60 items with k=2: exactly 120 slots, no duplicates."""
    project = ProjectFactory(overlap_k=2)
    items = [WorkItemFactory(project=project) for _ in range(60)]
    users = [UserFactory() for _ in range(24)]
    barrier = threading.Barrier(len(users))
    errors: list[BaseException] = []

    def drain(user):
        barrier.wait()
        try:
            while True:
                try:
                    assignment = assignment_claim(annotator=user, project=project)
                except NoWorkAvailable:
                    return
                Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.SUBMITTED)
        except BaseException as error:  # surfaced below; a thread must not swallow it
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    per_item = Counter(Assignment.objects.values_list("work_item_id", flat=True))
    assert set(per_item) == {item.pk for item in items}  # none lost
    assert set(per_item.values()) == {2}  # none over-assigned
    pairs = Counter(Assignment.objects.values_list("work_item_id", "annotator_id"))
    assert max(pairs.values()) == 1  # nobody got the same item twice
    assert not WorkItem.objects.filter(project=project, open_slots__gt=0).exists()
