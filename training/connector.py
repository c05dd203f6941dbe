"""Connector: 2x2 attention pooling (the mean of the four patch features is the query) then a
SwiGLU projector to the LLM width."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ConnectorConfig:
    in_dim: int = 2048  # concatenated ViT features (2 layers x 1024)
    pool_dim: int = 1024  # attention-pool output width
    n_heads: int = 16
    pool: int = 2  # pool x pool patches per token
    hidden_dim: int = 8192  # SwiGLU hidden width
    out_dim: int = 2048  # LLM width

    def __post_init__(self):
        if self.pool_dim % self.n_heads:
            raise ValueError(f"pool_dim={self.pool_dim} must be divisible by n_heads={self.n_heads}")
        if self.pool < 1:
            raise ValueError(f"pool={self.pool} must be >= 1")


class AttentionPool(nn.Module):
    def __init__(self, c: ConnectorConfig):
        super().__init__()
        self.n_heads = c.n_heads
        self.q = nn.Linear(c.in_dim, c.pool_dim)
        self.k = nn.Linear(c.in_dim, c.pool_dim)
        self.v = nn.Linear(c.in_dim, c.pool_dim)
        self.o = nn.Linear(c.pool_dim, c.pool_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [M, k, in_dim] (k patches per pooled token) -> [M, pool_dim]"""
        m, k, _ = x.shape
        q = self.q(x.mean(dim=1, keepdim=True)).view(m, 1, self.n_heads, -1).transpose(1, 2)
        kk = self.k(x).view(m, k, self.n_heads, -1).transpose(1, 2)
        v = self.v(x).view(m, k, self.n_heads, -1).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, kk, v)  # [M, heads, 1, head_dim]
        return self.o(out.reshape(m, -1))


class SwiGLU(nn.Module):
    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__()
        self.w1 = nn.Linear(in_dim, hidden_dim, bias=False)
        self.w3 = nn.Linear(in_dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Connector(nn.Module):
    """features [N, g*g, in_dim] on a g x g patch grid -> [N, (g/pool)^2, out_dim], pooled row-major."""

    def __init__(self, config: ConnectorConfig):
        super().__init__()
        self.config = config
        self.pool = AttentionPool(config)
        self.proj = SwiGLU(config.pool_dim, config.hidden_dim, config.out_dim)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        n, p, d = feats.shape
        g, s = round(p**0.5), self.config.pool
        if g * g != p or g % s:
            raise ValueError(f"{p} patches do not form a square grid divisible by pool={s}")
        x = feats.view(n, g // s, s, g // s, s, d).permute(0, 1, 3, 2, 4, 5).reshape(-1, s * s, d)
        return self.proj(self.pool(x)).view(n, (g // s) ** 2, -1)
