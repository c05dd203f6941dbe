"""The task pages' server side, without a browser: which page renders, for whom, and the
endpoint that lets a reloaded ask page resume its thread."""

import json
import uuid

import pytest
from django.test import Client

from annotation_app.services.ask import ask_thread_start
from annotation_app.services.assignments import assignment_claim
from tests.annotation_app.factories import ProjectFactory, WorkItemFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("kind", ["caption", "points", "ask", "compare"])
def test_each_kind_renders_its_page_with_the_project_settings(annotator, kind):
    project = ProjectFactory(kind=kind, min_duration_s=45, target_duration_s=75, labels=["cat"] if kind == "points" else [])
    response = signed_in(annotator).get(f"/work/{project.pk}/")
    assert response.status_code == 200
    assert f"annotation_app/ui/{kind}.html" in [template.name for template in response.templates]
    config = json.loads(response.content.decode().split('id="task-config" type="application/json">', 1)[1].split("</script>")[0])
    assert config["project"]["kind"] == kind and config["project"]["min_duration_s"] == 45
    assert config["urls"]["next"] == f"/api/projects/{project.pk}/next/"


def test_user_written_text_in_the_page_is_escaped(annotator):
    project = ProjectFactory(kind="points", name="<script>alert(1)</script>", labels=["<b>cat</b>"],
                             instructions="<img src=x onerror=alert(1)>")
    html = signed_in(annotator).get(f"/work/{project.pk}/").content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>cat</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_project_not_open_to_the_user_is_not_found_and_anonymous_users_sign_in(annotator, other_annotator):
    project = ProjectFactory(kind="caption")
    project.members.add(other_annotator)
    assert signed_in(annotator).get(f"/work/{project.pk}/").status_code == 404
    response = Client().get(f"/work/{project.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_ask_thread_of_an_assignment_is_null_until_asked_and_private(annotator, other_annotator, api_for):
    item = WorkItemFactory(project=ProjectFactory(kind="ask"))
    assignment = assignment_claim(annotator=annotator, project=item.project)
    url = f"/api/assignments/{assignment.pk}/ask-thread/"
    assert api_for(annotator).get(url).json() == {"thread": None}
    thread, _ = ask_thread_start(assignment=assignment, annotator=annotator, question="What is it?", client_uuid=uuid.uuid4())
    body = api_for(annotator).get(url).json()["thread"]
    assert body["id"] == thread.pk and body["question"] == "What is it?"
    assert [turn["role"] for turn in body["turns"]] == ["question", "answer"]
    assert api_for(other_annotator).get(url).status_code == 404
