"""One spoken caption end to end: decode once, check the audio, transcribe, check the transcript."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.asr import Transcriber, get_transcriber
from pipelines.audio import FLAG_SILENT, AudioPolicy, AudioReport, analyse_decoded, check_transcript_audio
from pipelines.audio_decode import decode_audio
from pipelines.timing import PhaseTimer
from pipelines.transcript import AsrTranscript


@dataclass(frozen=True, kw_only=True)
class RecordingResult:
    report: AudioReport
    transcript: AsrTranscript | None  # None when the audio is silent: there is nothing to transcribe
    timings_ms: dict[str, float]


def process_recording(
    data: bytes | Path, *, policy: AudioPolicy, transcriber: Transcriber | None = None
) -> RecordingResult:
    """Decode, check and transcribe one recording; AudioDecodeError propagates with its reason."""
    timer = PhaseTimer()
    with timer.phase("decode"):
        audio = decode_audio(data, max_bytes=policy.max_bytes, max_seconds=policy.decode_limit_seconds)
    with timer.phase("checks"):
        report = analyse_decoded(audio, policy=policy)
    if FLAG_SILENT in report.flags:
        return RecordingResult(report=report, transcript=None, timings_ms=timer.timings_ms)
    with timer.phase("asr"):
        transcript = (transcriber or get_transcriber()).transcribe_samples(audio.samples)
    report = check_transcript_audio(
        report, word_count=transcript.word_count, language=transcript.language, policy=policy
    )
    return RecordingResult(report=report, transcript=transcript, timings_ms=timer.timings_ms)
