"""pixmo-point-explanations rows: answers whose point tags become `<|POINT|>` placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pixmo_builders.builders.sources import PointExplanationSource
from pixmo_builders.writer import ExportRow

PLACEHOLDER = "<|POINT|>"
POINT_TAG = re.compile(r"<(point|points)\s+([^>]*)>(.*?)</\1>", re.DOTALL)
ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
INDEXED_COORDINATE = re.compile(r"^([xy])(\d*)$")


def parse_point_tags(*, response: str) -> tuple[str, list[str], list[str], list[list[dict]]]:
    """(parsed_response, alt_text, inline_text, points) of a response with point tags (0–100)."""
    alt_text, inline_text, points = [], [], []

    def replace(match: re.Match) -> str:
        attributes = dict(ATTRIBUTE.findall(match.group(2)))
        alt_text.append(attributes.get("alt", match.group(3)))
        inline_text.append(match.group(3))
        points.append(_tag_points(attributes=attributes))
        return PLACEHOLDER

    return POINT_TAG.sub(replace, response), alt_text, inline_text, points


def _tag_points(*, attributes: dict[str, str]) -> list[dict]:
    coordinates: dict[str, dict[str, float]] = {}
    for name, value in attributes.items():
        match = INDEXED_COORDINATE.match(name)
        if match:
            axis, index = match.groups()
            coordinates.setdefault(index or "1", {})[axis] = float(value)
    return [
        coordinates[index] for index in sorted(coordinates, key=int) if {"x", "y"} <= set(coordinates[index])
    ]


def build_point_explanations_rows(sources: Iterable[PointExplanationSource]) -> Iterator[ExportRow]:
    for source in sources:
        parsed, alt_text, inline_text, points = parse_point_tags(response=source.response)
        row = {
            "image_url": source.image_url,
            "image_sha256": source.image_sha256,
            "question": source.question,
            "response": source.response,
            "parsed_response": parsed,
            "alt_text": alt_text,
            "inline_text": inline_text,
            "points": points,
        }
        yield ExportRow(row=row, image_sha256=source.image_sha256, image=source.image)
