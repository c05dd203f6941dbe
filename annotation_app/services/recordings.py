"""The audio receipt: store what the browser recorded, exactly once per client UUID."""

import hashlib
import logging
import uuid

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from annotation_app.errors import ServiceError
from annotation_app.models import Assignment, ProjectKind, Recording, User
from annotation_app.services.assignments import assignment_finish, assignment_lock_for_submission
from annotation_app.services.audit import audit_log
from annotation_app.services.dispatch import pipeline_dispatch
from annotation_app.services.idempotency import submit_once

logger = logging.getLogger("pixmo.recordings")

# What browsers' MediaRecorder produces, plus the files people upload by hand.
AUDIO_TYPES = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/flac": "flac",
    "audio/mpeg": "mp3",
}


def recording_submit(
    *,
    assignment: Assignment,
    annotator: User,
    audio: UploadedFile,
    client_uuid: uuid.UUID,
    client_duration_s: float | None = None,
) -> tuple[Recording, bool]:
    """Store a recording; a repeated client UUID returns the first one with created=False."""
    mime = _audio_mime(audio)
    if assignment.project.kind != ProjectKind.CAPTION:
        raise ServiceError("recordings belong to caption projects only")
    return submit_once(
        find=Recording.objects.filter(client_uuid=client_uuid).first, annotator=annotator,
        create=lambda: _store(assignment=assignment, annotator=annotator, audio=audio, mime=mime,
                              client_uuid=client_uuid, client_duration_s=client_duration_s),
    )


def _store(*, assignment, annotator, audio, mime, client_uuid, client_duration_s) -> Recording:
    data = audio.read()
    with transaction.atomic():
        assignment = assignment_lock_for_submission(assignment=assignment, annotator=annotator)
        recording = Recording(
            assignment=assignment,
            work_item_id=assignment.work_item_id,
            annotator=annotator,
            client_uuid=client_uuid,
            sha256=hashlib.sha256(data).hexdigest(),
            mime=mime,
            byte_size=len(data),
            client_duration_s=client_duration_s,
        )
        recording.file.save(f"{client_uuid}.{AUDIO_TYPES[mime]}", audio, save=False)
        try:
            with transaction.atomic():
                recording.save()
        except IntegrityError:
            recording.file.delete(save=False)
            raise
        assignment_finish(assignment=assignment)
        audit_log(actor=annotator, action="recording.submit", target=recording, bytes=len(data))
        pipeline_dispatch(target_type="recording", target_id=recording.pk)
    return recording


def _audio_mime(audio: UploadedFile) -> str:
    mime = (audio.content_type or "").split(";")[0].strip().lower()
    if mime not in AUDIO_TYPES:
        raise ServiceError(
            f"audio type '{mime or 'unknown'}' is not accepted; send one of {', '.join(sorted(AUDIO_TYPES))}"
        )
    if audio.size == 0:
        raise ServiceError("the audio file is empty")
    if audio.size > settings.PIXMO_MAX_AUDIO_BYTES:
        raise ServiceError(
            f"the audio file is {audio.size:,} bytes, over the {settings.PIXMO_MAX_AUDIO_BYTES:,}-byte limit"
        )
    return mime
