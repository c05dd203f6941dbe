"""The `lmms_eval.models` entry point (pyproject.toml): tells lmms-eval where `pixmo_molmo` lives
without importing it, so lmms-eval's start-up stays light."""

from __future__ import annotations

from lmms_eval.models.registry_v2 import ModelManifest


def manifest() -> ModelManifest:
    return ModelManifest(
        model_id="pixmo_molmo", simple_class_path="training.harness.lmms_eval_model.PixmoMolmo"
    )
