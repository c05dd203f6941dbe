"""Training-path benchmark, CPU. Prints each number beside a baseline measured in the same run:

1. preprocessing images/s on one core, ours vs a straightforward torch port of the released
   Molmo preprocessing (bench/molmo_reference.py), at the 336 px / 12-crop setting, on 640x480
   and 1920x1080 JPEGs: from decoded pixels and from the JPEG bytes (decoding included); with a
   check that tokens, pooled index and padding masks are identical and pixels within one grey
   level of the port's float resize;
2. tokens/s of the tiny config training on a generated Clocks release, and its data-wait share,
   against the images/s one loader core preprocesses at the tiny size;
3. packing efficiency (share of non-padding tokens): first-fit packing vs one image per row.

usage: HF_HUB_OFFLINE=1 python bench/train.py [--images 12] [--rounds 5] [--steps 30] [--only preprocess]
"""

from __future__ import annotations

import argparse
import io
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
from PIL import Image

from bench import molmo_reference
from training import presets
from training.preprocessor import ImagePreprocessor, ImageTokenIds, PreprocessorConfig, load_image

SIZES = [(640, 480), (1920, 1080)]
IDS = ImageTokenIds(1, 2, 3, 4)
REF_IDS = {"start": 1, "end": 2, "patch": 3, "col": 4}


def jpegs(width: int, height: int, n: int) -> list[bytes]:
    """n photos (scikit-image's coffee, shifted a little each) at width x height, JPEG quality 90."""
    from skimage import data

    base = Image.fromarray(data.coffee()).resize((width + n, height), Image.BICUBIC)
    out = []
    for i in range(n):
        buffer = io.BytesIO()
        base.crop((i, 0, i + width, height)).save(buffer, format="JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def decode(data: bytes) -> Image.Image:
    return load_image(Image.open(io.BytesIO(data)))


def check_same(pre: ImagePreprocessor, released: ImagePreprocessor, pixels: np.ndarray) -> float:
    """Raises unless tokens, pooled index and (released layout) masks are identical; returns the
    largest pixel difference in grey levels."""
    ref, ours, masks = molmo_reference.preprocess(pixels, REF_IDS), pre(pixels), released(pixels)
    if not np.array_equal(ours["tokens"], ref["tokens"]):
        raise AssertionError("tokens differ from the released algorithm")
    ref_index = np.where(ref["image_input_idx"] < 0, -1, ref["image_input_idx"])
    if not np.array_equal(ours["pooled_index"], ref_index):
        raise AssertionError("pooled index differs from the released algorithm")
    if not np.array_equal(masks["patch_real"], ref["image_masks"]):
        raise AssertionError("padding masks differ from the released algorithm")
    hwc = np.ascontiguousarray(ours["crops"].transpose(0, 2, 3, 1))
    diff = np.abs(molmo_reference.to_patches(hwc, 14) - ref["crops"]).reshape(*ref["crops"].shape[:2], -1, 3)
    return float((diff * np.array(molmo_reference.CLIP_STD)).max() * 255)


def rate(fn, items, rounds: int) -> list[float]:
    """images/s of fn over items, per round."""
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        out.append(len(items) / (time.perf_counter() - t0))
    return out


def bench_preprocessing(n_images: int, rounds: int) -> float:
    """Ours vs the released algorithm's port, interleaved round by round in this process."""
    torch.set_num_threads(1)
    pre = ImagePreprocessor(PreprocessorConfig(max_crops=12), IDS)
    released = ImagePreprocessor(PreprocessorConfig(max_crops=12, padding_mask_layout="released_molmo"), IDS)
    slowest = None
    for width, height in SIZES:
        data = jpegs(width, height, n_images)
        pixels = [np.array(decode(d)) for d in data]
        worst = max(check_same(pre, released, p) for p in pixels[:3])
        t = pre.tiling(width, height)
        ours_px, ref_px, ours_jpg, ref_jpg = [], [], [], []
        for _ in range(rounds):  # interleaved, so drift in the machine's speed hits both alike
            ref_px += rate(lambda p: molmo_reference.preprocess(p, REF_IDS), pixels, 1)
            ours_px += rate(pre, pixels, 1)
            ref_jpg += rate(lambda d: molmo_reference.preprocess(np.array(decode(d)), REF_IDS), data, 1)
            ours_jpg += rate(lambda d: pre(decode(d)), data, 1)
        med = statistics.median
        print(f"preprocess {width}x{height} JPEG -> {t.rows}x{t.cols} crops + global view of 336 px, "
              f"one core, median of {rounds} rounds x {n_images} images; tokens, index and masks "
              f"identical to the released algorithm, pixels within {worst:.2f} grey levels of its "
              "float resize:")  # fmt: skip
        print(f"  from pixels:     ours {med(ours_px):6.1f} images/s, released algorithm (torch port) "
              f"{med(ref_px):6.1f} images/s, ratio {med(ours_px) / med(ref_px):.2f}x")  # fmt: skip
        print(f"  from JPEG bytes: ours {med(ours_jpg):6.1f} images/s, released algorithm (torch port) "
              f"{med(ref_jpg):6.1f} images/s, ratio {med(ours_jpg) / med(ref_jpg):.2f}x "
              "(decoding included)")  # fmt: skip
        slowest = med(ours_jpg) if slowest is None else min(slowest, med(ours_jpg))
    return slowest


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
    p.add_argument("--images", type=int, default=12, help="JPEGs per size for the preprocessing bench")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per size")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--only", choices=["preprocess"], help="run only the preprocessing comparison")
    args = p.parse_args()
    pre_rate = bench_preprocessing(args.images, args.rounds)
    if args.only:
        return
    from pixmo_builders.clocks import write_clocks_release

    with tempfile.TemporaryDirectory() as tmp:
        release = str(Path(tmp) / "clocks")
        write_clocks_release(n=256, location=release, size=192, shard_max_samples=32)
        tiny_pre = ImagePreprocessor(presets.preprocessor("tiny"), IDS)
        im = np.random.default_rng(0).integers(0, 256, (192, 192, 3), dtype=np.uint8)
        t0 = time.perf_counter()
        for _ in range(200):
            tiny_pre(im)
        tiny_rate = 200 / (time.perf_counter() - t0)
        train_rate = bench_training(args.steps, release, str(Path(tmp) / "run"))
        print(f"tiny preprocessing {tiny_rate:.0f} images/s/core vs tiny model step consuming {train_rate['images_per_s']:.1f} images/s: "
              f"{tiny_rate / train_rate['images_per_s']:.1f}x headroom per loader core")  # fmt: skip
        print(f"336 px preprocessing from JPEG {pre_rate:.1f} images/s/core (the slower size): a GPU step "
              f"consuming R images/s needs R / {pre_rate:.1f} loader cores")  # fmt: skip
        bench_packing(release)


if __name__ == "__main__":
    main()
