"""The OpenAI-compatible HTTP backend (vLLM, TGI, Ollama): timeouts, retries, a concurrency limit."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from pipelines.errors import LlmError
from pipelines.llm_settings import LlmSettings
from pipelines.llm_types import ChatMessage, ChatReply, GenerationParams

_RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class HttpChatModel:
    """POSTs to `{url}/chat/completions`. Thread-safe; at most `concurrency` requests in flight."""

    def __init__(self, *, settings: LlmSettings) -> None:
        import requests

        self.settings = settings
        self.endpoint = settings.url.rstrip("/") + "/chat/completions"
        self.identity = {"backend": "openai-http", "name": settings.model, "url": settings.url}
        self._session = requests.Session()
        self._slots = threading.BoundedSemaphore(settings.concurrency)

    def chat(self, messages: list[ChatMessage], *, params: GenerationParams) -> ChatReply:
        payload = _payload(messages, model=self.settings.model, params=params)
        start = time.perf_counter()
        body, attempts = self._post_with_retries(payload)
        text = _reply_text(body)
        identity = {
            **self.identity,
            "served_model": body.get("model"),
            "system_fingerprint": body.get("system_fingerprint"),
        }
        usage = body.get("usage") or {}
        return ChatReply(
            text=text.strip(),
            model=identity,
            params=params.to_dict(),
            timings_ms={"request": round((time.perf_counter() - start) * 1000.0, 1)},
            usage={key: int(usage[key]) for key in ("prompt_tokens", "completion_tokens") if key in usage},
            attempts=attempts,
            finish_reason=_finish_reason(body),
        )

    def _post_with_retries(self, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        last_reason = ""
        for attempt in range(1, self.settings.max_retries + 2):
            if attempt > 1:
                time.sleep(self._backoff_s(attempt))
            outcome = self._post_once(payload)
            if isinstance(outcome, dict):
                return outcome, attempt
            retryable, last_reason = outcome
            if not retryable:
                break
        raise LlmError(f"The LLM server at {self.endpoint} did not answer: {last_reason}.")

    def _post_once(self, payload: dict[str, Any]) -> dict[str, Any] | tuple[bool, str]:
        """The JSON body, or (retryable, reason) on failure."""
        import requests

        headers = {"Authorization": f"Bearer {self.settings.api_key}"} if self.settings.api_key else {}
        with self._slots:
            try:
                response = self._session.post(
                    self.endpoint, json=payload, headers=headers, timeout=self.settings.timeout_s
                )
            except requests.Timeout:
                return True, f"no reply within PIXMO_LLM_TIMEOUT_S={self.settings.timeout_s} s"
            except requests.ConnectionError as error:
                return True, f"connection failed ({error.__class__.__name__})"
        if response.status_code != 200:
            return response.status_code in _RETRYABLE_STATUS, f"HTTP {response.status_code} {response.text[:200]!r}"
        try:
            return response.json()
        except ValueError:
            return False, "the reply is not JSON"

    def _backoff_s(self, attempt: int) -> float:
        """Exponential backoff with up to 25 % jitter, so retrying workers do not stampede."""
        base = self.settings.backoff_s * 2 ** (attempt - 2)
        return base * (1.0 + 0.25 * random.random())


def _payload(messages: list[ChatMessage], *, model: str, params: GenerationParams) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": message.role, "content": message.content} for message in messages],
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "seed": params.seed,
    }


def _reply_text(body: dict[str, Any]) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as error:
        raise LlmError("The LLM server's reply has no choices[0].message.content.") from error
    if not isinstance(content, str):
        raise LlmError("The LLM server's reply content is not text.")
    return content


def _finish_reason(body: dict[str, Any]) -> str:
    """"stop" or "length" as the server states it ("" when it does not)."""
    try:
        reason = body["choices"][0].get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return reason if reason in ("stop", "length") else ""
