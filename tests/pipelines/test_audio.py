from pathlib import Path

import pytest

from devtools.speech import make_mp4_aac, make_ogg_opus, make_silence, make_tone
from pipelines.audio import (
    FLAG_MOSTLY_NON_SPEECH,
    FLAG_SILENT,
    FLAG_SPEAKING_RATE,
    FLAG_TOO_LONG,
    FLAG_TOO_SHORT,
    FLAG_WRONG_LANGUAGE,
    AudioDecodeError,
    AudioPolicy,
    analyse_audio,
    check_transcript_audio,
)
from pipelines.errors import SettingError

POLICY = AudioPolicy()


def test_scene_speech_passes_every_check(scene_wav):
    report = analyse_audio(scene_wav.read_bytes(), policy=POLICY)
    assert report.flags == ()
    assert 60.0 <= report.duration_s <= 90.0
    assert report.speech_ratio > 0.8
    assert -40.0 < report.rms_dbfs < 0.0
    assert report.source_sample_rate == 48_000
    assert report.codec == "pcm_s16le"


@pytest.mark.parametrize("encode, codec", [(make_ogg_opus, "opus"), (make_mp4_aac, "aac")])
def test_browser_formats_decode_with_the_same_measurements(scene_wav, speech_dir, encode, codec):
    encoded = encode(scene_wav, speech_dir / f"scene-{codec}.bin")
    report = analyse_audio(encoded, policy=POLICY)
    assert report.codec == codec
    assert report.duration_s == pytest.approx(65.7, abs=0.5)
    assert report.flags == ()


def test_webm_opus_decodes(scene_webm):
    report = analyse_audio(scene_webm.read_bytes(), policy=POLICY)
    assert "webm" in report.container and report.codec == "opus"
    assert report.speech_ratio > 0.8


def test_short_recording_is_flagged_too_short(scene_wav):
    report = analyse_audio(scene_wav, policy=AudioPolicy(min_seconds=70.0, max_seconds=100.0))
    assert FLAG_TOO_SHORT in report.flags


def test_long_recording_is_flagged_too_long(scene_wav):
    report = analyse_audio(scene_wav, policy=AudioPolicy(min_seconds=10.0, max_seconds=30.0))
    assert report.flags == (FLAG_TOO_LONG,)


def test_silence_is_flagged_silent(tmp_path):
    report = analyse_audio(make_silence(tmp_path / "silence.wav", seconds=61), policy=POLICY)
    assert FLAG_SILENT in report.flags
    assert report.speech_ratio == 0.0


def test_a_tone_is_loud_but_mostly_non_speech(tmp_path):
    report = analyse_audio(make_tone(tmp_path / "tone.wav", seconds=61), policy=POLICY)
    assert report.flags == (FLAG_MOSTLY_NON_SPEECH,)
    assert report.rms_dbfs > -20.0


def test_garbage_bytes_fail_with_a_readable_reason():
    with pytest.raises(AudioDecodeError) as caught:
        analyse_audio(b"this is not audio" * 100, policy=POLICY)
    assert caught.value.reason.startswith("The audio could not be decoded")


def test_empty_and_oversized_inputs_name_the_limit():
    with pytest.raises(AudioDecodeError, match="empty"):
        analyse_audio(b"", policy=POLICY)
    with pytest.raises(AudioDecodeError, match="over the limit of 1000 bytes"):
        analyse_audio(b"x" * 1001, policy=AudioPolicy(max_bytes=1000))


def test_truncated_webm_fails_or_reports_the_shorter_duration(scene_webm):
    data = scene_webm.read_bytes()
    try:
        report = analyse_audio(data[: len(data) // 3], policy=POLICY)
    except AudioDecodeError as error:
        assert error.reason
    else:
        assert FLAG_TOO_SHORT in report.flags


def test_transcript_checks_flag_language_and_speaking_rate(scene_wav):
    report = analyse_audio(scene_wav, policy=POLICY)
    good = check_transcript_audio(report, word_count=190, language="en", policy=POLICY)
    assert good.flags == () and 150 < good.words_per_minute < 220
    bad = check_transcript_audio(report, word_count=20, language="de", policy=POLICY)
    assert set(bad.flags) == {FLAG_WRONG_LANGUAGE, FLAG_SPEAKING_RATE}


def test_policy_rejects_inconsistent_limits():
    with pytest.raises(SettingError, match="min_seconds"):
        AudioPolicy(min_seconds=100.0, max_seconds=60.0)


def test_policy_reads_environment(monkeypatch):
    monkeypatch.setenv("PIXMO_AUDIO_MIN_SECONDS", "90")
    monkeypatch.setenv("PIXMO_AUDIO_LANGUAGE", "fr")
    policy = AudioPolicy.from_env()
    assert policy.min_seconds == 90.0 and policy.language == "fr"
    monkeypatch.setenv("PIXMO_AUDIO_MIN_SECONDS", "ninety")
    with pytest.raises(SettingError, match="PIXMO_AUDIO_MIN_SECONDS"):
        AudioPolicy.from_env()


def test_report_serialises_to_plain_types(scene_wav):
    record = analyse_audio(Path(scene_wav), policy=POLICY).to_dict()
    assert isinstance(record["flags"], list) and isinstance(record["duration_s"], float)
