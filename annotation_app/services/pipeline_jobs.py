"""PipelineJob rows: one per (stage, target), the state the dashboard shows and a retry restarts."""

import logging
from datetime import datetime, timedelta

from celery import current_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from annotation_app.errors import Conflict
from annotation_app.models import AskTurn, PipelineJob, WorkerHeartbeat
from annotation_app.models.ask import AskTurnStatus
from annotation_app.models.jobs import JobStatus
from annotation_app.services.broker_queue import BrokerTasks, broker_tasks, queued_stuck_reason
from annotation_app.services.dispatch import PIPELINES, pipeline_dispatch
from annotation_app.worker_identity import worker_instance

logger = logging.getLogger("pixmo.pipeline")


def pipeline_job_queue(*, stage: str, target_type: str, target_id: int) -> PipelineJob:
    job, _ = PipelineJob.objects.get_or_create(stage=stage, target_type=target_type, target_id=target_id)
    return job


def pipeline_job_start(*, stage: str, target_type: str, target_id: int) -> PipelineJob:
    job = pipeline_job_queue(stage=stage, target_type=target_type, target_id=target_id)
    request = current_task.request if current_task else None
    running = {"worker": worker_instance() if request is not None else "",
               "sent_at": Coalesce("sent_at", Now())}
    if task_id := getattr(request, "id", None):
        running["task_id"] = task_id
    PipelineJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=timezone.now(), error="",
                                                 **running)
    job.refresh_from_db()
    job.attempts += 1
    job.save(update_fields=["attempts"])
    return job


def pipeline_job_done(*, job: PipelineJob, timings_ms: dict) -> None:
    PipelineJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, finished_at=timezone.now(), timings_ms=timings_ms, error=""
    )


def pipeline_job_skip(*, stage: str, target_type: str, target_id: int) -> None:
    """The stage's output exists already (a redelivery or a re-send): the job is done."""
    PipelineJob.objects.filter(stage=stage, target_type=target_type, target_id=target_id).exclude(
        status=JobStatus.DONE).update(status=JobStatus.DONE, finished_at=timezone.now(), error="")


def pipeline_job_fail(*, stage: str, target_type: str, target_id: int, reason: str) -> None:
    job = pipeline_job_queue(stage=stage, target_type=target_type, target_id=target_id)
    PipelineJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, finished_at=timezone.now(), error=reason[:4000])
    order = PIPELINES.get(target_type, ())
    if stage in order:  # the chain stops here: the stages after it will not run until a retry
        PipelineJob.objects.filter(target_type=target_type, target_id=target_id, status=JobStatus.QUEUED,
                                   stage__in=order[order.index(stage) + 1:]).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), error=f"not run: the {stage} stage failed")
    logger.warning("pipeline.failed stage=%s %s=%s reason=%s", stage, target_type, target_id, reason)


@transaction.atomic
def pipeline_job_retry(*, job: PipelineJob) -> PipelineJob:
    """Send a failed or stuck job's stage (and the stages after it) again; the task skips work
    whose output already exists, so a retry of a job that was only slow stores nothing twice."""
    job = PipelineJob.objects.select_for_update().get(pk=job.pk)
    if job.status == JobStatus.DONE:
        raise Conflict("this job is done; there is nothing to retry")
    if job.status != JobStatus.FAILED:
        why = job_stuck_reason(job, now=timezone.now(), broker=broker_tasks(), live_workers=live_workers())
        if why is None:
            raise Conflict(f"this job is {job.status} and not stuck (see the pipeline page for the ages at which a "
                           f"job counts as stuck); only failed or stuck jobs are retried")
    _resend(job)
    return PipelineJob.objects.get(pk=job.pk)


def _resend(job: PipelineJob) -> None:
    if job.target_type == "ask_turn":
        AskTurn.objects.filter(pk=job.target_id, status=AskTurnStatus.FAILED).update(status=AskTurnStatus.PENDING)
    PipelineJob.objects.filter(pk=job.pk).update(resends=F("resends") + 1)
    pipeline_dispatch(target_type=job.target_type, target_id=job.target_id, from_stage=job.stage, resend=True)


# --- the sweeper ---------------------------------------------------------------------------------


def live_workers(*, now: datetime | None = None) -> set[str]:
    """Workers whose heartbeat is younger than three beats."""
    now = now or timezone.now()
    silent_for = timedelta(seconds=3 * settings.PIXMO_WORKER_HEARTBEAT_SECONDS)
    return set(WorkerHeartbeat.objects.filter(seen_at__gte=now - silent_for).values_list("hostname", flat=True))


def job_stuck_reason(job: PipelineJob, *, now: datetime, broker: BrokerTasks | None,
                     live_workers: set[str]) -> str | None:
    """Why this queued or running job has no live task behind it, in words; None when it has one.

    `broker` holds the task ids waiting in its queues and taken by workers (None: cannot be read).
    A running job's task taken by a worker that stopped beating is dead; a queued one's taken task
    is about to start."""
    stuck_age = timedelta(seconds=settings.PIXMO_JOB_STUCK_SECONDS)
    waiting = broker is not None and job.task_id in broker.waiting
    if job.status == JobStatus.QUEUED:
        return queued_stuck_reason(task_id=job.task_id, queued_at=job.queued_at, sent_at=job.sent_at, now=now,
                                   broker=broker)
    if job.status == JobStatus.RUNNING:
        hard_limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
        if job.started_at and job.started_at < now - hard_limit:
            return f"running past the task time limit ({settings.CELERY_TASK_TIME_LIMIT} s)"
        if job.worker and job.worker not in live_workers and not waiting:
            return f"its worker {job.worker} stopped sending heartbeats"
        if not job.worker and job.started_at and job.started_at < now - stuck_age:
            return f"running for over {stuck_age.total_seconds() / 60:.0f} minutes on an unknown worker"
    return None


def pipeline_jobs_stuck(*, now: datetime | None = None) -> list[tuple[PipelineJob, str]]:
    """The first unfinished stage of each target whose job has no live task, with the reason.

    Later stages of a chain wait inside their predecessor's message, so only the first stage
    that is not done can be stranded."""
    now = now or timezone.now()
    open_jobs = list(PipelineJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
                     .exclude(stage="export").order_by("target_type", "target_id"))
    if not open_jobs:
        return []
    targets = {(job.target_type, job.target_id) for job in open_jobs}
    first_open: dict[tuple[str, int], PipelineJob] = {}
    done_or_failed = PipelineJob.objects.filter(
        target_type__in={t for t, _ in targets}, target_id__in={i for _, i in targets},
        status__in=[JobStatus.DONE, JobStatus.FAILED]).values_list("target_type", "target_id", "stage", "status")
    settled = {(t, i, stage): status for t, i, stage, status in done_or_failed}
    for job in open_jobs:
        order = PIPELINES.get(job.target_type, (job.stage,))
        before = order[: order.index(job.stage)] if job.stage in order else ()
        if any(settled.get((job.target_type, job.target_id, s)) != JobStatus.DONE for s in before):
            continue  # an earlier stage is still open (or failed): this one waits behind it
        first_open[(job.target_type, job.target_id)] = job
    broker = broker_tasks()
    workers = live_workers(now=now)
    stuck = []
    for job in first_open.values():
        if (why := job_stuck_reason(job, now=now, broker=broker, live_workers=workers)) is not None:
            stuck.append((job, why))
    return stuck


def pipeline_jobs_sweep(*, now: datetime | None = None) -> int:
    """Re-send every stranded job (beat runs this every PIXMO_JOB_SWEEP_SECONDS); returns how many."""
    WorkerHeartbeat.objects.filter(seen_at__lt=timezone.now() - timedelta(days=1)).delete()
    sent = 0
    for job, why in pipeline_jobs_stuck(now=now):
        with transaction.atomic():
            locked = PipelineJob.objects.select_for_update(skip_locked=True).filter(pk=job.pk, status=job.status,
                                                                                    task_id=job.task_id).first()
            if locked is None:  # it moved on, or another sweeper has it
                continue
            _resend(locked)
        sent += 1
        logger.warning("pipeline.resent stage=%s %s=%s reason=%s", job.stage, job.target_type, job.target_id, why)
    return sent


def worker_heartbeat_record(*, hostname: str, queues: list[str]) -> None:
    """The dashboard's pipeline page lists workers by their last heartbeat (the sweeper drops a day-old one)."""
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now(), "queues": queues})
