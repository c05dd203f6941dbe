"""The local text LLM backend: a transformers causal LM in this process (CPU or CUDA)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from pipelines.env import cache_dir
from pipelines.errors import InputLimitError, ModelNotFoundError
from pipelines.llm_gguf_cache import bundled_gguf_path, dequantised_folder
from pipelines.llm_settings import BUNDLED_LLM, LlmSettings
from pipelines.llm_types import ChatMessage, ChatReply, GenerationParams
from pipelines.provenance import file_sha256


class LocalChatModel:
    """Holds one loaded model and tokenizer; generation is serialised by a lock (one model, many threads)."""

    def __init__(self, *, settings: LlmSettings) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, identity = _resolve_model(settings.model)
        if settings.threads:
            torch.set_num_threads(settings.threads)
        device = ("cuda" if torch.cuda.is_available() else "cpu") if settings.device == "auto" else settings.device
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModelForCausalLM.from_pretrained(folder).to(device).eval()
        self.device = device
        self.max_input_tokens = settings.max_input_tokens
        self.identity = {**identity, "backend": "local-transformers", "device": device}
        self._lock = threading.Lock()

    def chat(self, messages: list[ChatMessage], *, params: GenerationParams) -> ChatReply:
        start = time.perf_counter()
        inputs = self._encode(messages)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        with self._lock:
            output = self._generate(inputs, params=params)
        completion = output[0][prompt_tokens:]
        text = self.tokenizer.decode(completion, skip_special_tokens=True).strip()
        return ChatReply(
            text=text,
            model=self.identity,
            params=params.to_dict(),
            timings_ms={"generate": round((time.perf_counter() - start) * 1000.0, 1)},
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": int(len(completion))},
        )

    def _encode(self, messages: list[ChatMessage]):
        turns = [{"role": message.role, "content": message.content} for message in messages]
        inputs = self.tokenizer.apply_chat_template(
            turns, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        if inputs["input_ids"].shape[1] > self.max_input_tokens:
            raise InputLimitError(
                f"The prompt has {inputs['input_ids'].shape[1]} tokens, over PIXMO_LLM_MAX_INPUT_TOKENS"
                f"={self.max_input_tokens}."
            )
        return {key: value.to(self.device) for key, value in inputs.items()}

    def _generate(self, inputs, *, params: GenerationParams):
        import torch

        sampling: dict[str, Any] = {"do_sample": False}
        if params.temperature > 0:
            torch.manual_seed(params.seed)
            sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
        with torch.inference_mode():
            return self.model.generate(
                **inputs,
                max_new_tokens=params.max_new_tokens,
                repetition_penalty=params.repetition_penalty,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                **sampling,
            )


def _resolve_model(setting: str) -> tuple[Path, dict[str, Any]]:
    """(model folder to load, identity for provenance) for a PIXMO_LLM_MODEL value."""
    if setting == BUNDLED_LLM:
        gguf = bundled_gguf_path()
        return dequantised_folder(gguf, cache_root=cache_dir()), _gguf_identity(gguf)
    path = Path(setting).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return dequantised_folder(path, cache_root=cache_dir()), _gguf_identity(path)
    if path.is_dir() and (path / "config.json").is_file():
        return path, {"name": path.name, "path": str(path), "revision": _folder_revision(path)}
    raise ModelNotFoundError(
        f"PIXMO_LLM_MODEL={setting!r} is neither {BUNDLED_LLM!r}, a .gguf file nor a model folder with config.json."
    )


def _gguf_identity(gguf: Path) -> dict[str, Any]:
    return {"name": gguf.stem, "file": gguf.name, "sha256": file_sha256(gguf)}


def _folder_revision(folder: Path) -> str:
    """The sha256 of the folder's weight files (a local folder has no hub revision)."""
    weights = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    return "sha256:" + "".join(file_sha256(path)[:16] for path in weights)
