"""The text-only LLM: `get_chat_model()` picks a backend from PIXMO_LLM_* settings.

Every backend takes `ChatMessage`s (text only) and returns a `ChatReply` (text plus model
identity, parameters and timings). There is no code path by which an image reaches it.
"""

from __future__ import annotations

import threading

from pipelines.llm_settings import BUNDLED_LLM, LlmSettings
from pipelines.llm_types import ChatMessage, ChatModel, ChatReply, GenerationParams

__all__ = [
    "BUNDLED_LLM",
    "ChatMessage",
    "ChatModel",
    "ChatReply",
    "GenerationParams",
    "LlmSettings",
    "get_chat_model",
    "token_count",
]

_models: dict[LlmSettings, ChatModel] = {}
_models_lock = threading.Lock()


def get_chat_model(settings: LlmSettings | None = None) -> ChatModel:
    """The process's chat model for `settings` (default: from the environment), built on first use."""
    settings = settings or LlmSettings.from_env()
    with _models_lock:
        if settings not in _models:
            _models[settings] = _build(settings)
        return _models[settings]


def _build(settings: LlmSettings) -> ChatModel:
    if settings.backend == "openai":
        from pipelines.llm_http import HttpChatModel

        return HttpChatModel(settings=settings)
    from pipelines.llm_local import LocalChatModel

    return LocalChatModel(settings=settings)


def token_count(chat_model: ChatModel, text: str) -> int:
    """Tokens `text` takes for `chat_model`: exact where the model has a tokenizer here (the local
    backend's `count_tokens`), else an estimate of one token per 3.5 characters, which English text
    stays under in the common 32k–150k vocabularies, so a budget sized from it errs long."""
    count = getattr(chat_model, "count_tokens", None)
    return int(count(text)) if callable(count) else -(-len(text) * 2 // 7)
