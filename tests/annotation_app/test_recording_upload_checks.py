"""An upload is decoded before it is acknowledged: what is not whole audio, and audio under the
project's minimum, gets a 400 naming the problem, and nothing is written — no Recording, no
stored file, no pipeline job, no audit event — so the assignment stays open for a re-record."""

import os
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotation_app.models import Assignment, AuditEvent, PipelineJob, Recording, WorkItem
from annotation_app.models.work import AssignmentStatus
from devtools.speech import make_ogg_opus, make_scene_speech, make_webm_opus
from tests.annotation_app.factories import ProjectFactory, WorkItemFactory, png_bytes

pytestmark = pytest.mark.django_db

MIN_S = 10.0  # the project's minimum; the scene clips below are about 66 s, the short one about 2 s
UNDECODABLE = "the upload is not audio that can be decoded"


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("upload-speech")
    scene = make_scene_speech(folder / "scene.wav", seconds_min=1, sample_rate=16_000)
    short = make_scene_speech(folder / "short.wav", seconds_min=1, text="A red apple on a table.")
    return {
        "scene.wav": scene.read_bytes(),
        "scene.webm": make_webm_opus(scene, folder / "scene.webm").read_bytes(),
        "scene.ogg": make_ogg_opus(scene, folder / "scene.ogg").read_bytes(),
        "short.webm": make_webm_opus(short, folder / "short.webm").read_bytes(),
    }


@pytest.fixture
def assignment(api_for, annotator) -> dict:
    item = WorkItemFactory(project=ProjectFactory(kind="caption", min_duration_s=MIN_S))
    response = api_for(annotator).post(f"/api/projects/{item.project_id}/next/")
    assert response.status_code in (200, 201), response.content
    return response.json()


def upload(api_for, annotator, assignment: dict, data: bytes, *, name="take.webm", content_type="audio/webm",
           **extra):
    audio = SimpleUploadedFile(name, data, content_type=content_type)
    return api_for(annotator).post(f"/api/assignments/{assignment['id']}/recordings/",
                                   {"audio": audio, "client_uuid": str(uuid.uuid4()), **extra})


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def stored_files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()] if media_root.exists() else []


def assert_nothing_written(assignment: dict, media_root: Path) -> None:
    row = Assignment.objects.get(pk=assignment["id"])
    assert row.status == AssignmentStatus.ACTIVE and row.finished_at is None
    item = WorkItem.objects.get(pk=row.work_item_id)
    assert item.finished_count == 0 and item.open_slots == 0  # still held by this live assignment
    assert Recording.objects.count() == 0
    assert PipelineJob.objects.count() == 0
    assert not AuditEvent.objects.filter(action="recording.submit").exists()
    assert not [path for path in stored_files(media_root) if "recordings" in path.parts]


REFUSED = {
    # case: (bytes, upload name, content type, extra form fields, words the message must hold)
    "random bytes": (lambda c: os.urandom(20_000), "take.webm", "audio/webm", {}, [UNDECODABLE, "could not be decoded"]),
    "webm cut at half": (lambda c: half(c["scene.webm"]), "take.webm", "audio/webm", {},
                         [UNDECODABLE, "cut short", "its header states"]),
    "wav cut at half": (lambda c: half(c["scene.wav"]), "take.wav", "audio/wav", {},
                        [UNDECODABLE, "WAV file is cut short"]),
    "ogg cut at half, the recorder's length sent": (
        lambda c: half(c["scene.ogg"]), "take.ogg", "audio/ogg", {"client_duration_s": 66.0},
        [UNDECODABLE, "cut short", "the recorder measured 66.0 s"]),
    "png renamed .webm": (lambda c: png_bytes(), "take.webm", "audio/webm", {},
                          [UNDECODABLE, "no audio stream", "png"]),
    "empty file": (lambda c: b"", "take.webm", "audio/webm", {}, ["empty"]),
    "valid but too short": (lambda c: c["short.webm"], "take.webm", "audio/webm", {},
                            ["under this project's minimum of 10 s", "record again"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_upload_names_the_problem_and_writes_nothing(case, clips, api_for, annotator, assignment,
                                                                media_root):
    make, name, content_type, extra, words = REFUSED[case]
    response = upload(api_for, annotator, assignment, make(clips), name=name, content_type=content_type, **extra)
    assert response.status_code == 400, response.content
    message = str(response.json()).lower()
    for word in words:
        assert word.lower() in message, (case, message)
    assert_nothing_written(assignment, media_root)
    # The assignment is still open: a good re-record is accepted on it.
    again = upload(api_for, annotator, assignment, clips["scene.webm"])
    assert again.status_code == 201, again.content
    assert Assignment.objects.get(pk=assignment["id"]).status == AssignmentStatus.SUBMITTED


def test_a_valid_upload_is_stored_with_its_measured_length_and_queued(clips, api_for, annotator, assignment,
                                                                       media_root):
    response = upload(api_for, annotator, assignment, clips["scene.webm"], client_duration_s=66.0)
    assert response.status_code == 201, response.content
    recording = Recording.objects.get()
    assert recording.duration_s == pytest.approx(65.7, abs=1.0) == response.json()["duration_s"]
    assert recording.status == "received"  # loudness and speech are measured by the validate stage
    assert recording.file.open("rb").read() == clips["scene.webm"]
    assert set(PipelineJob.objects.values_list("stage", "status")) == {
        ("validate", "queued"), ("transcribe", "queued"), ("refine", "queued")}
    assert Assignment.objects.get(pk=assignment["id"]).status == AssignmentStatus.SUBMITTED


def test_a_take_within_a_second_of_the_minimum_is_accepted(clips, api_for, annotator):
    # The browser's timer runs slightly ahead of the decoded audio: the floor allows 1 s for it.
    item = WorkItemFactory(project=ProjectFactory(kind="caption", min_duration_s=1.0))
    client = api_for(annotator)
    first = upload(api_for, annotator, client.post(f"/api/projects/{item.project_id}/next/").json(),
                   clips["short.webm"])
    assert first.status_code == 201, first.content
    short_s = first.json()["duration_s"]
    near = WorkItemFactory(project=ProjectFactory(kind="caption", min_duration_s=round(short_s + 0.8, 1)))
    accepted = upload(api_for, annotator, client.post(f"/api/projects/{near.project_id}/next/").json(),
                      clips["short.webm"])
    assert accepted.status_code == 201, accepted.content
    far = WorkItemFactory(project=ProjectFactory(kind="caption", min_duration_s=round(short_s + 1.5, 1)))
    refused = upload(api_for, annotator, client.post(f"/api/projects/{far.project_id}/next/").json(),
                     clips["short.webm"])
    assert refused.status_code == 400 and "minimum" in refused.json()["detail"]


@pytest.mark.parametrize(("clip", "declared", "stored", "suffix"), [
    ("scene.wav", "audio/webm", "audio/wav", ".wav"),  # a hand upload with the wrong type
    ("scene.ogg", "audio/webm", "audio/ogg", ".ogg"),
    ("scene.webm", "audio/ogg", "audio/webm", ".webm"),
    ("scene.wav", "audio/x-wav", "audio/x-wav", ".wav"),  # an alias of what it is stays as sent
    ("scene.webm", "audio/webm", "audio/webm", ".webm"),
])
def test_the_receipt_is_stored_as_the_type_its_bytes_decode_as(clip, declared, stored, suffix, clips, api_for,
                                                               annotator, assignment):
    response = upload(api_for, annotator, assignment, clips[clip], content_type=declared)
    assert response.status_code == 201, response.content
    recording = Recording.objects.get()
    assert recording.mime == stored and Path(recording.file.name).suffix == suffix
    assert recording.file.open("rb").read() == clips[clip]
