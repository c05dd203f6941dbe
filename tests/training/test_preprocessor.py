from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench import molmo_reference
from training import presets
from training.preprocessor import (
    ImagePreprocessor,
    ImageTokenIds,
    PreprocessorConfig,
    select_tiling,
)

IDS = ImageTokenIds(im_start=1, im_end=2, im_patch=3, im_col=4)
GREY = 1 / 255


def random_image(width, height, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def released_scaled_size(height, width, out_h, out_w):
    """The released resize_and_pad's size: the scale in float32, the product truncated."""
    scale = min(np.float32(out_h) / np.float32(height), np.float32(out_w) / np.float32(width))
    return int(np.float32(height) * scale), int(np.float32(width) * scale)


def float_letterbox(image, out_h, out_w, config):
    """The released letterbox in float: torch's bilinear antialiased resize of the image in [0, 1],
    clipped, centred on black, normalised; [3, out_h, out_w]."""
    h, w = released_scaled_size(*image.shape[:2], out_h, out_w)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True).clip(0, 1)[0]
    canvas = torch.zeros(3, out_h, out_w)
    top, left = (out_h - h) // 2, (out_w - w) // 2
    canvas[:, top : top + h, left : left + w] = x
    mean, std = torch.tensor(config.mean)[:, None, None], torch.tensor(config.std)[:, None, None]
    return ((canvas - mean) / std).numpy()


def grey_levels(normalised_diff, config):
    """A difference of normalised pixels in grey levels of the [0, 1] image."""
    return np.abs(normalised_diff) * np.array(config.std)[:, None, None]


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


# thin, 4:3, 16:9 (two sizes), odd, 500x333 and its transpose, a phone photo
SIZES = [(40, 1000), (1001, 333), (640, 480), (1920, 1080), (1280, 720), (999, 777), (500, 333), (333, 500),
         (4032, 3024)]  # fmt: skip


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_scaled_sizes_are_the_released_float32_ones(width, height):
    t = ImagePreprocessor(PreprocessorConfig(), IDS).tiling(width, height)
    assert (t.scaled_h, t.scaled_w) == released_scaled_size(height, width, t.canvas_h, t.canvas_w)
    assert (t.global_h, t.global_w) == released_scaled_size(height, width, 336, 336)


def test_float32_sizes_pinned_where_float64_differs():
    pre = ImagePreprocessor(PreprocessorConfig(), IDS)
    sizes = {(w, h): pre.tiling(w, h) for w, h in [(1920, 1080), (500, 333), (999, 777), (640, 480)]}
    assert (sizes[1920, 1080].scaled_w, sizes[1920, 1080].scaled_h) == (1007, 567)  # float64: 1008
    assert (sizes[500, 333].scaled_w, sizes[500, 333].scaled_h) == (504, 336)  # float64: 335
    assert (sizes[999, 777].scaled_w, sizes[999, 777].scaled_h) == (1008, 784)  # float64: 1007 x 783
    assert (sizes[640, 480].global_w, sizes[640, 480].global_h) == (336, 251)  # float64: 252


def test_select_tiling_prefers_least_upscaling_then_least_downscaling():
    assert select_tiling(224, 224, 224, 12) == (1, 1)
    assert select_tiling(300, 300, 224, 12) == (2, 2)  # smallest tiling that needs no downscaling
    assert select_tiling(5000, 5000, 224, 4) == (2, 2)  # all downscale: downscale least


@pytest.mark.parametrize(("width", "height"), [(2000, 100), (100, 2000), (111, 5000), (30, 30), (5000, 1)])
def test_a_side_under_the_margin_gets_one_crop(width, height):
    """The released code: a side under the 112 px margin makes every tiling "downscale", and 1x1
    downscales least (we used to tile along the long side)."""
    t = ImagePreprocessor(PreprocessorConfig(), IDS).tiling(width, height)
    assert (t.rows, t.cols) == (1, 1)
    tiny = ImagePreprocessor(presets.preprocessor("tiny"), IDS)  # margin 32 px
    assert (tiny.tiling(31, 900).rows, tiny.tiling(31, 900).cols) == (1, 1)


def test_a_side_equal_to_the_margin_leaves_the_tiling_to_the_other_side():
    pre = ImagePreprocessor(PreprocessorConfig(), IDS)
    t = pre.tiling(1000, 112)  # height minus margin is 0: that side never limits
    assert (t.rows, t.cols) == (1, 4)  # 888 px of width need 4 windows of 224


@pytest.mark.parametrize(("width", "height"), [(640, 480), (1920, 1080), (500, 333), (97, 61), (4000, 300)])
def test_matches_the_released_algorithm(width, height):
    """Tokens, pooled index and padding masks identical to a port of the released code
    (bench/molmo_reference.py), pixels within one grey level of its float resize."""
    image = random_image(width, height, seed=width)
    ref = molmo_reference.preprocess(image, {"start": 1, "end": 2, "patch": 3, "col": 4})
    ours = ImagePreprocessor(PreprocessorConfig(), IDS)(image)
    released = ImagePreprocessor(PreprocessorConfig(padding_mask_layout="released_molmo"), IDS)(image)
    assert np.array_equal(ours["tokens"], ref["tokens"])
    ref_index = np.where(ref["image_input_idx"] < 0, -1, ref["image_input_idx"])
    assert np.array_equal(ours["pooled_index"], ref_index)
    assert np.array_equal(released["patch_real"], ref["image_masks"])
    hwc = np.ascontiguousarray(ours["crops"].transpose(0, 2, 3, 1))
    diff = molmo_reference.to_patches(hwc, 14) - ref["crops"]
    assert (np.abs(diff).reshape(*diff.shape[:2], -1, 3) * np.array(molmo_reference.CLIP_STD)).max() <= GREY


@pytest.mark.parametrize("config", [PreprocessorConfig(), presets.preprocessor("tiny")], ids=["336px", "tiny"])
@pytest.mark.parametrize(("width", "height"), [(640, 480), (1024, 768), (250, 900), (97, 61)])
def test_kept_patches_tile_the_image_exactly_once(config, width, height):
    """Paste every kept patch back where it belongs: each cell of the tiled image is written once
    and the result is the released float letterbox of the image, within one grey level."""
    pre = ImagePreprocessor(config, IDS)
    image = random_image(width, height, seed=width)
    out, t = pre(image), pre.tiling(width, height)
    cell = config.pool * config.patch_px  # pixels per pooled token
    writes = np.zeros((t.pooled_h, t.pooled_w), int)
    canvas = np.zeros((3, t.canvas_h, t.canvas_w), np.float32)
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
    expected = float_letterbox(image, t.canvas_h, t.canvas_w, config)
    assert grey_levels(canvas - expected, config).max() <= GREY


def test_global_view_is_the_letterboxed_image():
    config = presets.preprocessor("tiny")
    image = random_image(120, 40)
    out = ImagePreprocessor(config, IDS)(image)
    expected = float_letterbox(image, config.crop_px, config.crop_px, config)
    assert grey_levels(out["crops"][0] - expected, config).max() <= GREY


def test_padding_fractions():
    config = PreprocessorConfig()
    out = ImagePreprocessor(config, IDS)(random_image(336, 100))
    real = out["patch_real"][0].reshape(24, 24)  # global view: 336x100 letterboxed to 336x336
    assert real[0].max() == 0 and real[-1].max() == 0  # black bars
    assert (real[12] == 1).all()
    partial = real[(real > 0) & (real < 1)]
    assert len(partial) > 0 and ((partial > 0) & (partial < 1)).all()
    assert out["patch_real"].min() >= 0 and out["patch_real"].max() <= 1


@pytest.mark.parametrize(("width", "height"), [(640, 480), (250, 900), (500, 333)])
def test_padding_fractions_equal_the_mean_of_a_pixel_mask(width, height):
    """Computed from the letterbox rectangle, they equal what the released code computes: the
    mean over each patch of a 0/1 mask of real pixels, cut into crops like the pixels."""
    config = presets.preprocessor("tiny")
    pre = ImagePreprocessor(config, IDS)
    t, p, crop = pre.tiling(width, height), config.patch_px, config.crop_px

    def mask(out_h, out_w, h, w):
        m = np.zeros((out_h, out_w), bool)
        top, left = (out_h - h) // 2, (out_w - w) // 2
        m[top : top + h, left : left + w] = True
        return m

    tiled = mask(t.canvas_h, t.canvas_w, t.scaled_h, t.scaled_w)
    crops = [mask(crop, crop, t.global_h, t.global_w)] + [
        tiled[r * config.window_px :][:crop, c * config.window_px :][:, :crop]
        for r in range(t.rows)
        for c in range(t.cols)
    ]
    means = np.stack([molmo_reference.to_patches(m[None], p)[0].astype(np.float32).mean(-1) for m in crops])
    assert np.array_equal(pre(random_image(width, height))["patch_real"], means)


def test_released_padding_mask_layout_is_one_crop_off(tiny_parts):
    """released_molmo: the global view's row holds the first crop's fractions, each crop its
    successor's, the last a row of -1; the model reads -1 as partial padding, as the released one."""
    image = random_image(200, 90)
    aligned = ImagePreprocessor(presets.preprocessor("tiny"), IDS)(image)
    config = replace(presets.preprocessor("tiny"), padding_mask_layout="released_molmo")
    released = ImagePreprocessor(config, IDS)(image)
    assert np.array_equal(released["crops"], aligned["crops"])
    assert np.array_equal(released["patch_real"][:-1], aligned["patch_real"][1:])
    assert (released["patch_real"][-1] == -1).all()
    model, crops = tiny_parts[0], torch.from_numpy(aligned["crops"][:1])
    model.pad_embed.data[1] += 1.0  # a partial-padding embedding that shows
    try:
        with torch.no_grad():
            fractions = (torch.full((1, 64), v) for v in (-1.0, 0.5, 1.0))
            minus_one, half, real = (model.image_features(crops, f) for f in fractions)
    finally:
        model.pad_embed.data[1] -= 1.0
    torch.testing.assert_close(minus_one, half)
    assert not torch.allclose(minus_one, real)


def test_bad_input_errors_name_the_limit():
    pre = ImagePreprocessor(PreprocessorConfig(), IDS)
    with pytest.raises(ValueError, match="RGB"):
        pre(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="multiples of pool=2"):
        PreprocessorConfig(margin_patches=3)
    with pytest.raises(ValueError, match="max_crops"):
        PreprocessorConfig(max_crops=0)
    with pytest.raises(ValueError, match="padding_mask_layout"):
        PreprocessorConfig(padding_mask_layout="shifted")
