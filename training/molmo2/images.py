"""Molmo2's image inputs, exactly as transformers' `Molmo2ImageProcessor` and `Molmo2Processor`
make them, with torch, numpy and PIL only (that processor needs torchvision, which cannot be
installed beside our torch).

One image becomes a global view (the whole image resized to one square crop, aspect not kept)
followed by a tiling of overlapping crops cut from the image resized, again without keeping its
aspect, to the tiling's canvas. Neighbouring crops overlap by the left + right margins; of each
crop only its non-margin patches are kept (edge crops keep their outer margins), so the kept
patches cover the canvas exactly once. The adapter pools pool_h x pool_w patches into one token.

The processor's steps, in its order (transformers 5.24 `image_processing_molmo2.py`):
  1. RGB, compositing any transparency onto white (`convert_to_rgb`);
  2. tiling of the image minus the margins (`select_tiling`, float32), canvas =
     tiling * window + margins;
  3. resize to the canvas and to the square global view: torchvision's tensor resize, bilinear,
     antialias off, on float (= `F.interpolate(..., align_corners=False, antialias=False)` on a
     contiguous NCHW tensor), then round, clamp to 0..255, and normalise in one step
     ((x - mean * 255) / (std * 255), float32, as its fused rescale-and-normalise);
  4. crops unfolded from the canvas with stride = window, global view first, patches row-major,
     each patch's pixels (row, column, channel);
  5. patch index grid of the crops with the margins removed, padded to whole pooling windows with
     -1 (top/left get the smaller half), and the crops' indices offset past the global view's.

Ours differs only in how: the resized images are normalised in place and every crop is cut straight
into the output with one strided copy; the pooling indices are built with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from training.preprocessor import select_tiling

IMAGE_START = "<im_start>"
LOW_RES_IMAGE_START = "<low_res_im_start>"
IMAGE_END = "<im_end>"
IMAGE_PATCH = "<im_patch>"
IMAGE_COL = "<im_col>"
# Molmo2Processor also counts these as image tokens (type 1) in `mm_token_type_ids`; no image's
# token run contains them, so they matter only where a text holds them.
FRAME_START = "<frame_start>"
FRAME_END = "<frame_end>"
IMAGE_LOW = "<im_low>"

RESCALE_FACTOR = 1 / 255  # the processor's default rescale_factor; other values are refused
BILINEAR = 2  # PIL.Image.Resampling.BILINEAR, the only `resample` the processor is used with here


@dataclass
class Molmo2ImageConfig:
    size: int = 378  # side of the square global view and of every crop, px
    patch_size: int = 14  # ViT patch side, px
    max_crops: int = 8  # most crops in the tiling (the global view not counted)
    overlap_margins: tuple[int, int] = (4, 4)  # left/top and right/bottom margin of a crop, patches
    pooling_size: tuple[int, int] = (2, 2)  # (pool_h, pool_w) patches per image token
    image_mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    image_std: tuple[float, float, float] = (0.5, 0.5, 0.5)

    def __post_init__(self):
        self.overlap_margins = tuple(int(m) for m in self.overlap_margins)
        self.pooling_size = tuple(int(p) for p in self.pooling_size)
        self.image_mean = tuple(float(m) for m in self.image_mean)
        self.image_std = tuple(float(s) for s in self.image_std)
        if self.patch_size <= 0 or self.size % self.patch_size:
            raise ValueError(f"size={self.size} must be a multiple of patch_size={self.patch_size}")
        if len(self.overlap_margins) != 2 or min(self.overlap_margins) < 0:
            raise ValueError(f"overlap_margins={self.overlap_margins} must be two patch counts >= 0")
        if self.window_patches <= 0:
            raise ValueError(
                f"overlap_margins={self.overlap_margins} leave no window in a {self.crop_patches}-patch crop"
            )
        if len(self.pooling_size) != 2 or min(self.pooling_size) < 1:
            raise ValueError(f"pooling_size={self.pooling_size} must be two sizes >= 1")
        if self.max_crops < 1:
            raise ValueError(f"max_crops={self.max_crops} must be at least 1")
        if len(self.image_mean) != 3 or len(self.image_std) != 3 or min(self.image_std) <= 0:
            raise ValueError(
                f"image_mean={self.image_mean} and image_std={self.image_std} need 3 values, std > 0"
            )

    @property
    def crop_patches(self) -> int:  # patches along a crop's side
        return self.size // self.patch_size

    @property
    def window_patches(self) -> int:  # patches one crop advances by
        return self.crop_patches - sum(self.overlap_margins)

    @classmethod
    def from_processor_config(cls, config: dict) -> Molmo2ImageConfig:
        """From a released `preprocessor_config.json` (a Molmo2ImageProcessor's); a missing key takes
        the processor's default. Settings this module cannot reproduce are refused, naming the key."""
        size = config.get("size", {"height": 378, "width": 378})
        if size.get("height") != size.get("width"):
            raise ValueError(f"size: Molmo2 crops are square, got {size}")
        if config.get("resample", BILINEAR) != BILINEAR:
            raise ValueError(f"resample: only 2 (bilinear) is implemented, got {config['resample']!r}")
        for key in ("do_resize", "do_rescale", "do_normalize", "do_convert_rgb"):
            if not config.get(key, True):
                raise ValueError(f"{key}: only true is implemented, got {config[key]!r}")
        if not np.isclose(config.get("rescale_factor", RESCALE_FACTOR), RESCALE_FACTOR, rtol=1e-9, atol=0):
            raise ValueError(f"rescale_factor: only 1/255 is implemented, got {config['rescale_factor']!r}")
        defaults = cls()
        return cls(
            size=int(size["height"]),
            **{
                f.name: config.get(f.name, getattr(defaults, f.name)) for f in fields(cls) if f.name != "size"
            },
        )

    def to_processor_config(self) -> dict:
        """The `preprocessor_config.json` a Molmo2ImageProcessor loads to give the same inputs."""
        return {
            "image_processor_type": "Molmo2ImageProcessor",
            "processor_class": "Molmo2Processor",
            "size": {"height": self.size, "width": self.size},
            "patch_size": self.patch_size,
            "max_crops": self.max_crops,
            "overlap_margins": list(self.overlap_margins),
            "pooling_size": list(self.pooling_size),
            "image_mean": list(self.image_mean),
            "image_std": list(self.image_std),
            "resample": BILINEAR,
            "do_resize": True,
            "do_rescale": True,
            "rescale_factor": RESCALE_FACTOR,
            "do_normalize": True,
            "do_convert_rgb": True,
        }


@dataclass(frozen=True)
class Molmo2TokenIds:
    image_start: int
    low_res_image_start: int
    image_end: int
    image_patch: int
    image_col: int
    # Optional: the processor's other type-1 tokens (see FRAME_START), where the tokenizer has them.
    frame_start: int | None = None
    frame_end: int | None = None
    image_low: int | None = None

    @classmethod
    def from_tokenizer(cls, tokenizer) -> Molmo2TokenIds:
        """The ids of a Hugging Face tokenizer; one that lacks an image token is a ValueError naming it."""
        required = {
            "image_start": IMAGE_START,
            "low_res_image_start": LOW_RES_IMAGE_START,
            "image_end": IMAGE_END,
            "image_patch": IMAGE_PATCH,
            "image_col": IMAGE_COL,
        }
        optional = {"frame_start": FRAME_START, "frame_end": FRAME_END, "image_low": IMAGE_LOW}
        ids = {name: _token_id(tokenizer, token) for name, token in {**required, **optional}.items()}
        missing = [token for name, token in required.items() if ids[name] is None]
        if missing:
            raise ValueError(f"the tokenizer has no {', '.join(missing)} token: not a Molmo2 tokenizer")
        return cls(**ids)

    def type_one_ids(self) -> list[int]:
        """Every id `Molmo2Processor` marks 1 (image) in `mm_token_type_ids`."""
        return [getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None]


def _token_id(tokenizer, token: str) -> int | None:
    """The token's id, None where the tokenizer lacks it (it then answers None or its unk id)."""
    token_id = tokenizer.convert_tokens_to_ids(token)
    unk_id = getattr(tokenizer, "unk_token_id", None)
    if token_id is None or (
        unk_id is not None and token_id == unk_id and token != getattr(tokenizer, "unk_token", None)
    ):
        return None
    return int(token_id)


# ---- pixels ------------------------------------------------------------------------------------


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB as the processor's `convert_to_rgb`: transparency is composited onto white."""
    if "A" in image.getbands() or image.info.get("transparency") is not None:
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def crop_tiling(height: int, width: int, config: Molmo2ImageConfig) -> tuple[int, int]:
    """(rows, cols) of crops: the tiling of the image minus both margins into windows."""
    margin_px = sum(config.overlap_margins) * config.patch_size
    window_px = config.window_patches * config.patch_size
    return select_tiling(height - margin_px, width - margin_px, window_px, config.max_crops)


def _resized_normalised(
    image: torch.Tensor, height: int, width: int, config: Molmo2ImageConfig
) -> torch.Tensor:
    """float32 [1, 3, H, W] in 0..255 -> [height, width, 3] resized, rounded to grey levels, normalised.

    The processor resizes a contiguous NCHW float tensor (the kernel is layout-specific, so its
    rounding could be too) and normalises with mean and std times 255 in float32: (x - m) / s."""
    resized = F.interpolate(
        image, size=(height, width), mode="bilinear", align_corners=False, antialias=False
    )
    resized = resized[0].round_().clamp_(0, 255).permute(1, 2, 0).contiguous()
    mean = torch.tensor(config.image_mean, dtype=torch.float32) * (1 / RESCALE_FACTOR)
    std = torch.tensor(config.image_std, dtype=torch.float32) * (1 / RESCALE_FACTOR)
    return resized.sub_(mean).div_(std)


def _cut_crops(
    canvas: torch.Tensor, out: torch.Tensor, rows: int, cols: int, config: Molmo2ImageConfig
) -> None:
    """Copy the rows x cols overlapping crops of a contiguous [H, W, 3] canvas into out [rows*cols,
    patches, patch*patch*3], each crop's patches row-major, each patch's pixels (row, column, channel)."""
    p, n, stride_px = config.patch_size, config.crop_patches, config.window_patches * config.patch_size
    row_stride = canvas.shape[1] * 3
    view = canvas.as_strided(
        (rows, cols, n, n, p, p, 3),
        (stride_px * row_stride, stride_px * 3, p * row_stride, p * 3, row_stride, 3, 1),
    )
    out.view(rows, cols, n, n, p, p, 3).copy_(view)


def image_pixels(image: Image.Image, rows: int, cols: int, config: Molmo2ImageConfig) -> np.ndarray:
    """pixel_values float32 [1 + rows*cols, patches per crop, patch*patch*3], global view first."""
    window_px = config.window_patches * config.patch_size
    margin_px = sum(config.overlap_margins) * config.patch_size
    # One plane per channel straight from PIL: 3-4x faster than np.array(rgb) and a transpose.
    planes = np.stack([np.asarray(band) for band in to_rgb(image).split()])
    pixels = torch.from_numpy(planes).float()[None]
    out = torch.empty(1 + rows * cols, config.crop_patches**2, config.patch_size**2 * 3, dtype=torch.float32)
    global_view = _resized_normalised(pixels, config.size, config.size, config)
    _cut_crops(global_view, out[:1], 1, 1, config)
    canvas_size = (rows * window_px + margin_px, cols * window_px + margin_px)
    # A 1x1 tiling's canvas is the global view (same size, same resize): not computed twice.
    canvas = (
        global_view
        if canvas_size == (config.size, config.size)
        else _resized_normalised(pixels, *canvas_size, config)
    )
    _cut_crops(canvas, out[1:], rows, cols, config)
    return out.numpy()


# ---- pooling indices ---------------------------------------------------------------------------


def kept_patch_grid(rows: int, cols: int, config: Molmo2ImageConfig) -> np.ndarray:
    """int64 [canvas patch rows, canvas patch cols]: each kept crop patch's index into the crops'
    patches (crop-major, then row-major), laid out where the patch sits on the canvas."""
    n = config.crop_patches
    left, right = config.overlap_margins
    index = np.arange(rows * cols * n * n, dtype=np.int64).reshape(rows, cols, n, n)
    keep = np.ones((rows, cols, n, n), dtype=bool)
    keep[1:, :, :left, :] = False  # a crop below another drops its top margin
    keep[:, 1:, :, :left] = False  # a crop right of another drops its left margin
    if right:
        keep[:-1, :, n - right :, :] = False
        keep[:, :-1, :, n - right :] = False
    index, keep = index.transpose(0, 2, 1, 3), keep.transpose(0, 2, 1, 3)
    margins = sum(config.overlap_margins)
    return index[keep].reshape(rows * config.window_patches + margins, cols * config.window_patches + margins)


def pool_windows(grid: np.ndarray, pool_h: int, pool_w: int) -> tuple[np.ndarray, list[int]]:
    """[h, w] patch indices -> [rows * cols, pool_h * pool_w] and the pooled [rows, cols], the grid
    first padded with -1 to whole windows (the top and left get the smaller half of the padding)."""
    pad_h, pad_w = -grid.shape[0] % pool_h, -grid.shape[1] % pool_w
    grid = np.pad(
        grid, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2)), constant_values=-1
    )
    rows, cols = grid.shape[0] // pool_h, grid.shape[1] // pool_w
    windows = grid.reshape(rows, pool_h, cols, pool_w).transpose(0, 2, 1, 3)
    return windows.reshape(rows * cols, pool_h * pool_w), [rows, cols]


def token_pooling(rows: int, cols: int, config: Molmo2ImageConfig) -> tuple[np.ndarray, np.ndarray]:
    """image_token_pooling int64 [tokens, pool_h*pool_w] (global view's tokens first; indices into
    pixel_values' patches flattened over crops, -1 for padding) and image_grids int64 [4]."""
    n = config.crop_patches
    global_pooling, global_shape = pool_windows(
        np.arange(n * n, dtype=np.int64).reshape(n, n), *config.pooling_size
    )
    crops_pooling, crops_shape = pool_windows(kept_patch_grid(rows, cols, config), *config.pooling_size)
    crops_pooling = np.where(crops_pooling >= 0, crops_pooling + n * n, -1)  # past the global view's
    grids = np.array(global_shape + crops_shape, dtype=np.int64)
    return np.concatenate([global_pooling, crops_pooling]), grids


def image_inputs(image: Image.Image, config: Molmo2ImageConfig) -> dict:
    """What Molmo2ImageProcessor gives for this one image, as numpy: pixel_values, image_token_pooling,
    image_grids ([resized_h, resized_w, h, w] in tokens) and image_num_crops (global view included).
    EXIF orientation is the caller's (training.preprocessor.load_image)."""
    rows, cols = crop_tiling(image.height, image.width, config)
    pooling, grids = token_pooling(rows, cols, config)
    return {
        "pixel_values": image_pixels(image, rows, cols, config),
        "image_token_pooling": pooling,
        "image_grids": grids,
        "image_num_crops": 1 + rows * cols,
    }


# ---- tokens ------------------------------------------------------------------------------------


def image_token_string(grid) -> str:
    """`Molmo2Processor.replace_image_token` with its defaults, for one image's image_grids."""
    resized_h, resized_w, height, width = (int(g) for g in grid)
    low_res = LOW_RES_IMAGE_START + (IMAGE_PATCH * resized_w + IMAGE_COL) * resized_h + IMAGE_END
    return low_res + IMAGE_START + (IMAGE_PATCH * width + IMAGE_COL) * height + IMAGE_END


def image_token_ids(grid, ids: Molmo2TokenIds) -> np.ndarray:
    """int64 [tokens]: the ids of `image_token_string(grid)`."""
    resized_h, resized_w, height, width = (int(g) for g in grid)
    parts = []
    for start, rows, cols in (
        (ids.low_res_image_start, resized_h, resized_w),
        (ids.image_start, height, width),
    ):
        row = np.full(cols + 1, ids.image_patch, dtype=np.int64)
        row[-1] = ids.image_col
        parts += [
            np.array([start], dtype=np.int64),
            np.tile(row, rows),
            np.array([ids.image_end], dtype=np.int64),
        ]
    return np.concatenate(parts)


def image_token_type(token_ids: np.ndarray, ids: Molmo2TokenIds) -> np.ndarray:
    """mm_token_type_ids for images: 1 where `Molmo2Processor` counts a token as image (its start,
    low-res start, end, column and patch tokens, and frame_start/frame_end/im_low), else 0."""
    token_ids = np.asarray(token_ids)
    return np.isin(token_ids, ids.type_one_ids()).astype(np.int64)
