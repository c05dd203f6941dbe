"""Molmo's overlap-and-resize multi-crop image preprocessor, exact to the released code
(allenai/molmo `olmo/data/model_preprocessor.py`, crop mode overlap-and-resize-c2) and faster.

An image becomes one global view (letterboxed to one crop) plus a rows x cols grid of
overlapping crops cut from the image resized to fit that grid. Each crop is a grid of
`crop_patches` x `crop_patches` ViT patches; neighbouring crops overlap by `2 * margin_patches`
patches, and of every crop only the non-margin patches are kept (edge crops also keep their
outer margin), so the kept patches tile the resized image exactly once. The connector pools
`pool` x `pool` patches into one token, so all patch bookkeeping below is in pooled units.

As the released code: the tiling and the aspect-keeping sizes are computed in float32 (a side under
the margin gives a 1x1 tiling), the resize is bilinear with antialiasing, padding is black.
Where we differ, on purpose:
  - the resize runs its vertical pass on uint8 (torch's fixed-point kernel) and its horizontal
    pass in float32, so pixels are within 0.52 grey levels of the released float resize (measured
    over random sizes; the released code's own float resize is the yardstick in the tests and bench);
  - normalisation is one fused multiply-add straight into the output, the crops one strided copy,
    and the padding fractions are computed from the letterbox rectangle, not from a pixel mask;
  - the padding fractions are aligned with their crops (the released code drops the global view's
    and ends with a row of -1: `padding_mask_layout = "released_molmo"` reproduces that for
    fine-tuning released weights).

Outputs (per image, numpy):
  crops          float32 [n_crops, 3, crop_px, crop_px], normalised (global view first)
  patch_real     float32 [n_crops, patches_per_crop]   fraction of real (non-padding) pixels
  pooled_index   int64   [n_crops, pooled_per_crop]    position of each pooled token's <im_patch>
                                                        in `tokens`, -1 for dropped margin tokens
  tokens         int64   [n_image_tokens]               image token ids (special token ids)
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import ExifTags, Image, ImageOps

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
PADDING_MASK_LAYOUTS = ("aligned", "released_molmo")


@dataclass
class PreprocessorConfig:
    crop_px: int = 336  # side of one crop and of the global view
    patch_px: int = 14  # ViT patch side
    margin_patches: int = 4  # patches of overlap margin on each side of a crop
    pool: int = 2  # pooled token = pool x pool patches
    max_crops: int = 12
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD
    # aligned: patch_real[k] belongs to crops[k]. released_molmo: the layout released Molmo weights
    # were trained with: row 0 (the global view) holds the first crop's fractions, row k the
    # (k+1)-th crop's, and the last crop a row of -1, which the model reads as partial padding.
    # Use it only to fine-tune released Molmo weights.
    padding_mask_layout: str = "aligned"

    def __post_init__(self):
        self.mean, self.std = tuple(self.mean), tuple(self.std)
        if self.crop_px % self.patch_px:
            raise ValueError(f"crop_px={self.crop_px} must be a multiple of patch_px={self.patch_px}")
        if self.crop_patches % self.pool or self.margin_patches % self.pool:
            raise ValueError(
                f"crop patches ({self.crop_patches}) and margin_patches ({self.margin_patches}) "
                f"must be multiples of pool={self.pool}"
            )
        if self.window_patches <= 0:
            raise ValueError(
                f"margin_patches={self.margin_patches} leaves no crop window in {self.crop_patches} patches"
            )
        if not 1 <= self.max_crops <= 64:
            raise ValueError(f"max_crops={self.max_crops} must be in 1..64")
        if self.padding_mask_layout not in PADDING_MASK_LAYOUTS:
            raise ValueError(
                f"padding_mask_layout={self.padding_mask_layout!r} must be one of {PADDING_MASK_LAYOUTS}"
            )

    @property
    def crop_patches(self) -> int:
        return self.crop_px // self.patch_px

    @property
    def window_patches(self) -> int:  # patches a crop advances by
        return self.crop_patches - 2 * self.margin_patches

    @property
    def window_px(self) -> int:
        return self.window_patches * self.patch_px

    @property
    def margin_px(self) -> int:  # both sides together
        return 2 * self.margin_patches * self.patch_px


@dataclass
class ImageTokenIds:
    im_start: int
    im_end: int
    im_patch: int
    im_col: int


def load_image(image: Image.Image, rgb: bool = True) -> Image.Image:
    """An image as training sees it: turned upright by its EXIF orientation (as phones and browsers
    show it, and as the released code loads images), then RGB. With `rgb=False` the mode is left
    to the model: our Molmo converts to RGB (dropping transparency, as the released code), Molmo2's
    processor composites transparency onto white."""
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) != 1:
            image = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - unreadable EXIF: keep the pixels as stored, as the released code
        pass
    return image if image.mode == "RGB" or not rgb else image.convert("RGB")


@functools.cache
def _tilings(max_crops: int) -> np.ndarray:
    """Every rows x cols with rows*cols <= max_crops, fewer crops first, then fewer rows."""
    tilings = [(r, c) for r in range(1, max_crops + 1) for c in range(1, max_crops + 1) if r * c <= max_crops]
    return np.array(sorted(tilings, key=lambda t: (t[0] * t[1], t[0])), dtype=np.int32)


def select_tiling(height: float, width: float, window_px: int, max_crops: int) -> tuple[int, int]:
    """rows x cols (rows*cols <= max_crops) needing the least upscaling of height x width; if all
    need downscaling, the one that downscales least. Ties go to fewer crops, then fewer rows.
    In float32 as the released code; height and width are the image's minus the margin, so they
    may be 0 (that side then never limits) or negative (every tiling then "downscales", and 1x1
    is the one that downscales least)."""
    tilings = _tilings(max_crops)
    with np.errstate(divide="ignore"):
        scale = (tilings * window_px).astype(np.float32) / np.array([height, width], np.float32)
    scale = scale.min(axis=1)
    if np.all(scale < 1):
        best = np.argmax(scale)
    else:
        best = np.argmin(np.where(scale < 1, np.inf, scale))
    return int(tilings[best, 0]), int(tilings[best, 1])


def scaled_size(height: int, width: int, out_h: int, out_w: int) -> tuple[int, int]:
    """The size an image is resized to, keeping aspect, to fit out_h x out_w: computed in float32
    and truncated, as the released code does (in float64 the side can come out 1 px larger, e.g.
    640x480 into 784x560 gives 559 rows, not 560). At least 1 px, where the released code fails."""
    scale = min(np.float32(out_h) / np.float32(height), np.float32(out_w) / np.float32(width))
    return max(1, int(np.float32(height) * scale)), max(1, int(np.float32(width) * scale))


def resize_antialiased(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """uint8 [1, 3, H, W] (channels-last strides) -> float32 [1, 3, height, width] in grey levels
    (0..255): torch's bilinear antialiased resize, its vertical pass on uint8 (the fast fixed-point
    kernel, one rounding: within half a grey level) and its horizontal pass in float32."""
    if height != pixels.shape[2]:
        pixels = F.interpolate(pixels, size=(height, pixels.shape[3]), mode="bilinear", antialias=True)
    pixels = pixels.float()
    if width != pixels.shape[3]:
        pixels = F.interpolate(pixels, size=(height, width), mode="bilinear", antialias=True)
    return pixels


def _grid_tokens(ids: ImageTokenIds, h: int, w: int) -> np.ndarray:
    """<im_start> (h x (w x <im_patch> <im_col>)) <im_end>"""
    row = np.full(w + 1, ids.im_patch, dtype=np.int64)
    row[-1] = ids.im_col
    return np.concatenate([[ids.im_start], np.tile(row, h), [ids.im_end]]).astype(np.int64)


def _grid_positions(h: int, w: int, offset: int) -> np.ndarray:
    """Positions of the <im_patch> tokens of an h x w grid laid out by `_grid_tokens`, [h, w]."""
    return offset + 1 + np.arange(h)[:, None] * (w + 1) + np.arange(w)[None, :]


def _real_px(starts: np.ndarray, patch: int, lo: int, hi: int) -> np.ndarray:
    """Pixels of each span [start, start + patch) that fall inside [lo, hi)."""
    return np.clip(np.minimum(starts + patch, hi) - np.maximum(starts, lo), 0, patch)


@dataclass
class Tiling:
    rows: int
    cols: int
    canvas_h: int  # px of the letterboxed image the crops are cut from
    canvas_w: int
    scaled_h: int  # px of the image inside that canvas (before letterboxing)
    scaled_w: int
    global_h: int  # px of the image inside the global view
    global_w: int
    pooled_h: int  # pooled-token grid of the tiled image
    pooled_w: int
    n_tokens: int


class ImagePreprocessor:
    def __init__(self, config: PreprocessorConfig, token_ids: ImageTokenIds):
        self.config, self.ids = config, token_ids
        c = config
        self.pooled_per_side = c.crop_patches // c.pool
        self.global_tokens = _grid_tokens(token_ids, self.pooled_per_side, self.pooled_per_side)
        std = np.array(c.std, dtype=np.float32)
        # normalised = grey level * scale + bias; black padding is `bias`
        self._scale = torch.from_numpy(1 / (255 * std)).reshape(3, 1, 1)
        self._bias = torch.from_numpy(-np.array(c.mean, dtype=np.float32) / std).reshape(3, 1, 1)
        self._layouts: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def tiling(self, width: int, height: int) -> Tiling:
        c = self.config
        if width < 1 or height < 1:
            raise ValueError(f"image size {width}x{height} must be at least 1x1")
        rows, cols = select_tiling(height - c.margin_px, width - c.margin_px, c.window_px, c.max_crops)
        window, margin = c.window_patches // c.pool, c.margin_patches // c.pool
        ph, pw = rows * window + 2 * margin, cols * window + 2 * margin
        canvas_h, canvas_w = rows * c.window_px + c.margin_px, cols * c.window_px + c.margin_px
        n_tokens = len(self.global_tokens) + ph * (pw + 1) + 2
        return Tiling(rows, cols, canvas_h, canvas_w, *scaled_size(height, width, canvas_h, canvas_w),
                      *scaled_size(height, width, c.crop_px, c.crop_px), ph, pw, n_tokens)  # fmt: skip

    def __call__(self, image: Image.Image | np.ndarray) -> dict[str, np.ndarray]:
        c = self.config
        pixels = _pixels(image)
        t = self.tiling(pixels.shape[3], pixels.shape[2])
        crops = torch.empty(1 + t.rows * t.cols, 3, c.crop_px, c.crop_px)
        global_box = self._letterbox(pixels, crops[0])
        if t.rows == t.cols == 1:  # the canvas is the one crop
            tiled_box = self._letterbox(pixels, crops[1])
        else:
            canvas = torch.empty(3, t.canvas_h, t.canvas_w)
            tiled_box = self._letterbox(pixels, canvas)
            step = c.window_px * canvas.stride(1), c.window_px * canvas.stride(2)
            windows = canvas.as_strided((t.rows, t.cols, 3, c.crop_px, c.crop_px), (*step, *canvas.stride()))
            crops[1:].view(t.rows, t.cols, 3, c.crop_px, c.crop_px).copy_(windows)
        tokens, pooled_index = self._layout(t.rows, t.cols)
        return {
            "crops": crops.numpy(),
            "patch_real": self._patch_real(t, global_box, tiled_box),
            "pooled_index": pooled_index.copy(),
            "tokens": tokens.copy(),
        }

    def _letterbox(self, pixels: torch.Tensor, out: torch.Tensor) -> tuple[int, int, int, int]:
        """Resize keeping aspect into the centre of `out` [3, H, W], normalised, black around it.
        Returns the image's box (top, left, height, width) in px."""
        out_h, out_w = out.shape[1:]
        h, w = scaled_size(pixels.shape[2], pixels.shape[3], out_h, out_w)
        top, left = (out_h - h) // 2, (out_w - w) // 2
        rows = out[:, top : top + h]
        for pad in (out[:, :top], out[:, top + h :], rows[:, :, :left], rows[:, :, left + w :]):
            pad.copy_(self._bias.expand_as(pad))
        # bilinear weights are convex, so the resize stays within 0..255 and needs no clipping
        resized = resize_antialiased(pixels, h, w)[0]
        torch.addcmul(self._bias, resized, self._scale, out=rows[:, :, left : left + w])
        return top, left, h, w

    def _patch_real(self, t: Tiling, global_box, tiled_box) -> np.ndarray:
        """Fraction of real pixels per patch, [1 + crops, patches]: per row and per column span
        of the letterbox rectangle, multiplied. Exact: the released code's mean of a 0/1 mask."""
        c, p = self.config, self.config.patch_px
        local = np.arange(c.crop_patches) * p

        def fractions(box, row_starts, col_starts):
            top, left, h, w = box
            ys = _real_px(row_starts[:, None] + local, p, top, top + h)  # [rows, patches]
            xs = _real_px(col_starts[:, None] + local, p, left, left + w)
            px = ys[:, None, :, None] * xs[None, :, None, :]
            return (px.astype(np.float32) / np.float32(p * p)).reshape(-1, c.crop_patches**2)

        glob = fractions(global_box, np.zeros(1, int), np.zeros(1, int))
        tiled = fractions(tiled_box, np.arange(t.rows) * c.window_px, np.arange(t.cols) * c.window_px)
        if c.padding_mask_layout == "released_molmo":
            return np.concatenate([tiled, np.full_like(glob, -1)])
        return np.concatenate([glob, tiled])

    def _layout(self, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        """Tokens and pooled index of a tiling; they depend on nothing else, so are kept."""
        if (rows, cols) not in self._layouts:
            self._layouts[rows, cols] = self._build_layout(rows, cols)
        return self._layouts[rows, cols]

    def _build_layout(self, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        window, margin = c.window_patches // c.pool, c.margin_patches // c.pool
        crop_tokens = _grid_tokens(self.ids, rows * window + 2 * margin, cols * window + 2 * margin)
        tokens = np.concatenate([self.global_tokens, crop_tokens])
        pooled_index = np.concatenate(
            [self._global_index()[None], self._crop_index(rows, cols, len(self.global_tokens))]
        )
        return tokens, pooled_index

    def _global_index(self) -> np.ndarray:
        n = self.pooled_per_side
        return _grid_positions(n, n, 0).reshape(-1)

    def _crop_index(self, rows: int, cols: int, offset: int) -> np.ndarray:
        """For each crop, where each of its pooled tokens lands in the tiled image's token grid,
        -1 where the token lies in a margin another crop covers."""
        c = self.config
        n, window, margin = self.pooled_per_side, c.window_patches // c.pool, c.margin_patches // c.pool
        positions = _grid_positions(rows * window + 2 * margin, cols * window + 2 * margin, offset)
        local = np.arange(n)
        out = np.full((rows, cols, n, n), -1, dtype=np.int64)
        r, cidx = np.arange(rows), np.arange(cols)
        # a crop's pooled row y sits at tiled pooled row r*window + y; keep it unless it is in an
        # inner margin (top margin of non-first rows, bottom margin of non-last rows)
        gy = r[:, None] * window + local[None, :]  # [rows, n]
        gx = cidx[:, None] * window + local[None, :]
        keep_y = ((local[None, :] >= margin) | (r[:, None] == 0)) & (
            (local[None, :] < n - margin) | (r[:, None] == rows - 1)
        )
        keep_x = ((local[None, :] >= margin) | (cidx[:, None] == 0)) & (
            (local[None, :] < n - margin) | (cidx[:, None] == cols - 1)
        )
        keep = keep_y[:, None, :, None] & keep_x[None, :, None, :]
        pos = positions[gy[:, None, :, None], gx[None, :, None, :]]
        out[keep] = pos[keep]
        return out.reshape(rows * cols, n * n)


def _pixels(image: Image.Image | np.ndarray) -> torch.Tensor:
    """uint8 [1, 3, H, W] with channels-last strides (a view of the [H, W, 3] pixels)."""
    if isinstance(image, Image.Image):
        image = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 RGB image [H, W, 3], got {image.dtype} {image.shape}")
    with warnings.catch_warnings():  # read only: PIL's pixels are not writable, and none are written
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.from_numpy(image).permute(2, 0, 1)[None]
