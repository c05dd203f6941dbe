"""PipelineJob rows: one per (stage, target), the state the dashboard shows and a retry restarts."""

import logging

from django.db import transaction
from django.utils import timezone

from annotation_app.errors import Conflict
from annotation_app.models import AskTurn, PipelineJob, WorkerHeartbeat
from annotation_app.models.ask import AskTurnStatus
from annotation_app.models.jobs import JobStatus
from annotation_app.services.dispatch import pipeline_dispatch

logger = logging.getLogger("pixmo.pipeline")


def pipeline_job_queue(*, stage: str, target_type: str, target_id: int) -> PipelineJob:
    job, _ = PipelineJob.objects.get_or_create(stage=stage, target_type=target_type, target_id=target_id)
    return job


def pipeline_job_start(*, stage: str, target_type: str, target_id: int) -> PipelineJob:
    job = pipeline_job_queue(stage=stage, target_type=target_type, target_id=target_id)
    PipelineJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=timezone.now(), error="")
    job.refresh_from_db()
    job.attempts += 1
    job.save(update_fields=["attempts"])
    return job


def pipeline_job_done(*, job: PipelineJob, timings_ms: dict) -> None:
    PipelineJob.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, finished_at=timezone.now(), timings_ms=timings_ms, error=""
    )


def pipeline_job_fail(*, stage: str, target_type: str, target_id: int, reason: str) -> None:
    job = pipeline_job_queue(stage=stage, target_type=target_type, target_id=target_id)
    PipelineJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, finished_at=timezone.now(), error=reason[:4000])
    logger.warning("pipeline.failed stage=%s %s=%s reason=%s", stage, target_type, target_id, reason)


@transaction.atomic
def pipeline_job_retry(*, job: PipelineJob) -> PipelineJob:
    """Send a failed job's stage again; the task skips work whose output already exists."""
    job = PipelineJob.objects.select_for_update().get(pk=job.pk)
    if job.status != JobStatus.FAILED:
        raise Conflict(f"only failed jobs are retried; this one is {job.status}")
    job.status = JobStatus.QUEUED
    job.error = ""
    job.save(update_fields=["status", "error"])
    if job.target_type == "ask_turn":
        AskTurn.objects.filter(pk=job.target_id, status=AskTurnStatus.FAILED).update(status=AskTurnStatus.PENDING)
    pipeline_dispatch(target_type=job.target_type, target_id=job.target_id, from_stage=job.stage)
    return job


def worker_heartbeat_record(*, hostname: str, queues: list[str]) -> None:
    """The dashboard's pipeline page lists workers by their last heartbeat."""
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now(), "queues": queues})
