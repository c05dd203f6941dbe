"""The molmo2 family's model configuration and its presets (PIXMO_SPEC §5).

A run either starts from a local checkpoint folder (`TrainConfig.init_from`: a released Molmo2
folder such as allenai/Molmo2-4B, or a `RUN/model` this module exported) or builds a random
`Molmo2Config` from a preset: `tiny` trains on a CPU in seconds, `4b` and `8b` have the released
models' shapes (for throughput and memory checks; their weights come from a folder).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from training.molmo2.images import Molmo2ImageConfig

# The image and video special tokens sit just past the text vocabulary, in this order, as in the
# released tokenizers (151936 + 0 ... 151936 + 9).
IMAGE_TOKENS = (
    "<im_start>", "<im_end>", "<im_patch>", "<im_col>", "<low_res_im_start>", "<|image|>", "<im_low>",
    "<frame_start>", "<frame_end>", "<|video|>",
)  # fmt: skip
# Molmo2Config's token-id fields and the token each names
TOKEN_ID_FIELDS = {
    "image_start_token_id": "<im_start>", "image_end_token_id": "<im_end>", "image_patch_id": "<im_patch>",
    "low_res_image_start_token_id": "<low_res_im_start>", "frame_start_token_id": "<frame_start>",
    "frame_end_token_id": "<frame_end>",
}  # fmt: skip

# the tiny text vocabulary: 256 bytes, <|endoftext|>, <|im_start|>, <|im_end|> (training.molmo2.text)
TINY_VOCAB = 259


def _token_ids(vocab_size: int) -> dict[str, int]:
    first = {name: vocab_size + i for i, name in enumerate(IMAGE_TOKENS)}
    return {key: first[token] for key, token in TOKEN_ID_FIELDS.items()}


def _siglip_so400m_vit() -> dict:
    """The released ViT (SigLIP so400m, 378 px, 14 px patches), trimmed after layer 24, the
    deepest the adapter reads (transformers trims the hub config's 27 layers the same way)."""
    return {
        "hidden_size": 1152, "intermediate_size": 4304, "num_hidden_layers": 25, "num_attention_heads": 16,
        "num_key_value_heads": 16, "head_dim": 72, "image_size": [378, 378], "patch_size": 14,
    }  # fmt: skip


def tiny_config() -> dict:
    """A random Molmo2 of every part in miniature: 56 px crops of 14 px patches (4 x 4), a 3-layer
    ViT read at its last two layers, a 2-layer text model over the tiny byte vocabulary."""
    return {
        "vision_config": {
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3, "num_attention_heads": 2,
            "num_key_value_heads": 2, "head_dim": 16, "image_size": [56, 56], "patch_size": 14,
        },
        "adapter_config": {
            "vision_feature_layer": [2, 1], "hidden_size": 32, "num_attention_heads": 2, "num_key_value_heads": 2,
            "head_dim": 16, "intermediate_size": 64, "text_hidden_size": 64,
        },
        "text_config": {
            "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
            "vocab_size": TINY_VOCAB, "additional_vocab_size": 128, "num_hidden_layers": 2, "intermediate_size": 128,
            "max_position_embeddings": 4096, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6},
        },
        **_token_ids(TINY_VOCAB),
    }  # fmt: skip


def _released_shape(text_width: int, text_mlp: int, adapter_mlp: int, rope_theta: float) -> dict:
    """The released ViT and adapter read at layers 24 and 18, and a 36-layer Qwen3 text model of
    this width over the released vocabulary."""
    return {
        "vision_config": _siglip_so400m_vit(),
        "adapter_config": {
            "vision_feature_layer": [24, 18], "hidden_size": 1152, "num_attention_heads": 16,
            "num_key_value_heads": 16, "head_dim": 72, "intermediate_size": adapter_mlp, "text_hidden_size": text_width,
        },
        "text_config": {
            "hidden_size": text_width, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
            "vocab_size": 151936, "additional_vocab_size": 128, "num_hidden_layers": 36, "intermediate_size": text_mlp,
            "max_position_embeddings": 36864, "rope_parameters": {"rope_type": "default", "rope_theta": rope_theta},
        },
        **_token_ids(151936),
    }  # fmt: skip


def molmo2_4b_config() -> dict:
    """allenai/Molmo2-4B's shapes (its hub config.json): the released ViT + a Qwen3-4B text model."""
    return _released_shape(text_width=2560, text_mlp=9728, adapter_mlp=9728, rope_theta=5e6)


def molmo2_8b_config() -> dict:
    """allenai/Molmo2-8B's shapes: the released ViT + a Qwen3-8B text model (transformers'
    Molmo2TextConfig defaults, which are documented as Molmo2-8B's)."""
    return _released_shape(text_width=4096, text_mlp=12288, adapter_mlp=12288, rope_theta=1e6)


CONFIGS = {"tiny": tiny_config, "4b": molmo2_4b_config, "8b": molmo2_8b_config}
TINY_IMAGES = {
    "size": 56,
    "patch_size": 14,
    "max_crops": 4,
    "overlap_margins": (1, 1),
    "pooling_size": (2, 2),
}


@dataclass
class Molmo2ModelConfig:
    """`TrainConfig.model` of a molmo2 run. With `TrainConfig.init_from` the model, tokenizer,
    chat template and image settings come from that folder and `preset` is unused."""

    family: str = "molmo2"
    preset: str = "tiny"  # tiny | 4b | 8b: the random model built when there is no init_from
    # overrides of the preset's Molmo2Config dict, e.g. {"text_config": {"num_hidden_layers": 4}}
    overrides: dict = field(default_factory=dict)
    # image settings over the checkpoint's (or the preset's) preprocessor, e.g. {"max_crops": 12}
    images: dict = field(default_factory=dict)
    attn_implementation: str = "sdpa"  # packed 4D masks need sdpa or eager (flash ignores them)

    def __post_init__(self):
        if self.family != "molmo2":
            raise ValueError(f"model.family={self.family!r}: this configuration is the molmo2 family's")
        if self.preset not in CONFIGS:
            raise ValueError(f"unknown molmo2 preset {self.preset!r}; known: {', '.join(CONFIGS)}")
        if self.attn_implementation not in ("sdpa", "eager"):
            raise ValueError(
                f"model.attn_implementation={self.attn_implementation!r} must be sdpa or eager "
                "(packed sequences pass a 4D mask, which flash attention does not take)"
            )
        unknown = set(self.images) - set(Molmo2ImageConfig.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"model.images has no setting {', '.join(sorted(unknown))}; "
                f"settings: {', '.join(Molmo2ImageConfig.__dataclass_fields__)}"
            )

    def hf_config_dict(self) -> dict:
        config = copy.deepcopy(CONFIGS[self.preset]())
        return _deep_update(config, self.overrides)

    def image_config(self, base: Molmo2ImageConfig | None = None) -> Molmo2ImageConfig:
        from dataclasses import replace

        if base is None:
            base = Molmo2ImageConfig(**TINY_IMAGES) if self.preset == "tiny" else Molmo2ImageConfig()
        images = {k: tuple(v) if isinstance(v, list) else v for k, v in self.images.items()}
        return replace(base, **images)


def _deep_update(base: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value
    return base
