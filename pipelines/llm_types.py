"""The text-only chat vocabulary: messages are strings, replies are strings.

There is deliberately no field through which an image (or any bytes) could reach a model:
`ChatMessage.content` must be `str`, checked at construction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from pipelines.errors import InputLimitError

Role = Literal["system", "user", "assistant"]
_ROLES = ("system", "user", "assistant")
MAX_MESSAGE_CHARS = 32_000


@dataclass(frozen=True, kw_only=True)
class ChatMessage:
    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in _ROLES:
            raise ValueError(f"Chat role {self.role!r} is not one of {', '.join(_ROLES)}.")
        if not isinstance(self.content, str):
            raise TypeError(f"Chat content must be text (str), not {type(self.content).__name__}.")
        if len(self.content) > MAX_MESSAGE_CHARS:
            raise InputLimitError(
                f"A chat message has {len(self.content)} characters, over the limit of {MAX_MESSAGE_CHARS}."
            )


@dataclass(frozen=True, kw_only=True)
class GenerationParams:
    max_new_tokens: int = 512
    temperature: float = 0.0  # 0.0: greedy decoding, deterministic
    top_p: float = 1.0
    seed: int = 0
    # Repetition control counts the reply's own tokens only, never the prompt's (an answer may quote
    # its caption); the HTTP backend sends neither (an OpenAI-compatible server has no such fields).
    repetition_penalty: float = 1.0  # > 1.0: a token the reply already holds is less likely again
    no_repeat_ngram_size: int = 0  # > 0: the reply never holds the same n tokens twice
    # > 0: the reply never repeats n tokens in a row of an earlier assistant message (a revision
    # that must not copy the answer it revises); local backend only
    earlier_reply_ngram_size: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.max_new_tokens <= 8192:
            raise InputLimitError(f"max_new_tokens={self.max_new_tokens} is outside 1..8192.")
        if self.temperature < 0:
            raise ValueError(f"temperature={self.temperature} must be >= 0.")
        if self.no_repeat_ngram_size < 0 or self.earlier_reply_ngram_size < 0:
            raise ValueError("no_repeat_ngram_size and earlier_reply_ngram_size must be >= 0.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class ChatReply:
    text: str
    model: dict[str, Any]  # identity: backend, name, revision or file hash
    params: dict[str, Any]
    timings_ms: dict[str, float]
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens, completion_tokens
    attempts: int = 1
    # "stop": the model ended its turn (EOS / chat end token); "length": it hit max_new_tokens and
    # was cut off; "": the backend did not say.
    finish_reason: str = ""


class ChatModel(Protocol):
    """Text in, text out. Implementations: local transformers, OpenAI-compatible HTTP."""

    identity: dict[str, Any]

    def chat(self, messages: list[ChatMessage], *, params: GenerationParams) -> ChatReply: ...
