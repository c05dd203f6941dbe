"""transformers' `Molmo2ForConditionalGeneration` in the trainer's shape: built from a preset or
loaded from a checkpoint folder, its three optimiser groups, a forward that takes our packed
batch (4D mask, restarting positions) and returns logits only where the loss needs them, and the
export to a native Molmo2 folder that `from_pretrained` and `AutoProcessor` load.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from training.molmo2.config import Molmo2ModelConfig
from training.molmo2.data import Molmo2Inputs
from training.molmo2.images import Molmo2ImageConfig
from training.molmo2.text import Molmo2Text, synthetic_tokenizer

PREFIX = "hf."  # our wrapper's state-dict keys; the export drops it
# Molmo2Processor's own settings, the released defaults; AutoProcessor reads them
PROCESSOR_CONFIG = {
    "processor_class": "Molmo2Processor", "image_use_col_tokens": True, "use_single_crop_col_tokens": None,
    "use_single_crop_start_token": True, "video_use_col_tokens": False, "use_frame_special_tokens": True,
}  # fmt: skip


def is_molmo2_folder(folder: str | Path) -> bool:
    config = Path(folder) / "config.json"
    try:
        return json.loads(config.read_text()).get("model_type") == "molmo2"
    except (OSError, ValueError):
        return False


class Molmo2ForTraining(nn.Module):
    def __init__(self, hf_model: nn.Module):
        super().__init__()
        self.hf = hf_model

    @property
    def config(self):
        return self.hf.config

    # the parts, by the names training.flops reads
    @property
    def vision(self) -> nn.Module:
        return self.hf.model.vision_tower

    @property
    def connector(self) -> nn.Module:
        return self.hf.model.multi_modal_projector

    @property
    def llm(self) -> nn.Module:
        return self.hf.model.language_model

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """ViT, adapter (pooling + projector), and the text model with its head. The image
        tokens' embeddings are rows of the text model's one embedding table, so they train at the
        LLM's rate (our molmo family keeps them in a table of their own, with the connector)."""
        groups = {
            "vit": [p for p in self.vision.parameters() if p.requires_grad],
            "connector": [p for p in self.connector.parameters() if p.requires_grad],
            "llm": [p for p in self.llm.parameters() if p.requires_grad],
        }
        groups["llm"] += [p for p in self.hf.lm_head.parameters() if p.requires_grad]
        return groups

    def vision_flops_per_crop(self) -> float:
        from torch.utils.flop_counter import FlopCounterMode

        vision = self.vision.config
        weight = next(self.vision.parameters())
        patches = torch.zeros(
            1, vision.num_position_embeddings, vision.patch_size**2 * vision.num_channels,
            device=weight.device, dtype=weight.dtype,
        )  # fmt: skip
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            self.vision(patches)
        return float(counter.get_total_flops())

    def forward(
        self,
        input_ids: torch.Tensor,  # [B, T]
        position_ids: torch.Tensor | None = None,  # [B, T]
        attention_mask: torch.Tensor | None = None,  # bool [B, 1, T, T], True = may attend
        pixel_values: torch.Tensor | None = None,  # [crops, patches, patch px * 3]
        image_token_pooling: torch.Tensor | None = None,  # [pooled tokens, pool h * pool w]
        image_grids: torch.Tensor | None = None,  # [images, 4]
        image_num_crops: torch.Tensor | None = None,  # [images]
        mm_token_type_ids: torch.Tensor | None = None,  # [B, T], 1 = image token
        logit_mask: torch.Tensor | None = None,  # bool [B, T]: logits [M, V] at these positions only
        dropout_where: torch.Tensor | None = None,  # unused: Molmo2 trains without residual dropout
        **kwargs,
    ) -> torch.Tensor:
        out = self.hf.model(
            input_ids=input_ids, position_ids=position_ids, attention_mask=attention_mask,
            pixel_values=pixel_values, image_token_pooling=image_token_pooling, image_grids=image_grids,
            image_num_crops=image_num_crops, mm_token_type_ids=mm_token_type_ids, use_cache=False,
        )  # fmt: skip
        hidden = out.last_hidden_state
        # the full [B, T, V] logits are the largest activation; the loss needs few of them
        return self.hf.lm_head(hidden[logit_mask] if logit_mask is not None else hidden)

    def save_pretrained(self, folder: str, state_dict: dict | None = None) -> None:
        """The native folder: Molmo2's config and safetensors with its own key names."""
        if state_dict is not None:
            state_dict = {k.removeprefix(PREFIX): v for k, v in state_dict.items()}
        self.hf.save_pretrained(folder, state_dict=state_dict)


def build(model_config: Molmo2ModelConfig, init_from: str | None) -> tuple[Molmo2ForTraining, Molmo2Inputs]:
    """From `init_from` (a released Molmo2 folder, or a RUN/model we exported) with its tokenizer,
    chat template and image settings; else a random model of the preset with a byte tokenizer."""
    from transformers import Molmo2Config, Molmo2ForConditionalGeneration

    if init_from:
        hf, text, images = load_folder(init_from, model_config.attn_implementation)
        images = model_config.image_config(images)
    else:
        config = Molmo2Config(**model_config.hf_config_dict())
        hf = Molmo2ForConditionalGeneration._from_config(
            config, attn_implementation=model_config.attn_implementation, dtype=torch.float32
        )
        vocab = config.text_config.vocab_size
        text = Molmo2Text(synthetic_tokenizer(vocab), vocab)
        images = model_config.image_config()
    check_ids(hf.config, text)
    check_images(hf.config, images)
    # the export's generation_config.json: `generate` in any process stops at the answer's EOS
    generation = hf.generation_config
    generation.eos_token_id, generation.bos_token_id, generation.pad_token_id = (
        text.eos_id,
        text.bos_id,
        text.pad_id,
    )
    return Molmo2ForTraining(hf), Molmo2Inputs(text, images)


def load_folder(
    folder: str | Path, attn_implementation: str = "sdpa"
) -> tuple[nn.Module, Molmo2Text, Molmo2ImageConfig]:
    """A Molmo2 checkpoint folder's model (float32), tokenizer with chat template, and image
    settings, checked against each other."""
    from transformers import Molmo2ForConditionalGeneration

    folder = Path(folder)
    if not is_molmo2_folder(folder):
        raise ValueError(INIT_FROM_NOT_MOLMO2.format(folder=folder))
    hf = Molmo2ForConditionalGeneration.from_pretrained(
        str(folder), attn_implementation=attn_implementation, dtype=torch.float32
    )
    text = Molmo2Text.load(folder, hf.config.text_config.vocab_size)
    images = read_image_config(folder)
    check_ids(hf.config, text)
    check_images(hf.config, images)
    return hf, text, images


INIT_FROM_NOT_MOLMO2 = (
    "{folder} is not a Molmo2 checkpoint folder (config.json with model_type molmo2); a molmo2 config "
    "starts from a released Molmo2 folder or a RUN/model of this family"
)
INIT_FROM_MOLMO2 = (
    "{folder} is a Molmo2 checkpoint; train it with a molmo2 config (molmo2_tiny, molmo2_4b, molmo2_8b)"
)


def init_from_mismatch(model_config, folder: str | Path) -> str | None:
    """Why `folder` cannot start a run of `model_config`'s family (one sentence), or None."""
    wants_molmo2, is_molmo2 = isinstance(model_config, Molmo2ModelConfig), is_molmo2_folder(folder)
    if wants_molmo2 and not is_molmo2:
        return INIT_FROM_NOT_MOLMO2.format(folder=folder)
    if is_molmo2 and not wants_molmo2:
        return INIT_FROM_MOLMO2.format(folder=folder)
    return None


def read_image_config(folder: Path) -> Molmo2ImageConfig:
    path = folder / "preprocessor_config.json"
    if not path.is_file():
        raise ValueError(f"{folder} has no preprocessor_config.json (Molmo2's image settings)")
    return Molmo2ImageConfig.from_processor_config(json.loads(path.read_text()))


def check_ids(config, text: Molmo2Text) -> None:
    """The tokenizer's image tokens are the ones the model's config names."""
    ids = text.image_ids
    pairs = {
        "image_start_token_id": ids.image_start, "low_res_image_start_token_id": ids.low_res_image_start,
        "image_end_token_id": ids.image_end, "image_patch_id": ids.image_patch,
    }  # fmt: skip
    for key, token_id in pairs.items():
        if getattr(config, key) != token_id:
            raise ValueError(
                f"config {key}={getattr(config, key)} but the tokenizer's token has id {token_id}"
            )


def check_images(config, images: Molmo2ImageConfig) -> None:
    vision = config.vision_config
    if [images.size, images.size] != list(vision.image_size) or images.patch_size != vision.patch_size:
        raise ValueError(
            f"the image settings ({images.size} px crops of {images.patch_size} px patches) do not fit the "
            f"ViT ({vision.image_size} px, {vision.patch_size} px patches)"
        )


EMBEDDING, NEW_EMBEDDING = "model.transformer.wte.embedding", "model.transformer.wte.new_embedding"


def split_embeddings(folder: Path, vocab_size: int) -> None:
    """The released layout keeps the text vocabulary's embedding (`wte.embedding`, vocab_size rows)
    apart from the image tokens' (`wte.new_embedding`, additional_vocab_size rows). transformers
    joins them into one table on load but splits that table in two halves on save; a loader that
    reads the released layout itself (vLLM, the checkpoints' own remote code) needs the real split.
    transformers reads either, since it only concatenates them."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
        files = {weight_map[EMBEDDING], weight_map[NEW_EMBEDDING]}
    else:
        files, weight_map = {"model.safetensors"}, None
    tensors: dict[str, dict[str, torch.Tensor]] = {}
    for name in files:
        with safe_open(str(folder / name), framework="pt") as f:
            tensors[name] = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 - safe_open is not a dict
    where = {key: name for name, content in tensors.items() for key in content}
    table = torch.cat([tensors[where[EMBEDDING]][EMBEDDING], tensors[where[NEW_EMBEDDING]][NEW_EMBEDDING]])
    tensors[where[EMBEDDING]][EMBEDDING] = table[:vocab_size].clone()
    tensors[where[NEW_EMBEDDING]][NEW_EMBEDDING] = table[vocab_size:].clone()
    for name, content in tensors.items():
        save_file(content, str(folder / name), metadata={"format": "pt"})


def export(model: Molmo2ForTraining, state: dict, inputs: Molmo2Inputs, folder: Path) -> None:
    """RUN/model as a released folder: config + safetensors, tokenizer + chat template, and the
    processor's settings, so `from_pretrained` and `AutoProcessor` load it and `--init-from`
    starts from it."""
    model.save_pretrained(str(folder), state_dict=state)
    split_embeddings(folder, model.config.text_config.vocab_size)
    inputs.text.save(folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps(inputs.images.to_processor_config(), indent=2) + "\n"
    )
    (folder / "processor_config.json").write_text(json.dumps(PROCESSOR_CONFIG, indent=2) + "\n")
