"""Every API endpoint: success, validation errors, and permissions."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotation_app.models import (
    AskTurn,
    Assignment,
    Caption,
    CaptionVersion,
    PointSet,
    Recording,
    Transcript,
)
from annotation_app.models.captions import CaptionSource
from annotation_app.models.provenance import ModelProvenance
from tests.annotation_app.factories import (
    CompareItemFactory,
    ProjectFactory,
    WorkItemFactory,
    png_bytes,
    wav_bytes,
)

pytestmark = pytest.mark.django_db


def claim(client, project) -> dict:
    response = client.post(f"/api/projects/{project.pk}/next/")
    assert response.status_code == 200, response.content
    return response.json()


def wav_upload(name="take.wav", content_type="audio/wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(), content_type=content_type)


def test_anonymous_requests_are_refused(client):
    for url in ["/api/me/", "/api/projects/", "/api/assignments/", "/api/review/queue/", "/api/releases/"]:
        assert client.get(url).status_code in (401, 403), url


def test_schema_and_docs_are_served(api_for, annotator):
    response = api_for(annotator).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/projects/{project_id}/next/" in response.content
    assert api_for(annotator).get("/api/docs/").status_code == 200


def test_me(api_for, reviewer):
    assert api_for(reviewer).get("/api/me/").json()["role"] == "reviewer"


def test_annotator_sees_only_open_projects(api_for, annotator, other_annotator):
    open_project = ProjectFactory()
    ProjectFactory(is_active=False)
    private = ProjectFactory()
    private.members.add(other_annotator)
    slugs = [p["slug"] for p in api_for(annotator).get("/api/projects/").json()]
    assert slugs == [open_project.slug]
    assert api_for(annotator).get(f"/api/projects/{private.pk}/").status_code == 404


def test_project_create_is_for_admins_and_validated(api_for, annotator, admin_user):
    body = {"name": "Cats", "slug": "cats", "kind": "points", "labels": ["cat"], "overlap_k": 3}
    assert api_for(annotator).post("/api/projects/", body, format="json").status_code == 403
    created = api_for(admin_user).post("/api/projects/", body, format="json")
    assert created.status_code == 201 and created.json()["overlap_k"] == 3
    duplicate = api_for(admin_user).post("/api/projects/", body, format="json")
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["detail"]
    bad = api_for(admin_user).post("/api/projects/", {**body, "slug": "x", "kind": "video"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()
    window = api_for(admin_user).post(
        "/api/projects/", {**body, "slug": "y", "min_duration_s": 100, "max_duration_s": 50}, format="json"
    )
    assert window.status_code == 400


def test_project_images_add(api_for, admin_user, annotator):
    item = WorkItemFactory()
    other = WorkItemFactory().image
    url = f"/api/projects/{item.project.pk}/images/"
    assert api_for(annotator).post(url, {"image_ids": [other.pk]}, format="json").status_code == 403
    assert api_for(admin_user).post(url, {"image_ids": [other.pk, item.image.pk]}, format="json").json() == {"added": 1}
    missing = api_for(admin_user).post(url, {"image_ids": [999999]}, format="json")
    assert missing.status_code == 400 and "do not exist" in missing.json()["detail"]


def test_next_claims_and_returns_the_image_payload(api_for, annotator):
    item = WorkItemFactory()
    payload = claim(api_for(annotator), item.project)
    assert payload["image"]["width"] == 64 and payload["image"]["url"].startswith("/media/")
    assert payload["project"]["min_duration_s"] == 60.0
    assert claim(api_for(annotator), item.project)["id"] == payload["id"]


def test_next_with_nothing_left_is_404_with_a_sentence(api_for, annotator):
    project = ProjectFactory()
    response = api_for(annotator).post(f"/api/projects/{project.pk}/next/")
    assert response.status_code == 404 and "no open items" in response.json()["detail"]


def test_assignment_endpoints_are_owner_only(api_for, annotator, other_annotator):
    item = WorkItemFactory()
    assignment = claim(api_for(annotator), item.project)
    base = f"/api/assignments/{assignment['id']}"
    other = api_for(other_annotator)
    assert other.get(f"{base}/").status_code == 404
    assert other.post(f"{base}/heartbeat/").status_code == 404
    assert other.post(f"{base}/skip/").status_code == 404
    mine = api_for(annotator)
    assert mine.get("/api/assignments/").json()[0]["id"] == assignment["id"]
    assert mine.post(f"{base}/heartbeat/").status_code == 200
    report = mine.post(f"{base}/report/", {"reason": "image is blank"}, format="json")
    assert report.status_code == 201
    assert mine.post(f"{base}/report/", {}, format="json").status_code == 400
    assert mine.post(f"{base}/skip/").json()["status"] == "skipped"
    again = mine.post(f"{base}/skip/")
    assert again.status_code == 409 and "already skipped" in again.json()["detail"]


def test_recording_upload_is_idempotent_by_client_uuid(api_for, annotator, django_capture_on_commit_callbacks):
    item = WorkItemFactory()
    assignment = claim(api_for(annotator), item.project)
    url = f"/api/assignments/{assignment['id']}/recordings/"
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks() as callbacks:
        first = api_for(annotator).post(url, {"audio": wav_upload(), "client_uuid": key, "client_duration_s": 61.5})
    assert first.status_code == 201, first.content
    assert len(callbacks) == 1  # the pipeline is enqueued only after commit
    second = api_for(annotator).post(url, {"audio": wav_upload(), "client_uuid": key})
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert Recording.objects.count() == 1
    assert Assignment.objects.get(pk=assignment["id"]).status == "submitted"
    detail = api_for(annotator).get(f"/api/recordings/{first.json()['id']}/")
    assert detail.json()["client_duration_s"] == 61.5 and detail.json()["transcript"] is None


def test_recording_validation_errors_name_the_limit(api_for, annotator, settings):
    settings.PIXMO_MAX_AUDIO_BYTES = 10
    item = WorkItemFactory()
    assignment = claim(api_for(annotator), item.project)
    url = f"/api/assignments/{assignment['id']}/recordings/"
    too_big = api_for(annotator).post(url, {"audio": wav_upload(), "client_uuid": str(uuid.uuid4())})
    assert too_big.status_code == 400 and "10-byte limit" in too_big.json()["detail"]
    wrong_type = api_for(annotator).post(
        url, {"audio": wav_upload("x.txt", "text/plain"), "client_uuid": str(uuid.uuid4())}
    )
    assert wrong_type.status_code == 400 and "not accepted" in wrong_type.json()["detail"]
    no_uuid = api_for(annotator).post(url, {"audio": wav_upload()})
    assert no_uuid.status_code == 400 and "client_uuid" in no_uuid.json()
    assert Recording.objects.count() == 0


def test_recordings_are_visible_to_owner_and_reviewers_only(api_for, annotator, other_annotator, reviewer):
    item = WorkItemFactory()
    assignment = claim(api_for(annotator), item.project)
    recording = api_for(annotator).post(
        f"/api/assignments/{assignment['id']}/recordings/", {"audio": wav_upload(), "client_uuid": str(uuid.uuid4())}
    ).json()
    url = f"/api/recordings/{recording['id']}/"
    assert api_for(other_annotator).get(url).status_code == 404
    assert api_for(reviewer).get(url).status_code == 200


def test_points_store_pixels_and_percent(api_for, annotator):
    item = WorkItemFactory(project=ProjectFactory(kind="points", labels=["cat", "dog"]))
    assignment = claim(api_for(annotator), item.project)
    url = f"/api/assignments/{assignment['id']}/points/"
    body = {
        "point_sets": [
            {"client_uuid": str(uuid.uuid4()), "label": "cat", "points": [{"x_px": 32, "y_px": 12}, {"x_px": 0, "y_px": 48}]},
            {"client_uuid": str(uuid.uuid4()), "label": "dog", "not_present": True},
        ]
    }
    response = api_for(annotator).post(url, body, format="json")
    assert response.status_code == 201, response.content
    cat = PointSet.objects.get(label="cat")
    assert cat.points[0] == {"x_px": 32.0, "y_px": 12.0, "x": 50.0, "y": 25.0}
    assert PointSet.objects.get(label="dog").not_present
    repeat = api_for(annotator).post(url, body, format="json")
    assert repeat.status_code == 200 and PointSet.objects.count() == 2
    assert sorted(row["id"] for row in repeat.json()) == sorted(row["id"] for row in response.json())


@pytest.mark.parametrize(
    ("point_set", "message"),
    [
        ({"label": "cat", "points": [{"x_px": 65, "y_px": 1}]}, "outside the 64×48 px image"),
        ({"label": "horse", "points": [{"x_px": 1, "y_px": 1}]}, "not in this project's label list"),
        ({"label": "cat", "points": []}, "at least one point"),
        ({"label": "cat", "points": [{"x_px": 1, "y_px": 1}], "not_present": True}, "cannot carry points"),
        ({"label": "cat", "points": [{"x_px": "left", "y_px": 1}]}, "x_px"),
    ],
)
def test_points_validation(api_for, annotator, point_set, message):
    item = WorkItemFactory(project=ProjectFactory(kind="points", labels=["cat"]))
    assignment = claim(api_for(annotator), item.project)
    body = {"point_sets": [{"client_uuid": str(uuid.uuid4()), **point_set}]}
    response = api_for(annotator).post(f"/api/assignments/{assignment['id']}/points/", body, format="json")
    assert response.status_code == 400 and message in response.content.decode()
    assert PointSet.objects.count() == 0


def test_points_to_a_caption_project_are_refused(api_for, annotator):
    item = WorkItemFactory()
    assignment = claim(api_for(annotator), item.project)
    body = {"point_sets": [{"client_uuid": str(uuid.uuid4()), "label": "cat", "points": [{"x_px": 1, "y_px": 1}]}]}
    response = api_for(annotator).post(f"/api/assignments/{assignment['id']}/points/", body, format="json")
    assert response.status_code == 400 and "pointing projects only" in response.json()["detail"]


def test_ask_flow_question_feedback_accept(api_for, annotator, other_annotator, django_capture_on_commit_callbacks):
    item = WorkItemFactory(project=ProjectFactory(kind="ask"))
    assignment = claim(api_for(annotator), item.project)
    client = api_for(annotator)
    with django_capture_on_commit_callbacks() as callbacks:
        thread = client.post(
            f"/api/assignments/{assignment['id']}/ask/",
            {"client_uuid": str(uuid.uuid4()), "question": "What colour is the square?"}, format="json",
        ).json()
    assert len(callbacks) == 1
    assert [t["role"] for t in thread["turns"]] == ["question", "answer"]
    assert thread["turns"][1]["status"] == "pending"
    busy = client.post(f"/api/ask-threads/{thread['id']}/feedback/", {"feedback": "More detail"}, format="json")
    assert busy.status_code == 409 and "still answering" in busy.json()["detail"]
    AskTurn.objects.filter(thread_id=thread["id"], index=1).update(text="It is orange.", status="ready")
    revised = client.post(f"/api/ask-threads/{thread['id']}/feedback/", {"feedback": "Say which orange."}, format="json")
    assert [t["role"] for t in revised.json()["turns"]] == ["question", "answer", "feedback", "answer"]
    assert api_for(other_annotator).get(f"/api/ask-threads/{thread['id']}/").status_code == 404
    accepted = client.post(f"/api/ask-threads/{thread['id']}/accept/", {"edited_answer": "It is a burnt orange."}, format="json")
    assert accepted.json()["status"] == "accepted" and accepted.json()["final_answer"] == "It is a burnt orange."
    assert client.post(f"/api/ask-threads/{thread['id']}/accept/", {}, format="json").status_code == 409
    empty = client.post(f"/api/assignments/{assignment['id']}/ask/", {"client_uuid": str(uuid.uuid4()), "question": " "}, format="json")
    assert empty.status_code == 400


def test_compare_judgment_maps_screen_sides_to_models(api_for, annotator):
    compare = CompareItemFactory()
    payload = claim(api_for(annotator), compare.work_item.project)
    assert {payload["compare"]["left"], payload["compare"]["right"]} == {compare.response_a, compare.response_b}
    left_is_a = payload["compare"]["left"] == compare.response_a
    url = f"/api/assignments/{payload['id']}/judgment/"
    key = str(uuid.uuid4())
    response = api_for(annotator).post(url, {"client_uuid": key, "choice": "left"}, format="json")
    assert response.status_code == 201
    assert response.json()["winner"] == ("a" if left_is_a else "b")
    assert response.json()["swapped"] == (not left_is_a)
    assert api_for(annotator).post(url, {"client_uuid": key, "choice": "left"}, format="json").status_code == 200
    bad = api_for(annotator).post(url, {"client_uuid": str(uuid.uuid4()), "choice": "both"}, format="json")
    assert bad.status_code == 400


def _caption(item) -> Caption:
    provenance = ModelProvenance.objects.create(kind="llm", model_name="test-llm")
    recording = Recording.objects.create(
        assignment=Assignment.objects.create(
            work_item=item, project=item.project, annotator_id=item.project.created_by_id or _any_user(),
            expires_at="2030-01-01T00:00:00Z", heartbeat_at="2030-01-01T00:00:00Z",
        ),
        work_item=item, annotator_id=_any_user(), client_uuid=uuid.uuid4(), sha256="0" * 64,
        mime="audio/wav", byte_size=1,
    )
    transcript = Transcript.objects.create(recording=recording, model_key="m", text="um a cat", provenance=provenance)
    caption = Caption.objects.create(work_item=item, refine_key=str(uuid.uuid4()))
    caption.transcripts.add(transcript)
    CaptionVersion.objects.create(caption=caption, number=1, text="A cat.", source=CaptionSource.LLM, provenance=provenance)
    return caption


def _any_user() -> int:
    from tests.annotation_app.factories import UserFactory

    return UserFactory().pk


def test_review_queue_and_decisions(api_for, annotator, reviewer):
    item = WorkItemFactory()
    caption = _caption(item)
    assert api_for(annotator).get("/api/review/queue/").status_code == 403
    queue = api_for(reviewer).get(f"/api/review/queue/?project={item.project.pk}").json()
    assert queue["captions"][0]["text"] == "A cat."
    assert api_for(reviewer).get("/api/review/queue/?project=cats").status_code == 400
    no_reason = api_for(reviewer).post("/api/reviews/", {"caption": caption.pk, "decision": "reject"}, format="json")
    assert no_reason.status_code == 400 and "needs a reason" in no_reason.json()["detail"]
    edit = api_for(reviewer).post(
        "/api/reviews/", {"caption": caption.pk, "decision": "edit", "edited_text": "A grey cat."}, format="json"
    )
    assert edit.status_code == 201
    caption.refresh_from_db()
    assert caption.review_status == "accepted"
    assert [v.text for v in caption.versions.all()] == ["A cat.", "A grey cat."]  # the original stays
    assert api_for(annotator).post("/api/reviews/", {"caption": caption.pk, "decision": "accept"}, format="json").status_code == 403


def test_image_upload_is_admin_only_and_reports_refusals(api_for, admin_user, reviewer):
    files = [
        SimpleUploadedFile("a.png", png_bytes(10, 10), content_type="image/png"),
        SimpleUploadedFile("b.txt", b"not an image", content_type="text/plain"),
    ]
    assert api_for(reviewer).post("/api/images/upload/", {"files": files}, format="multipart").status_code == 403
    files = [
        SimpleUploadedFile("a.png", png_bytes(10, 10), content_type="image/png"),
        SimpleUploadedFile("b.txt", b"not an image", content_type="text/plain"),
    ]
    response = api_for(admin_user).post("/api/images/upload/", {"files": files, "license": "CC0-1.0"}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["imported"] == 1 and response.json()["refused"][0]["name"] == "b.txt"
    assert api_for(reviewer).get("/api/images/").json()[0]["license"] == "CC0-1.0"
    assert api_for(admin_user).post("/api/images/upload/", {}, format="multipart").status_code == 400


def test_releases_list_for_reviewers(api_for, annotator, reviewer):
    assert api_for(annotator).get("/api/releases/").status_code == 403
    assert api_for(reviewer).get("/api/releases/").json() == []


def test_next_item_query_count_is_bounded(api_for, annotator):
    item = WorkItemFactory()
    client = api_for(annotator)
    with CaptureQueriesContext(connection) as queries:
        claim(client, item.project)
    assert len(queries) <= 14
