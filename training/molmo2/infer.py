"""Answering with a Molmo2 folder (released, or a RUN/model this family exported): our image
inputs and the folder's chat template, then transformers' own `generate` (greedy), so what
`pixmo infer` and `pixmo eval` measure is the model as the ecosystem runs it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from training.molmo2.data import Molmo2Inputs


@dataclass
class Molmo2Model:
    model: torch.nn.Module  # Molmo2ForConditionalGeneration
    inputs: Molmo2Inputs

    @classmethod
    def load(cls, folder: str | Path, device: str = "cpu") -> Molmo2Model:
        from safetensors import SafetensorError

        from training.molmo2.model import load_folder

        folder = Path(folder)
        try:
            model, text, images = load_folder(folder)
            model = model.to(device).eval()
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ValueError(f"{folder} could not be loaded as a Molmo2 model ({reason})") from None
        return cls(model, Molmo2Inputs(text, images))

    def model_inputs(self, image: Image.Image, prompt: str) -> dict[str, torch.Tensor]:
        """What the processor would give for one image and one question, as a batch of one."""
        text = self.inputs.text
        image_in = self.inputs.image(image)  # RGB as the processor makes it: transparency onto white
        ids = np.array([text.bos_id, *image_in["tokens"].tolist(), *text.prompt_tokens(prompt)], np.int64)
        device = next(self.model.parameters()).device
        tensors = {
            "input_ids": torch.from_numpy(ids)[None],
            "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
            "mm_token_type_ids": torch.from_numpy(self.inputs.is_image_token(ids).astype(np.int64))[None],
            "pixel_values": torch.from_numpy(image_in["pixel_values"]),
            "image_token_pooling": torch.from_numpy(image_in["image_token_pooling"]),
            "image_grids": torch.from_numpy(np.asarray(image_in["image_grids"], np.int64))[None],
            "image_num_crops": torch.tensor([image_in["image_num_crops"]], dtype=torch.int64),
        }
        return {k: v.to(device) for k, v in tensors.items()}

    @torch.no_grad()
    def generate(self, image: Image.Image, prompt: str, *, max_new_tokens: int = 128) -> str:
        batch = self.model_inputs(image, prompt)
        text = self.inputs.text
        out = self.model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=text.eos_id,
            pad_token_id=text.pad_id,
        )
        return text.decode(out[0, batch["input_ids"].shape[1] :]).strip()
