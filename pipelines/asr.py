"""Speech recognition: one lazily loaded model per worker process, text + timings + provenance.

Configured by PIXMO_ASR_* environment variables (see `AsrSettings`). Another engine
(openai-whisper, transformers' Whisper) plugs in by setting PIXMO_ASR_BACKEND to
"package.module:factory", where `factory(*, settings)` returns an object with
`identity: dict` and `transcribe(samples: np.ndarray) -> AsrTranscript`.
"""

from __future__ import annotations

import dataclasses
import importlib
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipelines.asr_settings import BUNDLED_MODEL, AsrSettings
from pipelines.audio import AudioPolicy
from pipelines.audio_decode import decode_audio
from pipelines.errors import SettingError
from pipelines.provenance import build_provenance
from pipelines.transcript import Segment, AsrTranscript, Word

__all__ = [
    "BUNDLED_MODEL",
    "AsrBackend",
    "AsrSettings",
    "Segment",
    "Transcriber",
    "AsrTranscript",
    "Word",
    "get_transcriber",
    "transcribe",
]


class AsrBackend(Protocol):
    identity: dict[str, Any]

    def transcribe(self, samples: np.ndarray) -> AsrTranscript: ...


class Transcriber:
    """A loaded backend plus the settings it was built with."""

    def __init__(self, *, settings: AsrSettings, backend: AsrBackend, load_ms: float) -> None:
        self.settings = settings
        self.backend = backend
        self.load_ms = load_ms

    def transcribe_samples(self, samples: np.ndarray) -> AsrTranscript:
        """Transcribe mono float32 16 kHz samples and attach the provenance record."""
        start = time.perf_counter()
        transcript = self.backend.transcribe(samples)
        asr_ms = round((time.perf_counter() - start) * 1000.0, 1)
        provenance = build_provenance(
            step="asr",
            model=self.backend.identity,
            params=self.settings.decoding_params(),
            timings_ms={"asr": asr_ms},
            extra={
                "audio_duration_s": transcript.duration_s,
                "temperature_fallbacks": transcript.temperature_fallbacks,
            },
        )
        return dataclasses.replace(transcript, provenance=provenance)


_transcribers: dict[AsrSettings, Transcriber] = {}
_transcribers_lock = threading.Lock()


def get_transcriber(settings: AsrSettings | None = None) -> Transcriber:
    """The process's transcriber for `settings` (default: from the environment), loaded on first use."""
    settings = settings or AsrSettings.from_env()
    with _transcribers_lock:
        if settings not in _transcribers:
            start = time.perf_counter()
            backend = _build_backend(settings)
            load_ms = round((time.perf_counter() - start) * 1000.0, 1)
            _transcribers[settings] = Transcriber(settings=settings, backend=backend, load_ms=load_ms)
        return _transcribers[settings]


def transcribe(
    audio: bytes | Path | np.ndarray, *, transcriber: Transcriber | None = None, policy: AudioPolicy | None = None
) -> AsrTranscript:
    """Transcribe encoded audio (bytes or a file) or mono float32 16 kHz samples."""
    transcriber = transcriber or get_transcriber()
    if not isinstance(audio, np.ndarray):
        policy = policy or AudioPolicy()
        audio = decode_audio(audio, max_bytes=policy.max_bytes, max_seconds=policy.decode_limit_seconds).samples
    return transcriber.transcribe_samples(audio)


def _build_backend(settings: AsrSettings) -> AsrBackend:
    if settings.backend == "faster-whisper":
        from pipelines.asr_faster_whisper import FasterWhisperBackend

        return FasterWhisperBackend(settings=settings)
    module_name, _, factory_name = settings.backend.partition(":")
    if not factory_name:
        raise SettingError(
            f"PIXMO_ASR_BACKEND={settings.backend!r} is neither 'faster-whisper' nor 'package.module:factory'."
        )
    try:
        factory = getattr(importlib.import_module(module_name), factory_name)
    except (ImportError, AttributeError) as error:
        raise SettingError(f"PIXMO_ASR_BACKEND={settings.backend!r} cannot be imported ({error}).") from error
    return factory(settings=settings)
