"""A straightforward torch port of the released Molmo preprocessing (allenai/molmo,
`olmo/data/model_preprocessor.py`, crop_mode "overlap-and-resize-c2", resize "default",
normalize "openai"): the baseline `bench/train.py` times our preprocessor against, and the yardstick
tests hold our pixels, tokens and masks to. Written from the algorithm, step by step as the
reference takes them, with none of our shortcuts:

  scale in float32 -> float image in [0, 1] -> torch bilinear antialiased resize -> clip ->
  pad with 0 (image and mask) -> normalise -> cut every crop -> stack -> patchify ->
  mask mean per patch -> patch ordering -> global view (resize, normalise, patchify) ->
  token ids -> patch index into the tokens; the masks drop the global view's and end in a row of -1.

Only torch and numpy (no torchvision: its tensor Resize is `F.interpolate(..., antialias=True)`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def scaled_size(height: int, width: int, out_h: int, out_w: int) -> tuple[int, int]:
    """The reference's aspect-keeping size, computed in float32 as its training code did."""
    scale = min(np.float32(out_h) / np.float32(height), np.float32(out_w) / np.float32(width))
    return int(np.float32(height) * scale), int(np.float32(width) * scale)


def resize_and_pad(image: np.ndarray, out_h: int, out_w: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [H, W, 3] -> float32 [out_h, out_w, 3] in [0, 1] letterboxed with 0, and its bool mask."""
    new_h, new_w = scaled_size(*image.shape[:2], out_h, out_w)
    x = torch.from_numpy(image).permute(2, 0, 1).to(torch.float32) / 255.0
    x = F.interpolate(x[None], size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=True)[0]
    x = torch.clip(x, 0.0, 1.0).permute(1, 2, 0).numpy()
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    pads = [[top, out_h - new_h - top], [left, out_w - new_w - left]]
    mask = np.pad(np.ones_like(x[:, :, 0], dtype=bool), pads)
    return np.pad(x, pads + [[0, 0]], constant_values=0), mask


def select_tiling(h: float, w: float, window: int, max_crops: int) -> tuple[int, int]:
    tilings = sorted(
        [(i, j) for i in range(1, max_crops + 1) for j in range(1, max_crops + 1) if i * j <= max_crops],
        key=lambda t: (t[0] * t[1], t[0]),
    )
    candidates = np.array(tilings, dtype=np.int32)
    size = np.stack([h, w]).astype(np.float32)
    with np.errstate(divide="ignore"):  # a side under the margin: 0 -> inf, negative stays negative
        required = (candidates * window).astype(np.float32) / size
    required = np.min(required, axis=-1)
    if np.all(required < 1):
        ix = np.argmax(required)
    else:
        ix = np.argmin(np.where(required < 1.0, 10e9, required))
    return int(candidates[ix][0]), int(candidates[ix][1])


def to_patches(array: np.ndarray, patch: int) -> np.ndarray:
    """[n, H, W(, C)] -> [n, patches, patch*patch(*C)], row-major patches."""
    n, h, w = array.shape[:3]
    rest = array.shape[3:]
    array = array.reshape(n, h // patch, patch, w // patch, patch, *rest)
    array = np.swapaxes(array, 2, 3)
    return array.reshape(n, (h // patch) * (w // patch), -1)


def normalise(image: np.ndarray) -> np.ndarray:
    image -= np.array(CLIP_MEAN, dtype=np.float32)[None, None, :]
    image /= np.array(CLIP_STD, dtype=np.float32)[None, None, :]
    return image


def grid_tokens(width: int, height: int, ids: dict) -> list[np.ndarray]:
    row = np.concatenate([np.full(width, ids["patch"], np.int32), [ids["col"]]])
    return [np.array([ids["start"]]), np.tile(row, height), np.array([ids["end"]])]


def preprocess(
    image: np.ndarray, ids: dict, *, crop_px=336, patch_px=14, margin=(4, 4), pool=2, max_crops=12
) -> dict[str, np.ndarray]:
    """crops [n+1, patches, patch_px^2*3] (global view first), tokens, image_input_idx
    [n+1, pooled per crop] (-100 = not used), image_masks [n+1, patches] (the reference's layout)."""
    left, right = margin
    crop_patches = crop_px // patch_px
    window_patches = crop_patches - left - right
    window = window_patches * patch_px
    margin_px = patch_px * (left + right)
    tokens_side = (crop_patches + pool - 1) // pool
    per_crop = tokens_side * tokens_side
    rows, cols = select_tiling(image.shape[0] - margin_px, image.shape[1] - margin_px, window, max_crops)
    src, mask = resize_and_pad(image, rows * window + margin_px, cols * window + margin_px)
    src = normalise(src)

    crops, masks, orders, on = [], [], [], 0
    for i in range(rows):
        y0, top = i * window, 0 if i == 0 else left // pool
        crop_h = crop_patches - left - right + (left if i == 0 else 0) + (right if i == rows - 1 else 0)
        for j in range(cols):
            x0, lft = j * window, 0 if j == 0 else left // pool
            crop_w = crop_patches - left - right + (left if j == 0 else 0) + (right if j == cols - 1 else 0)
            ph, pw = (crop_h + pool - 1) // pool, (crop_w + pool - 1) // pool
            order = np.arange(on, on + ph * pw, dtype=np.int32).reshape(ph, pw)
            pads = [[top, tokens_side - ph - top], [lft, tokens_side - pw - lft]]
            orders.append(np.pad(order, pads, constant_values=-1))
            crops.append(src[y0 : y0 + crop_px, x0 : x0 + crop_px])
            masks.append(mask[y0 : y0 + crop_px, x0 : x0 + crop_px])
            on += ph * pw
    patches = to_patches(np.stack(crops), patch_px)
    img_mask = to_patches(np.stack(masks), patch_px).astype(np.float32).mean(axis=-1)

    # crop-by-crop numbering -> left-to-right over the whole tiled image
    order = np.stack(orders).reshape(-1)
    valid = order >= 0
    by_row = np.transpose(order.reshape(rows, cols, tokens_side, tokens_side), [0, 2, 1, 3]).reshape(-1)
    order[valid] = by_row[by_row >= 0]

    def pooled_side(n: int) -> int:
        if n == 1:
            return (crop_patches + pool - 1) // pool * pool // pool
        first = (window_patches + left + pool - 1) // pool * pool
        middle = (window_patches + pool - 1) // pool * pool
        last = (window_patches + right + pool - 1) // pool * pool
        return (first + (n - 2) * middle + last) // pool

    glob, _ = resize_and_pad(image, crop_px, crop_px)
    patches = np.concatenate([to_patches(normalise(glob)[None], patch_px), patches], 0)
    order = np.concatenate([np.arange(per_crop), np.where(order >= 0, order + per_crop, -1)])
    tokens = np.concatenate(
        grid_tokens(tokens_side, tokens_side, ids) + grid_tokens(pooled_side(cols), pooled_side(rows), ids)
    )
    img_mask = np.pad(img_mask, [[0, 1], [0, 0]], constant_values=-1)
    return {
        "crops": patches,
        "tokens": tokens,
        "image_input_idx": patch_index(tokens, order, ids["patch"], per_crop),
        "image_masks": img_mask,
    }


def patch_index(tokens: np.ndarray, order: np.ndarray, patch_id: int, per_crop: int) -> np.ndarray:
    """patch_id -> position of its <im_patch> token in `tokens` (-100 where the patch is unused)."""
    positions = np.nonzero(tokens == patch_id)[0].astype(np.int32)
    valid = order >= 0
    sorted_ix = np.zeros(len(positions), np.int32)
    sorted_ix[order[valid]] = np.arange(valid.sum(), dtype=np.int32)
    expanded = np.full(order.shape, -1)
    expanded[valid] = sorted_ix
    keep = (expanded >= 0).astype(np.int32)
    out = positions[expanded * keep] * keep - 100 * (1 - keep)
    return out.reshape(-1, per_crop)
