"""probe_audio: every frame decodes, the length is measured, and a cut-off tail is caught where the
container (or the recorder) states the length."""

import io
import subprocess

import pytest
from PIL import Image

from devtools.speech import make_mp4_aac, make_ogg_opus
from pipelines.audio_decode import probe_audio
from pipelines.errors import AudioDecodeError

LIMITS = {"max_bytes": 10**8, "max_seconds": 900.0}


def _mp3(source, path):
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-c:a", "libmp3lame",
                    "-b:a", "64k", str(path)], check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def encoded(scene_wav, scene_webm, speech_dir) -> dict[str, bytes]:
    return {
        "wav": scene_wav.read_bytes(),
        "webm": scene_webm.read_bytes(),
        "ogg": make_ogg_opus(scene_wav, speech_dir / "probe.ogg").read_bytes(),
        "m4a": make_mp4_aac(scene_wav, speech_dir / "probe.m4a").read_bytes(),
        "mp3": _mp3(scene_wav, speech_dir / "probe.mp3").read_bytes(),
    }


@pytest.mark.parametrize("kind", ["wav", "webm", "ogg", "m4a", "mp3"])
def test_whole_files_probe_to_their_length(encoded, kind):
    probe = probe_audio(encoded[kind], **LIMITS, expected_seconds=65.7)
    assert probe.duration_s == pytest.approx(65.7, abs=0.5)
    assert probe.sample_rate == 48_000 and probe.channels == 1


@pytest.mark.parametrize("kind, reason", [("wav", "WAV file is cut short"), ("webm", "its header states"),
                                          ("m4a", "could not be decoded")])
def test_a_cut_tail_is_caught_where_the_header_states_the_length(encoded, kind, reason):
    data = encoded[kind]
    with pytest.raises(AudioDecodeError, match=reason):
        probe_audio(data[: len(data) // 2], **LIMITS)


@pytest.mark.parametrize("kind", ["ogg", "mp3"])
def test_headerless_lengths_rely_on_the_recorders_measure(encoded, kind):
    cut = encoded[kind][: len(encoded[kind]) // 2]
    assert probe_audio(cut, **LIMITS).duration_s == pytest.approx(33, abs=2)  # nothing states the full length
    with pytest.raises(AudioDecodeError, match="the recorder measured 65.7 s"):
        probe_audio(cut, **LIMITS, expected_seconds=65.7)


def test_an_image_is_not_audio():
    png = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 80, 40)).save(png, format="PNG")
    with pytest.raises(AudioDecodeError, match="no audio stream"):
        probe_audio(png.getvalue(), **LIMITS)
