"""The pipeline stages as services: each one is what a Celery task runs for its row.

A stage returns early when its input is gone or its output already exists under its unique key
(row, stage, model, prompt), runs one pipelines step, stores the step's typed result with its
provenance, marks the stage's job done and logs one line with its phase timings. Re-running a
stage after a redelivery or a retry is harmless.
"""

import logging
import time

from annotation_app.models import AskTurn, CapQADialogue, Caption, CaptionVersion, Recording, Transcript
from annotation_app.models.ask import AskTurnStatus
from annotation_app.models.captions import RecordingStatus
from annotation_app.services import pipeline_results as results
from annotation_app.services.ask_context import ask_answer_generate
from annotation_app.services.pipeline_jobs import (
    pipeline_job_done,
    pipeline_job_fail,
    pipeline_job_skip,
    pipeline_job_start,
)
from pipelines.audio import AudioPolicy, AudioReport, analyse_audio, check_transcript_audio
from pipelines.errors import PipelineError

logger = logging.getLogger("pixmo.tasks")

KEY_LIMIT = 200  # the unique key columns' length


# --- spoken captions: validate → transcribe → refine ------------------------------------------


def recording_validate(*, recording: Recording) -> None:
    """Decode and measure the audio; an AudioDecodeError propagates (the bytes will not decode
    better next time), and the task's on_failure stores its sentence."""
    if recording.status not in (RecordingStatus.RECEIVED, RecordingStatus.FAILED):
        pipeline_job_skip(stage="validate", target_type="recording", target_id=recording.pk)
        return
    job = pipeline_job_start(stage="validate", target_type="recording", target_id=recording.pk)
    started = time.perf_counter()
    report = analyse_audio(_read(recording.file), policy=audio_policy(recording.work_item.project))
    results.recording_store_checks(recording=recording, report=report)
    timings = {"decode_and_checks": _ms(started, time.perf_counter())}
    pipeline_job_done(job=job, timings_ms=timings)
    logger.info("validate recording=%s duration=%.1fs flags=%s checks=%sms", recording.pk,
                report.duration_s, ",".join(report.flags) or "-", timings["decode_and_checks"])


def recording_transcribe(*, recording: Recording) -> None:
    from pipelines.asr import get_transcriber
    from pipelines.audio_decode import decode_audio

    if recording.status == RecordingStatus.RECEIVED:
        return
    if "silent" in recording.flags:
        pipeline_job_fail(stage="transcribe", target_type="recording", target_id=recording.pk,
                          reason="the recording is silent; there is nothing to transcribe")
        return
    transcriber = get_transcriber()
    key = results.model_key(identity=transcriber.backend.identity, params=transcriber.settings.decoding_params())
    if Transcript.objects.filter(recording=recording, model_key=key).exists():
        pipeline_job_skip(stage="transcribe", target_type="recording", target_id=recording.pk)
        return
    job = pipeline_job_start(stage="transcribe", target_type="recording", target_id=recording.pk)
    policy = audio_policy(recording.work_item.project)
    t0 = time.perf_counter()
    samples = decode_audio(_read(recording.file), max_bytes=policy.max_bytes,
                           max_seconds=policy.decode_limit_seconds).samples
    t1 = time.perf_counter()
    transcript = transcriber.transcribe_samples(samples)
    t2 = time.perf_counter()
    report = check_transcript_audio(
        AudioReport(**{**recording.checks, "flags": tuple(recording.checks.get("flags", []))}),
        word_count=transcript.word_count, language=transcript.language, policy=policy,
    )
    results.transcript_store(recording=recording, key=key, transcript=transcript, report=report)
    timings = {"decode": _ms(t0, t1), "asr": _ms(t1, t2), "store": _ms(t2, time.perf_counter())}
    pipeline_job_done(job=job, timings_ms={**timings, "audio_s": transcript.duration_s})
    logger.info("transcribe recording=%s audio=%.1fs words=%d fallbacks=%d decode=%sms asr=%sms store=%sms",
                recording.pk, transcript.duration_s, transcript.word_count, transcript.temperature_fallbacks,
                timings["decode"], timings["asr"], timings["store"])


def caption_refine(*, recording_id: int) -> None:
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


def caption_refine_key(*, transcripts: list[Transcript], model_identity: dict) -> str:
    from pipelines.refine import refine_prompt, refine_strategy

    # The strategy's prompt is in the key, so switching PIXMO_REFINE_STRATEGY refines again.
    prompt = refine_prompt(transcript_count=len(transcripts), strategy=refine_strategy())
    key = (f"t{'-'.join(str(t.pk) for t in transcripts)}:"
           f"{results.model_key(identity=model_identity, params={})}:{prompt.sha256[:16]}")
    return key[:KEY_LIMIT]


def _refine(work_item_id: int, transcripts: list[Transcript]) -> dict:
    from pipelines.llm import get_chat_model
    from pipelines.refine import refine_transcripts

    model = get_chat_model()
    key = caption_refine_key(transcripts=transcripts, model_identity=model.identity)
    if Caption.objects.filter(refine_key=key).exists():
        return {}
    started = time.perf_counter()
    refinement = refine_transcripts([t.text for t in transcripts], chat_model=model)
    caption = results.caption_store(work_item_id=work_item_id, transcripts=transcripts, key=key,
                                    refinement=refinement)
    logger.info("refine item=%s transcripts=%s source=%s flags=%s total=%sms phases=%s", work_item_id,
                [t.pk for t in transcripts], refinement.source, caption.guard_flags or "-",
                _ms(started, time.perf_counter()), refinement.provenance.get("timings_ms"))
    return refinement.provenance.get("timings_ms", {})


def _latest_per_recording(work_item_id: int) -> list[Transcript]:
    latest: dict[int, Transcript] = {}
    for transcript in Transcript.objects.filter(recording__work_item_id=work_item_id).order_by("created_at"):
        latest[transcript.recording_id] = transcript
    return list(latest.values())


# --- ask model anything and CapQA ---------------------------------------------------------------


def ask_answer(*, turn: AskTurn) -> None:
    if turn.status == AskTurnStatus.READY:
        pipeline_job_skip(stage="answer", target_type="ask_turn", target_id=turn.pk)
        return
    job = pipeline_job_start(stage="answer", target_type="ask_turn", target_id=turn.pk)
    started = time.perf_counter()
    answer, record, context = ask_answer_generate(turn=turn)
    results.ask_turn_store_answer(turn=turn, answer=answer, record=record, context=context)
    timings = {"total": _ms(started, time.perf_counter()), **record.get("timings_ms", {})}
    pipeline_job_done(job=job, timings_ms=timings)
    logger.info("answer turn=%s thread=%s chars=%d attempts=%d flags=%s timings=%s", turn.pk, turn.thread_id,
                len(answer.answer), answer.attempts, ",".join(answer.verdict.failed) or "-", timings)


def capqa_generate(*, version: CaptionVersion) -> None:
    """A text-only LLM writes a QA dialogue from an accepted caption (it never sees the image)."""
    from pipelines.capqa import capqa_prompt, generate_capqa
    from pipelines.llm import get_chat_model

    model = get_chat_model()
    key = (f"v{version.pk}:{results.model_key(identity=model.identity, params={})}:"
           f"{capqa_prompt().sha256[:16]}")[:KEY_LIMIT]
    if CapQADialogue.objects.filter(generate_key=key).exists():
        pipeline_job_skip(stage="capqa", target_type="caption_version", target_id=version.pk)
        return
    job = pipeline_job_start(stage="capqa", target_type="caption_version", target_id=version.pk)
    dialogue = generate_capqa(caption=version.text, chat_model=model)
    stored = results.capqa_store(caption_version_id=version.pk, key=key, dialogue=dialogue)
    pipeline_job_done(job=job, timings_ms=dialogue.provenance.get("timings_ms", {}))
    logger.info("capqa version=%s turns=%d rejected=%d timings=%s", version.pk, len(stored.turns),
                len(dialogue.rejected), dialogue.provenance.get("timings_ms"))


# --- failures ------------------------------------------------------------------------------------


def pipeline_stage_fail(*, stage: str, target_type: str, target_id: int, error: BaseException) -> None:
    """Retries are spent: mark the stage's job, and the row, failed with the reason."""
    # Pipeline errors carry a sentence for people; anything else keeps its type for debugging.
    reason = str(error) if isinstance(error, PipelineError) else f"{type(error).__name__}: {error}"
    pipeline_job_fail(stage=stage, target_type=target_type, target_id=target_id, reason=reason)
    if target_type == "recording":
        results.recording_mark_failed(recording_id=target_id, reason=reason)
    elif target_type == "ask_turn":
        results.ask_turn_mark_failed(turn_id=target_id, reason=reason)


def audio_policy(project) -> AudioPolicy:
    return AudioPolicy(
        min_seconds=project.min_duration_s,
        max_seconds=project.max_duration_s,
        min_speech_ratio=project.min_speech_ratio,
        language=project.language,
        decode_limit_seconds=max(900.0, project.max_duration_s * 1.5),
    )


def _read(field_file) -> bytes:
    with field_file.open("rb") as handle:
        return handle.read()


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 1)
