"""Query counts: the export selectors issue a fixed number of queries however many rows they
stream, the CapQA source honours every filter, and the hot API endpoints (claim, heartbeat,
submit) stay at their measured counts."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotation_app.models import CapQADialogue, Caption, CaptionVersion, ModelProvenance
from annotation_app.selectors import export as sources
from annotation_app.selectors.export import ExportFilters
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory
from tests.annotation_app.test_api import claim, wav_upload
from tests.annotation_app.test_export import accepted_caption

pytestmark = pytest.mark.django_db


def _captions(count: int, user=None, project=None):
    user = user or UserFactory()
    project = project or ProjectFactory(kind="caption")
    for n in range(count):
        accepted_caption(WorkItemFactory(project=project), user, f"Caption number {n}.")
        version = CaptionVersion.objects.order_by("-pk").first()
        CapQADialogue.objects.create(caption_version=version, generate_key=str(uuid.uuid4()),
                                     provenance=ModelProvenance.objects.create(kind="llm", model_name="m"),
                                     turns=[{"question": "What is it?", "answer": f"Caption number {n}."}])
    return user, project


def _queries(generator) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        rows = list(generator)
    return len(rows), len(queries)


@pytest.mark.parametrize("selector", ["caption_sources", "capqa_sources", "point_sources", "ask_sources"])
def test_export_selectors_issue_the_same_queries_for_3_and_12_rows(selector):
    few = _queries(getattr(sources, selector)(ExportFilters(), set()))
    _captions(3)
    three = _queries(getattr(sources, selector)(ExportFilters(), set()))
    _captions(9)
    twelve = _queries(getattr(sources, selector)(ExportFilters(), set()))
    if selector in ("caption_sources", "capqa_sources"):
        assert (three[0], twelve[0]) == (3, 12)
    assert three[1] == twelve[1] <= few[1] + 2, (few, three, twelve)


def test_caption_sources_stream_in_three_queries():
    _captions(12)
    assert _queries(sources.caption_sources(ExportFilters(), set())) == (12, 3)


def test_capqa_sources_honour_annotator_since_and_until():
    alice, project = _captions(2, user=UserFactory(username="alice"))
    _captions(3, user=UserFactory(username="bob"), project=project)
    old = Caption.objects.order_by("pk").first()
    Caption.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))

    def count(**filters) -> int:
        return sum(1 for _ in sources.capqa_sources(ExportFilters(**filters)))

    assert count() == 5
    assert count(annotators=("alice",)) == 2 and count(annotators=("bob",)) == 3
    assert count(since=timezone.now() - timedelta(days=1)) == 4
    assert count(until=timezone.now() - timedelta(days=1)) == 1
    assert count(projects=(project.slug,)) == 5 and count(projects=("elsewhere",)) == 0


# Measured on PostgreSQL; a change here means a hot endpoint gained or lost a round trip.
# The claim is one statement (project, membership, lease, slot, audit row, and the item
# and image for the answer); here inside the test's transaction, so that statement has a savepoint.
HOT_ENDPOINT_QUERIES = {"claim": 3, "heartbeat": 5, "submit": 12}


def _measure(client, method: str, url: str, **kwargs) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, **kwargs)
    return response.status_code, len(queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the counts are PostgreSQL's (one-statement claim)")
def test_hot_endpoints_keep_their_query_counts(api_for, annotator, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    client = api_for(annotator)
    client.get("/api/me/")  # the session and user are loaded once, as in a running browser
    project = WorkItemFactory().project
    for _ in range(2):
        WorkItemFactory(project=project)
    status, claim_queries = _measure(client, "post", f"/api/projects/{project.pk}/next/")
    assignment = claim(client, project)
    _, heartbeat_queries = _measure(client, "post", f"/api/assignments/{assignment['id']}/heartbeat/")
    submit_status, submit_queries = _measure(
        client, "post", f"/api/assignments/{assignment['id']}/recordings/",
        data={"audio": wav_upload(), "client_uuid": str(uuid.uuid4())})
    assert (status, submit_status) == (200, 201)
    assert {"claim": claim_queries, "heartbeat": heartbeat_queries, "submit": submit_queries} == HOT_ENDPOINT_QUERIES
