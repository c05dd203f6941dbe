"""OCR of image bytes with a non-VLM engine chosen by PIXMO_OCR_ENGINE.

"tesseract" (the default) runs Debian's tesseract-ocr as a subprocess. Another engine plugs in
as "package.module:function", where `function(png, *, language, timeout_s)` returns the text and
an identity dict (name, version) for provenance, and raises OcrError when it cannot read.
"""

from __future__ import annotations

import functools
import importlib
import io
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.env import env_float, env_str
from pipelines.errors import InputLimitError, OcrError, SettingError

MAX_IMAGE_PIXELS = 50_000_000  # larger images are refused rather than OCR'd for minutes
DEFAULT_ENGINE = "tesseract"

OcrEngine = Callable[..., tuple[str, dict[str, str]]]  # (png, *, language, timeout_s) -> (text, identity)


@dataclass(frozen=True, kw_only=True)
class OcrResult:
    text: str
    engine: dict[str, str]  # name, version, language
    timings_ms: dict[str, float]


def ocr_image(
    data: bytes, *, engine: str | None = None, language: str | None = None, timeout_s: float | None = None
) -> OcrResult:
    """The text the engine reads in the image.

    Defaults from the environment: PIXMO_OCR_ENGINE ("tesseract"), PIXMO_OCR_LANG ("eng"),
    PIXMO_OCR_TIMEOUT_S (60). An unknown engine is a SettingError naming the choices.
    """
    read = ocr_engine(engine or env_str(name="PIXMO_OCR_ENGINE", default=DEFAULT_ENGINE))
    language = language or env_str(name="PIXMO_OCR_LANG", default="eng")
    timeout_s = timeout_s or env_float(name="PIXMO_OCR_TIMEOUT_S", default=60.0, minimum=1.0)
    start = time.perf_counter()
    text, identity = read(_as_png(data), language=language, timeout_s=timeout_s)
    return OcrResult(
        text=_tidy(text),
        engine={**identity, "language": language},
        timings_ms={"ocr": round((time.perf_counter() - start) * 1000.0, 1)},
    )


def ocr_engine(name: str) -> OcrEngine:
    """The engine a PIXMO_OCR_ENGINE value names: "tesseract" or "package.module:function"."""
    if name == "tesseract":
        return read_with_tesseract
    module_name, _, function_name = name.partition(":")
    if not module_name or not function_name:
        raise SettingError(f"PIXMO_OCR_ENGINE={name!r} is neither 'tesseract' nor 'package.module:function'.")
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise SettingError(f"PIXMO_OCR_ENGINE={name!r} cannot be imported ({error}).") from error


def read_with_tesseract(png: bytes, *, language: str, timeout_s: float) -> tuple[str, dict[str, str]]:
    text = _run_tesseract(png, language=language, timeout_s=timeout_s)
    return text, {"name": "tesseract", "version": tesseract_version()}


def _as_png(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise InputLimitError(
                    f"The image has {image.width * image.height} pixels, over the OCR limit of {MAX_IMAGE_PIXELS}."
                )
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="PNG")
            return buffer.getvalue()
    except (UnidentifiedImageError, OSError) as error:
        raise OcrError(f"The image could not be decoded for OCR ({error}).") from error


def _run_tesseract(png: bytes, *, language: str, timeout_s: float) -> str:
    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrError("Tesseract is not installed; install the Debian package tesseract-ocr.")
    try:
        completed = subprocess.run(
            [binary, "stdin", "stdout", "-l", language, "--psm", "3"],
            input=png,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise OcrError(f"Tesseract took longer than PIXMO_OCR_TIMEOUT_S={timeout_s} s.") from error
    if completed.returncode != 0:
        raise OcrError(f"Tesseract failed: {completed.stderr.decode(errors='replace').strip()[:300]}")
    return completed.stdout.decode("utf-8", errors="replace")


def _tidy(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


@functools.cache
def tesseract_version() -> str:
    binary = shutil.which("tesseract")
    if binary is None:
        return "missing"
    first_line = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout.splitlines()
    return first_line[0].split()[-1] if first_line else "unknown"
