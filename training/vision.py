"""Vision backbone: any Hugging Face vision tower (CLIP, SigLIP) from a local folder or built
randomly from its config, returning the concatenated features of two of its layers per patch."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

CLIP_L14_336 = {
    "model_type": "clip_vision_model", "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
    "num_attention_heads": 16, "image_size": 336, "patch_size": 14, "hidden_act": "quick_gelu",
}  # fmt: skip
TINY_VIT = {
    "model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3,
    "num_attention_heads": 2, "image_size": 64, "patch_size": 8,
}  # fmt: skip


@dataclass
class VisionConfig:
    path: str | None = None  # local HF folder (a vision tower or a full CLIP/SigLIP); None = random init
    hf_config: dict = field(default_factory=lambda: dict(CLIP_L14_336))  # used when path is None
    feature_layers: tuple[int, ...] = (-3, -10)  # HF hidden_states indices, i.e. from-last layer outputs

    def __post_init__(self):
        self.feature_layers = tuple(self.feature_layers)
        if not self.feature_layers or any(i >= 0 for i in self.feature_layers):
            raise ValueError(
                f"feature_layers={self.feature_layers} must be negative indices into hidden_states"
            )
        if self.path is None and "model_type" not in self.hf_config:
            raise ValueError(
                "vision hf_config needs a model_type (e.g. clip_vision_model) when path is unset"
            )

    @classmethod
    def preset(cls, name: str) -> VisionConfig:
        if name == "tiny":
            return cls(hf_config=dict(TINY_VIT), feature_layers=(-1, -2))
        return cls()


def _tower_class(model_type: str):
    import transformers

    return {
        "clip": transformers.CLIPVisionModel,
        "clip_vision_model": transformers.CLIPVisionModel,
        "siglip": transformers.SiglipVisionModel,
        "siglip_vision_model": transformers.SiglipVisionModel,
    }.get(model_type, transformers.AutoModel)


def load_vision_tower(config: VisionConfig) -> nn.Module:
    """The pretrained tower at `config.path`; records its config in `config.hf_config` so a saved
    Molmo checkpoint can rebuild it without the original folder."""
    from transformers import AutoConfig

    if config.path is None:
        return build_vision_tower(config)
    hf = AutoConfig.from_pretrained(config.path)
    tower = _tower_class(hf.model_type).from_pretrained(config.path, attn_implementation="sdpa")
    config.hf_config = tower.config.to_dict()
    return tower


def build_vision_tower(config: VisionConfig) -> nn.Module:
    from transformers import AutoConfig

    hf = dict(config.hf_config)
    hf_config = AutoConfig.for_model(hf.pop("model_type"), **hf)
    return _tower_class(hf_config.model_type)._from_config(hf_config, attn_implementation="sdpa")


class VisionBackbone(nn.Module):
    """crops [N, 3, H, W] -> features [N, patches, len(feature_layers) * width]."""

    def __init__(self, config: VisionConfig, tower: nn.Module):
        super().__init__()
        self.config, self.tower = config, tower
        n_layers = tower.config.num_hidden_layers
        for i in config.feature_layers:
            if -i > n_layers + 1:
                raise ValueError(f"feature layer {i} is out of range for a {n_layers}-layer tower")
        self.width = tower.config.hidden_size
        self.out_dim = self.width * len(config.feature_layers)
        # hidden_states[0] is the embedding output, so layer k's output is hidden_states[k]
        self.absolute_layers = [n_layers + 1 + i for i in config.feature_layers]
        self._drop_unused(tower, max(self.absolute_layers))

    @staticmethod
    def _drop_unused(tower: nn.Module, keep_layers: int) -> None:
        """Layers past the deepest feature layer and the pooling head never reach the loss: drop
        them (saves compute, and DDP then sees no parameter without a gradient)."""
        body = getattr(tower, "vision_model", tower)
        layers = getattr(getattr(body, "encoder", None), "layers", None)
        if isinstance(layers, nn.ModuleList):
            del layers[keep_layers:]
        for name in ("post_layernorm", "head"):
            if isinstance(getattr(body, name, None), nn.Module):
                setattr(body, name, nn.Identity())

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        out = self.tower(pixel_values=crops, output_hidden_states=True)
        grid = self.tower.config.image_size // self.tower.config.patch_size
        # CLIP prepends a CLS token, SigLIP does not: keep the last grid*grid tokens
        feats = [out.hidden_states[k][:, -grid * grid :] for k in self.absolute_layers]
        return torch.cat(feats, dim=-1)
