"""Synthetic spoken captions: espeak-ng reads a described scene aloud; also tones and silence.

Used by the pipelines, Celery and browser tests and by bench/asr.py. Everything is made locally
with espeak-ng, sox and ffmpeg (Debian packages); nothing is downloaded.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

# Answers the seven guiding questions of the caption protocol, in plain words espeak-ng
# pronounces clearly; about 66 s at 150 words per minute.
SCENE_TEXT = (
    "At first glance this is a photograph of a small kitchen on a sunny morning. "
    "There are three red apples in a white bowl on a wooden table, "
    "and two blue mugs stand next to the bowl. "
    "A black cat is sleeping on a green chair to the left of the table. "
    "On the wall there is a calendar, and the text on the calendar says June in large letters. "
    "Below the calendar hangs a round clock that shows ten past nine. "
    "On the right side of the image there is a tall window with white curtains, "
    "and bright light comes through the glass onto the floor. "
    "Near the window a small plant with long leaves grows in a yellow pot. "
    "The floor is made of grey tiles, and one tile near the door is cracked. "
    "A subtle detail is a silver spoon lying on the table beside the mugs, "
    "and a folded newspaper rests under the bowl. "
    "In the background there is an open door that leads to a hallway with a brown rug. "
    "The style of the photo is warm and natural, with soft shadows, "
    "and the main colors are red, white, blue and green. "
    "Overall the kitchen looks clean, quiet and comfortable."
)

ESPEAK_WORDS_PER_MINUTE = 150


def make_scene_speech(
    path: Path, *, seconds_min: float = 60.0, sample_rate: int = 48_000, text: str = SCENE_TEXT
) -> Path:
    """Write `text` spoken by espeak-ng to a mono 16-bit WAV at `sample_rate`; at least `seconds_min` long.

    The text is read again (after a pause) until the recording reaches `seconds_min`.
    """
    _require_tool("espeak-ng")
    _require_tool("sox")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", str(ESPEAK_WORDS_PER_MINUTE), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    repeats = max(1, int(-(-seconds_min // wav_seconds(raw))))
    sox = ["sox", str(raw), "-r", str(sample_rate), "-c", "1", "-b", "16", str(path)]
    if repeats > 1:
        sox += ["pad", "0", "0.5", "repeat", str(repeats - 1)]
    subprocess.run(sox, check=True, capture_output=True)
    raw.unlink()
    return path


def make_webm_opus(source: Path, path: Path, *, bitrate: str = "32k") -> Path:
    """Encode `source` as WebM/Opus (what Chrome's MediaRecorder produces) with ffmpeg."""
    return _ffmpeg(source, path, ["-c:a", "libopus", "-b:a", bitrate, "-f", "webm"])


def make_streamed_webm_opus(source: Path, path: Path, *, bitrate: str = "32k") -> Path:
    """Encode `source` as WebM/Opus written to a pipe, as Chromium's MediaRecorder writes it: the
    header states no duration and there are no seek cues (the muxer cannot go back to add them)."""
    _require_tool("ffmpeg")
    with open(path, "wb") as out:
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source), "-c:a", "libopus",
                        "-b:a", bitrate, "-f", "webm", "pipe:1"], check=True, stdout=out, stderr=subprocess.PIPE)
    return Path(path)


def make_ogg_opus(source: Path, path: Path) -> Path:
    """Encode `source` as Ogg/Opus (what Firefox's MediaRecorder produces) with ffmpeg."""
    return _ffmpeg(source, path, ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"])


def make_mp4_aac(source: Path, path: Path) -> Path:
    """Encode `source` as MP4/AAC (what Safari's MediaRecorder produces) with ffmpeg."""
    return _ffmpeg(source, path, ["-c:a", "aac", "-b:a", "64k", "-f", "mp4"])


def make_tone(path: Path, *, seconds: float, frequency_hz: float = 440.0, sample_rate: int = 48_000) -> Path:
    """A pure sine tone: loud, but not speech."""
    return _sox_synth(path, seconds=seconds, sample_rate=sample_rate, synth=["sine", str(frequency_hz)])


def make_silence(path: Path, *, seconds: float, sample_rate: int = 48_000) -> Path:
    """Digital silence of the given length."""
    _require_tool("sox")
    subprocess.run(
        ["sox", "-n", "-r", str(sample_rate), "-c", "1", "-b", "16", str(path), "trim", "0", str(seconds)],
        check=True,
        capture_output=True,
    )
    return Path(path)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / handle.getframerate()


def _sox_synth(path: Path, *, seconds: float, sample_rate: int, synth: list[str]) -> Path:
    _require_tool("sox")
    header = ["sox", "-n", "-r", str(sample_rate), "-c", "1", "-b", "16", str(path)]
    subprocess.run(
        [*header, "synth", str(seconds), *synth, "vol", "0.5"],
        check=True,
        capture_output=True,
    )
    return Path(path)


def _ffmpeg(source: Path, path: Path, codec_args: list[str]) -> Path:
    _require_tool("ffmpeg")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *codec_args, str(path)],
        check=True,
        capture_output=True,
    )
    return Path(path)


def _require_tool(name: str) -> None:
    if shutil.which(name) is None:
        raise RuntimeError(f"{name} is not installed; install the Debian package {name} to make speech.")


def wav_bytes(seconds: float = 61.0, *, sample_rate: int = 8000) -> bytes:
    """A mono 16-bit WAV tone in memory, long enough (by default) for a project's 60 s minimum."""
    import io

    import numpy as np

    times = np.arange(int(seconds * sample_rate)) / sample_rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 440.0 * times)).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(samples.tobytes())
    return buffer.getvalue()
