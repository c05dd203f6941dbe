"""Shared fixtures: espeak-ng speech made once per session, one real Whisper and one real LLM."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devtools.speech import make_scene_speech, make_webm_opus

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def scene_wav(speech_dir) -> Path:
    return make_scene_speech(speech_dir / "scene.wav", seconds_min=60, sample_rate=48_000)


@pytest.fixture(scope="session")
def scene_webm(scene_wav, speech_dir) -> Path:
    return make_webm_opus(scene_wav, speech_dir / "scene.webm")


@pytest.fixture(scope="session")
def transcriber():
    from pipelines.asr import AsrSettings, get_transcriber

    return get_transcriber(AsrSettings())


@pytest.fixture(scope="session")
def chat_model():
    from pipelines.llm import LlmSettings, get_chat_model

    return get_chat_model(LlmSettings())
