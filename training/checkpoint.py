"""Checkpoints that resume exactly: model, optimiser, step (the schedules are a pure function of
it), and for every rank its data position (micro-batches consumed) and RNG states (python, numpy,
torch, cuda). Saved as full (unsharded) state so a run may resume on a different world size
(ranks without a saved entry then keep their fresh per-rank seed)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict, set_state_dict

STATE_FILE = "state.pt"
POSITION_FILE = "position.json"  # step and data position, readable without loading the state


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()  # this rank's device only
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def seed_rank(seed: int, rank: int) -> None:
    """Call after the (identical on every rank) initialisation: each rank then draws its own
    stream, so dropout masks differ between ranks, reproducibly from (seed, rank)."""
    derived = random.Random(f"{seed}-rank-{rank}").getrandbits(63)
    random.seed(derived)
    np.random.seed(derived % 2**32)
    torch.manual_seed(derived)  # seeds every cuda device too


def gather_to_main(value) -> list:
    """[value of rank 0, value of rank 1, ...] on rank 0 (and [value] without a process group)."""
    if not dist.is_initialized():
        return [value]
    out = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(value, out, dst=0)
    return out


def save(folder: Path, model, optimizer, *, step: int, micro_batches: int, is_main: bool) -> None:
    """Collective: every rank must call it (FSDP gathers full tensors; every rank sends its RNG
    states and data position to rank 0, which writes)."""
    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    model_state, optim_state = get_state_dict(model, optimizer, options=options)
    ranks = gather_to_main({"rng": rng_state(), "micro_batches": micro_batches})
    if is_main:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{STATE_FILE}.tmp"
        payload = {"model": model_state, "optim": optim_state, "step": step, "ranks": ranks}
        torch.save(payload, tmp)
        os.replace(tmp, folder / STATE_FILE)  # a crash mid-write never leaves a half checkpoint
        positions = [r["micro_batches"] for r in ranks]
        (folder / POSITION_FILE).write_text(json.dumps({"step": step, "micro_batches": positions}))
    if dist.is_initialized():
        dist.barrier()


def position(folder: Path, rank: int = 0) -> dict | None:
    """{step, micro_batches} of `rank` (the last saved rank's for a rank the saved run lacked)."""
    path = folder / POSITION_FILE
    if not (path.exists() and (folder / STATE_FILE).exists()):
        return None
    saved = json.loads(path.read_text())
    positions = saved["micro_batches"]
    return {"step": saved["step"], "micro_batches": positions[min(rank, len(positions) - 1)]}


def load(folder: Path, model, optimizer, rank: int = 0) -> dict | None:
    """Restores model, optimiser and `rank`'s RNG in place; returns {step, micro_batches} or None."""
    path = folder / STATE_FILE
    if not path.exists():
        return None
    payload = torch.load(path, map_location="cpu", weights_only=False)
    options = StateDictOptions(full_state_dict=True)
    set_state_dict(
        model,
        optimizer,
        model_state_dict=payload["model"],
        optim_state_dict=payload["optim"],
        options=options,
    )
    ranks = payload["ranks"]
    if rank < len(ranks):
        set_rng_state(ranks[rank]["rng"])
    return {"step": payload["step"], "micro_batches": ranks[min(rank, len(ranks) - 1)]["micro_batches"]}
