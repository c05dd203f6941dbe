"""The Molmo VLM glue: preprocessor geometry + vision backbone + connector + LLM, as a
`PreTrainedModel` so `save_pretrained` / `from_pretrained` round-trip.

Image features are *added* to the embeddings of the `<im_patch>` tokens; the image special
tokens embed from `new_embed`, a table separate from the LLM's so it trains with the connector.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel

from training.connector import Connector, ConnectorConfig
from training.language import LanguageConfig, ResidualDropout, build_language_model, load_language_model
from training.preprocessor import PreprocessorConfig
from training.tokenizer import SPECIAL_TOKENS
from training.vision import VisionConfig, build_backbone, build_vision_tower, feature_dim, load_vision_tower


@dataclass
class ModelConfig:
    preprocessor: PreprocessorConfig = field(default_factory=PreprocessorConfig)
    vision: VisionConfig = field(default_factory=VisionConfig)
    connector: ConnectorConfig = field(default_factory=ConnectorConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)

    def __post_init__(self):
        for name, cls in [("preprocessor", PreprocessorConfig), ("vision", VisionConfig),
                          ("connector", ConnectorConfig), ("language", LanguageConfig)]:  # fmt: skip
            if isinstance(getattr(self, name), dict):
                setattr(self, name, cls(**getattr(self, name)))
        if self.connector.pool != self.preprocessor.pool:
            raise ValueError(
                f"connector.pool={self.connector.pool} != preprocessor.pool={self.preprocessor.pool}"
            )


class MolmoConfig(PretrainedConfig):
    model_type = "pixmo_molmo"

    def __init__(self, molmo: dict | None = None, llm_vocab_size: int = 0, **kwargs):
        if molmo is None:  # transformers builds a default config to diff saved ones against
            from training.presets import tiny_model  # presets imports this module

            molmo = asdict(tiny_model())
        self.molmo = molmo
        self.llm_vocab_size = llm_vocab_size
        super().__init__(**kwargs)

    @property
    def parts(self) -> ModelConfig:
        return ModelConfig(**self.molmo)


class MolmoForCausalLM(PreTrainedModel):
    config_class = MolmoConfig
    base_model_prefix = "molmo"
    _supports_sdpa = True

    def __init__(
        self, config: MolmoConfig, vision_tower: nn.Module | None = None, llm: nn.Module | None = None
    ):
        super().__init__(config)
        parts = config.parts
        tower = vision_tower or build_vision_tower(parts.vision)
        self.vision = build_backbone(parts.vision, tower, grid=parts.preprocessor.crop_patches)
        self.connector = Connector(parts.connector)
        self.llm = llm or build_language_model(parts.language)
        self.llm_vocab_size = config.llm_vocab_size
        width = self.llm.get_input_embeddings().weight.shape[1]
        # learned embeddings added to all-padding [0] and partly-padding [1] patches
        self.pad_embed = nn.Parameter(torch.zeros(2, self.vision.out_dim))
        self.new_embed = nn.Parameter(torch.randn(len(SPECIAL_TOKENS), width) * 0.02)
        self.residual_dropout = ResidualDropout(self.llm, parts.language.residual_dropout)
        self.post_init()

    @classmethod
    def from_parts(cls, parts: ModelConfig) -> MolmoForCausalLM:
        """A fresh model: pretrained towers where the parts name a path, random ones otherwise.
        `parts` is left as given; the model's config records the towers' own configs and the
        connector widths they imply."""
        vision, language = replace(parts.vision), replace(parts.language)  # the loaders record into these
        tower, llm = load_vision_tower(vision), load_language_model(language)
        embeddings = llm.get_input_embeddings().weight
        connector = replace(parts.connector, in_dim=feature_dim(vision, tower), out_dim=embeddings.shape[1])
        saved = asdict(replace(parts, vision=vision, connector=connector, language=language))
        # the checkpoint holds the weights; the towers' source folders need not exist where it loads
        saved["vision"]["path"] = saved["language"]["path"] = saved["language"]["gguf_file"] = None
        config = MolmoConfig(molmo=saved, llm_vocab_size=embeddings.shape[0])
        return cls(config, vision_tower=tower, llm=llm)

    def _init_weights(self, module):
        if module is self:
            nn.init.zeros_(self.pad_embed)
            nn.init.normal_(self.new_embed, std=0.02)
        elif isinstance(module, nn.Linear) and not any(module is m for m in self.llm.modules()):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """The three optimiser groups: ViT, connector (with pad and new-token embeddings), LLM."""
        return {
            "vit": [p for p in self.vision.parameters() if p.requires_grad],
            "connector": [*self.connector.parameters(), self.pad_embed, self.new_embed],
            "llm": [p for p in self.llm.parameters() if p.requires_grad],
        }

    def vision_flops_per_crop(self) -> float:
        from training.flops import vision_flops_per_crop

        return vision_flops_per_crop(self.vision, self.config.parts.preprocessor.crop_px)

    def embed_tokens(self, input_ids: torch.Tensor) -> torch.Tensor:
        is_new = input_ids >= self.llm_vocab_size
        text = self.llm.get_input_embeddings()(input_ids.masked_fill(is_new, 0))
        new = self.new_embed[(input_ids - self.llm_vocab_size).clamp(min=0, max=len(SPECIAL_TOKENS) - 1)]
        return torch.where(is_new.unsqueeze(-1), new.to(text.dtype), text)

    def image_features(self, crops: torch.Tensor, patch_real: torch.Tensor) -> torch.Tensor:
        """crops [N, 3, H, W], patch_real [N, P] -> pooled features [N, P / pool^2, llm width]"""
        feats = self.vision(crops)
        all_pad = (patch_real == 0).to(feats.dtype).unsqueeze(-1)
        # as the released model: anything else under 1 is partial padding, the -1 rows of the
        # preprocessor's "released_molmo" padding-mask layout included
        part_pad = ((patch_real != 0) & (patch_real < 1)).to(feats.dtype).unsqueeze(-1)
        feats = feats + self.pad_embed[0] * all_pad + self.pad_embed[1] * part_pad
        return self.connector(feats)

    def input_embeds(self, input_ids, crops, patch_real, pooled_index) -> torch.Tensor:
        """Token embeddings [B, T, D] with the pooled image features added at their <im_patch>."""
        embeds = self.embed_tokens(input_ids)
        if crops is None or not len(crops):
            return embeds
        feats = self.image_features(crops, patch_real)
        b, t, d = embeds.shape
        index = pooled_index.reshape(-1)
        keep = (index >= 0).unsqueeze(-1).to(feats.dtype)
        # dropped margin tokens add zeros at position 0: no boolean indexing, so no host sync
        flat = embeds.reshape(b * t, d).index_add(
            0, index.clamp(min=0), (feats.reshape(-1, d) * keep).to(embeds.dtype)
        )
        return flat.view(b, t, d)

    def forward(
        self,
        input_ids: torch.Tensor,  # [B, T]
        position_ids: torch.Tensor | None = None,  # [B, T]
        attention_mask: torch.Tensor | None = None,  # bool [B, 1, T, T], True = may attend
        crops: torch.Tensor | None = None,  # [N, 3, H, W]
        patch_real: torch.Tensor | None = None,  # [N, P]
        pooled_index: torch.Tensor | None = None,  # [N, P / pool^2] flat index into B*T, -1 = none
        past_key_values=None,
        use_cache: bool = False,
        logit_mask: torch.Tensor | None = None,  # bool [B, T]: return logits [M, V] at these positions only
        dropout_where: torch.Tensor | None = None,  # bool [B, T]: residual dropout only here; None = all
        **kwargs,
    ):
        embeds = self.input_embeds(input_ids, crops, patch_real, pooled_index)
        with self.residual_dropout.at(dropout_where):
            if logit_mask is not None:
                # the full [B, T, V] logits are the largest activation; the loss needs few of them
                hidden = self.llm.get_decoder()(
                    inputs_embeds=embeds, position_ids=position_ids, attention_mask=attention_mask
                ).last_hidden_state
                return self.llm.get_output_embeddings()(hidden[logit_mask])
            cache_kwargs = {"cache": past_key_values} if past_key_values is not None else {}
            return self.llm(
                inputs_embeds=embeds,
                position_ids=position_ids,
                attention_mask=attention_mask,
                use_cache=use_cache,
                **cache_kwargs,
            )
