import numpy as np
import pytest

from training import presets
from training.preprocessor import (
    ImagePreprocessor,
    ImageTokenIds,
    PreprocessorConfig,
    resize_and_pad,
    select_tiling,
)

IDS = ImageTokenIds(im_start=1, im_end=2, im_patch=3, im_col=4)


def random_image(width, height, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize(("width", "height", "tiling", "tokens"), [
    (336, 336, (1, 1), 316), (640, 480, (2, 3), 740), (1024, 768, (3, 4), 1196), (4000, 300, (1, 12), 1372),
])  # fmt: skip
def test_pinned_tiling_and_token_counts(width, height, tiling, tokens):
    pre = ImagePreprocessor(PreprocessorConfig(max_crops=12), IDS)
    t = pre.tiling(width, height)
    assert (t.rows, t.cols) == tiling
    assert t.n_tokens == tokens
    out = pre(random_image(width, height))
    assert out["tokens"].shape == (tokens,)
    assert out["crops"].shape == (1 + tiling[0] * tiling[1], 3, 336, 336)
    assert out["patch_real"].shape == (1 + tiling[0] * tiling[1], 576)
    # every <im_patch> is fed by exactly one pooled token, and nothing else is
    index = out["pooled_index"][out["pooled_index"] >= 0]
    assert sorted(index.tolist()) == np.flatnonzero(out["tokens"] == IDS.im_patch).tolist()


def test_select_tiling_prefers_least_upscaling_then_least_downscaling():
    assert select_tiling(224, 224, 224, 12) == (1, 1)
    assert select_tiling(300, 300, 224, 12) == (2, 2)  # smallest tiling that needs no downscaling
    assert select_tiling(5000, 5000, 224, 4) == (2, 2)  # all downscale: downscale least


def test_token_layout_global_view_first():
    pre = ImagePreprocessor(PreprocessorConfig(), IDS)
    tokens = pre(random_image(640, 480))["tokens"]
    glob = tokens[:158]
    assert glob[0] == IDS.im_start and glob[-1] == IDS.im_end
    rows = glob[1:-1].reshape(12, 13)
    assert (rows[:, :12] == IDS.im_patch).all() and (rows[:, 12] == IDS.im_col).all()
    crops = tokens[158:]
    assert crops[0] == IDS.im_start and crops[-1] == IDS.im_end
    assert crops[1:-1].reshape(20, 29)[:, -1].tolist() == [IDS.im_col] * 20


@pytest.mark.parametrize("config", [PreprocessorConfig(), presets.preprocessor("tiny")], ids=["336px", "tiny"])
@pytest.mark.parametrize(("width", "height"), [(640, 480), (1024, 768), (250, 900), (97, 61)])
def test_kept_patches_tile_the_image_exactly_once(config, width, height):
    """Paste every kept patch back where it belongs: each cell of the tiled image is written once
    and the result equals the resized, letterboxed, normalised image."""
    pre = ImagePreprocessor(config, IDS)
    image = random_image(width, height, seed=width)
    out, t = pre(image), pre.tiling(width, height)
    cell = config.pool * config.patch_px  # pixels per pooled token
    writes = np.zeros((t.pooled_h, t.pooled_w), int)
    canvas = np.zeros((3, t.resized_h, t.resized_w), np.float32)
    first_crop_token = len(pre.global_tokens) + 1
    for crop, index in zip(out["crops"][1:], out["pooled_index"][1:]):
        for local, pos in enumerate(index):
            if pos < 0:
                continue
            gy, gx = divmod(pos - first_crop_token, t.pooled_w + 1)
            writes[gy, gx] += 1
            ly, lx = divmod(local, pre.pooled_per_side)
            canvas[:, gy * cell : (gy + 1) * cell, gx * cell : (gx + 1) * cell] = crop[
                :, ly * cell : (ly + 1) * cell, lx * cell : (lx + 1) * cell
            ]
    assert (writes == 1).all()
    resized, _ = resize_and_pad(image, t.resized_h, t.resized_w)
    expected = (resized.astype(np.float32) - np.array(config.mean) * 255) / (np.array(config.std) * 255)
    np.testing.assert_allclose(canvas, expected.transpose(2, 0, 1), atol=1e-5)


def test_global_view_is_the_letterboxed_image():
    config = presets.preprocessor("tiny")
    image = random_image(120, 40)
    out = ImagePreprocessor(config, IDS)(image)
    view, _ = resize_and_pad(image, config.crop_px, config.crop_px)
    expected = (
        (view.astype(np.float32) - np.array(config.mean) * 255) / (np.array(config.std) * 255)
    ).transpose(2, 0, 1)
    np.testing.assert_allclose(out["crops"][0], expected, atol=1e-5)


def test_padding_fractions():
    config = PreprocessorConfig()
    out = ImagePreprocessor(config, IDS)(random_image(336, 100))
    real = out["patch_real"][0].reshape(24, 24)  # global view: 336x100 letterboxed to 336x336
    assert real[0].max() == 0 and real[-1].max() == 0  # black bars
    assert (real[12] == 1).all()
    partial = real[(real > 0) & (real < 1)]
    assert len(partial) > 0 and ((partial > 0) & (partial < 1)).all()
    assert out["patch_real"].min() >= 0 and out["patch_real"].max() <= 1


def test_bad_input_errors_name_the_limit():
    pre = ImagePreprocessor(PreprocessorConfig(), IDS)
    with pytest.raises(ValueError, match="RGB"):
        pre(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="multiples of pool=2"):
        PreprocessorConfig(margin_patches=3)
    with pytest.raises(ValueError, match="max_crops"):
        PreprocessorConfig(max_crops=0)
