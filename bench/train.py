"""Training-path benchmark, CPU. Prints each number beside a baseline measured in the same run:

1. preprocessing images/s on one core (vectorised vs a per-crop, per-patch loop), at the
   336 px / 12-crop setting, against the images/s the tiny model step consumes;
2. tokens/s of the tiny config training on a generated Clocks release, and its data-wait share;
3. packing efficiency (share of non-padding tokens): first-fit packing vs one image per row.

usage: HF_HUB_OFFLINE=1 python bench/train.py [--images 40] [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

from training import presets
from training.preprocessor import ImagePreprocessor, ImageTokenIds, PreprocessorConfig, resize_and_pad


def naive_preprocess(pre: ImagePreprocessor, pixels: np.ndarray) -> list:
    """The same outputs built crop by crop, patch by patch: the baseline for vectorisation."""
    c, t = pre.config, pre.tiling(pixels.shape[1], pixels.shape[0])
    tiled, mask = resize_and_pad(pixels, t.resized_h, t.resized_w)
    glob, gmask = resize_and_pad(pixels, c.crop_px, c.crop_px)
    crops, masks = [glob], [gmask]
    for r in range(t.rows):
        for col in range(t.cols):
            y, x = r * c.window_px, col * c.window_px
            crops.append(tiled[y : y + c.crop_px, x : x + c.crop_px])
            masks.append(mask[y : y + c.crop_px, x : x + c.crop_px])
    out = []
    n = c.crop_patches
    for crop, m in zip(crops, masks):
        norm = np.empty((3, c.crop_px, c.crop_px), np.float32)
        for ch in range(3):
            norm[ch] = (crop[..., ch] / 255.0 - c.mean[ch]) / c.std[ch]
        real = np.array(
            [
                [
                    m[i * c.patch_px : (i + 1) * c.patch_px, j * c.patch_px : (j + 1) * c.patch_px].mean()
                    for j in range(n)
                ]
                for i in range(n)
            ]
        )
        out.append((norm, real))
    return out


def bench_preprocessing(n_images: int) -> float:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(n_images)]
    pre = ImagePreprocessor(PreprocessorConfig(max_crops=12), ImageTokenIds(1, 2, 3, 4))
    t0 = time.perf_counter()
    for im in images:
        pre(im)
    fast = n_images / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for im in images[: max(2, n_images // 4)]:
        naive_preprocess(pre, im)
    slow = max(2, n_images // 4) / (time.perf_counter() - t0)
    print(
        f"preprocess 640x480 -> 7 crops of 336 px, one core: vectorised {fast:.1f} images/s, per-patch loop {slow:.1f} images/s, ratio {fast / slow:.1f}x"
    )
    return fast


def bench_training(steps: int, release: str, out: str) -> dict:
    from training.train import train

    config = presets.run("tiny")
    config.steps = steps
    records = train(config, [release], out)[3:]  # drop warm-up steps
    tok_s = statistics.median(r["tokens_per_s"] for r in records)
    wait = statistics.median(r["data_wait_share"] for r in records)
    step_s = statistics.median(r["step_s"] for r in records)
    images_per_s = config.data.images_per_batch / step_s
    print(
        f"tiny config training on {torch.get_num_threads()} threads: {tok_s:.0f} tokens/s, {images_per_s:.1f} images/s, data-wait share {wait:.2f}"
    )
    print(f"loss {records[0]['loss']:.3f} at step 4 -> {records[-1]['loss']:.3f} at step {steps}")
    return {"images_per_s": images_per_s, "tokens_per_s": tok_s}


def bench_packing(release: str, n_images: int = 32) -> None:
    import io
    import random

    from PIL import Image

    from pixmo_builders.reader import iter_samples
    from training.formatting import format_example
    from training.language import load_tokenizer_for
    from training.model import MolmoForCausalLM
    from training.packing import pack, tokenize_example

    config = presets.run("tiny")
    model = MolmoForCausalLM.from_parts(config.model)
    tok = load_tokenizer_for(model.config.parts.language, model.config.llm_vocab_size)
    pre = ImagePreprocessor(model.config.parts.preprocessor, tok.image_ids)
    # varied examples as a real mixture has them: aspect ratios (so tilings) and 1-6 annotations
    rng = random.Random(0)
    examples = []
    for i, sample in zip(range(n_images), iter_samples(release, split="train")):
        image = (
            Image.open(io.BytesIO(sample.image_bytes))
            .convert("RGB")
            .resize((rng.randint(48, 400), rng.randint(48, 400)))
        )
        anns = format_example(
            "pixmo-clocks", "sft", sample.record["rows"] * rng.randint(1, 6), random.Random(i), image.size
        )
        examples.append(
            tokenize_example(anns, pre(image), tok, max_len=config.data.max_seq_len, sqrt_weight=True)
        )
    lengths = [len(e) for e in examples]
    # baseline: one image per row, every row padded to the longest
    unpacked = sum(lengths) / (len(lengths) * max(lengths))
    batch = pack(examples, config.data.max_seq_len, tok.eos_id)
    packed = float(batch["n_real_tokens"]) / batch["input_ids"].numel()
    print(f"packing efficiency (non-padding share), {n_images} clock images of varied size and 1-6 annotations into rows of {config.data.max_seq_len}: "
          f"packed {packed:.3f}, one image per row {unpacked:.3f}, ratio {packed / unpacked:.2f}x")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=40)
    p.add_argument("--steps", type=int, default=30)
    args = p.parse_args()
    from pixmo_builders.clocks import write_clocks_release

    with tempfile.TemporaryDirectory() as tmp:
        release = str(Path(tmp) / "clocks")
        write_clocks_release(n=256, location=release, size=192, shard_max_samples=32)
        pre_rate = bench_preprocessing(args.images)
        tiny_pre = ImagePreprocessor(presets.preprocessor("tiny"), ImageTokenIds(1, 2, 3, 4))
        im = np.random.default_rng(0).integers(0, 256, (192, 192, 3), dtype=np.uint8)
        t0 = time.perf_counter()
        for _ in range(200):
            tiny_pre(im)
        tiny_rate = 200 / (time.perf_counter() - t0)
        train_rate = bench_training(args.steps, release, str(Path(tmp) / "run"))
        print(f"tiny preprocessing {tiny_rate:.0f} images/s/core vs tiny model step consuming {train_rate['images_per_s']:.1f} images/s: "
              f"{tiny_rate / train_rate['images_per_s']:.1f}x headroom per loader core")  # fmt: skip
        print(
            f"336 px preprocessing {pre_rate:.1f} images/s/core: a GPU step consuming R images/s needs R / {pre_rate:.1f} loader cores"
        )
        bench_packing(release)


if __name__ == "__main__":
    main()
