"""Voice activity: the fraction of a recording that is speech, by the Silero VAD model
that faster-whisper ships (ONNX, runs on CPU in well under a second per minute of audio)."""

from __future__ import annotations

import numpy as np

from pipelines.audio_decode import ANALYSIS_SAMPLE_RATE

# Short pauses between phrases count as speech: a described scene has natural breaths.
_MIN_SILENCE_MS = 300
_SPEECH_PAD_MS = 30


def speech_seconds(samples: np.ndarray, *, threshold: float = 0.5) -> float:
    """Seconds of `samples` (mono float32, 16 kHz) that the VAD model marks as speech."""
    if len(samples) == 0:
        return 0.0
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_silence_duration_ms=_MIN_SILENCE_MS, speech_pad_ms=_SPEECH_PAD_MS)
    spans = get_speech_timestamps(samples, vad_options=options, sampling_rate=ANALYSIS_SAMPLE_RATE)
    return sum(span["end"] - span["start"] for span in spans) / ANALYSIS_SAMPLE_RATE
