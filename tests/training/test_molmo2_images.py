"""Molmo2 image inputs (training/molmo2/images.py): hand-worked tilings and token counts, the
pooling indices against the crops' pixels, the token layout against transformers' own
`Molmo2Processor` code, configs; and the full comparison with `Molmo2ImageProcessor`
(bench/molmo2_processor.py), run in its own venv where one exists."""

import inspect
import os
import re
import subprocess
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.molmo2.images import (
    Molmo2ImageConfig,
    Molmo2TokenIds,
    crop_tiling,
    image_inputs,
    image_token_ids,
    image_token_string,
    image_token_type,
)

REPO = Path(__file__).resolve().parents[2]
IDS = Molmo2TokenIds(image_start=11, low_res_image_start=12, image_end=13, image_patch=14, image_col=15)
TOKEN_IDS = {"<im_start>": 11, "<low_res_im_start>": 12, "<im_end>": 13, "<im_patch>": 14, "<im_col>": 15}


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


# Worked by hand with the margin 8 patches = 112 px and the window 19 patches = 266 px:
#   640x480: 528 x 368 left; (2, 2) is the first tiling that needs no downscaling (532/528, 532/368)
#     -> canvas 644 x 644 px = 46 x 46 patches = 23 x 23 tokens;
#   1920x1080: 1808 x 968 left; no tiling of <= 8 avoids downscaling, (2 rows, 4 cols) downscales
#     least (min(532/968, 1064/1808) = 0.55) -> canvas 644 x 1176 px = 46 x 84 patches = 23 x 42;
#   300x1200 (tall): 188 x 1088 left; (5, 1) is the least upscaling (min(1330/1088, 266/188) = 1.22)
#     -> canvas 1442 x 378 px = 103 x 27 patches = 52 x 14 (odd: padded to 104 x 28);
#   378x378: 266 x 266 left, (1, 1) exactly; 20x20: a side under the margin -> (1, 1).
# The global view is always 27 x 27 patches = 14 x 14 tokens.
@pytest.mark.parametrize(
    "width, height, tiling, grid",
    [
        (378, 378, (1, 1), [14, 14, 14, 14]),
        (640, 480, (2, 2), [14, 14, 23, 23]),
        (1920, 1080, (2, 4), [14, 14, 23, 42]),
        (300, 1200, (5, 1), [14, 14, 52, 14]),
        (20, 20, (1, 1), [14, 14, 14, 14]),
    ],
)
def test_tiling_grid_and_token_counts(width, height, tiling, grid):
    config = Molmo2ImageConfig()
    assert crop_tiling(height, width, config) == tiling
    out = image_inputs(noise_image(width, height), config)
    n_crops = 1 + tiling[0] * tiling[1]
    assert out["image_grids"].tolist() == grid and out["image_grids"].dtype == np.int64
    assert out["image_num_crops"] == n_crops
    assert out["pixel_values"].shape == (n_crops, 27 * 27, 14 * 14 * 3)
    assert out["pixel_values"].dtype == np.float32
    n_tokens = grid[0] * grid[1] + grid[2] * grid[3]
    assert out["image_token_pooling"].shape == (n_tokens, 4) and out["image_token_pooling"].dtype == np.int64
    # <low_res_im_start>, a <im_col> per row and <im_end> around each view's <im_patch> tokens
    assert len(image_token_ids(grid, IDS)) == n_tokens + 2 + grid[0] + 2 + grid[2]


def expected_padding(rows: int, cols: int, pool: int = 2) -> np.ndarray:
    """[tokens, pool*pool] True where a pooling window reaches past a rows x cols patch grid padded
    centred (the smaller half top/left)."""
    pad_h, pad_w = -rows % pool, -cols % pool
    y = np.arange(rows + pad_h).reshape(-1, pool) - pad_h // 2  # [token rows, pool]
    x = np.arange(cols + pad_w).reshape(-1, pool) - pad_w // 2
    outside_y, outside_x = (y < 0) | (y >= rows), (x < 0) | (x >= cols)
    padded = outside_y[:, None, :, None] | outside_x[None, :, None, :]
    return padded.reshape(-1, pool * pool)


@pytest.mark.parametrize("width, height", [(640, 480), (1920, 1080), (300, 1200), (20, 20), (377, 379)])
def test_pooling_indices_in_range_and_minus_one_only_at_padding(width, height):
    out = image_inputs(noise_image(width, height), Molmo2ImageConfig())
    pooling, (resized_h, resized_w, h, w) = out["image_token_pooling"], out["image_grids"]
    n_patches = out["pixel_values"].shape[0] * out["pixel_values"].shape[1]
    assert pooling.min() >= -1 and pooling.max() < n_patches
    global_part, crops_part = pooling[: resized_h * resized_w], pooling[resized_h * resized_w :]
    assert np.array_equal(global_part == -1, expected_padding(27, 27))
    rows, cols = crop_tiling(height, width, Molmo2ImageConfig())
    canvas_rows, canvas_cols = rows * 19 + 8, cols * 19 + 8
    assert (h, w) == (-(-canvas_rows // 2), -(-canvas_cols // 2))
    assert np.array_equal(crops_part == -1, expected_padding(canvas_rows, canvas_cols))


@pytest.mark.parametrize("width, height", [(640, 480), (1920, 1080), (300, 1200), (4000, 300)])
def test_every_kept_patch_pooled_exactly_once(width, height):
    """The crops' patches the pooling reads are exactly their non-margin patches (an edge crop keeps
    its outer margin), each once; the global view's 729 patches likewise."""
    out = image_inputs(noise_image(width, height), Molmo2ImageConfig())
    rows, cols = crop_tiling(height, width, Molmo2ImageConfig())
    kept = []
    for i in range(rows):
        for j in range(cols):
            first = 1 + i * cols + j  # crop 0 is the global view
            for y in range(4 if i > 0 else 0, 23 if i < rows - 1 else 27):
                for x in range(4 if j > 0 else 0, 23 if j < cols - 1 else 27):
                    kept.append(first * 729 + y * 27 + x)
    pooled = out["image_token_pooling"][out["image_token_pooling"] >= 0]
    assert len(pooled) == len(set(pooled.tolist())) == 729 + len(kept)
    assert sorted(pooled.tolist()) == list(range(729)) + sorted(kept)


def as_image(patches: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """[rows*cols, 588] row-major patches, pixels (row, column, channel), back to [H, W, 3] grey levels."""
    patches = patches.reshape(rows, cols, 14, 14, 3).transpose(0, 2, 1, 3, 4)
    return patches.reshape(rows * 14, cols * 14, 3) * 127.5 + 127.5


@pytest.mark.parametrize("width, height", [(644, 644), (1176, 644)])
def test_pooled_patches_are_the_image_where_the_canvas_is_the_image(width, height):
    """Sizes whose canvas is the image itself (a same-size resize is exact): every pooling window must
    read the 2x2 patches of the image it stands for, in row-major order."""
    image = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = image_inputs(Image.fromarray(image), Molmo2ImageConfig())
    patches = out["pixel_values"].reshape(-1, 14 * 14 * 3)
    _, _, h, w = out["image_grids"]
    assert (h * 28, w * 28) == (height, width)  # an even patch grid: no padding
    crops_pooling = out["image_token_pooling"][14 * 14 :].reshape(h, w, 2, 2)
    for ty, tx in np.ndindex(h, w):
        window = as_image(patches[crops_pooling[ty, tx].reshape(-1)], 2, 2)
        np.testing.assert_allclose(window, image[ty * 28 : ty * 28 + 28, tx * 28 : tx * 28 + 28], atol=1e-3)


def test_global_view_of_a_378_image_is_the_image():
    image = np.random.default_rng(1).integers(0, 256, (378, 378, 3), dtype=np.uint8)
    out = image_inputs(Image.fromarray(image), Molmo2ImageConfig())
    np.testing.assert_allclose(as_image(out["pixel_values"][0], 27, 27), image, atol=1e-3)
    np.testing.assert_array_equal(out["pixel_values"][1], out["pixel_values"][0])  # its one crop too


def test_global_view_of_a_756_image_is_its_2x2_means_rounded_half_to_even():
    """Halving with bilinear and no antialiasing samples between each 2x2 block's 4 pixels: their
    mean exactly (in float32 too), then rounded to a grey level (ties to even, as torch.round);
    an antialiased resize would weigh 4x4 pixels, an unrounded one leave quarters."""
    image = np.random.default_rng(3).integers(0, 256, (756, 756, 3), dtype=np.uint8)
    out = image_inputs(Image.fromarray(image), Molmo2ImageConfig())
    means = image.reshape(378, 2, 378, 2, 3).mean(axis=(1, 3))
    assert np.any(means % 1 == 0.5)  # the tie case is exercised
    np.testing.assert_allclose(as_image(out["pixel_values"][0], 27, 27), np.round(means), atol=1e-4)


def test_transparency_is_composited_onto_white():
    rgba = np.zeros((378, 378, 4), dtype=np.uint8)
    rgba[..., :3] = 40  # dark pixels under alpha 0
    rgba[:189, ..., 3] = 255  # top half opaque
    out = image_inputs(Image.fromarray(rgba, "RGBA"), Molmo2ImageConfig())
    global_view = as_image(out["pixel_values"][0], 27, 27)
    np.testing.assert_allclose(global_view[:189], 40, atol=1e-4)
    np.testing.assert_allclose(global_view[189:], 255, atol=1e-4)  # white
    grey = np.random.default_rng(2).integers(0, 256, (100, 150), dtype=np.uint8)
    channels = image_inputs(Image.fromarray(grey, "L"), Molmo2ImageConfig())["pixel_values"].reshape(-1, 3)
    assert np.array_equal(channels[:, 0], channels[:, 1]) and np.array_equal(channels[:, 0], channels[:, 2])


@pytest.mark.parametrize("grid", [[14, 14, 14, 14], [14, 14, 23, 42], [14, 14, 52, 14], [8, 8, 20, 26]])
def test_token_string_and_ids_are_molmo2_processor_layout(grid):
    from transformers.models.molmo2.processing_molmo2 import Molmo2Processor

    string = image_token_string(grid)
    tokens = re.findall(r"<[^>]+>", string)
    assert "".join(tokens) == string
    assert [TOKEN_IDS[t] for t in tokens] == image_token_ids(np.array(grid), IDS).tolist()
    assert tokens.count("<im_patch>") == grid[0] * grid[1] + grid[2] * grid[3]
    assert tokens[0] == "<low_res_im_start>" and tokens[1 + grid[0] * (grid[1] + 1)] == "<im_end>"
    # transformers' own method, on a stand-in holding the processor's __init__ defaults
    parameters = inspect.signature(Molmo2Processor.__init__).parameters
    defaults = {
        name: parameters[name].default
        for name in ("image_use_col_tokens", "use_single_crop_col_tokens", "use_single_crop_start_token")
    }
    processor = types.SimpleNamespace(**defaults)
    assert Molmo2Processor.replace_image_token(processor, {"image_grids": [grid]}, 0) == string


def test_image_token_type_marks_every_image_token():
    ids = Molmo2TokenIds(11, 12, 13, 14, 15, frame_start=16, frame_end=17, image_low=18)
    sequence = np.concatenate([[1, 2], image_token_ids([14, 14, 23, 42], ids), [3, 16, 17, 18, 4]])
    types_ = image_token_type(sequence, ids)
    assert types_.tolist() == [0, 0] + [1] * (len(sequence) - 7) + [0, 1, 1, 1, 0]
    # transformers' own rule, on a stand-in holding the ids Molmo2Processor marks as image tokens
    from transformers.processing_utils import ProcessorMixin

    processor = types.SimpleNamespace(
        image_token_ids=ids.type_one_ids(), video_token_ids=[99], audio_token_ids=[]
    )
    assert ProcessorMixin.create_mm_token_type_ids(processor, [sequence.tolist()])[0] == types_.tolist()
    five_ids_only = image_token_type(sequence, IDS)  # a tokenizer without the three optional tokens
    assert five_ids_only.sum() == types_.sum() - 3


class FakeTokenizer:
    unk_token, unk_token_id = "<unk>", 0

    def __init__(self, vocab):
        self.vocab = vocab

    def convert_tokens_to_ids(self, token):
        return self.vocab.get(token, self.unk_token_id)


def test_token_ids_from_tokenizer():
    vocab = {**TOKEN_IDS, "<frame_start>": 16}
    ids = Molmo2TokenIds.from_tokenizer(FakeTokenizer(vocab))
    assert ids == Molmo2TokenIds(11, 12, 13, 14, 15, frame_start=16)
    del vocab["<im_col>"]
    with pytest.raises(ValueError, match="<im_col>"):
        Molmo2TokenIds.from_tokenizer(FakeTokenizer(vocab))


def test_processor_config_round_trips():
    variant = Molmo2ImageConfig(
        size=336, max_crops=12, overlap_margins=(2, 4), pooling_size=(3, 3), image_mean=(0.1, 0.2, 0.3)
    )
    for config in (Molmo2ImageConfig(), variant):
        written = config.to_processor_config()
        assert written["image_processor_type"] == "Molmo2ImageProcessor"
        assert written["processor_class"] == "Molmo2Processor"
        assert written["resample"] == 2 and written["do_convert_rgb"] is True
        assert Molmo2ImageConfig.from_processor_config(written) == config
    assert Molmo2ImageConfig.from_processor_config({}) == Molmo2ImageConfig()


@pytest.mark.parametrize(
    "change, key",
    [
        ({"size": {"height": 378, "width": 336}}, "size"),
        ({"resample": 3}, "resample"),
        ({"do_normalize": False}, "do_normalize"),
        ({"do_convert_rgb": False}, "do_convert_rgb"),
        ({"rescale_factor": 1 / 127.5}, "rescale_factor"),
        ({"size": {"height": 380, "width": 380}}, "size"),
        ({"overlap_margins": [14, 14]}, "overlap_margins"),
        ({"pooling_size": [0, 2]}, "pooling_size"),
    ],
)
def test_bad_processor_configs_are_refused_naming_the_key(change, key):
    with pytest.raises(ValueError, match=key):
        Molmo2ImageConfig.from_processor_config({**Molmo2ImageConfig().to_processor_config(), **change})


REF_PYTHON = Path(os.environ.get("PIXMO_MOLMO2_REF_PYTHON", "/work/venvs/molmo2-ref/bin/python"))
MAKE_REF_VENV = (
    "python3.11 -m venv /work/venvs/molmo2-ref && /work/venvs/molmo2-ref/bin/pip install torch==2.14.1 "
    "torchvision==0.29.1 && /work/venvs/molmo2-ref/bin/pip install transformers==5.24.0 pillow numpy "
    "(or point PIXMO_MOLMO2_REF_PYTHON at a python with torchvision and transformers 5.24)"
)


@pytest.mark.skipif(
    not REF_PYTHON.exists(), reason=f"no Molmo2 reference venv at {REF_PYTHON}: {MAKE_REF_VENV}"
)
def test_same_inputs_as_transformers_molmo2_processor():
    """bench/molmo2_processor.py in the reference venv: every check on every image must hold."""
    result = subprocess.run(
        [str(REF_PYTHON), "bench/molmo2_processor.py", "--repeats", "1"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert re.search(r"images compared .*, 0 mismatches", result.stdout), result.stdout
    # Stricter than the one grey level: both run the same torch resize on the same layout,
    # so anything but identical pixels is a change in how ours resizes or normalises.
    compared = int(re.search(r"(\d+) images compared", result.stdout).group(1))
    assert f"bit-identical for {compared})" in result.stdout, result.stdout[-1500:]
