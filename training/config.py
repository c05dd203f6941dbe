"""The whole run's configuration: model parts, data, optimiser and the loop. Named runs and the
TOML files (training/configs/*.toml) that start from them live in `training.presets`."""

from __future__ import annotations

from dataclasses import dataclass, field

from training.data import DataConfig
from training.model import ModelConfig
from training.molmo2.config import Molmo2ModelConfig
from training.optim import OptimConfig


@dataclass
class TrainConfig:
    model: ModelConfig | Molmo2ModelConfig  # the model family: our Molmo recipe, or transformers' Molmo2
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    steps: int = 30000
    grad_accum: int = (
        1  # micro-batches per optimiser step; global batch = images_per_batch x grad_accum x world
    )
    log_every: int = 1
    save_every: int = 1000
    parallel: str = "ddp"  # ddp | fsdp
    precision: str = "auto"  # auto (bf16 where the device supports it) | bf16 | fp32
    seed: int = 0
    save: bool = True  # write checkpoints and the final export (benchmarks turn it off)
    # a checkpoint folder to start from: an exported Molmo (e.g. stage 1's RUN/model), or for the
    # molmo2 family a released Molmo2 folder or a RUN/model it exported
    init_from: str | None = None

    def __post_init__(self):
        if self.steps < 1 or self.grad_accum < 1 or self.log_every < 1 or self.save_every < 1:
            raise ValueError("steps, grad_accum, log_every and save_every must be >= 1")
        if self.parallel not in ("ddp", "fsdp"):
            raise ValueError(f"parallel={self.parallel!r} must be ddp or fsdp")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision={self.precision!r} must be auto, bf16 or fp32")
