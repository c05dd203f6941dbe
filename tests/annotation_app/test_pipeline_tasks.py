"""The Celery wiring with the real models: espeak-ng speech → Whisper → SmolLM2, on PostgreSQL/Redis."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from annotation_app.models import Caption, PipelineJob, Recording, Transcript
from annotation_app.models.captions import CaptionSource
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.recordings import recording_submit
from annotation_app.tasks import recording_transcribe_task, recording_validate_task
from devtools.speech import SCENE_TEXT, make_scene_speech, make_webm_opus
from pipelines.metrics import word_error_rate
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory

ROOT = Path(__file__).resolve().parents[2]
# Whisper tiny.en on espeak-ng speech measures WER ≈ 0.07 (tests/pipelines/test_asr.py).
WER_BOUND = 0.15


@pytest.fixture(scope="module")
def scene_webm(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("speech")
    return make_webm_opus(make_scene_speech(folder / "scene.wav"), folder / "scene.webm").read_bytes()




def submit(scene_webm: bytes, *, project=None) -> Recording:
    item = WorkItemFactory(project=project or ProjectFactory(kind="caption"))
    annotator = UserFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    audio = SimpleUploadedFile("take.webm", scene_webm, content_type="audio/webm;codecs=opus")
    recording, _ = recording_submit(assignment=assignment, annotator=annotator, audio=audio, client_uuid=uuid.uuid4())
    return recording


@pytest.mark.django_db(transaction=True)
def test_recording_chain_runs_on_commit_and_stores_checks_transcript_caption(scene_webm, eager_celery):
    recording = submit(scene_webm)  # the on-commit hook runs validate → transcribe → refine
    recording.refresh_from_db()
    assert recording.status == "refined", recording.failure_reason
    assert 60 <= recording.duration_s <= 75 and recording.flags == []
    assert recording.checks["language"] == "en" and recording.checks["words_per_minute"] > 100
    transcript = recording.transcripts.get()
    assert word_error_rate(reference=SCENE_TEXT, hypothesis=transcript.text) < WER_BOUND
    assert transcript.segments[0]["words"], "word timestamps are stored"
    assert transcript.provenance.kind == "asr" and "tiny" in transcript.provenance.model_name
    caption = Caption.objects.get(transcripts=transcript)
    current = caption.current
    assert current.text.strip()
    assert current.source in (CaptionSource.LLM, CaptionSource.CLEANUP)
    if current.source == CaptionSource.CLEANUP:  # the weak model's attempt failed a guard: kept and flagged
        assert caption.guard_flags
    llm_provenance = caption.versions.exclude(provenance=None).first().provenance
    assert llm_provenance.prompt_id.startswith("refine.") and len(llm_provenance.prompt_hash) == 64
    assert set(PipelineJob.objects.filter(target_id=recording.pk).values_list("stage", "status")) == {
        ("validate", "done"), ("transcribe", "done"), ("refine", "done")
    }


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_twice_stores_one_row(scene_webm):
    recording = submit(scene_webm)  # not eager: nothing ran yet
    recording_validate_task.apply(kwargs={"recording_id": recording.pk})
    recording_transcribe_task.apply(kwargs={"recording_id": recording.pk})
    recording_transcribe_task.apply(kwargs={"recording_id": recording.pk})
    assert Transcript.objects.filter(recording=recording).count() == 1
    assert PipelineJob.objects.get(stage="transcribe", target_id=recording.pk).attempts == 1


@pytest.mark.django_db(transaction=True)
def test_undecodable_audio_fails_with_a_stored_reason():
    # The upload refuses such bytes (test_recording_upload_checks.py); a stored file that was
    # damaged afterwards still fails its validate stage with the reason.
    item = WorkItemFactory(project=ProjectFactory(kind="caption"))
    annotator = UserFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    recording = Recording.objects.create(
        assignment=assignment, work_item=item, annotator=annotator, client_uuid=uuid.uuid4(), sha256="0" * 64,
        mime="audio/webm", byte_size=24, file=ContentFile(b"\x1a\x45\xdf\xa3 not really webm", name="take.webm"),
    )
    result = recording_validate_task.apply(kwargs={"recording_id": recording.pk})
    assert result.failed()
    recording.refresh_from_db()
    assert recording.status == "failed" and "could not be decoded" in recording.failure_reason
    job = PipelineJob.objects.get(stage="validate", target_id=recording.pk)
    assert job.status == "failed" and "could not be decoded" in job.error


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "annotation_app", "worker", "-Q", "asr", "--pool", "solo",
         "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"), reason="needs the real Redis broker")
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker process needs a shared database")
def test_asr_worker_killed_mid_task_finishes_the_recording_exactly_once(scene_webm, settings):
    recording = submit(scene_webm)
    recording_validate_task.apply(kwargs={"recording_id": recording.pk})
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PIXMO_MEDIA_ROOT": settings.MEDIA_ROOT,
        "CELERY_VISIBILITY_TIMEOUT": "3",  # redeliver an unacknowledged message 3 s after a crash
    }
    recording_transcribe_task.apply_async(kwargs={"recording_id": recording.pk})
    worker = start_worker(env)
    try:
        wait_for(lambda: PipelineJob.objects.filter(stage="transcribe", target_id=recording.pk, status="running").exists(),
                 timeout=90, what="the worker to start the task")
        os.killpg(worker.pid, signal.SIGKILL)  # a machine crash: no warm shutdown, no ack
        worker.wait(timeout=10)
        assert not Transcript.objects.filter(recording=recording).exists()
        time.sleep(3.5)
        worker = start_worker(env)
        wait_for(lambda: Transcript.objects.filter(recording=recording).exists(), timeout=120,
                 what="the restarted worker to finish the task")
        time.sleep(2)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    assert Transcript.objects.filter(recording=recording).count() == 1
    job = PipelineJob.objects.get(stage="transcribe", target_id=recording.pk)
    assert job.status == "done" and job.attempts == 2
