"""Molmo's overlap-and-resize multi-crop image preprocessor.

An image becomes one global view (letterboxed to one crop) plus a rows x cols grid of
overlapping crops cut from the image resized to fit that grid. Each crop is a grid of
`crop_patches` x `crop_patches` ViT patches; neighbouring crops overlap by `2 * margin_patches`
patches, and of every crop only the non-margin patches are kept (edge crops also keep their
outer margin), so the kept patches tile the resized image exactly once. The connector pools
`pool` x `pool` patches into one token, so all patch bookkeeping below is in pooled units.

Outputs (per image, numpy):
  crops          float32 [n_crops, 3, crop_px, crop_px], CLIP-normalised
  patch_real     float32 [n_crops, patches_per_crop]   fraction of real (non-padding) pixels
  pooled_index   int64   [n_crops, pooled_per_crop]    position of each pooled token's <im_patch>
                                                        in `tokens`, -1 for dropped margin tokens
  tokens         int64   [n_image_tokens]               image token ids (special token ids)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class PreprocessorConfig:
    crop_px: int = 336  # side of one crop and of the global view
    patch_px: int = 14  # ViT patch side
    margin_patches: int = 4  # patches of overlap margin on each side of a crop
    pool: int = 2  # pooled token = pool x pool patches
    max_crops: int = 12
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD

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


def select_tiling(height: float, width: float, window_px: int, max_crops: int) -> tuple[int, int]:
    """rows x cols (rows*cols <= max_crops) needing the least upscaling of height x width; if all
    need downscaling, the one that downscales least. Ties go to fewer crops, then fewer rows."""
    tilings = sorted(
        ((r, c) for r in range(1, max_crops + 1) for c in range(1, max_crops + 1) if r * c <= max_crops),
        key=lambda t: (t[0] * t[1], t[0]),
    )
    grid = np.array(tilings, dtype=np.float64) * window_px
    scale = (grid / np.array([max(height, 1.0), max(width, 1.0)])).min(axis=1)
    if np.all(scale < 1):
        return tilings[int(np.argmax(scale))]
    return tilings[int(np.argmin(np.where(scale < 1, np.inf, scale)))]


def resize_and_pad(image: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, np.ndarray]:
    """Resize keeping aspect to fit out_h x out_w, centre it on black. Returns uint8 image and a
    bool mask of real pixels."""
    h, w = image.shape[:2]
    scale = min(out_h / h, out_w / w)
    new_h, new_w = max(1, min(out_h, int(h * scale))), max(1, min(out_w, int(w * scale)))
    resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR))
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    canvas = np.zeros((out_h, out_w, 3), dtype=np.uint8)
    mask = np.zeros((out_h, out_w), dtype=bool)
    canvas[top : top + new_h, left : left + new_w] = resized
    mask[top : top + new_h, left : left + new_w] = True
    return canvas, mask


def _patchify(x: np.ndarray, patch: int) -> np.ndarray:
    """[n, H, W, ...] -> [n, (H/patch)*(W/patch), patch*patch*...], patches row-major."""
    n, h, w = x.shape[:3]
    rest = x.shape[3:]
    x = x.reshape(n, h // patch, patch, w // patch, patch, *rest)
    x = np.moveaxis(x, 3, 2)  # n, gh, gw, patch, patch, ...
    return x.reshape(n, (h // patch) * (w // patch), -1)


def _cut_crops(x: np.ndarray, rows: int, cols: int, crop: int, step: int) -> np.ndarray:
    """Overlapping crop x crop windows advancing by `step`, as one strided view [rows*cols, crop, crop, ...]."""
    s = x.strides
    view = np.lib.stride_tricks.as_strided(
        x, shape=(rows, cols, crop, crop, *x.shape[2:]), strides=(s[0] * step, s[1] * step, *s)
    )
    return view.reshape(rows * cols, crop, crop, *x.shape[2:])


def _grid_tokens(ids: ImageTokenIds, h: int, w: int) -> np.ndarray:
    """<im_start> (h x (w x <im_patch> <im_col>)) <im_end>"""
    row = np.full(w + 1, ids.im_patch, dtype=np.int64)
    row[-1] = ids.im_col
    return np.concatenate([[ids.im_start], np.tile(row, h), [ids.im_end]]).astype(np.int64)


def _grid_positions(h: int, w: int, offset: int) -> np.ndarray:
    """Positions of the <im_patch> tokens of an h x w grid laid out by `_grid_tokens`, [h, w]."""
    return offset + 1 + np.arange(h)[:, None] * (w + 1) + np.arange(w)[None, :]


@dataclass
class Tiling:
    rows: int
    cols: int
    resized_h: int  # px of the image the crops are cut from
    resized_w: int
    pooled_h: int  # pooled-token grid of the tiled image
    pooled_w: int
    n_tokens: int


class ImagePreprocessor:
    def __init__(self, config: PreprocessorConfig, token_ids: ImageTokenIds):
        self.config, self.ids = config, token_ids
        c = config
        self.pooled_per_side = c.crop_patches // c.pool
        self.global_tokens = _grid_tokens(token_ids, self.pooled_per_side, self.pooled_per_side)
        self._mean = np.array(c.mean, dtype=np.float32) * 255
        self._inv_std = 1.0 / (np.array(c.std, dtype=np.float32) * 255)

    def tiling(self, width: int, height: int) -> Tiling:
        c = self.config
        if width < 1 or height < 1:
            raise ValueError(f"image size {width}x{height} must be at least 1x1")
        rows, cols = select_tiling(height - c.margin_px, width - c.margin_px, c.window_px, c.max_crops)
        window, margin = c.window_patches // c.pool, c.margin_patches // c.pool
        ph, pw = rows * window + 2 * margin, cols * window + 2 * margin
        n_tokens = len(self.global_tokens) + ph * (pw + 1) + 2
        return Tiling(
            rows, cols, rows * c.window_px + c.margin_px, cols * c.window_px + c.margin_px, ph, pw, n_tokens
        )

    def __call__(self, image: Image.Image | np.ndarray) -> dict[str, np.ndarray]:
        c = self.config
        pixels = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image)
        if pixels.ndim != 3 or pixels.shape[2] != 3:
            raise ValueError(f"expected an RGB image [H, W, 3], got shape {pixels.shape}")
        t = self.tiling(pixels.shape[1], pixels.shape[0])
        tiled, tiled_mask = resize_and_pad(pixels, t.resized_h, t.resized_w)
        glob, glob_mask = resize_and_pad(pixels, c.crop_px, c.crop_px)

        step = c.window_px
        crops = np.concatenate([glob[None], _cut_crops(tiled, t.rows, t.cols, c.crop_px, step)])
        masks = np.concatenate([glob_mask[None], _cut_crops(tiled_mask, t.rows, t.cols, c.crop_px, step)])
        normalised = (crops.astype(np.float32) - self._mean) * self._inv_std
        patch_real = _patchify(masks, c.patch_px).mean(axis=-1, dtype=np.float32)

        crop_tokens = _grid_tokens(self.ids, t.pooled_h, t.pooled_w)
        tokens = np.concatenate([self.global_tokens, crop_tokens])
        pooled_index = np.concatenate(
            [self._global_index()[None], self._crop_index(t, len(self.global_tokens))]
        )
        return {
            "crops": np.ascontiguousarray(normalised.transpose(0, 3, 1, 2)),
            "patch_real": patch_real,
            "pooled_index": pooled_index,
            "tokens": tokens,
        }

    def _global_index(self) -> np.ndarray:
        n = self.pooled_per_side
        return _grid_positions(n, n, 0).reshape(-1)

    def _crop_index(self, t: Tiling, offset: int) -> np.ndarray:
        """For each crop, where each of its pooled tokens lands in the tiled image's token grid,
        -1 where the token lies in a margin another crop covers."""
        c = self.config
        n, window, margin = self.pooled_per_side, c.window_patches // c.pool, c.margin_patches // c.pool
        positions = _grid_positions(t.pooled_h, t.pooled_w, offset)
        local = np.arange(n)
        out = np.full((t.rows, t.cols, n, n), -1, dtype=np.int64)
        r, cidx = np.arange(t.rows), np.arange(t.cols)
        # a crop's pooled row y sits at tiled pooled row r*window + y; keep it unless it is in an
        # inner margin (top margin of non-first rows, bottom margin of non-last rows)
        gy = r[:, None] * window + local[None, :]  # [rows, n]
        gx = cidx[:, None] * window + local[None, :]
        keep_y = ((local[None, :] >= margin) | (r[:, None] == 0)) & (
            (local[None, :] < n - margin) | (r[:, None] == t.rows - 1)
        )
        keep_x = ((local[None, :] >= margin) | (cidx[:, None] == 0)) & (
            (local[None, :] < n - margin) | (cidx[:, None] == t.cols - 1)
        )
        keep = keep_y[:, None, :, None] & keep_x[None, :, None, :]
        pos = positions[gy[:, None, :, None], gx[None, :, None, :]]
        out[keep] = pos[keep]
        return out.reshape(t.rows * t.cols, n * n)
