"""An exported molmo2 RUN/model as the ecosystem meets it (issue #16 point 2): in a venv that has
torchvision, `AutoProcessor.from_pretrained(RUN/model)` loads the saved tokenizer, chat template
and processor configs; the processor's inputs for an image and a question, through the folder's
own chat template, must equal ours (`training.molmo2.infer.Molmo2Model.model_inputs`) token for
token and pixel for pixel, and transformers' `generate` on them must give our answer.

    /work/venvs/molmo2-ref/bin/python bench/molmo2_export_processor.py RUN/model

(the venv of bench/molmo2_processor.py). Prints one line per check; exits 1 on any mismatch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transformers import AutoProcessor

from training.molmo2.infer import Molmo2Model

QUESTIONS = ("Point to the clock", "What time is being shown?", "vqa2: How many hands are there?")


def images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    sizes = [(96, 64), (300, 500), (1000, 200), (37, 41)]
    out = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]
    out.append(Image.new("RGBA", (80, 60), (200, 10, 10, 90)))  # transparency composited onto white
    return out


def main() -> int:
    folder = Path(sys.argv[1])
    processor = AutoProcessor.from_pretrained(str(folder))
    ours = Molmo2Model.load(folder)
    print(f"AutoProcessor.from_pretrained({folder}): {type(processor).__name__} "
          f"({type(processor.image_processor).__name__}, {type(processor.tokenizer).__name__})")  # fmt: skip
    failures = checks = 0
    for image in images():
        for question in QUESTIONS:
            messages = [
                {
                    "role": "user",
                    "content": [{"type": "image", "image": image}, {"type": "text", "text": question}],
                }
            ]
            theirs = processor.apply_chat_template(
                messages, tokenize=True, add_generation_prompt=True, return_dict=True, return_tensors="pt"
            )
            mine = ours.model_inputs(image, question)
            for key in (
                "input_ids",
                "mm_token_type_ids",
                "image_token_pooling",
                "image_grids",
                "image_num_crops",
            ):
                checks += 1
                same = torch.equal(theirs[key].long().cpu(), mine[key].long().cpu())
                failures += not same
                if not same:
                    print(f"MISMATCH {image.size} {question!r}: {key}")
            checks += 1
            worst = float((theirs["pixel_values"].float() - mine["pixel_values"]).abs().max()) * 127.5
            if worst > 1.0:
                failures += 1
                print(f"MISMATCH {image.size} {question!r}: pixels differ by {worst:.2f} grey levels")
            with torch.no_grad():
                out = ours.model.generate(
                    **{k: v for k, v in theirs.items()}, max_new_tokens=8, do_sample=False
                )
            text = processor.post_process_image_text_to_text(
                out[:, theirs["input_ids"].shape[1] :], skip_special_tokens=True
            )[0]
            checks += 1
            answer = ours.generate(image, question, max_new_tokens=8)
            if text.strip() != answer:
                failures += 1
                print(f"MISMATCH {image.size} {question!r}: answers differ: {text!r} vs ours {answer!r}")
    print(f"{checks} checks on {len(images())} images x {len(QUESTIONS)} questions: {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
