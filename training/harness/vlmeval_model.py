"""VLMEvalKit model: one of our exported checkpoints answering a VLMEvalKit dataset's questions,
greedily. VLMEvalKit builds each question (its own prompt, options included); we show Molmo the
first image and put Molmo's style prefix before the text when the dataset is one of our benchmarks.

    from vlmeval.inference import infer_data
    infer_data(model=PixmoMolmo("RUN"), model_name="pixmo_molmo", dataset=..., ...)"""

from __future__ import annotations

from vlmeval.vlm.base import BaseModel

from training.harness.prompting import first_image, styled_prompt
from training.infer import load_checkpoint


class PixmoMolmo(BaseModel):
    INSTALL_REQ = False
    INTERLEAVE = False  # VLMEvalKit passes the images and the text apart; Molmo reads one image

    def __init__(
        self, checkpoint: str, device: str = "cpu", max_new_tokens: int = 128, style: bool = True, **unused
    ):
        super().__init__()
        self.molmo = load_checkpoint(checkpoint, device=device)
        self.max_new_tokens = max_new_tokens
        self.style = style

    def generate_inner(self, message: list[dict], dataset: str | None = None) -> str:
        """`message`: [{"type": "image" | "text", "value": path or text}, ...], as VLMEvalKit builds it."""
        images = [part["value"] for part in message if part["type"] == "image"]
        question = "\n".join(part["value"] for part in message if part["type"] == "text")
        prompt = styled_prompt(question, dataset) if self.style else question
        return self.molmo.generate(first_image(images), prompt, max_new_tokens=self.max_new_tokens)
