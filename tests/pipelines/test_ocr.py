"""PIXMO_OCR_ENGINE picks the engine that reads the image."""

import io
import shutil

import pytest
from PIL import Image

from pipelines.errors import SettingError
from pipelines.ocr import ocr_image


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def fixed_engine(png: bytes, *, language: str, timeout_s: float) -> tuple[str, dict[str, str]]:
    assert png.startswith(b"\x89PNG")
    return f"  read   in {language}  \n\n", {"name": "fixed", "version": "1"}


def test_the_setting_selects_a_plugged_in_engine(monkeypatch):
    monkeypatch.setenv("PIXMO_OCR_ENGINE", f"{__name__}:fixed_engine")
    result = ocr_image(blank_png(), language="deu")
    assert result.text == "read in deu"
    assert result.engine == {"name": "fixed", "version": "1", "language": "deu"}


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_the_setting_selects_tesseract(monkeypatch):
    monkeypatch.setenv("PIXMO_OCR_ENGINE", "tesseract")
    assert ocr_image(blank_png()).engine["name"] == "tesseract"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("rapidocr", "'rapidocr' is neither 'tesseract' nor 'package.module:function'"),
        ("no_such_module:read", "cannot be imported"),
        (f"{__name__}:no_such_function", "cannot be imported"),
    ],
)
def test_an_unknown_engine_is_a_setting_error_naming_the_choices(monkeypatch, value, says):
    monkeypatch.setenv("PIXMO_OCR_ENGINE", value)
    with pytest.raises(SettingError, match=f"PIXMO_OCR_ENGINE=.*{says}"):
        ocr_image(blank_png())
