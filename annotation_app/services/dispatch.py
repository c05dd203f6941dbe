"""Dispatch: the one module that sends work to the Celery workers.

Producers name a task and never import the worker module (Zulip's producers name a queue): tasks.py
imports services, never the reverse. Each stage's PipelineJob row is written in the caller's
transaction, so the job table records the work together with its input; the task is sent only
after that transaction commits, so a worker never sees a row that was rolled back. Sending is a
doorbell: when the broker is down the committed write still stands (and is acknowledged), the
job stays `queued`, and a later send (retry, sweeper) is harmless because every stage stores its
output under a unique key.
"""

import logging
import uuid
from collections.abc import Callable

from celery import chain
from django.db import DatabaseError, transaction
from django.db.models import Case, QuerySet, Value, When
from django.utils import timezone

from annotation_app.celery import app
from annotation_app.models import DatasetRelease, PipelineJob
from annotation_app.models.jobs import JobStatus

logger = logging.getLogger("pixmo.dispatch")

_TASK = "annotation_app.tasks.{}"

# Each target's stages in order, the task that runs each stage, and the keyword the task takes.
PIPELINES: dict[str, tuple[str, ...]] = {
    "recording": ("validate", "transcribe", "refine"),
    "ask_turn": ("answer",),
    "caption_version": ("capqa",),
}
STAGE_TASK_NAMES: dict[tuple[str, str], str] = {
    ("validate", "recording"): _TASK.format("recording_validate_task"),
    ("transcribe", "recording"): _TASK.format("recording_transcribe_task"),
    ("refine", "recording"): _TASK.format("caption_refine_task"),
    ("answer", "ask_turn"): _TASK.format("ask_answer_task"),
    ("capqa", "caption_version"): _TASK.format("capqa_generate_task"),
}
TARGET_KWARG = {"recording": "recording_id", "ask_turn": "ask_turn_id", "caption_version": "caption_version_id"}
RELEASE_EXPORT_TASK = _TASK.format("release_export_task")


def pipeline_dispatch(*, target_type: str, target_id: int, from_stage: str | None = None,
                      resend: bool = False) -> None:
    """Queue a target's stages from `from_stage` (default: the first) on; sends after commit.

    Call it inside the transaction that wrote the target: the job rows commit with it. Each stage's
    task id is chosen here and stored on its row, so the sweeper can look for it in the broker.
    `resend` puts rows that exist already back to `queued` under the new task ids (a retry, or
    the sweeper re-sending a stranded job).
    """
    stages = pipeline_stages(target_type=target_type, from_stage=from_stage)
    task_ids = {stage: str(uuid.uuid4()) for stage in stages}
    PipelineJob.objects.bulk_create(  # one statement; a job row that exists already is kept
        [PipelineJob(stage=stage, target_type=target_type, target_id=target_id, task_id=task_ids[stage])
         for stage in stages],
        ignore_conflicts=True,
    )
    if resend:
        PipelineJob.objects.filter(target_type=target_type, target_id=target_id, stage__in=stages).update(
            task_id=Case(*[When(stage=stage, then=Value(tid)) for stage, tid in task_ids.items()]),
            status=JobStatus.QUEUED, error="", sent_at=None, send_error="", worker="",
        )
    what = f"{target_type}={target_id} stages={','.join(stages)}"
    rows = PipelineJob.objects.filter(task_id__in=task_ids.values())
    send_on_commit(lambda: _send_chain(target_type, target_id, task_ids), what=what, rows=rows)


def pipeline_stages(*, target_type: str, from_stage: str | None = None) -> tuple[str, ...]:
    stages = PIPELINES[target_type]
    return stages[stages.index(from_stage):] if from_stage else stages


def release_export_dispatch(*, release_id: int, task_id: str) -> None:
    """Send the release's export under `task_id` after commit. As with a pipeline job, a refused
    send leaves the row queued with "not yet sent" noted, and the sweeper sends it later."""
    send_on_commit(lambda: app.signature(RELEASE_EXPORT_TASK, kwargs={"release_id": release_id}).apply_async(
        task_id=task_id), what=f"release={release_id}", rows=DatasetRelease.objects.filter(pk=release_id, task_id=task_id))


def send_on_commit(send: Callable[[], object], *, what: str, rows: QuerySet | None = None) -> None:
    """Run `send` after commit. `rows` (with `sent_at` and `send_error`) are the work it sends:
    they are noted sent, or, when the broker refuses, "not yet sent" with the reason."""
    def run() -> None:
        try:
            send()
        except Exception as error:  # the broker is unreachable: the job row keeps the work
            logger.warning("dispatch.unsent %s reason=%s: %s", what, type(error).__name__, error)
            if rows is not None:
                reason = f"not yet sent: the broker refused it ({type(error).__name__}: {error})"[:500]
                _note(rows.filter(sent_at__isnull=True), what, send_error=reason)
        else:
            if rows is not None:
                _note(rows, what, sent_at=timezone.now(), send_error="")

    transaction.on_commit(run)


def _note(rows: QuerySet, what: str, **values) -> None:
    try:
        rows.update(**values)
    except DatabaseError as error:  # sent but not noted: the sweeper finds the task in the broker
        logger.warning("dispatch.unnoted %s reason=%s", what, error)


def _send_chain(target_type: str, target_id: int, task_ids: dict[str, str]) -> None:
    kwargs = {TARGET_KWARG[target_type]: target_id}
    signatures = [app.signature(STAGE_TASK_NAMES[(stage, target_type)], kwargs=kwargs, immutable=True)
                  .set(task_id=task_id) for stage, task_id in task_ids.items()]
    (chain(*signatures) if len(signatures) > 1 else signatures[0]).apply_async()
