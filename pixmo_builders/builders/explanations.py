"""pixmo-point-explanations rows: answers whose point tags become `<|POINT|>` placeholders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pixmo_builders.builders.sources import PointExplanationSource
from pixmo_builders.writer import ExportRow
from pixmo_formats.points import find_point_tags

PLACEHOLDER = "<|POINT|>"


def parse_point_tags(*, response: str) -> tuple[str, list[str], list[str], list[list[dict]]]:
    """(parsed_response, alt_text, inline_text, points) of a response with point tags (0–100);
    a tag without alt takes its words as alt text."""
    alt_text, inline_text, points, pieces, last = [], [], [], [], 0
    for tag in find_point_tags(response):
        alt_text.append(tag.text if tag.alt is None else tag.alt)
        inline_text.append(tag.text)
        points.append([{"x": x, "y": y} for x, y in tag.points])
        pieces += [response[last : tag.start], PLACEHOLDER]
        last = tag.end
    return "".join([*pieces, response[last:]]), alt_text, inline_text, points


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
