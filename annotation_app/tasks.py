"""Celery tasks: thin wrappers that load rows by id, call a pipelines step, and store the result.

Each task returns early when its row is gone or its output already exists, and stores under a
unique key (row, stage, model, prompt), so a re-run or a redelivery never duplicates. Long model
tasks are `acks_late` (a worker killed mid-task leaves the message to be redelivered) and log one
line with their phase timings.
"""

import logging
import socket
import time

from celery import Task, chain, shared_task
from django.db import OperationalError
from django.utils import timezone

from annotation_app.models import AskTurn, PipelineJob, Recording, Transcript, WorkerHeartbeat
from annotation_app.models.ask import AskTurnStatus
from annotation_app.models.captions import RecordingStatus
from annotation_app.services import pipeline_results as results
from annotation_app.services.assignments import assignments_expire
from annotation_app.services.pipeline_jobs import pipeline_job_done, pipeline_job_fail, pipeline_job_queue, pipeline_job_start

logger = logging.getLogger("pixmo.tasks")

RETRY = {"autoretry_for": (OperationalError, ConnectionError, TimeoutError), "retry_backoff": True,
         "retry_backoff_max": 300, "max_retries": 3}
MODEL_TASK = {"acks_late": True, "reject_on_worker_lost": True, **RETRY}


class PipelineTask(Task):
    """Marks the stage's job (and the row) failed with the reason once retries are spent."""

    stage = ""
    target_type = ""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        target_id = kwargs.get(f"{self.target_type}_id") or (args[0] if args else None)
        if target_id is None:
            return
        # Pipeline errors carry a sentence for people; anything else keeps its type for debugging.
        reason = str(exc) if _is_pipeline_error(exc) else f"{type(exc).__name__}: {exc}"
        pipeline_job_fail(stage=self.stage, target_type=self.target_type, target_id=target_id, reason=reason)
        if self.target_type == "recording":
            results.recording_mark_failed(recording_id=target_id, reason=reason)
        elif self.target_type == "ask_turn":
            results.ask_turn_mark_failed(turn_id=target_id, reason=reason)


# --- spoken captions: validate → transcribe → refine ------------------------------------------


def recording_pipeline_enqueue(*, recording_id: int) -> None:
    """Called after the recording's transaction commits."""
    for stage in ("validate", "transcribe", "refine"):
        pipeline_job_queue(stage=stage, target_type="recording", target_id=recording_id)
    chain(
        recording_validate_task.si(recording_id=recording_id),
        recording_transcribe_task.si(recording_id=recording_id),
        caption_refine_task.si(recording_id=recording_id),
    ).apply_async()


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.recording_validate_task",
             stage="validate", target_type="recording", **MODEL_TASK)
def recording_validate_task(self, *, recording_id: int) -> None:
    from pipelines.audio import analyse_audio

    recording = Recording.objects.select_related("work_item__project").filter(pk=recording_id).first()
    if recording is None or recording.status not in (RecordingStatus.RECEIVED, RecordingStatus.FAILED):
        return
    job = pipeline_job_start(stage="validate", target_type="recording", target_id=recording_id)
    started = time.perf_counter()
    # An AudioDecodeError is not retried (the bytes will not decode better next time): it
    # fails the task, on_failure stores its sentence, and the chain stops here.
    report = analyse_audio(_read(recording.file), policy=_policy(recording.work_item.project))
    results.recording_store_checks(recording=recording, report=report.to_dict())
    timings = {"decode_and_checks": round((time.perf_counter() - started) * 1000, 1)}
    pipeline_job_done(job=job, timings_ms=timings)
    logger.info("validate recording=%s duration=%.1fs flags=%s checks=%sms", recording_id,
                report.duration_s, ",".join(report.flags) or "-", timings["decode_and_checks"])


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.recording_transcribe_task",
             stage="transcribe", target_type="recording", **MODEL_TASK)
def recording_transcribe_task(self, *, recording_id: int) -> None:
    from pipelines.asr import get_transcriber
    from pipelines.audio import AudioReport, check_transcript_audio
    from pipelines.audio_decode import decode_audio

    recording = Recording.objects.select_related("work_item__project").filter(pk=recording_id).first()
    if recording is None or recording.status == RecordingStatus.RECEIVED:
        return
    if "silent" in recording.flags:
        pipeline_job_fail(stage="transcribe", target_type="recording", target_id=recording_id,
                          reason="the recording is silent; there is nothing to transcribe")
        return
    transcriber = get_transcriber()
    key = results.model_key(identity=transcriber.backend.identity, params=transcriber.settings.decoding_params())
    if Transcript.objects.filter(recording=recording, model_key=key).exists():
        return
    job = pipeline_job_start(stage="transcribe", target_type="recording", target_id=recording_id)
    policy = _policy(recording.work_item.project)
    t0 = time.perf_counter()
    samples = decode_audio(_read(recording.file), max_bytes=policy.max_bytes, max_seconds=policy.decode_limit_seconds).samples
    t1 = time.perf_counter()
    transcript = transcriber.transcribe_samples(samples)
    t2 = time.perf_counter()
    report = check_transcript_audio(
        AudioReport(**{**recording.checks, "flags": tuple(recording.checks.get("flags", []))}),
        word_count=transcript.word_count, language=transcript.language, policy=policy,
    )
    results.transcript_store(recording=recording, key=key, transcript=transcript.to_dict(), report=report.to_dict())
    timings = {"decode": _ms(t0, t1), "asr": _ms(t1, t2), "store": _ms(t2, time.perf_counter())}
    pipeline_job_done(job=job, timings_ms={**timings, "audio_s": transcript.duration_s})
    logger.info("transcribe recording=%s audio=%.1fs words=%d fallbacks=%d decode=%sms asr=%sms store=%sms",
                recording_id, transcript.duration_s, transcript.word_count, transcript.temperature_fallbacks,
                timings["decode"], timings["asr"], timings["store"])


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.caption_refine_task",
             stage="refine", target_type="recording", **MODEL_TASK)
def caption_refine_task(self, *, recording_id: int) -> None:
    """Refine this recording's transcript; when the item has all k transcripts, merge them too."""
    transcript = Transcript.objects.select_related("recording__work_item__project").filter(
        recording_id=recording_id).order_by("-created_at").first()
    if transcript is None:
        return
    job = pipeline_job_start(stage="refine", target_type="recording", target_id=recording_id)
    item = transcript.recording.work_item
    timings = _refine(item.pk, [transcript])
    siblings = _latest_per_recording(item.pk)
    if item.project.overlap_k > 1 and len(siblings) >= item.project.overlap_k:
        timings.update({f"merge_{k}": v for k, v in _refine(item.pk, siblings).items()})
    pipeline_job_done(job=job, timings_ms=timings)


def _refine(work_item_id: int, transcripts: list[Transcript]) -> dict:
    from pipelines.llm import get_chat_model
    from pipelines.prompts import get_prompt
    from pipelines.refine import refine_transcripts

    model = get_chat_model()
    prompt = get_prompt("refine.single" if len(transcripts) == 1 else "refine.merge")
    key = f"t{'-'.join(str(t.pk) for t in transcripts)}:{results.model_key(identity=model.identity, params={})}:{prompt.sha256[:16]}"
    if results.Caption.objects.filter(refine_key=key[:200]).exists():
        return {}
    started = time.perf_counter()
    refinement = refine_transcripts([t.text for t in transcripts], chat_model=model)
    caption = results.caption_store(work_item_id=work_item_id, transcripts=transcripts, key=key[:200],
                                    refinement=refinement.to_dict())
    logger.info("refine item=%s transcripts=%s source=%s flags=%s total=%sms phases=%s", work_item_id,
                [t.pk for t in transcripts], refinement.source, caption.guard_flags or "-",
                _ms(started, time.perf_counter()), refinement.provenance.get("timings_ms"))
    return refinement.provenance.get("timings_ms", {})


# --- ask model anything ---------------------------------------------------------------------


def ask_answer_enqueue(*, turn_id: int) -> None:
    pipeline_job_queue(stage="answer", target_type="ask_turn", target_id=turn_id)
    ask_answer_task.delay(ask_turn_id=turn_id)


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.ask_answer_task",
             stage="answer", target_type="ask_turn", **MODEL_TASK)
def ask_answer_task(self, *, ask_turn_id: int) -> None:
    from annotation_app.services.ask_context import ask_answer_generate

    turn = AskTurn.objects.select_related("thread__work_item__image").filter(pk=ask_turn_id).first()
    if turn is None or turn.status == AskTurnStatus.READY:
        return
    job = pipeline_job_start(stage="answer", target_type="ask_turn", target_id=ask_turn_id)
    started = time.perf_counter()
    text, record, context = ask_answer_generate(turn=turn)
    results.ask_turn_store_answer(turn=turn, text=text, record=record, context=context)
    timings = {"total": _ms(started, time.perf_counter()), **record.get("timings_ms", {})}
    pipeline_job_done(job=job, timings_ms=timings)
    logger.info("answer turn=%s thread=%s chars=%d timings=%s", ask_turn_id, turn.thread_id, len(text), timings)


# --- retries, leases, heartbeats -------------------------------------------------------------


STAGE_TASKS = {
    ("validate", "recording"): lambda target_id: recording_pipeline_enqueue(recording_id=target_id),
    ("transcribe", "recording"): lambda target_id: chain(
        recording_transcribe_task.si(recording_id=target_id), caption_refine_task.si(recording_id=target_id)
    ).apply_async(),
    ("refine", "recording"): lambda target_id: caption_refine_task.delay(recording_id=target_id),
    ("answer", "ask_turn"): lambda target_id: ask_answer_task.delay(ask_turn_id=target_id),
    ("capqa", "caption_version"): lambda target_id: capqa_generate_task.delay(caption_version_id=target_id),
}


def pipeline_job_enqueue(*, job_id: int) -> None:
    """Send the task of a job's stage again (the retry button)."""
    job = PipelineJob.objects.get(pk=job_id)
    if job.target_type == "ask_turn":
        AskTurn.objects.filter(pk=job.target_id, status=AskTurnStatus.FAILED).update(status=AskTurnStatus.PENDING)
    STAGE_TASKS[(job.stage, job.target_type)](job.target_id)


@shared_task(name="annotation_app.tasks.assignments_expire_task", ignore_result=True)
def assignments_expire_task() -> int:
    return assignments_expire()


@shared_task(name="annotation_app.tasks.worker_heartbeat_task", ignore_result=True)
def worker_heartbeat_task() -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=socket.gethostname(), defaults={"seen_at": timezone.now(), "queues": ["default"]}
    )


def _is_pipeline_error(exc: BaseException) -> bool:
    from pipelines.errors import PipelineError

    return isinstance(exc, PipelineError)


def _read(field_file) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()


def _policy(project):
    from pipelines.audio import AudioPolicy

    return AudioPolicy(
        min_seconds=project.min_duration_s,
        max_seconds=project.max_duration_s,
        min_speech_ratio=project.min_speech_ratio,
        language=project.language,
        decode_limit_seconds=max(900.0, project.max_duration_s * 1.5),
    )


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 1)


def _latest_per_recording(work_item_id: int) -> list[Transcript]:
    latest: dict[int, Transcript] = {}
    for transcript in Transcript.objects.filter(recording__work_item_id=work_item_id).order_by("created_at"):
        latest[transcript.recording_id] = transcript
    return list(latest.values())


@shared_task(name="annotation_app.tasks.release_export_task", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def release_export_task(*, release_id: int) -> None:
    from annotation_app.models import DatasetRelease
    from annotation_app.services.releases import release_export

    release = DatasetRelease.objects.filter(pk=release_id).first()
    if release is None or release.status == "complete":
        return
    started = time.perf_counter()
    release = release_export(release=release)
    logger.info("export release=%s datasets=%s counts=%s total=%sms", release.name, release.datasets,
                release.counts, _ms(started, time.perf_counter()))


def capqa_enqueue(*, caption_version_id: int) -> None:
    pipeline_job_queue(stage="capqa", target_type="caption_version", target_id=caption_version_id)
    capqa_generate_task.delay(caption_version_id=caption_version_id)


@shared_task(bind=True, base=PipelineTask, name="annotation_app.tasks.capqa_generate_task",
             stage="capqa", target_type="caption_version", **MODEL_TASK)
def capqa_generate_task(self, *, caption_version_id: int) -> None:
    """A text-only LLM writes a QA dialogue from an accepted caption (it never sees the image)."""
    from annotation_app.models import CapQADialogue, CaptionVersion
    from pipelines.capqa import generate_capqa
    from pipelines.llm import get_chat_model
    from pipelines.prompts import get_prompt

    version = CaptionVersion.objects.filter(pk=caption_version_id).first()
    if version is None:
        return
    model = get_chat_model()
    key = f"v{version.pk}:{results.model_key(identity=model.identity, params={})}:{get_prompt('capqa.dialogue').sha256[:16]}"
    if CapQADialogue.objects.filter(generate_key=key[:200]).exists():
        return
    job = pipeline_job_start(stage="capqa", target_type="caption_version", target_id=caption_version_id)
    dialogue = generate_capqa(caption=version.text, chat_model=model)
    stored = results.capqa_store(caption_version_id=version.pk, key=key[:200], dialogue={
        "turns": dialogue.turns, "rejected": list(dialogue.rejected), "raw_text": dialogue.raw_text,
        "provenance": dialogue.provenance,
    })
    pipeline_job_done(job=job, timings_ms=dialogue.provenance.get("timings_ms", {}))
    logger.info("capqa version=%s turns=%d rejected=%d timings=%s", version.pk, len(stored.turns),
                len(dialogue.rejected), dialogue.provenance.get("timings_ms"))
