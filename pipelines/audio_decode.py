"""Decode browser and file audio (webm/ogg opus, mp4/aac, wav, flac, mp3) with PyAV.

Output is mono float32 at 16 kHz, the rate Whisper and the voice-activity model expect.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.errors import AudioDecodeError

ANALYSIS_SAMPLE_RATE = 16_000


@dataclass(frozen=True, kw_only=True)
class DecodedAudio:
    samples: np.ndarray  # float32, mono, ANALYSIS_SAMPLE_RATE Hz, range [-1, 1]
    container: str
    codec: str
    source_sample_rate: int
    source_channels: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / ANALYSIS_SAMPLE_RATE


def decode_audio(data: bytes | Path, *, max_bytes: int, max_seconds: float) -> DecodedAudio:
    """Decode the first audio stream; raise AudioDecodeError with a readable reason otherwise."""
    payload = _read_payload(data, max_bytes=max_bytes)
    import av  # heavy native library: imported where it is used

    try:
        with av.open(io.BytesIO(payload), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioDecodeError(f"The {container.format.name} file has no audio stream.")
            stream = container.streams.audio[0]
            samples = _decode_stream(container, stream, max_seconds=max_seconds)
            return DecodedAudio(
                samples=samples,
                container=container.format.name,
                codec=stream.codec_context.name,
                source_sample_rate=int(stream.codec_context.sample_rate or 0),
                source_channels=int(stream.codec_context.channels or 0),
            )
    except AudioDecodeError:
        raise
    except (av.error.FFmpegError, ValueError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise AudioDecodeError(f"The audio could not be decoded ({detail}).") from error


def _read_payload(data: bytes | Path, *, max_bytes: int) -> bytes:
    try:
        payload = Path(data).read_bytes() if isinstance(data, Path) else bytes(data)
    except OSError as error:
        raise AudioDecodeError(f"The audio file could not be read ({error.strerror}).") from error
    if not payload:
        raise AudioDecodeError("The audio file is empty (0 bytes).")
    if len(payload) > max_bytes:
        raise AudioDecodeError(f"The audio file is {len(payload)} bytes, over the limit of {max_bytes} bytes.")
    return payload


def _decode_stream(container, stream, *, max_seconds: float) -> np.ndarray:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=ANALYSIS_SAMPLE_RATE)
    max_samples = int(max_seconds * ANALYSIS_SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    for frame in container.decode(stream):
        for out in resampler.resample(frame):
            chunk = out.to_ndarray().reshape(-1)
            chunks.append(chunk)
            total += len(chunk)
        if total > max_samples:
            raise AudioDecodeError(f"The audio is longer than the decode limit of {max_seconds:.0f} s.")
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        raise AudioDecodeError("The audio stream holds no decodable samples.")
    return np.concatenate(chunks).astype(np.float32, copy=False)
