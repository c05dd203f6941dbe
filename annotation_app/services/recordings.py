"""The audio receipt: store what the browser recorded, exactly once per client UUID.

An upload is decoded before it is acknowledged: bytes that are not whole, decodable audio, and
audio shorter than the project's minimum, are refused (400) with nothing written — no row, no
file, no pipeline job — and the assignment stays open for a re-record. The validate stage
measures loudness and speech later, on the stored file.

The received bytes are the receipt (`file`, `sha256`). A WebM that states no length — what
Chromium's MediaRecorder writes — is also stored remuxed with its duration (`playback_file`),
the same packets, so that every player shows the real length and seeks.
"""

import hashlib
import logging
import time
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from annotation_app.errors import ServiceError
from annotation_app.models import Assignment, Project, ProjectKind, Recording, User
from annotation_app.services.assignments import assignment_finish, assignment_lock_for_submission
from annotation_app.services.audit import audit_log
from annotation_app.services.dispatch import pipeline_dispatch
from annotation_app.services.idempotency import submit_once
from annotation_app.services.pipeline_steps import audio_policy
from pipelines.audio_decode import AudioProbe, probe_audio, remux_with_duration
from pipelines.errors import AudioDecodeError

logger = logging.getLogger("pixmo.recordings")

# The browser lets a take be submitted once its timer reaches the project's minimum; the decoded
# audio can run a little shorter than that clock (the first frame arrives after the timer starts),
# so the server refuses only what falls short of the minimum by more than this. The validate
# stage still flags such a take `too_short`.
MIN_DURATION_GRACE_S = 1.0

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
# The accepted type each decoder's container name stands for (PyAV names a format by its
# demuxer's aliases, "matroska,webm" or "mov,mp4,m4a,3gp,3g2,mj2").
CONTAINER_TYPES = {"webm": "audio/webm", "matroska": "audio/webm", "ogg": "audio/ogg", "mp4": "audio/mp4",
                   "m4a": "audio/mp4", "aac": "audio/aac", "wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg"}


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
    # Decoded before the assignment's row lock is taken: a slow decode never holds the lock.
    probe = recording_audio_check(data=data, project=assignment.project, client_duration_s=client_duration_s)
    playback = _playback_bytes(data, probe)
    mime = _decoded_mime(declared=mime, container=probe.container)
    recording = Recording(
        work_item_id=assignment.work_item_id,
        annotator=annotator,
        client_uuid=client_uuid,
        sha256=hashlib.sha256(data).hexdigest(),
        mime=mime,
        byte_size=len(data),
        duration_s=probe.duration_s,
        client_duration_s=client_duration_s,
    )
    try:
        with transaction.atomic():
            recording.assignment = assignment_lock_for_submission(assignment=assignment, annotator=annotator)
            recording.file.save(f"{client_uuid}.{AUDIO_TYPES[mime]}", ContentFile(data), save=False)
            if playback is not None:
                recording.playback_file.save(f"{client_uuid}.playback.webm", ContentFile(playback), save=False)
            recording.save()
            assignment_finish(assignment=recording.assignment)
            audit_log(actor=annotator, action="recording.submit", target=recording, bytes=len(data))
            pipeline_dispatch(target_type="recording", target_id=recording.pk)
    except BaseException:
        for stored in (recording.file, recording.playback_file):  # the rows rolled back: their files go too
            if stored:
                stored.delete(save=False)
        raise
    return recording


def _playback_bytes(data: bytes, probe: AudioProbe) -> bytes | None:
    """The upload remuxed with its duration when its container states none; None otherwise, and
    when the rewrite fails (the receipt alone is stored, and players fall back to it)."""
    if probe.declared_s is not None:
        return None
    started = time.perf_counter()
    try:
        playback = remux_with_duration(data)
    except AudioDecodeError as error:
        logger.warning("recording.remux failed: %s", error.reason)
        return None
    if playback is not None:
        logger.info("recording.remux bytes=%d duration_stated remux=%.0fms", len(playback),
                    (time.perf_counter() - started) * 1000)
    return playback


def recording_audio_check(*, data: bytes, project: Project, client_duration_s: float | None) -> AudioProbe:
    """Decode the whole upload (≈0.4 s for 3 min of WebM/Opus on one core) and apply the project's
    duration floor; raise ServiceError, naming the problem, when it must be recorded again."""
    policy = audio_policy(project)
    started = time.perf_counter()
    try:
        probe = probe_audio(data, max_bytes=settings.PIXMO_MAX_AUDIO_BYTES, max_seconds=policy.decode_limit_seconds,
                            expected_seconds=client_duration_s)
    except AudioDecodeError as error:
        raise ServiceError(f"the upload is not audio that can be decoded: {_lower_first(error.reason)}") from None
    logger.info("recording.probe container=%s codec=%s duration=%.1fs decode=%.0fms", probe.container,
                probe.codec, probe.duration_s, (time.perf_counter() - started) * 1000)
    if probe.duration_s < project.min_duration_s - MIN_DURATION_GRACE_S:
        raise ServiceError(
            f"the recording is {probe.duration_s:.1f} s long, under this project's minimum of "
            f"{project.min_duration_s:g} s; record again and speak for at least {project.min_duration_s:g} s"
        )
    return probe


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:].rstrip(".")


def _decoded_mime(*, declared: str, container: str) -> str:
    """The type the bytes really are: the declared one when the decoder's container agrees (a
    WAV alias stays as sent), else the container's, so the receipt is stored and served as what
    it is (a WAV sent as audio/webm plays as a WAV). An unknown container keeps the declared type."""
    found = {CONTAINER_TYPES[name] for name in container.split(",") if name in CONTAINER_TYPES}
    if not found or AUDIO_TYPES[declared] in {AUDIO_TYPES[kind] for kind in found}:
        return declared
    chosen = min(found)
    logger.info("recording.type declared=%s decoded=%s stored=%s", declared, container, chosen)
    return chosen


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
