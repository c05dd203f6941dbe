"""Nothing acknowledged is left behind: the broker down during uploads, a worker killed mid-task
(mid-transcribe, and mid-export of a release).

Real parts: PostgreSQL, a Redis server this test owns (so it can stop and start it), a Celery
worker with its embedded beat (the sweeper), Whisper and the bundled LLM on espeak-ng speech.
No step is manual: after the fault, only the sweeper and redelivery bring the work home.
"""

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from PIL import Image as PILImage

from annotation_app import celery_app
from annotation_app.models import Caption, DatasetRelease, PipelineJob, Recording, Transcript
from annotation_app.selectors.export import ExportFilters
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.recordings import recording_submit
from annotation_app.services.releases import release_request
from devtools.servers import OwnRedis, celery_sends_to, database_url
from devtools.speech import make_scene_speech, make_webm_opus
from pixmo_builders.validate import validate_release
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory
from tests.annotation_app.test_pipeline_tasks import wait_for

ROOT = Path(__file__).resolve().parents[2]
UPLOADS = 10
SWEEP_S, GRACE_S, HEARTBEAT_S = 3, 5, 2  # the sweeper's figures for this test (defaults: 60, 60, 20)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker process needs a shared database"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    with celery_sends_to(celery_app, server.url):  # this process's sends go to the test's Redis
        yield server
    server.stop()


@pytest.fixture
def worker_env(settings, own_redis, tmp_path):
    db = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": database_url(db),
        "CELERY_BROKER_URL": own_redis.url,
        "PIXMO_MEDIA_ROOT": settings.MEDIA_ROOT,
        "PIXMO_VAR_DIR": str(tmp_path / "var"),
        "PIXMO_JOB_SWEEP_SECONDS": str(SWEEP_S),
        "PIXMO_JOB_SEND_GRACE_SECONDS": str(GRACE_S),
        "PIXMO_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_S),
        "PIXMO_LEASE_SWEEP_SECONDS": "3600",
    }


def start_worker(env: dict, *, pool: str = "solo") -> subprocess.Popen:
    log = open(Path(env["PIXMO_VAR_DIR"]).parent / f"worker-{time.monotonic_ns()}.log", "w")  # noqa: SIM115
    Path(env["PIXMO_VAR_DIR"]).mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "annotation_app", "worker", "-B", "-Q", "default,asr,llm",
         "--pool", pool, "--concurrency", "1", "--without-mingle", "--without-gossip", "--loglevel", "INFO",
         "--schedule", str(Path(env["PIXMO_VAR_DIR"]) / "beat-schedule")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("speech")
    wav = make_scene_speech(folder / "scene.wav", seconds_min=0, text="A red kettle sits on a wooden table beside two blue cups.")
    return make_webm_opus(wav, folder / "scene.webm").read_bytes()


@pytest.fixture(scope="module")
def long_speech(tmp_path_factory) -> bytes:
    """About a minute of speech: its transcription lasts seconds, so a kill lands mid-transcribe
    (with one sentence the job could finish between seeing it running and the kill)."""
    folder = tmp_path_factory.mktemp("long-speech")
    return make_webm_opus(make_scene_speech(folder / "scene.wav", seconds_min=30), folder / "scene.webm").read_bytes()


def upload(project, speech: bytes) -> Recording:
    WorkItemFactory(project=project)
    annotator = UserFactory()
    assignment = assignment_claim(annotator=annotator, project=project)
    audio = SimpleUploadedFile("take.webm", speech, content_type="audio/webm;codecs=opus")
    recording, created = recording_submit(assignment=assignment, annotator=annotator, audio=audio,
                                          client_uuid=uuid.uuid4())
    assert created
    return recording


def caption_project():
    return ProjectFactory(kind="caption", min_duration_s=1.0, target_duration_s=5.0, max_duration_s=120.0)


def all_done(recordings) -> bool:
    ids = [r.pk for r in recordings]
    jobs = PipelineJob.objects.filter(target_type="recording", target_id__in=ids)
    return jobs.count() == 3 * len(ids) and not jobs.exclude(status="done").exists()


def assert_exactly_once(recordings) -> None:
    for recording in recordings:
        assert Transcript.objects.filter(recording=recording).count() == 1
        assert Caption.objects.filter(work_item=recording.work_item).count() == 1


def test_broker_down_during_uploads_then_back(own_redis, worker_env, short_speech, capsys):
    project = caption_project()
    started = time.monotonic()
    recordings = [upload(project, short_speech) for _ in range(UPLOADS)]  # Redis is not running yet
    upload_s = (time.monotonic() - started) / UPLOADS
    jobs = PipelineJob.objects.filter(target_type="recording", target_id__in=[r.pk for r in recordings])
    assert jobs.count() == 3 * UPLOADS and all(j.status == "queued" and j.sent_at is None for j in jobs)
    assert all(j.send_error.startswith("not yet sent") for j in jobs)

    own_redis.start()
    worker = start_worker(worker_env)
    back = time.monotonic()
    try:
        wait_for(lambda: all_done(recordings), timeout=600, what="every recording to be transcribed and captioned")
    finally:
        kill_group(worker)
    assert_exactly_once(recordings)
    with capsys.disabled():
        print(f"\nbroker down: {UPLOADS}/{UPLOADS} uploads acknowledged ({upload_s:.2f} s each), "
              f"{UPLOADS}/{UPLOADS} transcribed and captioned once, {time.monotonic() - back:.0f} s after the broker "
              f"came back, resends {sum(j.resends for j in jobs.all())}")


@pytest.mark.parametrize("victim", ["main process", "pool child"])
def test_worker_killed_mid_transcribe(victim, own_redis, worker_env, long_speech, capsys):
    own_redis.start()
    project = caption_project()
    recording = upload(project, long_speech)
    worker = start_worker(worker_env, pool="prefork")
    try:
        wait_for(lambda: PipelineJob.objects.filter(stage="transcribe", target_id=recording.pk,
                                                    status="running").exists(),
                 timeout=120, what="the worker to start transcribing")
        killed = time.monotonic()
        if victim == "main process":  # a machine crash: no warm shutdown, no ack, no heartbeat
            kill_group(worker)
            worker = start_worker(worker_env, pool="prefork")
        else:
            children = subprocess.run(["pgrep", "-P", str(worker.pid)], check=False, capture_output=True, text=True).stdout.split()
            assert children, "the prefork worker has no pool child"
            for child in children:
                os.kill(int(child), signal.SIGKILL)
        wait_for(lambda: all_done([recording]), timeout=300, what="the recording to finish after the kill")
        recovered_s = time.monotonic() - killed
    finally:
        kill_group(worker)
    assert_exactly_once([recording])
    transcribe = PipelineJob.objects.get(stage="transcribe", target_id=recording.pk)
    assert transcribe.attempts >= 2
    with capsys.disabled():
        print(f"\nworker {victim} SIGKILLed mid-transcribe: recording transcribed and captioned once, "
              f"{recovered_s:.0f} s after the kill, transcribe attempts {transcribe.attempts}, "
              f"resends {transcribe.resends}")


EXPORT_CAPTIONS = 300


def many_captions(count: int) -> None:
    """Accepted captions on distinct photographs-sized images, enough that an export lasts seconds."""
    import numpy as np

    from tests.annotation_app.factories import ImageFactory
    from tests.annotation_app.test_export import accepted_caption

    project = ProjectFactory(kind="caption")
    annotator = UserFactory()
    noise = np.random.default_rng(0)
    for number in range(count):
        buffer = io.BytesIO()
        PILImage.fromarray(noise.integers(0, 256, (384, 512, 3), dtype=np.uint8)).save(buffer, format="PNG")
        item = WorkItemFactory(project=project, image=ImageFactory(width=512, height=384, content=buffer.getvalue()))
        accepted_caption(item, annotator, f"Photograph {number}: a field of coloured noise.")


@pytest.mark.parametrize("victim", ["main process", "pool child"])
def test_worker_killed_mid_export(victim, own_redis, worker_env, tmp_path, capsys):
    """A release cut from the dashboard whose worker dies while it writes: the sweeper sends it
    again, the new writer resumes from the committed shards, and one writer finishes it."""
    own_redis.start()
    many_captions(EXPORT_CAPTIONS)
    with transaction.atomic():
        release = release_request(name=f"killed-{victim.split()[0]}", datasets=["pixmo-cap"], filters=ExportFilters(),
                                  uri=str(tmp_path / "release"), in_background=True).release
    first_task = DatasetRelease.objects.get(pk=release.pk).task_id
    worker = start_worker(worker_env, pool="prefork")
    try:
        wait_for(lambda: DatasetRelease.objects.filter(pk=release.pk, status="building").exists(),
                 timeout=120, what="the worker to start writing the release")
        killed = time.monotonic()
        if victim == "main process":
            kill_group(worker)
            worker = start_worker(worker_env, pool="prefork")
        else:  # the pool child that writes (the worker's beat, its other child, must live on)
            writer = DatasetRelease.objects.get(pk=release.pk).worker
            os.kill(int(writer.rsplit(" pid ", 1)[1]), signal.SIGKILL)
        assert DatasetRelease.objects.get(pk=release.pk).status == "building", "the export ended before the kill"
        wait_for(lambda: DatasetRelease.objects.filter(pk=release.pk, status__in=["complete", "failed"]).exists(),
                 timeout=300, what="the release to finish after the kill")
        recovered_s = time.monotonic() - killed
    finally:
        kill_group(worker)
    done = DatasetRelease.objects.get(pk=release.pk)
    assert (done.status, done.error) == ("complete", "")
    assert sum(done.counts["pixmo-cap"].values()) == EXPORT_CAPTIONS  # each caption once, over the splits
    assert done.validation == {"ok": True, "problems": []}
    assert done.resends >= 1 and done.task_id != first_task
    assert validate_release(release=done.uri) == []
    with capsys.disabled():
        print(f"\nworker {victim} SIGKILLed mid-export: release of {EXPORT_CAPTIONS} captions complete and valid "
              f"{recovered_s:.0f} s after the kill, resends {done.resends}")
