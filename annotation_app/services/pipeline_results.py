"""Store what the pipeline steps return, each under its unique key, with provenance rows."""

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction

from annotation_app.models import (
    AskTurn,
    CapQADialogue,
    Caption,
    CaptionVersion,
    ModelProvenance,
    Recording,
    Transcript,
)
from annotation_app.models.ask import AskTurnStatus
from annotation_app.models.captions import CaptionSource, RecordingStatus
from pipelines.audio import AudioReport
from pipelines.capqa import CapQaDialogue
from pipelines.qa import QaAnswer
from pipelines.refine import Refinement
from pipelines.transcript import AsrTranscript


def provenance_store(*, kind: str, record: dict[str, Any], input_refs: dict[str, list[int]]) -> ModelProvenance:
    """A pipelines provenance dict → one ModelProvenance row."""
    model = record.get("model", {})
    prompt = record.get("prompt", {})
    extra = {k: v for k, v in record.items() if k not in {"step", "model", "params", "timings_ms", "prompt", "created_at"}}
    return ModelProvenance.objects.create(
        kind=kind,
        model_name=str(model.get("name", ""))[:300],
        model_revision=str(model.get("revision") or model.get("sha256") or "")[:128],
        prompt_id=prompt.get("id", ""),
        prompt_hash=prompt.get("sha256", ""),
        parameters={"params": record.get("params", {}), "model": model, **extra},
        input_refs=input_refs,
        timings_ms=record.get("timings_ms", {}),
    )


def model_key(*, identity: dict[str, Any], params: dict[str, Any]) -> str:
    """The model + decoding parameters part of a stage's unique key."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    name = str(identity.get("name", "model"))
    revision = str(identity.get("sha256") or identity.get("revision") or "")[:12]
    return f"{name}@{revision}:{digest}"[:128]


@transaction.atomic
def recording_store_checks(*, recording: Recording, report: AudioReport) -> Recording:
    recording.duration_s = report.duration_s
    recording.checks = report.to_dict()
    recording.flags = list(report.flags)
    recording.status = RecordingStatus.VALIDATED
    recording.failure_reason = ""
    recording.save(update_fields=["duration_s", "checks", "flags", "status", "failure_reason"])
    return recording


def recording_mark_failed(*, recording_id: int, reason: str) -> None:
    Recording.objects.filter(pk=recording_id).update(status=RecordingStatus.FAILED, failure_reason=reason[:4000])


def transcript_store(*, recording: Recording, key: str, transcript: AsrTranscript, report: AudioReport) -> Transcript:
    """Store once per (recording, model key); a re-run returns the stored row."""
    try:
        with transaction.atomic():
            provenance = provenance_store(kind="asr", record=transcript.provenance, input_refs={"recording": [recording.pk]})
            stored = Transcript.objects.create(
                recording=recording, model_key=key, text=transcript.text, segments=transcript.to_dict()["segments"],
                language=transcript.language or "", provenance=provenance,
            )
            recording.checks = report.to_dict()
            recording.flags = list(report.flags)
            recording.status = RecordingStatus.TRANSCRIBED
            recording.save(update_fields=["checks", "flags", "status"])
            return stored
    except IntegrityError:
        return Transcript.objects.get(recording=recording, model_key=key)


def caption_store(*, work_item_id: int, transcripts: list[Transcript], key: str, refinement: Refinement) -> Caption:
    """Store a refinement once per key: the caption, and the rejected LLM attempt beside it."""
    existing = Caption.objects.filter(refine_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _caption_create(work_item_id, transcripts, key, refinement)
    except IntegrityError:
        return Caption.objects.get(refine_key=key)


def _caption_create(work_item_id: int, transcripts: list[Transcript], key: str, refinement: Refinement) -> Caption:
    provenance = provenance_store(
        kind="llm", record=refinement.provenance, input_refs={"transcript": [t.pk for t in transcripts]}
    )
    verdict = refinement.report()  # the guards' verdict, and each sentence's outcome (sentence strategy)
    flags = _guard_flags(refinement)
    caption = Caption.objects.create(
        work_item_id=work_item_id, refine_key=key, is_merged=len(transcripts) > 1, guard_flags=flags
    )
    caption.transcripts.set(transcripts)
    number = 1
    if refinement.source == "cleanup" and refinement.llm_text:
        # The LLM attempt that failed its guards is kept as version 1, not current.
        CaptionVersion.objects.create(
            caption=caption, number=number, text=refinement.llm_text, source=CaptionSource.LLM_REJECTED,
            provenance=provenance, guard_report=verdict,
        )
        number += 1
    CaptionVersion.objects.create(
        caption=caption, number=number, text=refinement.caption,
        source=CaptionSource.LLM if refinement.source == "llm" else CaptionSource.CLEANUP,
        # Sentence strategy: the model was asked about every sentence, changed or not, so its
        # provenance (each sentence's outcome) goes with the caption.
        provenance=provenance if refinement.source == "llm" or refinement.strategy == "sentences" else None,
        guard_report=verdict,
    )
    Recording.objects.filter(transcripts__in=transcripts).update(status=RecordingStatus.REFINED)
    return caption


def _guard_flags(refinement: Refinement) -> list[str]:
    flags = [f"guard:{name}" for name in (refinement.verdict.failed if refinement.verdict else ())]
    if refinement.llm_error:
        flags.append("llm_error")
    if refinement.source == "cleanup" and not flags:
        flags.append("fallback_to_cleanup")
    return flags


def ask_turn_store_answer(
    *, turn: AskTurn, answer: QaAnswer, record: dict[str, Any], context: dict[str, str]
) -> AskTurn:
    """The answer the guards passed, or the least bad attempt flagged with the reasons (as a
    caption's rejected draft is: the turn's guard_flags say "guard:<check>"); provenance holds
    every attempt with its decoding and verdict."""
    with transaction.atomic():
        provenance = provenance_store(kind="llm", record=record, input_refs={"ask_thread": [turn.thread_id]})
        turn.text = answer.answer
        turn.status = AskTurnStatus.READY
        turn.provenance = provenance
        turn.failure_reason = ""
        turn.guard_flags = [f"guard:{name}" for name in answer.verdict.failed]
        turn.guard_report = {**answer.verdict.to_dict(), "attempts": answer.attempts}
        turn.save(update_fields=["text", "status", "provenance", "failure_reason", "guard_flags", "guard_report"])
        thread = turn.thread
        thread.ocr_text = context.get("ocr_text", thread.ocr_text)
        thread.context_caption = context.get("caption", thread.context_caption)
        thread.save(update_fields=["ocr_text", "context_caption"])
    return turn


def ask_turn_mark_failed(*, turn_id: int, reason: str) -> None:
    AskTurn.objects.filter(pk=turn_id).update(status=AskTurnStatus.FAILED, failure_reason=reason[:4000])


def capqa_store(*, caption_version_id: int, key: str, dialogue: CapQaDialogue) -> CapQADialogue:
    """Store once per key; a dialogue where no turn survived validation is stored empty (and not exported)."""
    try:
        with transaction.atomic():
            record = {**dialogue.provenance, "rejected": list(dialogue.rejected), "raw_text": dialogue.raw_text}
            provenance = provenance_store(kind="llm", record=record, input_refs={"caption_version": [caption_version_id]})
            return CapQADialogue.objects.create(
                caption_version_id=caption_version_id, generate_key=key, provenance=provenance,
                turns=[{"question": q, "answer": a} for q, a in dialogue.turns],
            )
    except IntegrityError:
        return CapQADialogue.objects.get(generate_key=key)
