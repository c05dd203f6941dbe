"""Releases into Molmo2 batches: the same streaming, mixture, formatting and packing as our
Molmo (training.data, training.packing), with Molmo2's text layout (its chat template), point
format and image inputs.

One example is `BOS, image tokens, annotation 1, annotation 2, ...`; each annotation sees the
shared prefix and itself, its position ids restart after the image, and all image tokens of one
example see each other both ways (Molmo2's image block, from `mm_token_type_ids`). The batch
holds what `Molmo2ForConditionalGeneration` takes: `pixel_values` of every crop of every image in
the order the images appear in the rows, `image_token_pooling` indexing into them, one
`image_grids` row and `image_num_crops` entry per image, `mm_token_type_ids`, and the 4D mask.
"""

from __future__ import annotations

import io
import random

import numpy as np
import torch
from PIL import Image

from pixmo_formats import molmo2_points
from training.data import PackedStream, image_config
from training.formatting import PointText, Style, format_example, style_for
from training.molmo2.images import Molmo2ImageConfig, image_inputs, image_token_ids, image_token_type
from training.molmo2.text import Molmo2Text
from training.packing import Example, example_from_pieces, lay_out
from training.preprocessor import load_image

MOLMO2_POINTS = PointText(molmo2_points.format_points, molmo2_points.format_count)


class Molmo2Inputs:
    """One model's text and image settings: an image into its input arrays and token ids."""

    def __init__(self, text: Molmo2Text, images: Molmo2ImageConfig):
        self.text, self.images = text, images

    def image(self, image: Image.Image) -> dict:
        inputs = image_inputs(image, self.images)
        inputs["tokens"] = image_token_ids(inputs["image_grids"], self.text.image_ids)
        return inputs

    def is_image_token(self, tokens: np.ndarray) -> np.ndarray:
        return image_token_type(tokens, self.text.image_ids).astype(bool)


def molmo2_style(style: Style) -> Style:
    """Molmo2's template writes no prefix for its demo styles (captions, pointing, counting, user
    questions: our chat-style tasks); every other task keeps its `style:` prefix."""
    return style if style.always else Style("", False)


def tokenize_example(
    annotations, image: dict, text: Molmo2Text, *, max_len: int, sqrt_weight: bool
) -> Example:
    prefix = np.concatenate([[text.bos_id], image["tokens"]]).astype(np.int64)
    encoded = ((e.tokens, e.is_answer) for e in (text.encode_turns(list(a.chat_turns)) for a in annotations))
    return example_from_pieces(prefix, encoded, image, max_len=max_len, sqrt_weight=sqrt_weight)


def pack(examples: list[Example], max_len: int, inputs: Molmo2Inputs) -> dict[str, torch.Tensor]:
    rows = lay_out(examples, max_len, inputs.text.pad_id, bidirectional=inputs.is_image_token)
    pixels, pooling, grids, crops = [], [], [], []
    offset = 0  # patches of the images before this one, in the order they appear in the rows
    for _, _, i in rows.placed:
        image = examples[i].image
        pool = image["image_token_pooling"]
        pixels.append(image["pixel_values"])
        pooling.append(np.where(pool >= 0, pool + offset, -1))
        grids.append(image["image_grids"])
        crops.append(image["image_num_crops"])
        offset += image["pixel_values"].shape[0] * image["pixel_values"].shape[1]
    return {
        **rows.tensors,
        "pixel_values": torch.from_numpy(np.concatenate(pixels)),
        "image_token_pooling": torch.from_numpy(np.concatenate(pooling)),
        "image_grids": torch.from_numpy(np.stack(grids).astype(np.int64)),
        "image_num_crops": torch.tensor(crops, dtype=torch.int64),
        "mm_token_type_ids": torch.from_numpy(inputs.is_image_token(rows.tokens).astype(np.int64)),
    }


class Molmo2PackedStream(PackedStream):
    """PackedStream with Molmo2's text, points and image inputs; `preprocessor` and `tokenizer`
    are both the model's Molmo2Inputs."""

    def make_batch(self, groups, tag: str) -> dict[str, torch.Tensor]:
        examples, c, inputs = [], self.config, self.preprocessor
        for j, (i, (image_bytes, rows, metas)) in enumerate(groups):
            image = load_image(Image.open(io.BytesIO(image_bytes)), rgb=False)  # Molmo2 composites alpha
            release = self.releases[i]
            style = molmo2_style(style_for(release.kind, image_config(metas, release), c.styles))
            rng = random.Random(f"fmt-{tag}-{j}")
            annotations = format_example(
                release.kind,
                c.stage,
                rows,
                rng,
                image.size,
                style,
                transcripts=c.transcripts,
                point_text=MOLMO2_POINTS,
            )
            if not annotations:
                continue
            if c.shuffle_annotations:
                rng.shuffle(annotations)
            examples.append(tokenize_example(annotations, inputs.image(image), inputs.text,
                                             max_len=c.max_seq_len, sqrt_weight=c.stage == "sft"))  # fmt: skip
        if not examples:
            raise ValueError("a batch had no trainable annotations (every row filtered out)")
        return pack(examples, c.max_seq_len, inputs)
