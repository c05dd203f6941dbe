"""Model FLOPs of a training step, for MFU: PaLM's 6 N per token plus attention for the LLM and
the connector, and for the vision backbone its own forward FLOPs per crop, counted once by torch
(a CNN's are nothing like 6 x parameters per patch: EfficientNet-Lite0's convolutions reuse each
weight at every position of its feature maps)."""

from __future__ import annotations

import torch
from torch import nn

PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12}


def vision_flops_per_crop(vision: nn.Module, crop_px: int) -> float:
    """Forward FLOPs of the vision backbone on one crop (convolutions, matmuls, attention), counted
    by torch's FlopCounterMode. Call it on the unwrapped module (before DDP / FSDP)."""
    from torch.utils.flop_counter import FlopCounterMode

    weight = next(vision.parameters())
    crop = torch.zeros(1, 3, crop_px, crop_px, device=weight.device, dtype=weight.dtype)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        vision(crop)
    return float(counter.get_total_flops())


def flops_per_step(model: nn.Module, batch_stats: dict, vision_flops: float) -> float:
    """Training FLOPs (forward + backward = 3 forwards): for each LLM token 6 N + 12 L d T, for
    each crop 3 x the backbone's forward FLOPs (`vision_flops_per_crop`), for each pooled image
    token 6 x the connector's parameters. `model` unwrapped."""
    llm_cfg = model.llm.config
    n_llm = sum(p.numel() for p in model.llm.parameters())
    n_conn = sum(p.numel() for p in model.connector.parameters())
    attn = 12 * llm_cfg.num_hidden_layers * llm_cfg.hidden_size * batch_stats["seq_len"]
    return (
        (6 * n_llm + attn) * batch_stats["tokens"]
        + 3 * vision_flops * batch_stats["crops"]
        + 6 * n_conn * batch_stats["pooled"]
    )


def batch_counts(batch: dict) -> dict[str, int]:
    """Crops and pooled image tokens of one packed batch, whichever model family packed it."""
    if "crops" in batch:  # our Molmo
        return {"crops": batch["crops"].shape[0], "pooled": batch["pooled_index"].numel()}
    return {"crops": batch["pixel_values"].shape[0], "pooled": batch["image_token_pooling"].shape[0]}


def peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16_FLOPS.items() if k in name), None)
