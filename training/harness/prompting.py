"""What both harness adapters share: the prompt a harness's question becomes (Molmo's style prefix
where the task is one of our benchmarks), the one image Molmo is shown, and the cut at a stop string."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from training.benchmarks.registry import benchmark


def benchmark_style(task: str | None) -> str | None:
    """Molmo's style prefix of the benchmark a harness's task or dataset name means, or None.
    Split suffixes are dropped one at a time: "ChartQA_TEST", "docvqa_val", "MMMU_DEV_VAL"."""
    parts = (task or "").split("_")
    for end in range(len(parts), 0, -1):
        try:
            return benchmark("_".join(parts[:end])).style
        except ValueError:
            continue
    return None


def styled_prompt(question: str, task: str | None) -> str:
    """The harness's question behind Molmo's style prefix (`chart_qa: …`) when the task is one of
    our benchmarks; unchanged otherwise. The harness's own wording (options, "Answer with …") stays."""
    style = benchmark_style(task)
    return f"{style}: {question.strip()}" if style else question.strip()


def first_image(visuals) -> Image.Image:
    """The first image among what a harness hands over (PIL images, file paths or encoded bytes);
    Molmo's `generate` reads one image. ValueError when there is none."""
    items = visuals if isinstance(visuals, (list, tuple)) else [visuals]
    for item in items:
        if isinstance(item, Image.Image):
            return item
        if isinstance(item, (str, Path)) and Path(item).is_file():
            return Image.open(item)
        if isinstance(item, (bytes, bytearray)):
            return Image.open(io.BytesIO(item))
    raise ValueError("the request holds no image; Molmo answers questions about one image")


def cut_at_stop(text: str, until) -> str:
    """`text` up to the first of the stop strings `until` (a string or a list); whole when none occurs."""
    stops = [until] if isinstance(until, str) else list(until or [])
    for stop in stops:
        if stop and stop in text:
            text = text[: text.index(stop)]
    return text.strip()
