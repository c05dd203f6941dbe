"""The whole run's configuration: model parts, data, optimiser and the loop, with presets and
TOML files (training/configs/*.toml) that start from a preset and override fields."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from training.data import DataConfig
from training.model import ModelConfig
from training.optim import OptimConfig

CONFIG_DIR = Path(__file__).parent / "configs"


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=lambda: ModelConfig.preset("tiny"))
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
    init_from: str | None = None  # an exported Molmo folder (e.g. stage 1's RUN/model) to start from

    def __post_init__(self):
        if self.steps < 1 or self.grad_accum < 1 or self.log_every < 1 or self.save_every < 1:
            raise ValueError("steps, grad_accum, log_every and save_every must be >= 1")
        if self.parallel not in ("ddp", "fsdp"):
            raise ValueError(f"parallel={self.parallel!r} must be ddp or fsdp")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision={self.precision!r} must be auto, bf16 or fp32")

    @classmethod
    def preset(cls, name: str) -> TrainConfig:
        if name == "tiny":
            return cls(
                model=ModelConfig.preset("tiny"),
                data=DataConfig(
                    stage="sft", max_seq_len=512, images_per_batch=8, shuffle_buffer=16, num_workers=0
                ),
                optim=OptimConfig.tiny(),
                steps=40,
                save_every=20,
            )
        path = CONFIG_DIR / f"{name}.toml"
        if not path.exists():
            known = ["tiny"] + sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))
            raise ValueError(f"unknown config {name!r}; use a .toml path or one of {', '.join(known)}")
        return load_config(path)


def _merge(instance, overrides: dict):
    """A copy of dataclass `instance` with `overrides` applied, recursing into nested dataclasses."""
    changes = {}
    names = {f.name for f in dataclasses.fields(instance)}
    for key, value in overrides.items():
        if key not in names:
            raise ValueError(f"{type(instance).__name__} has no field {key!r}; fields: {sorted(names)}")
        current = getattr(instance, key)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            value = _merge(current, value)
        elif isinstance(current, dict) and isinstance(value, dict) and key != "hf_config":
            value = {**current, **value}
        changes[key] = value
    return dataclasses.replace(instance, **changes)


def load_config(path: str | Path) -> TrainConfig:
    """A TOML file: `preset` picks the starting point of a section (model: tiny/1b/7b; optim:
    pretrain/sft/tiny); every other key overrides a field."""
    raw = tomllib.loads(Path(path).read_text())
    base = TrainConfig.preset(raw.pop("preset")) if "preset" in raw else TrainConfig()
    model, optim = raw.pop("model", {}), raw.pop("optim", {})
    if "preset" in model:
        base.model = ModelConfig.preset(model.pop("preset"))
    if "preset" in optim:
        base.optim = getattr(OptimConfig, optim.pop("preset"))()
    raw = {**raw, **({"model": model} if model else {}), **({"optim": optim} if optim else {})}
    return _merge(base, raw)


def resolve(name_or_path: str) -> TrainConfig:
    if name_or_path.endswith(".toml") or Path(name_or_path).is_file():
        if not Path(name_or_path).is_file():
            raise ValueError(f"config file {name_or_path} does not exist")
        return load_config(name_or_path)
    return TrainConfig.preset(name_or_path)


def to_dict(config: TrainConfig) -> dict:
    return dataclasses.asdict(config)
