"""Decode browser and file audio (webm/ogg opus, mp4/aac, wav, flac, mp3) with PyAV.

`decode_audio` outputs mono float32 at 16 kHz, the rate Whisper and the voice-activity model
expect. `probe_audio` decodes every frame without resampling, to prove that an upload is whole,
decodable audio and to measure it, cheaply enough to run inside the upload request.
`remux_with_duration` rewrites a WebM that states no length (what Chromium's MediaRecorder
writes) into one that does, packet for packet, so that audio players show its length.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.errors import AudioDecodeError

ANALYSIS_SAMPLE_RATE = 16_000

# Containers whose header states the length of what was written (Matroska/WebM Duration, the MP4
# moov box, FLAC STREAMINFO), so that decoding less than that means the file was cut short. Ogg's
# length is read from its last page and MP3/ADTS lengths are estimated from the bitrate: neither
# says anything about a missing tail. WAV is checked on its RIFF sizes instead (_check_riff_size).
HEADER_LENGTH_FORMATS = ("matroska", "webm", "mov", "mp4", "flac")
# A stated length (header or browser timer) may exceed the decoded one by this much before the
# file counts as cut short: encoder priming, the browser's clock starting before the first frame.
TRUNCATION_SLACK_S = 2.0
TRUNCATION_SLACK_FRACTION = 0.05


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
    with _first_audio_stream(_read_payload(data, max_bytes=max_bytes)) as (container, stream):
        samples = _decode_stream(container, stream, max_seconds=max_seconds)
        return DecodedAudio(
            samples=samples,
            container=container.format.name,
            codec=stream.codec_context.name,
            source_sample_rate=int(stream.codec_context.sample_rate or 0),
            source_channels=int(stream.codec_context.channels or 0),
        )


@dataclass(frozen=True, kw_only=True)
class AudioProbe:
    duration_s: float  # decoded samples / their sample rate
    declared_s: float | None  # the length the container's header states, where it states one
    container: str
    codec: str
    sample_rate: int
    channels: int


def probe_audio(
    data: bytes | Path, *, max_bytes: int, max_seconds: float, expected_seconds: float | None = None
) -> AudioProbe:
    """Decode every frame of the first audio stream and measure it; raise AudioDecodeError when
    the bytes are not audio, do not decode, or are cut short of the length their header states
    (or `expected_seconds`, the length the recorder measured, when given)."""
    payload = _read_payload(data, max_bytes=max_bytes)
    _check_riff_size(payload)
    with _first_audio_stream(payload) as (container, stream):
        duration = _decoded_seconds(container, stream, max_seconds=max_seconds)
        declared = _declared_seconds(container)
        probe = AudioProbe(
            duration_s=round(duration, 3),
            declared_s=None if declared is None else round(declared, 3),
            container=container.format.name,
            codec=stream.codec_context.name,
            sample_rate=int(stream.codec_context.sample_rate or 0),
            channels=int(stream.codec_context.channels or 0),
        )
    _check_not_cut_short(probe.duration_s, stated=probe.declared_s, by="its header states")
    _check_not_cut_short(probe.duration_s, stated=expected_seconds, by="the recorder measured")
    return probe


def remux_with_duration(data: bytes) -> bytes | None:
    """The same audio packets in a WebM whose header states the duration and has seek cues, or
    None when `data` needs no rewrite (it is not Matroska/WebM, or its header already states a
    length). Nothing is decoded or re-encoded: a few milliseconds for minutes of audio."""
    import av

    with _first_audio_stream(data) as (source, stream):
        if not set(source.format.name.split(",")) & {"matroska", "webm"} or source.duration is not None:
            return None
        if stream.codec_context.name not in ("opus", "vorbis"):
            return None  # WebM holds only Opus and Vorbis audio; other codecs are left as they came
        buffer = io.BytesIO()
        try:
            with av.open(buffer, mode="w", format="webm") as target:
                copy = target.add_stream_from_template(stream)
                for packet in source.demux(stream):
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = copy
                    target.mux(packet)
        except (av.error.FFmpegError, ValueError) as error:
            detail = getattr(error, "strerror", None) or str(error)
            raise AudioDecodeError(f"The audio could not be rewritten with its length ({detail}).") from error
    return buffer.getvalue()


@contextmanager
def _first_audio_stream(payload: bytes) -> Iterator[tuple]:
    """The open container and its first audio stream; FFmpeg errors become AudioDecodeError."""
    import av  # heavy native library: imported where it is used

    try:
        with av.open(io.BytesIO(payload), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                kind = container.format.long_name or container.format.name
                raise AudioDecodeError(f"The file holds no audio stream (it reads as {kind}).")
            yield container, container.streams.audio[0]
    except AudioDecodeError:
        raise
    except (av.error.FFmpegError, ValueError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise AudioDecodeError(f"The audio could not be decoded ({detail}).") from error


def _decoded_seconds(container, stream, *, max_seconds: float) -> float:
    seconds = 0.0
    for frame in container.decode(stream):
        seconds += frame.samples / frame.sample_rate if frame.sample_rate else 0.0
        if seconds > max_seconds:
            raise AudioDecodeError(f"The audio is longer than the decode limit of {max_seconds:.0f} s.")
    if seconds <= 0:
        raise AudioDecodeError("The audio stream holds no decodable samples.")
    return seconds


def _declared_seconds(container) -> float | None:
    names = set(container.format.name.split(","))
    if container.duration is None or not names & set(HEADER_LENGTH_FORMATS):
        return None
    return container.duration / 1_000_000  # AV_TIME_BASE: microseconds


def _check_riff_size(payload: bytes) -> None:
    """A WAV whose RIFF header counts more bytes than arrived was cut short (FFmpeg would quietly
    decode the part that is there). 0 and 0xFFFFFFFF are what streaming writers leave: unknown."""
    if payload[:4] != b"RIFF" or payload[8:12] != b"WAVE" or len(payload) < 12:
        return
    stated = int.from_bytes(payload[4:8], "little") + 8
    if payload[4:8] not in (b"\0\0\0\0", b"\xff\xff\xff\xff") and stated > len(payload):
        raise AudioDecodeError(
            f"The WAV file is cut short: its header counts {stated:,} bytes but {len(payload):,} arrived."
        )


def _check_not_cut_short(decoded_s: float, *, stated: float | None, by: str) -> None:
    if stated is None:
        return
    if decoded_s < stated - max(TRUNCATION_SLACK_S, TRUNCATION_SLACK_FRACTION * stated):
        raise AudioDecodeError(f"The audio is cut short: {by} {stated:.1f} s, but only {decoded_s:.1f} s decode.")


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
