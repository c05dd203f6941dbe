"""Audio checks for a spoken caption: decode, measure, and flag against the project's policy.

`analyse_audio` runs before ASR (duration, loudness, speech ratio); `check_transcript_audio`
runs after it (speaking rate, language). Flags are stable strings the review pages show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.audio_decode import DecodedAudio, decode_audio
from pipelines.env import env_float, env_int, env_str
from pipelines.errors import AudioDecodeError, SettingError
from pipelines.vad import speech_seconds

__all__ = [
    "AudioDecodeError",
    "AudioPolicy",
    "AudioReport",
    "FLAG_MOSTLY_NON_SPEECH",
    "FLAG_SILENT",
    "FLAG_SPEAKING_RATE",
    "FLAG_TOO_LONG",
    "FLAG_TOO_SHORT",
    "FLAG_WRONG_LANGUAGE",
    "analyse_audio",
    "analyse_decoded",
    "check_transcript_audio",
]

FLAG_TOO_SHORT = "too_short"
FLAG_TOO_LONG = "too_long"
FLAG_SILENT = "silent"
FLAG_MOSTLY_NON_SPEECH = "mostly_non_speech"
FLAG_WRONG_LANGUAGE = "wrong_language"
FLAG_SPEAKING_RATE = "speaking_rate_out_of_range"

_DBFS_FLOOR = -120.0


@dataclass(frozen=True, kw_only=True)
class AudioPolicy:
    min_seconds: float = 60.0
    max_seconds: float = 180.0
    silence_dbfs: float = -50.0  # RMS over the whole file below this is "silent"
    min_speech_ratio: float = 0.5  # VAD speech seconds / duration
    language: str = "en"  # expected ISO 639-1 code; "" accepts any
    min_words_per_minute: float = 50.0
    max_words_per_minute: float = 260.0
    max_bytes: int = 50 * 1024 * 1024
    decode_limit_seconds: float = 900.0  # decoding stops (and fails) past this

    def __post_init__(self) -> None:
        if not 0 < self.min_seconds <= self.max_seconds <= self.decode_limit_seconds:
            raise SettingError(
                f"Audio policy needs 0 < min_seconds ({self.min_seconds}) <= max_seconds ({self.max_seconds})"
                f" <= decode_limit_seconds ({self.decode_limit_seconds})."
            )
        if not 0.0 <= self.min_speech_ratio <= 1.0:
            raise SettingError(f"Audio policy min_speech_ratio={self.min_speech_ratio} is outside 0..1.")

    @classmethod
    def from_env(cls) -> AudioPolicy:
        return cls(
            min_seconds=env_float(name="PIXMO_AUDIO_MIN_SECONDS", default=60.0, minimum=0.1),
            max_seconds=env_float(name="PIXMO_AUDIO_MAX_SECONDS", default=180.0, minimum=0.1),
            silence_dbfs=env_float(name="PIXMO_AUDIO_SILENCE_DBFS", default=-50.0),
            min_speech_ratio=env_float(name="PIXMO_AUDIO_MIN_SPEECH_RATIO", default=0.5, minimum=0.0),
            language=env_str(name="PIXMO_AUDIO_LANGUAGE", default="en"),
            max_bytes=env_int(name="PIXMO_AUDIO_MAX_BYTES", default=50 * 1024 * 1024, minimum=1),
        )


@dataclass(frozen=True, kw_only=True)
class AudioReport:
    duration_s: float
    rms_dbfs: float
    peak_dbfs: float
    speech_seconds: float
    speech_ratio: float
    container: str
    codec: str
    source_sample_rate: int
    source_channels: int
    flags: tuple[str, ...] = ()
    words_per_minute: float | None = None  # after ASR
    language: str | None = None  # after ASR

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["flags"] = list(self.flags)
        return record


def analyse_audio(data: bytes | Path, *, policy: AudioPolicy) -> AudioReport:
    """Decode and measure a recording; raise AudioDecodeError when it does not decode."""
    return analyse_decoded(_decode(data, policy=policy), policy=policy)


def _decode(data: bytes | Path, *, policy: AudioPolicy) -> DecodedAudio:
    return decode_audio(data, max_bytes=policy.max_bytes, max_seconds=policy.decode_limit_seconds)


def analyse_decoded(audio: DecodedAudio, *, policy: AudioPolicy) -> AudioReport:
    """Measure already-decoded audio, so a worker decodes once for checks and ASR."""
    rms_dbfs, peak_dbfs = _loudness_dbfs(audio.samples)
    silent = rms_dbfs < policy.silence_dbfs
    speech = 0.0 if silent else speech_seconds(audio.samples)
    ratio = speech / audio.duration_s if audio.duration_s > 0 else 0.0
    report = AudioReport(
        duration_s=round(audio.duration_s, 3),
        rms_dbfs=round(rms_dbfs, 1),
        peak_dbfs=round(peak_dbfs, 1),
        speech_seconds=round(speech, 2),
        speech_ratio=round(ratio, 3),
        container=audio.container,
        codec=audio.codec,
        source_sample_rate=audio.source_sample_rate,
        source_channels=audio.source_channels,
    )
    return replace(report, flags=_audio_flags(report, policy=policy))


def _loudness_dbfs(samples: np.ndarray) -> tuple[float, float]:
    """RMS and peak level in dBFS (0 dBFS = full scale), floored at -120 for digital silence."""
    if len(samples) == 0:
        return _DBFS_FLOOR, _DBFS_FLOOR
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    peak = float(np.max(np.abs(samples)))
    return _to_dbfs(rms), _to_dbfs(peak)


def _to_dbfs(level: float) -> float:
    return max(_DBFS_FLOOR, 20.0 * float(np.log10(level))) if level > 0 else _DBFS_FLOOR


def _audio_flags(report: AudioReport, *, policy: AudioPolicy) -> tuple[str, ...]:
    flags = []
    if report.duration_s < policy.min_seconds:
        flags.append(FLAG_TOO_SHORT)
    if report.duration_s > policy.max_seconds:
        flags.append(FLAG_TOO_LONG)
    if report.rms_dbfs < policy.silence_dbfs:
        flags.append(FLAG_SILENT)
    elif report.speech_ratio < policy.min_speech_ratio:
        flags.append(FLAG_MOSTLY_NON_SPEECH)
    return tuple(flags)


def check_transcript_audio(report: AudioReport, *, word_count: int, language: str, policy: AudioPolicy) -> AudioReport:
    """Add speaking rate (words per minute of speech) and language, with their flags."""
    minutes = (report.speech_seconds or report.duration_s) / 60.0
    wpm = round(word_count / minutes, 1) if minutes > 0 else 0.0
    flags = list(report.flags)
    if policy.language and language and language != policy.language:
        flags.append(FLAG_WRONG_LANGUAGE)
    if word_count and not policy.min_words_per_minute <= wpm <= policy.max_words_per_minute:
        flags.append(FLAG_SPEAKING_RATE)
    return replace(report, words_per_minute=wpm, language=language, flags=tuple(dict.fromkeys(flags)))
