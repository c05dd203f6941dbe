"""Vision backbone: any Hugging Face vision tower (CLIP, SigLIP) from a local folder or built
randomly from its config, or the EfficientNet-Lite0 CNN (real ImageNet weights from a package);
either returns the concatenated features of two of its layers per patch."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from training.efficientnet import EfficientNetLite0, load_lite0

CLIP_L14_336 = {
    "model_type": "clip_vision_model", "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
    "num_attention_heads": 16, "image_size": 336, "patch_size": 14, "hidden_act": "quick_gelu",
}  # fmt: skip

KINDS = ("hf", "efficientnet_lite0")


@dataclass
class VisionConfig:
    kind: str = "hf"  # hf: a Hugging Face vision tower | efficientnet_lite0: the Lite0 CNN
    # hf: a local HF folder (a vision tower or a full CLIP/SigLIP); efficientnet_lite0: a .pth state
    # dict (the package's, see `presets.efficientnet_lite0()`); None = random init
    path: str | None = None
    hf_config: dict = field(default_factory=lambda: dict(CLIP_L14_336))  # hf only, used when path is None
    # hf: indices into hidden_states, i.e. from-last layer outputs; efficientnet_lite0: from-last
    # block outputs (of 16)
    feature_layers: tuple[int, ...] = (-3, -10)

    def __post_init__(self):
        self.feature_layers = tuple(self.feature_layers)
        if self.kind not in KINDS:
            raise ValueError(f"vision kind={self.kind!r} must be one of {KINDS}")
        if not self.feature_layers or any(i >= 0 for i in self.feature_layers):
            raise ValueError(f"feature_layers={self.feature_layers} must be negative (from-last) indices")
        if self.kind == "hf" and self.path is None and "model_type" not in self.hf_config:
            raise ValueError(
                "vision hf_config needs a model_type (e.g. clip_vision_model) when path is unset"
            )


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
    if config.kind == "efficientnet_lite0":
        return load_lite0(config.path)
    hf = AutoConfig.from_pretrained(config.path)
    tower = _tower_class(hf.model_type).from_pretrained(config.path, attn_implementation="sdpa")
    config.hf_config = tower.config.to_dict()
    return tower


def build_vision_tower(config: VisionConfig) -> nn.Module:
    from transformers import AutoConfig

    if config.kind == "efficientnet_lite0":
        return EfficientNetLite0()
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


class EfficientNetBackbone(nn.Module):
    """crops [N, 3, H, W] -> features [N, grid * grid, sum of the feature blocks' channels].

    The analogue of a ViT's per-patch features: each chosen block's feature map (stride 16 or 32)
    is resampled to the preprocessor's patch grid (area-averaged when larger, bilinear when
    smaller), and the maps are concatenated per patch, row-major like ViT patches."""

    def __init__(self, config: VisionConfig, tower: EfficientNetLite0, grid: int):
        super().__init__()
        self.config, self.tower, self.grid = config, tower, grid
        channels = tower.block_channels
        for i in config.feature_layers:
            if -i > len(channels):
                raise ValueError(f"feature layer {i} is out of range for {len(channels)} EfficientNet blocks")
        self.blocks = [len(channels) + i for i in config.feature_layers]
        self.out_dim = sum(channels[b] for b in self.blocks)
        tower.drop_after(max(self.blocks))

    def to_grid(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, h, w] -> [N, grid * grid, C]"""
        if x.shape[-1] >= self.grid and x.shape[-2] >= self.grid:
            x = F.adaptive_avg_pool2d(x, self.grid)
        else:
            x = F.interpolate(x, size=(self.grid, self.grid), mode="bilinear", align_corners=False)
        return x.flatten(2).transpose(1, 2)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        outs = self.tower.block_outputs(crops)
        return torch.cat([self.to_grid(outs[b]) for b in self.blocks], dim=-1)


def feature_dim(config: VisionConfig, tower: nn.Module) -> int:
    """Width of the concatenated per-patch features the backbone will return for `tower`."""
    if config.kind == "efficientnet_lite0":
        channels = tower.block_channels
        return sum(channels[i] for i in config.feature_layers)
    return tower.config.hidden_size * len(config.feature_layers)


def build_backbone(config: VisionConfig, tower: nn.Module, grid: int) -> nn.Module:
    """The backbone module for `tower`; `grid` is the preprocessor's patches per crop side."""
    if config.kind == "efficientnet_lite0":
        return EfficientNetBackbone(config, tower, grid)
    return VisionBackbone(config, tower)
