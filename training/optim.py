"""Optimiser: AdamW over three parameter groups (ViT, connector + new embeddings, LLM), each with
its own peak learning rate, linear warm-up, cosine decay to a fraction of peak, and its own
gradient-norm clip."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

GROUPS = ("vit", "connector", "llm")


@dataclass
class OptimConfig:
    lr: dict[str, float] = field(default_factory=lambda: {"vit": 5e-6, "connector": 5e-6, "llm": 1e-5})
    warmup: dict[str, int] = field(default_factory=lambda: {"vit": 200, "connector": 200, "llm": 200})
    clip: float = 1.0  # gradient-norm clip, per group
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-6
    weight_decay: float = 0.0
    final_lr_fraction: float = 0.1  # cosine ends at this share of peak
    z_loss: float = 1e-4

    def __post_init__(self):
        self.betas = tuple(self.betas)
        for table in (self.lr, self.warmup):
            if set(table) != set(GROUPS):
                raise ValueError(f"optim lr and warmup need exactly the groups {GROUPS}, got {sorted(table)}")
        if any(v < 0 for v in self.lr.values()) or any(v < 0 for v in self.warmup.values()):
            raise ValueError("learning rates and warm-up steps must be >= 0")
        if not 0 <= self.final_lr_fraction <= 1 or self.clip <= 0:
            raise ValueError("final_lr_fraction must be in [0, 1] and clip > 0")


def lr_at(step: int, peak: float, warmup: int, total: int, final_fraction: float) -> float:
    """Linear warm-up over `warmup` steps, then cosine from peak to final_fraction * peak at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))


def build_optimizer(groups: dict[str, list[torch.nn.Parameter]], config: OptimConfig) -> torch.optim.AdamW:
    param_groups = [{"params": groups[g], "name": g, "lr": config.lr[g]} for g in GROUPS if groups[g]]
    return torch.optim.AdamW(
        param_groups, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
    )


def set_learning_rates(
    optimizer: torch.optim.Optimizer, step: int, total: int, config: OptimConfig
) -> dict[str, float]:
    rates = {}
    for group in optimizer.param_groups:
        name = group["name"]
        group["lr"] = rates[name] = lr_at(
            step, config.lr[name], config.warmup[name], total, config.final_lr_fraction
        )
    return rates


def clip_per_group(optimizer: torch.optim.Optimizer, max_norm: float) -> dict[str, float]:
    """Clip each group's gradient norm separately; returns the pre-clip norms."""
    norms = {}
    for group in optimizer.param_groups:
        norm = torch.nn.utils.clip_grad_norm_(group["params"], max_norm, foreach=True)
        norms[group["name"]] = float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)
    return norms
