"""The decoder-only LLM: any Hugging Face causal LM from a local folder (optionally a GGUF file
in it), or one built randomly from its config."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# OLMo-1B shaped, the default; a real run points `path` at a local checkpoint instead (more
# shapes in training.presets)
LLAMA_1B = {
    "model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 16,
    "num_key_value_heads": 16, "vocab_size": 50304, "max_position_embeddings": 4096, "tie_word_embeddings": False,
}  # fmt: skip


@dataclass
class LanguageConfig:
    path: str | None = None  # local HF folder; None = random init from hf_config
    gguf_file: str | None = None  # a GGUF file name inside `path` (dequantised on load)
    hf_config: dict = field(default_factory=lambda: dict(LLAMA_1B))
    # dropout on what each block adds to the residual stream (PIXMO_SPEC §4: 0.1; caption tokens
    # only in pre-training, everywhere in SFT); training mode only
    residual_dropout: float = 0.1

    def __post_init__(self):
        if not 0 <= self.residual_dropout < 1:
            raise ValueError(f"residual_dropout={self.residual_dropout} must be in [0, 1)")
        if self.path is None and "model_type" not in self.hf_config:
            raise ValueError("language hf_config needs a model_type (e.g. llama) when path is unset")
        if self.path is not None and not Path(self.path).is_dir():
            raise ValueError(
                f"language.path={self.path} is not a folder; set it to a local Hugging Face model"
            )

    @property
    def hidden_size(self) -> int:
        return self.hf_config["hidden_size"]


RESIDUAL_BRANCHES = ("self_attn.o_proj", "mlp.down_proj")  # the last linear of each residual branch


class ResidualDropout:
    """Dropout on the LLM's residual branches, which Hugging Face decoders do not expose: forward
    hooks on every decoder layer's attention output projection and MLP down projection. Active only
    while the hooked layer is in training mode; `where` (bool [B, T], set by the caller around one
    forward) limits it to those positions, None = every position."""

    def __init__(self, llm: nn.Module, rate: float):
        self.rate, self.where = rate, None
        if rate == 0:
            return
        for i, layer in enumerate(llm.get_decoder().layers):
            for name in RESIDUAL_BRANCHES:
                try:
                    branch = layer.get_submodule(name)
                except AttributeError as e:
                    raise ValueError(
                        f"residual_dropout needs {name} in every decoder layer; layer {i} has none "
                        "(set language.residual_dropout = 0 for this LLM)"
                    ) from e
                branch.register_forward_hook(self._hook)

    @contextlib.contextmanager
    def at(self, where: torch.Tensor | None):
        self.where = where
        try:
            yield
        finally:
            self.where = None

    def _hook(self, module: nn.Module, inputs, output: torch.Tensor) -> torch.Tensor | None:
        if not module.training:
            return None
        dropped = F.dropout(output, self.rate, training=True)
        if self.where is None:
            return dropped
        return torch.where(self.where.unsqueeze(-1), dropped, output)


def load_language_model(config: LanguageConfig) -> nn.Module:
    """Pretrained weights from `config.path`; records the model's config in `config.hf_config`."""
    from transformers import AutoModelForCausalLM

    if config.path is None:
        return build_language_model(config)
    kwargs = {"gguf_file": config.gguf_file} if config.gguf_file else {}
    model = AutoModelForCausalLM.from_pretrained(
        config.path, attn_implementation="sdpa", dtype="float32", **kwargs
    )
    config.hf_config = model.config.to_dict()
    return model


def build_language_model(config: LanguageConfig) -> nn.Module:
    from transformers import AutoConfig, AutoModelForCausalLM

    hf = dict(config.hf_config)
    hf_config = AutoConfig.for_model(hf.pop("model_type"), **hf)
    return AutoModelForCausalLM.from_config(hf_config, attn_implementation="sdpa")


def load_tokenizer_for(config: LanguageConfig, llm_vocab_size: int):
    from training.tokenizer import Tokenizer, byte_level_tokenizer

    if config.path is None:
        return Tokenizer(byte_level_tokenizer(), llm_vocab_size)
    return Tokenizer.load(config.path, llm_vocab_size, gguf_file=config.gguf_file)
