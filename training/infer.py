"""Inference: load an exported checkpoint, answer a prompt about an image (greedy, KV-cached),
and draw parsed points on the image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from training.model_folder import model_folder
from training.points import parse_points
from training.preprocessor import load_image


@dataclass
class Molmo:
    model: torch.nn.Module
    tokenizer: object
    preprocessor: object

    @classmethod
    def load(cls, folder: str | Path, device: str = "cpu") -> Molmo:
        from safetensors import SafetensorError

        from training.model import MolmoForCausalLM
        from training.preprocessor import ImagePreprocessor
        from training.tokenizer import Tokenizer

        folder = model_folder(folder)
        try:
            model = MolmoForCausalLM.from_pretrained(str(folder)).to(device).eval()
            tokenizer = Tokenizer.load(folder / "tokenizer", model.config.llm_vocab_size)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ValueError(f"{folder} could not be loaded as a Molmo model ({reason})") from None
        return cls(model, tokenizer, ImagePreprocessor(model.config.parts.preprocessor, tokenizer.image_ids))

    def prompt_ids(self, image_tokens: np.ndarray, prompt: str, *, chat: bool = True) -> list[int]:
        text = f" User: {prompt} Assistant:" if chat else prompt
        return [self.tokenizer.bos_id, *image_tokens.tolist(), *self.tokenizer.encode(text)]

    @torch.no_grad()
    def generate(
        self, image: Image.Image, prompt: str, *, max_new_tokens: int = 128, chat: bool = True
    ) -> str:
        device = next(self.model.parameters()).device
        image_in = self.preprocessor(image.convert("RGB"))
        ids = torch.tensor([self.prompt_ids(image_in["tokens"], prompt, chat=chat)], device=device)
        pooled = torch.from_numpy(image_in["pooled_index"])
        out = self.model(
            input_ids=ids, position_ids=torch.arange(ids.shape[1], device=device)[None],
            crops=torch.from_numpy(image_in["crops"]).to(device), patch_real=torch.from_numpy(image_in["patch_real"]).to(device),
            pooled_index=torch.where(pooled >= 0, pooled + 1, pooled).to(device), use_cache=True,
        )  # fmt: skip
        answer: list[int] = []
        position = ids.shape[1]
        for _ in range(max_new_tokens):
            next_id = int(out.logits[0, -1].argmax())
            if next_id == self.tokenizer.eos_id:
                break
            answer.append(next_id)
            out = self.model(
                input_ids=torch.tensor([[next_id]], device=device), position_ids=torch.tensor([[position]], device=device),
                past_key_values=out.cache, use_cache=True,
            )  # fmt: skip
            position += 1
        return self.tokenizer.decode(answer).strip()


def load_checkpoint(folder: str | Path, device: str = "cpu"):
    """The model an exported folder holds, ready to `generate`: our Molmo, or a Molmo2 (released,
    or exported by the molmo2 family). ValueError with one sentence if it cannot be loaded."""
    from training.molmo2.model import is_molmo2_folder

    folder = model_folder(folder)
    if is_molmo2_folder(folder):
        from training.molmo2.infer import Molmo2Model

        return Molmo2Model.load(folder, device=device)
    return Molmo.load(folder, device=device)


def draw_points(image: Image.Image, points: list[tuple[float, float]], radius_px: int = 6) -> Image.Image:
    """A copy of `image` with each 0-100 point drawn as a ring."""
    canvas = image.convert("RGB").copy()
    draw = ImageDraw.Draw(canvas)
    w, h = canvas.size
    for x, y in points:
        cx, cy = x / 100 * w, y / 100 * h
        draw.ellipse(
            [cx - radius_px, cy - radius_px, cx + radius_px, cy + radius_px], outline=(255, 40, 40), width=3
        )
    return canvas


def answer_with_points(
    molmo: Molmo, image: Image.Image, prompt: str, out_png: str | Path | None, max_new_tokens: int = 128
) -> tuple[str, list]:
    """The answer and its parsed points, drawn on the image turned upright by its EXIF orientation
    (as training saw its images)."""
    image = load_image(image, rgb=False)  # each model family converts to RGB its own way
    text = molmo.generate(image, prompt, max_new_tokens=max_new_tokens)
    points = parse_points(text)
    if out_png:
        draw_points(image, points).save(out_png, "PNG")
    return text, points
