"""A second ASR backend loaded through PIXMO_ASR_BACKEND="module:factory": it wraps the real
faster-whisper backend and reverses the word order, so a test can tell which backend ran."""

from __future__ import annotations

import dataclasses

from pipelines.asr_faster_whisper import FasterWhisperBackend
from pipelines.asr_settings import AsrSettings


class ReversedWhisper:
    def __init__(self, *, settings: AsrSettings) -> None:
        self.inner = FasterWhisperBackend(settings=dataclasses.replace(settings, backend="faster-whisper"))
        self.identity = {**self.inner.identity, "backend": "reversed-faster-whisper"}

    def transcribe(self, samples):
        transcript = self.inner.transcribe(samples)
        return dataclasses.replace(transcript, text=" ".join(reversed(transcript.text.split())))


def build(*, settings: AsrSettings) -> ReversedWhisper:
    return ReversedWhisper(settings=settings)
