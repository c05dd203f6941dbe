"""Typed reads of environment settings with embedded defaults.

The pipelines read their settings (PIXMO_ASR_*, PIXMO_LLM_*, PIXMO_OCR_*, ...) only from the
environment and never import Django; the Django settings do not copy them, so a worker and the
CLI see the same values.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.errors import SettingError


def env_str(*, name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(*, name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingError(f"{name}={raw!r} is not an integer.") from error
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}={value} is below its minimum of {minimum}.")
    return value


def env_float(*, name: str, default: float, minimum: float | None = None) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise SettingError(f"{name}={raw!r} is not a number.") from error
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}={value} is below its minimum of {minimum}.")
    return value


def env_floats(*, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError as error:
        raise SettingError(f"{name}={raw!r} is not a comma-separated list of numbers.") from error


def env_bool(*, name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def cache_dir() -> Path:
    """Folder for derived model files (PIXMO_CACHE_DIR, default ~/.cache/pixmo)."""
    default = Path.home() / ".cache" / "pixmo"
    return Path(env_str(name="PIXMO_CACHE_DIR", default=str(default))).expanduser()
