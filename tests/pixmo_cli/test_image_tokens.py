"""`pixmo image-tokens` as a user runs it: one process per call, JSON or sentences."""

import json

from tests.pixmo_cli.conftest import pixmo


def test_json_reports_tiling_scaled_sizes_and_token_count():
    done = pixmo("image-tokens", "1920", "1080", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "image": {"width": 1920, "height": 1080},
        "max_crops": 12,
        "tiling": {"rows": 3, "cols": 4},
        "crops": 12,
        "global_view": {"width": 336, "height": 189},
        "tiled_image": {"width": 1007, "height": 567},  # float32 as the released code (float64: 1008)
        "canvas": {"width": 1008, "height": 784},
        "pooled_grid": {"rows": 28, "cols": 36},
        "image_tokens": 1196,
    }


def test_json_for_a_thin_image_and_fewer_crops():
    report = json.loads(pixmo("image-tokens", "80", "1000", "--json").stdout)
    assert report["tiling"] == {"rows": 1, "cols": 1}  # a side under the 112 px margin: one crop
    assert report["tiled_image"] == report["global_view"] == {"width": 26, "height": 336}
    assert report["image_tokens"] == 316
    report = json.loads(pixmo("image-tokens", "640", "480", "--max-crops", "4", "--json").stdout)
    assert report["max_crops"] == 4 and report["crops"] <= 4


def test_sentences_say_the_same():
    done = pixmo("image-tokens", "640", "480")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [
        "image 640x480, max crops 12",
        "tiling 2 rows x 3 cols (6 crops + 1 global view)",
        "global view: scaled to 336x251 px, letterboxed to 336x336",
        "tiled image: scaled to 746x560 px, letterboxed to 784x560, cut into 6 crops of 336 px",
        "pooled grid 20 x 28",
        "image tokens 740",
    ]


def test_molmo2_tiling_and_token_count():
    """Molmo2's released image settings: 378 px crops, 8 at most, no letterbox; the count is the
    token string's (global 14 x 14 pooled + <im_col> per row + start/end, then the crops')."""
    report = json.loads(pixmo("image-tokens", "640", "480", "--config", "molmo2", "--json").stdout)
    assert report["max_crops"] == 8 and report["tiling"] == {"rows": 2, "cols": 2}
    assert report["global_view"] == {"width": 378, "height": 378}
    assert report["canvas"] == {"width": 644, "height": 644}  # 2 windows of 19 patches + 8 margin patches
    assert report["pooled_grid"] == {"global": {"rows": 14, "cols": 14}, "crops": {"rows": 23, "cols": 23}}
    assert report["image_tokens"] == (14 * 15 + 2) + (23 * 24 + 2)
    one = json.loads(pixmo("image-tokens", "1920", "1080", "--config", "molmo2", "--max-crops", "1", "--json").stdout)
    assert one["crops"] == 1 and one["max_crops"] == 1
    bad = pixmo("image-tokens", "0", "480", "--config", "molmo2")
    assert bad.returncode == 2 and "at least 1x1 px" in bad.stderr
