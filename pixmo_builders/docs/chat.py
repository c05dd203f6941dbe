"""The text-only chat interface the docs generator needs, and its adapter onto `pipelines.llm`."""

from __future__ import annotations

from typing import Protocol


class TextChat(Protocol):
    """Text in, text out. `identity` names the model for provenance."""

    identity: dict

    def chat(self, messages: list[dict[str, str]], *, max_new_tokens: int) -> str: ...


class PipelinesTextChat:
    """A `pipelines.llm` chat model (bundled SmolLM2 or an OpenAI-compatible endpoint), greedy."""

    def __init__(self, *, model) -> None:
        self.model = model
        self.identity = dict(model.identity)

    def chat(self, messages: list[dict[str, str]], *, max_new_tokens: int) -> str:
        from pipelines.llm import ChatMessage, GenerationParams

        turns = [ChatMessage(role=message["role"], content=message["content"]) for message in messages]
        return self.model.chat(
            turns, params=GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
        ).text


def default_text_chat() -> PipelinesTextChat:
    """The chat model the PIXMO_LLM_* settings choose (the bundled small model by default)."""
    from pipelines.llm import get_chat_model

    return PipelinesTextChat(model=get_chat_model())
