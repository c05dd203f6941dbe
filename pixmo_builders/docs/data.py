"""The data a document shows: a title and labelled numbers, parsed robustly from LLM text.

Small models rarely emit clean JSON, so parsing tries, in order: the first JSON object, then
`"label": …, "value": …` pairs anywhere, then `Label: 12` lines. Below MIN_ITEMS usable items
the caller falls back to deterministic data and records that it did.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass

MIN_ITEMS = 3
MAX_ITEMS = 8
MAX_LABEL_CHARS = 40
MAX_TITLE_CHARS = 80
PAIR = re.compile(r'"label"\s*:\s*"([^"]{1,80})"\s*,\s*"value"\s*:\s*(-?\d+(?:\.\d+)?)')
LINE = re.compile(r"^\s*[-*\d.)]*\s*([A-Za-z][^:=\n]{0,39})\s*[:=]\s*(-?\d+(?:\.\d+)?)\b", re.MULTILINE)
TITLE = re.compile(r'"title"\s*:\s*"([^"]{1,80})"')
SAFE_TEXT = re.compile(r"[^A-Za-z0-9 ,.%&()/'+-]")


@dataclass(frozen=True)
class DocData:
    title: str
    items: tuple[tuple[str, float], ...]

    def as_json(self) -> str:
        return json.dumps({"title": self.title, "items": [{"label": l, "value": v} for l, v in self.items]})


def clean_text(*, text: str, limit: int) -> str:
    """Plain characters only: the text is pasted into code in several languages."""
    return " ".join(SAFE_TEXT.sub("", text).split())[:limit].strip()


def parse_doc_data(*, reply: str, topic: str, labels: tuple[str, ...] = ()) -> DocData | None:
    """Data from a reply; with `labels`, only those labels count (a copied example does not)."""
    pairs = _json_pairs(reply=reply) or PAIR.findall(reply) or LINE.findall(reply)
    items = _clean_items(pairs=pairs)
    if labels:
        allowed = {label.lower() for label in labels}
        items = tuple(item for item in items if item[0].lower() in allowed)
    # Equal values make a chart with nothing to ask about ("which is largest?" has no answer).
    if len(items) < MIN_ITEMS or len({value for _, value in items}) < len(items):
        return None
    title_match = TITLE.search(reply)
    title = clean_text(text=title_match.group(1) if title_match else topic, limit=MAX_TITLE_CHARS) or topic
    return DocData(title=title, items=items)


def _json_pairs(*, reply: str) -> list[tuple[str, object]]:
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        return []
    try:
        value = json.loads(reply[start : end + 1])
    except json.JSONDecodeError:
        return []
    entries = value.get("items") if isinstance(value, dict) else None
    if not isinstance(entries, list):
        return []
    return [(entry.get("label"), entry.get("value")) for entry in entries if isinstance(entry, dict)]


def _clean_items(*, pairs: list[tuple[object, object]]) -> tuple[tuple[str, float], ...]:
    items, seen = [], set()
    for label, value in pairs:
        try:
            number = round(float(value), 2)
        except (TypeError, ValueError):
            continue
        text = clean_text(text=str(label or ""), limit=MAX_LABEL_CHARS)
        if text and text.lower() not in seen and abs(number) < 1e9:
            seen.add(text.lower())
            items.append((text, number))
    return tuple(items[:MAX_ITEMS])


def fallback_doc_data(*, topic: str, labels: tuple[str, ...], seed: int) -> DocData:
    """Deterministic data for a topic when the model's reply was unusable."""
    rng = random.Random(f"{seed}:{topic}")
    chosen = rng.sample(labels, k=min(len(labels), rng.randint(MIN_ITEMS + 1, 6)))
    values = rng.sample(range(3, 96), k=len(chosen))  # distinct, so every comparison has one answer
    return DocData(
        title=clean_text(text=topic, limit=MAX_TITLE_CHARS).capitalize(),
        items=tuple((label, float(value)) for label, value in zip(chosen, values)),
    )
