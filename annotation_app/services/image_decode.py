"""Decode-verify image bytes with Pillow: refuse bombs, truncation and non-images; fix EXIF."""

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

# Formats stored as they arrive; anything else Pillow reads is re-encoded as PNG.
WEB_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class ImageRefused(ValueError):
    """The bytes are not an image we store; the message says why in one sentence."""


@dataclass(frozen=True)
class DecodedImage:
    data: bytes  # the bytes to store (re-encoded only when EXIF rotated it or the format was not web)
    sha256: str
    mime: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime]


def image_decode(*, data: bytes, max_bytes: int, max_pixels: int) -> DecodedImage:
    if not data:
        raise ImageRefused("the file is empty")
    if len(data) > max_bytes:
        raise ImageRefused(f"the file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    image = _open_verified(data, max_pixels=max_pixels)
    oriented = ImageOps.exif_transpose(image)
    rotated = oriented is not image and _orientation(image) not in (None, 1)
    if image.format in WEB_FORMATS and not rotated:
        stored, mime = data, WEB_FORMATS[image.format]
    else:
        stored = _encode(oriented, source_format=image.format)
        mime = "image/jpeg" if image.format == "JPEG" else "image/png"
    return DecodedImage(
        data=stored,
        sha256=hashlib.sha256(stored).hexdigest(),
        mime=mime,
        width=oriented.width,
        height=oriented.height,
    )


def _open_verified(data: bytes, *, max_pixels: int) -> PILImage.Image:
    previous_limit = PILImage.MAX_IMAGE_PIXELS
    PILImage.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1× and 2× the limit; we refuse at 1×.
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            PILImage.open(io.BytesIO(data)).verify()
            image = PILImage.open(io.BytesIO(data))
            image.load()  # verify() does not decode pixels; load() catches truncation
            return image
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageRefused(f"the image has more than {max_pixels:,} pixels (decompression bomb limit)") from None
    except UnidentifiedImageError:
        raise ImageRefused("the file is not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRefused(f"the image is damaged or truncated ({error})") from None
    finally:
        PILImage.MAX_IMAGE_PIXELS = previous_limit


def _orientation(image: PILImage.Image) -> int | None:
    try:
        return image.getexif().get(0x0112)
    except Exception:  # a malformed EXIF block is not a reason to refuse the pixels
        return None


def _encode(image: PILImage.Image, *, source_format: str | None) -> bytes:
    buffer = io.BytesIO()
    if source_format == "JPEG":
        image.convert("RGB").save(buffer, format="JPEG", quality=95)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        image.save(buffer, format="PNG")
    return buffer.getvalue()
