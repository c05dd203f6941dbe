"""Checkpoints that resume exactly: model, optimiser, step (the schedules are a pure function of
it), the data position (micro-batches consumed) and every RNG. Saved as full (unsharded) state so
a run may resume on a different world size; plus a Hugging Face export for eval and inference."""

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
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(folder: Path, model, optimizer, *, step: int, micro_batches: int, is_main: bool) -> None:
    """Collective: every rank must call it (FSDP gathers full tensors)."""
    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    model_state, optim_state = get_state_dict(model, optimizer, options=options)
    if is_main:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{STATE_FILE}.tmp"
        payload = {
            "model": model_state,
            "optim": optim_state,
            "step": step,
            "micro_batches": micro_batches,
            "rng": rng_state(),
        }
        torch.save(payload, tmp)
        os.replace(tmp, folder / STATE_FILE)  # a crash mid-write never leaves a half checkpoint
        (folder / POSITION_FILE).write_text(json.dumps({"step": step, "micro_batches": micro_batches}))
    if dist.is_initialized():
        dist.barrier()


def position(folder: Path) -> dict | None:
    path = folder / POSITION_FILE
    return json.loads(path.read_text()) if path.exists() and (folder / STATE_FILE).exists() else None


def load(folder: Path, model, optimizer) -> dict | None:
    """Restores model, optimiser and RNG in place; returns {step, micro_batches} or None."""
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
    set_rng_state(payload["rng"])
    return {"step": payload["step"], "micro_batches": payload["micro_batches"]}
