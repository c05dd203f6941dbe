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

# Tokens that end an assistant turn in common chat templates; those in the model's vocabulary stop
# generation together with its EOS (SmolLM2: "<|im_end|>" is its EOS and its chat end).
_CHAT_END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>", "<|end|>")


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
        self.stop_token_ids = _stop_token_ids(self.tokenizer, self.model.generation_config)
        self.max_input_tokens = settings.max_input_tokens
        self.identity = {**identity, "backend": "local-transformers", "device": device}
        self._lock = threading.Lock()

    def chat(self, messages: list[ChatMessage], *, params: GenerationParams) -> ChatReply:
        start = time.perf_counter()
        inputs = self._encode(messages)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        earlier = [self._token_ids(m.content) for m in messages if m.role == "assistant"]
        with self._lock:
            output = self._generate(inputs, params=params, earlier_replies=earlier)
        completion = output[0][prompt_tokens:]
        text = self.tokenizer.decode(completion, skip_special_tokens=True).strip()
        stopped = len(completion) > 0 and int(completion[-1]) in self.stop_token_ids
        return ChatReply(
            text=text,
            model=self.identity,
            params=params.to_dict(),
            timings_ms={"generate": round((time.perf_counter() - start) * 1000.0, 1)},
            usage={"prompt_tokens": prompt_tokens, "completion_tokens": int(len(completion))},
            finish_reason="stop" if stopped else "length",
        )

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in this model's vocabulary (to size max_new_tokens from an input)."""
        return len(self._token_ids(text))

    def _token_ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

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

    def _generate(self, inputs, *, params: GenerationParams, earlier_replies: list[list[int]]):
        import torch

        sampling: dict[str, Any] = {"do_sample": False}
        if params.temperature > 0:
            torch.manual_seed(params.seed)
            sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p}
        with torch.inference_mode():
            return self.model.generate(
                **inputs,
                max_new_tokens=params.max_new_tokens,
                logits_processor=_reply_only_processors(
                    params, prompt_tokens=int(inputs["input_ids"].shape[1]), earlier_replies=earlier_replies
                ),
                eos_token_id=sorted(self.stop_token_ids),
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                **sampling,
            )


def _reply_only_processors(params: GenerationParams, *, prompt_tokens: int, earlier_replies: list[list[int]]):
    """Repetition control over the reply only. transformers' own `repetition_penalty` and
    `no_repeat_ngram_size` count the prompt too: they push the model away from the caption and
    transcript words it should copy, and penalise the chat end token (the prompt holds one after
    every turn), so the model stops later. bench/llm.py, 8 sample questions on the bundled model:
    with the prompt counted (penalty 1.1, the old decoding) 547 new tokens and no answer passed
    the guards; the guarded reply-only attempts wrote 244 and 7 passed."""
    from transformers import LogitsProcessorList, NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    class ReplyNoRepeatNGram(NoRepeatNGramLogitsProcessor):
        def __call__(self, input_ids, scores):
            return super().__call__(input_ids[:, prompt_tokens:], scores)

    processors = LogitsProcessorList()
    if params.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(float(params.repetition_penalty),
                                                           prompt_ignore_length=prompt_tokens))
    if params.no_repeat_ngram_size:
        processors.append(ReplyNoRepeatNGram(params.no_repeat_ngram_size))
    if params.earlier_reply_ngram_size and earlier_replies:
        processors.append(_EarlierReplyBan(earlier_replies, size=params.earlier_reply_ngram_size,
                                           prompt_tokens=prompt_tokens))
    return processors


class _EarlierReplyBan:
    """Bans the token that would complete an n-gram of an earlier assistant message, given the
    reply's last n-1 tokens: the reply cannot copy more than n-1 tokens in a row from one."""

    def __init__(self, earlier_replies: list[list[int]], *, size: int, prompt_tokens: int) -> None:
        self.size, self.prompt_tokens = size, prompt_tokens
        self.next_tokens: dict[tuple[int, ...], set[int]] = {}
        for ids in earlier_replies:
            for start in range(len(ids) - size + 1):
                self.next_tokens.setdefault(tuple(ids[start : start + size - 1]), set()).add(ids[start + size - 1])

    def __call__(self, input_ids, scores):
        for row in range(input_ids.shape[0]):
            reply = input_ids[row, self.prompt_tokens :].tolist()
            if len(reply) >= self.size - 1:
                banned = self.next_tokens.get(tuple(reply[len(reply) - self.size + 1 :]), ())
                scores[row, list(banned)] = -float("inf")
        return scores


def _stop_token_ids(tokenizer, generation_config) -> frozenset[int]:
    """The model's EOS ids (tokenizer and generation config) and the chat end tokens it knows."""
    configured = generation_config.eos_token_id
    ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    vocabulary = tokenizer.get_vocab()
    ids.update(vocabulary[token] for token in _CHAT_END_TOKENS if token in vocabulary)
    return frozenset(ids)


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
