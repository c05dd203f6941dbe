"""A write the database accepted is acknowledged: once the service has returned (its transaction
committed), the answer is built from the objects in memory, so a database that drops away at that
moment cannot turn a stored row into a 500. And a retry with the same client UUID answers with
the stored row."""

import uuid
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection

from annotation_app.api import assignments as assignment_api
from annotation_app.api import images as image_api
from annotation_app.api import projects as project_api
from annotation_app.api import reviews as review_api
from annotation_app.api import submissions as submission_api
from annotation_app.models import AskThread, AskTurn, PointSet, PreferenceJudgment, Recording
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.points import PointSetInput, point_sets_submit
from tests.annotation_app.factories import (
    CompareItemFactory,
    ImageFactory,
    ProjectFactory,
    WorkItemFactory,
    png_bytes,
)
from tests.annotation_app.test_api import wav_upload

pytestmark = pytest.mark.django_db


class DatabaseGone:
    """An execute wrapper: once `down`, every statement fails as on a dropped connection."""

    def __init__(self):
        self.down = False
        self.refused: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if self.down:
            self.refused.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.fixture
def outage():
    gate = DatabaseGone()
    connection.execute_wrappers.append(gate)
    yield gate
    connection.execute_wrappers.remove(gate)


def drop_database_after(monkeypatch, module, name: str, outage: DatabaseGone) -> None:
    """The API module's service returns as usual, then the database is gone."""
    service = getattr(module, name)

    def returns_then_database_drops(*args, **kwargs):
        result = service(*args, **kwargs)
        outage.down = True
        return result

    monkeypatch.setattr(module, name, returns_then_database_drops)


def _assignment(annotator, kind: str):
    item = CompareItemFactory().work_item if kind == "compare" else WorkItemFactory(project=ProjectFactory(kind=kind))
    return assignment_claim(annotator=annotator, project=item.project)


def _ask_thread(annotator, client) -> int:
    assignment = _assignment(annotator, "ask")
    thread = client.post(f"/api/assignments/{assignment.pk}/ask/",
                         {"client_uuid": str(uuid.uuid4()), "question": "What is it?"}, format="json").json()
    AskTurn.objects.filter(thread_id=thread["id"], status="pending").update(status="ready", text="A red square.")
    return thread["id"]


def _point_set(annotator) -> int:
    assignment = _assignment(annotator, "points")
    rows, _ = point_sets_submit(assignment=assignment, annotator=annotator,
                                point_sets=[PointSetInput(client_uuid=uuid.uuid4(), label="cat", points_px=[(1, 1)])])
    return rows[0].pk


@dataclass(frozen=True)
class Write:
    module: object
    service: str
    user: str
    status: int
    request: object  # (users, client) -> (path, kwargs)


WRITES = {
    "claim": Write(project_api, "assignment_claim_next", "annotator", 200, lambda u, c: (
        f"/api/projects/{WorkItemFactory().project_id}/next/", {})),
    "heartbeat": Write(assignment_api, "assignment_heartbeat", "annotator", 200, lambda u, c: (
        f"/api/assignments/{_assignment(u['annotator'], 'caption').pk}/heartbeat/", {})),
    "skip": Write(assignment_api, "assignment_skip", "annotator", 200, lambda u, c: (
        f"/api/assignments/{_assignment(u['annotator'], 'caption').pk}/skip/", {})),
    "report": Write(assignment_api, "problem_report_create", "annotator", 201, lambda u, c: (
        f"/api/assignments/{_assignment(u['annotator'], 'caption').pk}/report/",
        {"data": {"reason": "The image is blank."}, "format": "json"})),
    "recording": Write(submission_api, "recording_submit", "annotator", 201, lambda u, c: (
        f"/api/assignments/{_assignment(u['annotator'], 'caption').pk}/recordings/",
        {"data": {"audio": wav_upload(), "client_uuid": str(uuid.uuid4())}})),
    "points": Write(submission_api, "point_sets_submit", "annotator", 201, lambda u, c: (
        f"/api/assignments/{_assignment(u['annotator'], 'points').pk}/points/",
        {"data": {"point_sets": [{"client_uuid": str(uuid.uuid4()), "label": "cat",
                                  "points": [{"x_px": 3, "y_px": 4}]}]}, "format": "json"})),
    "ask": Write(submission_api, "ask_thread_start", "annotator", 201, lambda u, c: (
        f"/api/assignments/{_assignment(u['annotator'], 'ask').pk}/ask/",
        {"data": {"client_uuid": str(uuid.uuid4()), "question": "What is it?"}, "format": "json"})),
    "ask-feedback": Write(submission_api, "ask_thread_feedback", "annotator", 200, lambda u, c: (
        f"/api/ask-threads/{_ask_thread(u['annotator'], c)}/feedback/",
        {"data": {"feedback": "Say which red."}, "format": "json"})),
    "ask-accept": Write(submission_api, "ask_thread_accept", "annotator", 200, lambda u, c: (
        f"/api/ask-threads/{_ask_thread(u['annotator'], c)}/accept/",
        {"data": {"edited_answer": "A dark red square."}, "format": "json"})),
    "judgment": Write(submission_api, "judgment_submit", "annotator", 201, lambda u, c: (
        f"/api/assignments/{_assignment(u['annotator'], 'compare').pk}/judgment/",
        {"data": {"client_uuid": str(uuid.uuid4()), "choice": "left"}, "format": "json"})),
    "review": Write(review_api, "review_submit", "reviewer", 201, lambda u, c: (
        "/api/reviews/", {"data": {"decision": "accept", "point_set": _point_set(u["annotator"])}, "format": "json"})),
    "project": Write(project_api, "project_create", "admin", 201, lambda u, c: (
        "/api/projects/", {"data": {"name": "Cats", "slug": "cats", "kind": "points"}, "format": "json"})),
    "project-images": Write(project_api, "project_add_images", "admin", 200, lambda u, c: (
        f"/api/projects/{ProjectFactory().pk}/images/", {"data": {"image_ids": [ImageFactory().pk]}, "format": "json"})),
    "image-upload": Write(image_api, "images_import", "admin", 200, lambda u, c: (
        "/api/images/upload/",
        {"data": {"files": [SimpleUploadedFile("a.png", png_bytes(8, 8), content_type="image/png")]},
         "format": "multipart"})),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_a_committed_write_is_acknowledged_when_the_database_drops_after_it(
    name, monkeypatch, outage, api_for, annotator, reviewer, admin_user
):
    write = WRITES[name]
    users = {"annotator": annotator, "reviewer": reviewer, "admin": admin_user}
    client = api_for(users[write.user])
    path, kwargs = write.request(users, api_for(annotator))
    drop_database_after(monkeypatch, write.module, write.service, outage)
    response = client.post(path, **kwargs)
    outage.down = False
    assert response.status_code == write.status, response.content[:300]
    assert outage.refused == [], f"queries after the write was stored: {outage.refused}"


SUBMISSIONS = {
    "recording": (Recording, "caption", "recordings",
                  lambda key: {"data": {"audio": wav_upload(), "client_uuid": key}}),
    "points": (PointSet, "points", "points", lambda key: {"data": {"point_sets": [
        {"client_uuid": key, "label": "cat", "points": [{"x_px": 3, "y_px": 4}]}]}, "format": "json"}),
    "ask": (AskThread, "ask", "ask", lambda key: {"data": {"client_uuid": key, "question": "What is it?"},
                                                  "format": "json"}),
    "judgment": (PreferenceJudgment, "compare", "judgment", lambda key: {"data": {"client_uuid": key,
                                                                                  "choice": "left"},
                                                                         "format": "json"}),
}


@pytest.mark.parametrize("kind", list(SUBMISSIONS))
def test_a_retry_with_the_same_client_uuid_answers_with_the_stored_row(kind, api_for, annotator):
    model, project_kind, endpoint, body = SUBMISSIONS[kind]
    assignment = _assignment(annotator, project_kind)
    url = f"/api/assignments/{assignment.pk}/{endpoint}/"
    key = str(uuid.uuid4())
    first = api_for(annotator).post(url, **body(key))
    retry = api_for(annotator).post(url, **body(key))
    assert (first.status_code, retry.status_code) == (201, 200), retry.content[:300]
    assert retry.json() == first.json() and model.objects.count() == 1


def test_a_retried_feedback_answers_with_the_stored_thread_and_adds_no_turn(api_for, annotator, other_annotator):
    client = api_for(annotator)
    thread_id = _ask_thread(annotator, client)
    url = f"/api/ask-threads/{thread_id}/feedback/"
    body = {"feedback": "Say which red.", "client_uuid": str(uuid.uuid4())}
    first = client.post(url, body, format="json")
    # The answer to the first was lost; the model has not answered yet when the retry comes.
    retry = client.post(url, body, format="json")
    assert (first.status_code, retry.status_code) == (200, 200), retry.content[:300]
    assert retry.json() == first.json()
    assert AskTurn.objects.filter(thread_id=thread_id, role="feedback").count() == 1
    assert AskTurn.objects.filter(thread_id=thread_id, role="answer", status="pending").count() == 1
    # The same key on another thread is a client mistake, named.
    other_thread = _ask_thread(annotator, client)
    reused = client.post(f"/api/ask-threads/{other_thread}/feedback/", body, format="json")
    assert reused.status_code == 409 and "already used for feedback on another thread" in reused.json()["detail"]
    # Feedback without a key still works (one turn per request), and another annotator is refused.
    AskTurn.objects.filter(thread_id=thread_id, status="pending").update(status="ready", text="A dark red.")
    assert client.post(url, {"feedback": "Shorter."}, format="json").status_code == 200
    assert api_for(other_annotator).post(url, {"feedback": "Mine."}, format="json").status_code in (403, 404)


def test_a_retried_accept_answers_with_the_accepted_thread(api_for, annotator):
    client = api_for(annotator)
    thread_id = _ask_thread(annotator, client)
    url = f"/api/ask-threads/{thread_id}/accept/"
    first = client.post(url, {"edited_answer": "A red square on white."}, format="json")
    retry = client.post(url, {"edited_answer": "A red square on white. "}, format="json")
    assert (first.status_code, retry.status_code) == (200, 200), retry.content[:300]
    assert retry.json() == first.json() and retry.json()["status"] == "accepted"
    assert AskTurn.objects.filter(thread_id=thread_id, role="edit").count() == 1
    for other in ({"edited_answer": "Something else."}, {}):  # not the same acceptance
        changed = client.post(url, other, format="json")
        assert changed.status_code == 409 and "already accepted" in changed.json()["detail"]
    plain = _ask_thread(annotator, client)  # accepting the model's answer as it is, twice
    answers = [client.post(f"/api/ask-threads/{plain}/accept/", {}, format="json") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200] and answers[0].json() == answers[1].json()
