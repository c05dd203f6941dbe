"""Login, logout, the annotator home and protected media: role and ownership checks."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation_app.services.assignments import assignment_claim, assignment_heartbeat
from annotation_app.services.recordings import recording_submit
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory, wav_bytes

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/login/").status_code == 200


def test_login_with_a_wrong_password_says_so_and_a_right_one_lands_home(client):
    UserFactory(username="ann")
    wrong = client.post("/login/", {"username": "ann", "password": "nope"})
    assert wrong.status_code == 200 and b"match. Please try again" in wrong.content
    right = client.post("/login/", {"username": "ann", "password": "pw-for-tests"})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_home_shows_open_projects_and_server_measured_work(client, annotator):
    project = ProjectFactory(name="Kitchen <b>captions</b>")
    WorkItemFactory(project=project)
    assignment = assignment_claim(annotator=annotator, project=project)
    assignment_heartbeat(assignment=assignment, annotator=annotator)
    client.force_login(annotator)
    page = client.get("/").content.decode()
    assert "Kitchen &lt;b&gt;captions&lt;/b&gt;" in page  # user-written text is escaped
    assert "items done today" in page and "active time today" in page


def test_recordings_in_media_are_for_their_owner_and_reviewers(client, annotator, other_annotator, reviewer):
    item = WorkItemFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    audio = SimpleUploadedFile("t.wav", wav_bytes(), content_type="audio/wav")
    recording, _ = recording_submit(assignment=assignment, annotator=annotator, audio=audio, client_uuid=uuid.uuid4())
    url = f"/media/{recording.file.name}"
    client.force_login(other_annotator)
    assert client.get(url).status_code == 404
    client.force_login(annotator)
    assert client.get(url).status_code == 200
    client.force_login(reviewer)
    assert client.get(url).status_code == 200
    assert client.get("/media/../../etc/passwd").status_code == 404


def test_django_admin_is_for_staff_only(client, annotator):
    client.force_login(annotator)
    assert client.get("/admin/").status_code == 302
