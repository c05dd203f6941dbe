"""Celery tasks: each loads its row by primary key, returns when it is gone, calls one service.

The logic lives in `services.pipeline_steps` (and `services.releases`); producers send these tasks
by name through `services.dispatch` and never import this module. Long model tasks are
`acks_late` (a worker killed mid-task leaves the message to be redelivered); every stage stores
under a unique key, so a redelivery never duplicates.
"""

from celery import Task, shared_task
from django.db import OperationalError

from annotation_app.models import AskTurn, CaptionVersion, DatasetRelease, Recording
from annotation_app.services import pipeline_steps as steps
from annotation_app.services.assignments import assignments_expire
from annotation_app.services.pipeline_jobs import pipeline_jobs_sweep
from annotation_app.services.release_runs import release_exports_sweep
from annotation_app.services.releases import release_export_run

RETRY = {"autoretry_for": (OperationalError, ConnectionError, TimeoutError), "retry_backoff": True,
         "retry_backoff_max": 300, "max_retries": 3}
MODEL_TASK = {"acks_late": True, "reject_on_worker_lost": True, **RETRY}


class PipelineTask(Task):
    """Marks the stage's job (and the row) failed with the reason once retries are spent."""

    stage = ""
    target_type = ""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        target_id = kwargs.get(f"{self.target_type}_id") or (args[0] if args else None)
        if target_id is not None:
            steps.pipeline_stage_fail(stage=self.stage, target_type=self.target_type, target_id=target_id, error=exc)


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.recording_validate_task",
             stage="validate", target_type="recording", **MODEL_TASK)
def recording_validate_task(self, *, recording_id: int) -> None:
    recording = Recording.objects.select_related("work_item__project").filter(pk=recording_id).first()
    if recording is not None:
        steps.recording_validate(recording=recording)


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.recording_transcribe_task",
             stage="transcribe", target_type="recording", **MODEL_TASK)
def recording_transcribe_task(self, *, recording_id: int) -> None:
    recording = Recording.objects.select_related("work_item__project").filter(pk=recording_id).first()
    if recording is not None:
        steps.recording_transcribe(recording=recording)


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.caption_refine_task",
             stage="refine", target_type="recording", **MODEL_TASK)
def caption_refine_task(self, *, recording_id: int) -> None:
    steps.caption_refine(recording_id=recording_id)


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.ask_answer_task",
             stage="answer", target_type="ask_turn", **MODEL_TASK)
def ask_answer_task(self, *, ask_turn_id: int) -> None:
    turn = AskTurn.objects.select_related("thread__work_item__image").filter(pk=ask_turn_id).first()
    if turn is not None:
        steps.ask_answer(turn=turn)


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.capqa_generate_task",
             stage="capqa", target_type="caption_version", **MODEL_TASK)
def capqa_generate_task(self, *, caption_version_id: int) -> None:
    version = CaptionVersion.objects.filter(pk=caption_version_id).first()
    if version is not None:
        steps.capqa_generate(version=version)


# Acknowledged on receipt: an export may run for hours, longer than the broker's visibility timeout,
# and must never be handed to a second worker while the first still writes. Its writer beats on the
# release row; one whose worker died is sent again by the sweeper (services/release_runs.py) and
# picks up the shards already written.
@shared_task(bind=True, name="annotation_app.tasks.release_export_task", acks_late=False,
             soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def release_export_task(self, *, release_id: int) -> None:
    release = DatasetRelease.objects.filter(pk=release_id).first()
    if release is not None:
        release_export_run(release=release, task_id=self.request.id)


@shared_task(name="annotation_app.tasks.assignments_expire_task", ignore_result=True)
def assignments_expire_task() -> int:
    return assignments_expire()


@shared_task(name="annotation_app.tasks.pipeline_jobs_sweep_task", ignore_result=True)
def pipeline_jobs_sweep_task() -> int:
    return pipeline_jobs_sweep() + release_exports_sweep()
