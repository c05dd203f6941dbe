"""The job table is the truth, the broker a doorbell: what counts as stuck, the sweeper, and retry."""

import json
import uuid
from datetime import timedelta

import pytest
import redis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from annotation_app import celery_app
from annotation_app.errors import Conflict
from annotation_app.models import PipelineJob, WorkerHeartbeat
from annotation_app.models.jobs import JobStatus
from annotation_app.services.assignments import assignment_claim
from annotation_app.services.broker_queue import BrokerTasks, broker_tasks
from annotation_app.services.pipeline_jobs import (
    job_stuck_reason,
    pipeline_job_fail,
    pipeline_job_retry,
    pipeline_jobs_stuck,
    pipeline_jobs_sweep,
    worker_heartbeat_record,
)
from annotation_app.services.recordings import recording_submit
from devtools.servers import celery_sends_to
from devtools.speech import make_scene_speech, make_webm_opus
from tests.annotation_app.factories import ProjectFactory, UserFactory, WorkItemFactory

NOW = timezone.now()
GRACE = 60  # PIXMO_JOB_SEND_GRACE_SECONDS's default
LIVE = {"celery@live"}


def job(
    status="queued", *, sent_s=None, queued_s=300, started_s=None, worker="", task_id="t-1"
) -> PipelineJob:
    ago = lambda s: None if s is None else NOW - timedelta(seconds=s)
    return PipelineJob(
        stage="transcribe",
        target_type="recording",
        target_id=1,
        status=status,
        task_id=task_id,
        queued_at=ago(queued_s),
        sent_at=ago(sent_s),
        started_at=ago(started_s),
        worker=worker,
    )


@pytest.mark.parametrize(
    ("row", "broker", "expected"),
    [
        (job(sent_s=None, queued_s=5), {}, None),  # the on-commit send may still be on its way
        (job(sent_s=None, queued_s=GRACE + 5), {}, "never sent (the broker was unreachable)"),
        (job(sent_s=5), {}, None),
        (job(sent_s=GRACE + 5), {"waiting": ["t-1"]}, None),  # waiting its turn in a queue
        (job(sent_s=GRACE + 5), {"waiting": ["t-other"]}, "sent, but its task is in no broker queue and with no worker"),
        (job(sent_s=GRACE + 5), None, None),  # the broker cannot be read: wait for the long age
        (job(sent_s=31 * 60), None, "queued for over 30 minutes"),
        (job("running", sent_s=100, started_s=50, worker="celery@live"), {}, None),
        (
            job("running", sent_s=100, started_s=50, worker="celery@dead"),
            {},
            "its worker celery@dead stopped sending heartbeats",
        ),
        (
            job("running", sent_s=100, started_s=50, worker="celery@dead"),
            {"waiting": ["t-1"]},
            None,
        ),  # redelivered already
        (  # taken by the worker that died: nobody runs it
            job("running", sent_s=100, started_s=50, worker="celery@dead"),
            {"taken": ["t-1"]},
            "its worker celery@dead stopped sending heartbeats",
        ),
        (job(sent_s=GRACE + 5), {"taken": ["t-1"]}, None),  # a worker took it and is about to start
        (
            job("running", sent_s=900, started_s=800, worker="celery@live"),
            {},
            "running past the task time limit (720 s)",
        ),
        (job("done", sent_s=900, started_s=800, worker="celery@dead"), {}, None),
        (job("failed", sent_s=900), {}, None),
    ],
    ids=[
        "fresh-unsent",
        "unsent",
        "fresh-sent",
        "in-queue",
        "lost",
        "unreadable-young",
        "unreadable-old",
        "running-live",
        "running-dead-worker",
        "dead-worker-redelivered",
        "taken-by-dead-worker",
        "queued-taken",
        "past-time-limit",
        "done",
        "failed",
    ],
)
def test_what_counts_as_stuck(row, broker, expected):
    broker = None if broker is None else BrokerTasks(waiting=frozenset(broker.get("waiting", ())),
                                                    taken=frozenset(broker.get("taken", ())))
    assert job_stuck_reason(row, now=NOW, broker=broker, live_workers=LIVE) == expected


@pytest.fixture(scope="module")
def scene_webm(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("speech")
    return make_webm_opus(make_scene_speech(folder / "scene.wav"), folder / "scene.webm").read_bytes()


@pytest.fixture
def submit_unsent(django_capture_on_commit_callbacks, scene_webm):
    """A recording whose jobs were written but whose send never happened (the broker was down)."""
    return lambda: _submit_unsent(django_capture_on_commit_callbacks, scene_webm)


def _submit_unsent(django_capture_on_commit_callbacks, scene_webm):
    item = WorkItemFactory(project=ProjectFactory(kind="caption"))
    annotator = UserFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    audio = SimpleUploadedFile("take.webm", scene_webm, content_type="audio/webm;codecs=opus")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        recording, _ = recording_submit(
            assignment=assignment, annotator=annotator, audio=audio, client_uuid=uuid.uuid4()
        )
    assert len(callbacks) == 1
    return recording


def test_the_sweeper_resends_the_first_open_stage_once(
    db, settings, django_capture_on_commit_callbacks, submit_unsent
):
    settings.CELERY_BROKER_URL = "filesystem://"  # an empty queue folder: nothing is waiting
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent-pixmo-queue"}
    recording = submit_unsent()
    jobs = {j.stage: j for j in PipelineJob.objects.filter(target_id=recording.pk, target_type="recording")}
    assert set(jobs) == {"validate", "transcribe", "refine"} and all(j.sent_at is None for j in jobs.values())
    assert len({j.task_id for j in jobs.values()}) == 3  # each stage's task id is chosen before the send

    assert pipeline_jobs_sweep() == 0  # inside the grace: the send may still come
    later = timezone.now() + timedelta(seconds=GRACE + 1)
    [(stuck, why)] = pipeline_jobs_stuck(now=later)
    assert (stuck.stage, why) == ("validate", "never sent (the broker was unreachable)")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert pipeline_jobs_sweep(now=later) == 1
    assert len(callbacks) == 1  # one chain, from validate on
    after = {j.stage: j for j in PipelineJob.objects.filter(target_id=recording.pk, target_type="recording")}
    assert after["validate"].resends == 1 and after["transcribe"].resends == 0
    assert all(after[s].task_id != jobs[s].task_id for s in jobs)  # the new chain's ids
    assert all(after[s].status == "queued" for s in jobs)


def test_a_later_stage_waits_behind_a_live_or_failed_earlier_one(
    db, settings, django_capture_on_commit_callbacks, submit_unsent
):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent-pixmo-queue"}
    recording = submit_unsent()
    worker_heartbeat_record(hostname="celery@live", queues=["asr"])
    PipelineJob.objects.filter(target_id=recording.pk, stage="validate").update(status="done")
    PipelineJob.objects.filter(target_id=recording.pk, stage="transcribe").update(
        status="running", worker="celery@live", started_at=timezone.now(), sent_at=timezone.now()
    )
    later = timezone.now() + timedelta(seconds=GRACE + 1)
    WorkerHeartbeat.objects.filter(hostname="celery@live").update(seen_at=later)  # it kept beating
    assert pipeline_jobs_stuck(now=later) == []  # refine is inside transcribe's chain, not stranded
    pipeline_job_fail(stage="transcribe", target_type="recording", target_id=recording.pk, reason="no speech")
    refine = PipelineJob.objects.get(target_id=recording.pk, stage="refine")
    assert (refine.status, refine.error) == ("failed", "not run: the transcribe stage failed")
    assert pipeline_jobs_stuck(now=timezone.now() + timedelta(hours=2)) == []


def test_retry_refuses_a_healthy_queued_job_and_resends_a_stuck_one(
    db, settings, django_capture_on_commit_callbacks, submit_unsent
):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent-pixmo-queue"}
    recording = submit_unsent()
    validate = PipelineJob.objects.get(target_id=recording.pk, stage="validate")
    with pytest.raises(Conflict, match="only failed or stuck jobs are retried"):
        pipeline_job_retry(job=validate)
    PipelineJob.objects.filter(pk=validate.pk).update(queued_at=timezone.now() - timedelta(seconds=GRACE + 5))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retried = pipeline_job_retry(job=validate)
    assert len(callbacks) == 1 and retried.resends == 1 and retried.status == "queued"
    # a running job on a worker that stopped beating is stuck too
    WorkerHeartbeat.objects.create(hostname="celery@gone", seen_at=timezone.now() - timedelta(minutes=5))
    PipelineJob.objects.filter(pk=validate.pk).update(
        status="running", worker="celery@gone", started_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert pipeline_job_retry(job=validate).status == "queued"
    PipelineJob.objects.filter(pk=validate.pk).update(status="done")
    with pytest.raises(Conflict, match="done"):
        pipeline_job_retry(job=validate)


@pytest.fixture
def scratch_redis(settings):
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        pytest.skip("needs the Redis broker")
    settings.CELERY_BROKER_URL = url.rsplit("/", 1)[0] + "/14"  # a database no worker reads
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


def test_broker_task_ids_are_read_from_redis_queues_and_unacked(scratch_redis):
    message = lambda tid: json.dumps({"body": "", "headers": {"id": tid}, "properties": {}})
    scratch_redis.rpush("asr", message("waiting-1"), message("waiting-2"))
    scratch_redis.rpush("llm\x06\x163", message("waiting-priority"))
    scratch_redis.hset("unacked", "tag-1", json.dumps([json.loads(message("taken-1")), "", "asr"]))
    assert broker_tasks() == BrokerTasks(waiting=frozenset({"waiting-1", "waiting-2", "waiting-priority"}),
                                         taken=frozenset({"taken-1"}))


def test_an_unreachable_broker_reads_as_cannot_tell(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert broker_tasks() is None


def test_a_job_sent_while_the_broker_is_down_says_so(
    db, settings, django_capture_on_commit_callbacks, scene_webm
):
    item = WorkItemFactory(project=ProjectFactory(kind="caption"))
    annotator = UserFactory()
    assignment = assignment_claim(annotator=annotator, project=item.project)
    audio = SimpleUploadedFile("take.webm", scene_webm, content_type="audio/webm;codecs=opus")
    with celery_sends_to(celery_app, "redis://127.0.0.1:1/0"), django_capture_on_commit_callbacks(execute=True):  # port 1: nobody
        recording, created = recording_submit(
            assignment=assignment, annotator=annotator, audio=audio, client_uuid=uuid.uuid4()
        )
    assert created
    jobs = PipelineJob.objects.filter(target_id=recording.pk, target_type="recording")
    assert {j.status for j in jobs} == {JobStatus.QUEUED}
    assert all(
        j.sent_at is None and j.send_error.startswith("not yet sent: the broker refused it") for j in jobs
    )
