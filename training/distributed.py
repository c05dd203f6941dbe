"""Process group set-up and model wrapping for torchrun: DDP or FSDP2, gloo on CPU, NCCL on GPU."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Dist:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup() -> Dist:
    """Initialise from torchrun's environment; a plain `python` run is a world of one."""
    if "RANK" not in os.environ:
        device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
        return Dist(0, 1, 0, device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank, device)


def teardown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(value: torch.Tensor) -> torch.Tensor:
    if dist.is_initialized():
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def wrap(model: nn.Module, parallel: str, d: Dist, bf16: bool) -> nn.Module:
    """DDP replicates the model; FSDP2 shards every transformer block of both towers, then the
    rest, keeping fp32 master weights and reducing gradients in fp32."""
    if d.world_size == 1 and parallel == "ddp":
        return model
    if parallel == "ddp":
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[d.local_rank] if d.device.type == "cuda" else None)
    if parallel == "fsdp":
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        mp = MixedPrecisionPolicy(
            param_dtype=torch.bfloat16 if bf16 else torch.float32, reduce_dtype=torch.float32
        )
        for module in model.modules():
            if type(module).__name__.endswith(("DecoderLayer", "EncoderLayer")):
                fully_shard(module, mp_policy=mp)
        fully_shard(model, mp_policy=mp)
        return model
    raise ValueError(f"parallel={parallel!r} must be ddp or fsdp")


@contextlib.contextmanager
def gradient_sync(model: nn.Module, enabled: bool) -> Iterator[None]:
    """Wrap one micro-batch's forward *and* backward. With `enabled=False` gradients accumulate
    locally, unreduced: DDP's no_sync(), FSDP2's set_requires_gradient_sync(False). So with
    accumulation only the last micro-batch's backward reduces, once per optimiser step."""
    if enabled:
        yield
    elif hasattr(model, "no_sync"):  # DDP
        with model.no_sync():
            yield
    elif hasattr(model, "set_requires_gradient_sync"):  # FSDP2
        model.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)
    else:  # one process, unwrapped
        yield


def unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)
