"""Draw one analog clock with Pillow, then augment it (background, perspective, blur).

Drawing happens at SUPERSAMPLE times the output size and is downsampled, for smooth edges.
Angles are clockwise from 12 o'clock, in degrees.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pixmo_builders.clock_faces import ClockFace

SUPERSAMPLE = 2
ROMAN = ("XII", "I", "II", "III", "IIII", "V", "VI", "VII", "VIII", "IX", "X", "XI")
FONT_CANDIDATES = ("DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf", "LiberationSans-Bold.ttf")


@dataclass(frozen=True)
class ClockTime:
    hour: int  # 0–23
    minute: int
    second: int

    def __post_init__(self) -> None:
        if not (0 <= self.hour < 24 and 0 <= self.minute < 60 and 0 <= self.second < 60):
            raise ValueError(f"not a time of day: {self.hour}:{self.minute}:{self.second}")

    def hand_angles(self) -> tuple[float, float, float]:
        seconds = self.second
        minutes = self.minute + seconds / 60
        hours = self.hour % 12 + minutes / 60
        return hours * 30.0, minutes * 6.0, seconds * 6.0


def _font(*, size: int) -> ImageFont.ImageFont:
    for name in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _polar(*, centre: float, radius: float, degrees: float) -> tuple[float, float]:
    radians = math.radians(degrees)
    return centre + radius * math.sin(radians), centre - radius * math.cos(radians)


def render_clock(
    *, face: ClockFace, time: ClockTime, shows_seconds: bool, size: int, rng: random.Random
) -> Image.Image:
    canvas = size * SUPERSAMPLE
    dial = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(dial)
    centre, radius = canvas / 2, canvas * 0.44
    _draw_case(draw=draw, face=face, centre=centre, radius=radius)
    _draw_ticks(draw=draw, face=face, centre=centre, radius=radius)
    _draw_numerals(draw=draw, face=face, centre=centre, radius=radius)
    if face.has_logo:
        draw.text(
            (centre, centre - radius * 0.38),
            "PIXMO",
            fill=face.ink,
            font=_font(size=int(radius * 0.09)),
            anchor="mm",
        )
    _draw_hands(draw=draw, face=face, time=time, shows_seconds=shows_seconds, centre=centre, radius=radius)
    dial = dial.resize((size, size), Image.LANCZOS)
    return augment(dial=dial, rng=rng)


def _draw_case(*, draw: ImageDraw.ImageDraw, face: ClockFace, centre: float, radius: float) -> None:
    box = (centre - radius, centre - radius, centre + radius, centre + radius)
    outline = max(2, int(radius * 0.04))
    if face.shape == "rounded-square":
        draw.rounded_rectangle(box, radius=radius * 0.3, fill=face.dial, outline=face.ink, width=outline)
        return
    draw.ellipse(box, fill=face.dial, outline=face.ink, width=outline)
    if face.shape == "circle-bezel":
        inner = radius * 0.93
        draw.ellipse(
            (centre - inner, centre - inner, centre + inner, centre + inner),
            outline=face.ink,
            width=outline // 2,
        )


def _draw_ticks(*, draw: ImageDraw.ImageDraw, face: ClockFace, centre: float, radius: float) -> None:
    if face.ticks == "none":
        return
    for minute in range(60):
        is_hour = minute % 5 == 0
        if not is_hour and face.ticks == "hour":
            continue
        inner = radius * (0.80 if is_hour else 0.86)
        width = max(1, int(radius * (0.025 if is_hour else 0.01)))
        start = _polar(centre=centre, radius=inner, degrees=minute * 6)
        end = _polar(centre=centre, radius=radius * 0.9, degrees=minute * 6)
        draw.line((start, end), fill=face.ink, width=width)


def _draw_numerals(*, draw: ImageDraw.ImageDraw, face: ClockFace, centre: float, radius: float) -> None:
    if face.numerals == "none":
        return
    font = _font(size=int(radius * (0.16 if face.numerals == "arabic" else 0.12)))
    for hour in range(12):
        label = str(hour or 12) if face.numerals == "arabic" else ROMAN[hour]
        position = _polar(centre=centre, radius=radius * 0.66, degrees=hour * 30)
        draw.text(position, label, fill=face.ink, font=font, anchor="mm")


def _draw_hands(
    *, draw, face: ClockFace, time: ClockTime, shows_seconds: bool, centre: float, radius: float
) -> None:
    hour_angle, minute_angle, second_angle = time.hand_angles()
    scale = face.hand_width_scale
    _hand(
        draw=draw,
        face=face,
        centre=centre,
        length=radius * 0.5,
        width=radius * 0.06 * scale,
        degrees=hour_angle,
    )
    _hand(
        draw=draw,
        face=face,
        centre=centre,
        length=radius * 0.78,
        width=radius * 0.04 * scale,
        degrees=minute_angle,
    )
    if shows_seconds:
        tail = _polar(centre=centre, radius=-radius * 0.15, degrees=second_angle)
        tip = _polar(centre=centre, radius=radius * 0.85, degrees=second_angle)
        draw.line((tail, tip), fill=face.second_colour, width=max(1, int(radius * 0.012)))
    hub = radius * 0.045
    draw.ellipse(
        (centre - hub, centre - hub, centre + hub, centre + hub),
        fill=face.second_colour if shows_seconds else face.ink,
    )


def _hand(*, draw, face: ClockFace, centre: float, length: float, width: float, degrees: float) -> None:
    tip = _polar(centre=centre, radius=length, degrees=degrees)
    base = _polar(centre=centre, radius=-length * 0.12, degrees=degrees)
    left = _polar(centre=centre, radius=width, degrees=degrees - 90)
    right = _polar(centre=centre, radius=width, degrees=degrees + 90)
    if face.hands == "line":
        draw.line((base, tip), fill=face.ink, width=max(1, int(width)))
    elif face.hands == "tapered":
        draw.polygon((base, left, tip, right), fill=face.ink)
    elif face.hands == "arrow":
        neck = _polar(centre=centre, radius=length * 0.8, degrees=degrees)
        draw.line((base, neck), fill=face.ink, width=max(1, int(width * 0.6)))
        wing_l = (neck[0] + (left[0] - centre) * 1.4, neck[1] + (left[1] - centre) * 1.4)
        wing_r = (neck[0] + (right[0] - centre) * 1.4, neck[1] + (right[1] - centre) * 1.4)
        draw.polygon((wing_l, tip, wing_r), fill=face.ink)
    else:  # skeleton: an outlined tapered hand
        draw.polygon((base, left, tip, right), outline=face.ink, width=max(1, int(width * 0.35)))


def augment(*, dial: Image.Image, rng: random.Random) -> Image.Image:
    size = dial.width
    background = _background(size=size, rng=rng)
    scale = rng.uniform(0.7, 1.0)
    small = dial.resize((int(size * scale), int(size * scale)), Image.LANCZOS).rotate(
        rng.uniform(-12, 12), Image.BICUBIC
    )
    offset = (rng.randint(0, size - small.width), rng.randint(0, size - small.height))
    background.paste(small, offset, small)
    image = _perspective(image=background, rng=rng) if rng.random() < 0.5 else background
    if rng.random() < 0.3:
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 1.5)))
    return image


def _background(*, size: int, rng: random.Random) -> Image.Image:
    top = tuple(rng.randint(0, 255) for _ in range(3))
    if rng.random() < 0.5:
        return Image.new("RGB", (size, size), top)
    bottom = tuple(rng.randint(0, 255) for _ in range(3))
    gradient = Image.linear_gradient("L").resize((size, size))
    return Image.composite(
        Image.new("RGB", (size, size), bottom), Image.new("RGB", (size, size), top), gradient
    )


def _perspective(*, image: Image.Image, rng: random.Random) -> Image.Image:
    size = image.width
    jitter = size * 0.08
    corners = [(0, 0), (size, 0), (size, size), (0, size)]
    moved = [(x + rng.uniform(-jitter, jitter), y + rng.uniform(-jitter, jitter)) for x, y in corners]
    coefficients = _perspective_coefficients(source=moved, target=corners)
    return image.transform(
        (size, size), Image.PERSPECTIVE, coefficients, Image.BICUBIC, fillcolor=image.getpixel((0, 0))
    )


def _perspective_coefficients(
    *, source: list[tuple[float, float]], target: list[tuple[float, float]]
) -> tuple:
    """The 8 coefficients mapping output (target) corners to input (source) corners."""
    import numpy as np

    rows = []
    for (x, y), (u, v) in zip(target, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    rhs = [value for point in source for value in point]
    return tuple(np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float)))
