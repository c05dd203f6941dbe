"""Which folder holds an exported model: a run folder (`pixmo train --out`, whose export is its
model/ folder) or the export itself. Standard library only, so a wrong path is told before torch
and transformers load."""

from __future__ import annotations

from pathlib import Path

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
RUN_HINT = "pass the folder `pixmo train --out` wrote, or its model/ folder"


def model_folder(path: str | Path) -> Path:
    """The exported model folder that `path` names: a run folder (`pixmo train --out`, whose
    export is its model/ folder) or the export itself. ValueError with one sentence otherwise."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist; {RUN_HINT}")
    if not path.is_dir():
        raise ValueError(f"{path} is a file; {RUN_HINT}")
    if (path / "model").is_dir():
        path = path / "model"
    elif (path / "checkpoint").is_dir():
        raise ValueError(
            f"{path} is a training run with no exported model yet (model/ is written when training "
            "finishes); rerun the same `pixmo train` command to resume it to the end"
        )
    if not (path / "config.json").is_file():
        raise ValueError(f"{path} holds no model (no config.json and no model/ folder); {RUN_HINT}")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise ValueError(f"{path} has a config.json but no weights (model.safetensors); the export is incomplete")
    return path
