"""Our Molmo2 image inputs (`training/molmo2/images.py`) against transformers' own
`Molmo2ImageProcessor` and `Molmo2Processor` (issue #16 point 3), image by image: grids, crop
counts, pooling indices, token strings, token ids and mm_token_type_ids must be identical, pixels
within one grey level; both are timed. The processor needs torchvision, which cannot be installed
beside the project's torch, so this runs in a venv of its own, with the repository on sys.path:

    python3.11 -m venv /work/venvs/molmo2-ref
    /work/venvs/molmo2-ref/bin/pip install torch==2.14.1 torchvision==0.29.1
    /work/venvs/molmo2-ref/bin/pip install transformers==5.24.0 pillow numpy
    /work/venvs/molmo2-ref/bin/python bench/molmo2_processor.py

Exits 1 on any mismatch. The processor's config is the released one (its class defaults); a second
pass runs a non-default config through a processor loaded from our `to_processor_config()`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    AutoImageProcessor,
    AutoProcessor,
    Molmo2ImageProcessor,
    Molmo2Processor,
    Molmo2VideoProcessor,
    PreTrainedTokenizerFast,
)

from training.molmo2.images import (
    Molmo2ImageConfig,
    Molmo2TokenIds,
    image_inputs,
    image_token_ids,
    image_token_string,
    image_token_type,
)

MAX_GREY_LEVELS = 1.0 + 1e-4  # one grey level, and the float error of undoing the normalisation
CHECKS = ("grids", "crops", "pooling", "string", "ids", "types", "pixels")  # each must hold per image
TEXT = " describe this image ."
SPECIAL_TOKENS = [
    "<im_start>", "<low_res_im_start>", "<im_end>", "<im_patch>", "<im_col>",
    "<frame_start>", "<frame_end>", "<im_low>", "<|image|>", "<|video|>", "<|endoftext|>",
]  # fmt: skip
# (width, height, mode): tiny, under and around the margin (112 px), square, wide, tall, odd, huge.
IMAGES = [
    (1, 1, "RGB"), (14, 14, "RGB"), (20, 20, "RGB"), (111, 111, "RGB"), (112, 112, "RGB"),
    (113, 200, "RGB"), (100, 1000, "RGB"), (1000, 50, "RGB"), (378, 378, "RGB"), (377, 379, "RGB"),
    (640, 480, "RGB"), (480, 640, "RGB"), (644, 644, "RGB"), (777, 333, "RGB"), (1234, 567, "RGB"),
    (1024, 1024, "RGB"), (1920, 1080, "RGB"), (1080, 1920, "RGB"), (300, 1200, "RGB"),
    (4000, 300, "RGB"), (300, 4000, "RGB"), (2048, 1536, "RGB"), (3024, 4032, "RGB"),
    (800, 600, "RGBA"), (500, 700, "L"), (640, 640, "P"), (300, 300, "LA"), (1000, 750, "CMYK"),
]  # fmt: skip
VARIANT = Molmo2ImageConfig(
    size=336, max_crops=12, overlap_margins=(2, 4), pooling_size=(3, 3),
    image_mean=(0.48145466, 0.4578275, 0.40821073), image_std=(0.26862954, 0.26130258, 0.27577711),
)  # fmt: skip
VARIANT_IMAGES = [
    (20, 20, "RGB"),
    (640, 480, "RGB"),
    (1920, 1080, "RGB"),
    (300, 4000, "RGB"),
    (800, 600, "RGBA"),
]


def make_image(width: int, height: int, mode: str, seed: int) -> Image.Image:
    """Gradients plus seeded noise, so resizes meet every grey level and rounding ties."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.linspace(0, 255, width), np.linspace(0, 255, height))
    rgb = np.stack([gx, gy, (gx + 255 - gy) / 2], axis=-1) + rng.normal(0, 40, (height, width, 3))
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    if mode == "RGBA":
        image.putalpha(Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8)))
    elif mode == "LA":
        image = image.convert("L")
        image.putalpha(Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8)))
    elif mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
        image.info["transparency"] = 3  # palette entry 3 is transparent
    elif mode != "RGB":
        image = image.convert(mode)
    return image


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer holding Molmo2's image tokens: enough for Molmo2Processor to run."""
    words = ["[UNK]", "describe", "this", "image", "."]
    vocab = {word: i for i, word in enumerate(words + SPECIAL_TOKENS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        eos_token="<|endoftext|>",
        additional_special_tokens=SPECIAL_TOKENS,
    )


def best_ms(fn, repeats: int) -> tuple[float, object]:
    result, best = None, float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000, result


def grey_levels(ours: np.ndarray, ref: np.ndarray, config: Molmo2ImageConfig) -> float:
    """Largest pixel difference in 0-255 units: the normalisation undone (a patch's pixels are
    (row, column, channel), so the channel is the last index mod 3)."""
    std = np.tile(np.array(config.image_std, dtype=np.float64) * 255, ours.shape[-1] // 3)
    return float((np.abs(ours.astype(np.float64) - ref.astype(np.float64)) * std).max())


def compare_one(image, config, image_processor, processor, ids, repeats: int) -> dict:
    ours_ms, ours = best_ms(lambda: image_inputs(image, config), repeats)
    ref_ms, ref = best_ms(lambda: image_processor(image, return_tensors="np"), repeats)
    grid = ref["image_grids"][0]
    row = {
        "grids": np.array_equal(ours["image_grids"], grid),
        "crops": ours["image_num_crops"] == int(ref["image_num_crops"][0]),
        "pooling": np.array_equal(ours["image_token_pooling"], ref["image_token_pooling"]),
        "pixels": ours["pixel_values"].shape == ref["pixel_values"].shape,
        "string": image_token_string(ours["image_grids"]) == processor.replace_image_token(ref, 0),
    }
    row["grey"] = (
        grey_levels(ours["pixel_values"], ref["pixel_values"], config) if row["pixels"] else float("inf")
    )
    row["identical"] = row["pixels"] and np.array_equal(ours["pixel_values"], ref["pixel_values"])
    row["pixels"] = row["pixels"] and row["grey"] <= MAX_GREY_LEVELS
    row["ids"], row["types"] = compare_token_ids(image, ours["image_grids"], processor, ids)
    row.update(grid=grid.tolist(), n_crops=ours["image_num_crops"], ours_ms=ours_ms, ref_ms=ref_ms)
    row["tokens"] = len(ours["image_token_pooling"])
    return row


def compare_token_ids(image, grid, processor, ids: Molmo2TokenIds) -> tuple[bool, bool]:
    """The whole processor on "<|image|> describe this image ." against BOS + our image token ids +
    the text's ids, and our mm_token_type rule applied to its ids against its mm_token_type_ids."""
    tokenizer = processor.tokenizer
    out = processor(images=[image], text="<|image|>" + TEXT, return_tensors="np")
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    text_ids = tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    expected = np.concatenate([[bos], image_token_ids(grid, ids), text_ids])
    same_ids = np.array_equal(out["input_ids"][0], expected)
    same_types = np.array_equal(image_token_type(out["input_ids"][0], ids), out["mm_token_type_ids"][0])
    return same_ids, same_types


def print_rows(rows: list[dict]) -> None:
    print(f"{'image':>16} {'grid':>16} {'crops':>5} {'tokens':>6}  {'checks':<16} {'grey':>5}"
          f" {'ours ms':>8} {'ref ms':>8} {'ref/ours':>8}")  # fmt: skip
    for r in rows:
        failed = [c for c in CHECKS if not r[c]]
        print(
            f"{r['image']:>16} {r['grid']!s:>16} {r['n_crops']:>5} {r['tokens']:>6}  "
            f"{'ok' if not failed else 'FAIL ' + ','.join(failed):<16} {r['grey']:>5.2f} "
            f"{r['ours_ms']:>8.1f} {r['ref_ms']:>8.1f} {r['ref_ms'] / r['ours_ms']:>7.2f}x"
        )


def run_pass(config, image_processor, processor, ids, images, seed: int, repeats: int) -> list[dict]:
    rows = []
    for i, (width, height, mode) in enumerate(images):
        image = make_image(width, height, mode, seed + i)
        row = compare_one(image, config, image_processor, processor, ids, repeats)
        row["image"] = f"{width}x{height} {mode}"
        rows.append(row)
    print_rows(rows)
    return rows


def saved_processor(config: Molmo2ImageConfig, tokenizer, folder: Path):
    """A Molmo2Processor loaded by AutoProcessor from a folder holding our to_processor_config()."""
    tokenizer.save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(config.to_processor_config(), indent=2))
    processor = AutoProcessor.from_pretrained(folder)
    assert isinstance(processor, Molmo2Processor), type(processor)
    assert isinstance(AutoImageProcessor.from_pretrained(folder), Molmo2ImageProcessor)
    return processor


def config_checks(loaded_variant: Molmo2ImageProcessor) -> list[str]:
    """Round trips through the processor's own config: failures, in words."""
    failures = []
    released = Molmo2ImageConfig.from_processor_config(Molmo2ImageProcessor().to_dict())
    if released != Molmo2ImageConfig():
        failures.append(f"from_processor_config(Molmo2ImageProcessor().to_dict()) = {released}")
    if Molmo2ImageConfig.from_processor_config(loaded_variant.to_dict()) != VARIANT:
        failures.append("the variant config does not survive to_processor_config -> AutoProcessor -> to_dict")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per image and side (best kept)")
    repeats = parser.parse_args().repeats
    tokenizer = tiny_tokenizer()
    ids = Molmo2TokenIds.from_tokenizer(tokenizer)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(IMAGES)} images, released config"
    )
    image_processor = Molmo2ImageProcessor()
    processor = Molmo2Processor(
        image_processor=image_processor, video_processor=Molmo2VideoProcessor(), tokenizer=tokenizer
    )
    rows = run_pass(Molmo2ImageConfig(), image_processor, processor, ids, IMAGES, seed=0, repeats=repeats)
    with tempfile.TemporaryDirectory() as folder:
        variant = saved_processor(VARIANT, tokenizer, Path(folder))
        failures = config_checks(variant.image_processor)
        print(f"\nvariant config {VARIANT}\nthrough AutoProcessor.from_pretrained(our to_processor_config())")
        rows += run_pass(VARIANT, variant.image_processor, variant, ids, VARIANT_IMAGES, seed=100, repeats=1)
    mismatches = sum(1 for r in rows for c in CHECKS if not r[c]) + len(failures)
    for failure in failures:
        print("FAIL", failure)
    first = rows[: len(IMAGES)]
    ours_ms, ref_ms = sum(r["ours_ms"] for r in first), sum(r["ref_ms"] for r in first)
    ratios = [r["ref_ms"] / r["ours_ms"] for r in first]
    print(
        f"\n{len(rows)} images compared ({len(IMAGES)} released config, {len(rows) - len(IMAGES)} variant), "
        f"{mismatches} mismatches, worst pixel difference {max(r['grey'] for r in rows):.2f} grey levels "
        f"(pixel_values bit-identical for {sum(r['identical'] for r in rows)}); "
        f"released config, best of {repeats} per image: ours {ours_ms:.0f} ms, processor {ref_ms:.0f} ms in all, "
        f"processor/ours {ref_ms / ours_ms:.2f}x (median per image {np.median(ratios):.2f}x)"
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
