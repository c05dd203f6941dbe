"""Per-row checks on released columns: the column set, hashes and coordinate ranges.

Types are checked by pyarrow when rows become a table; these are the facts pyarrow cannot see.
"""

from __future__ import annotations

import re

from pixmo_builders.schemas import DatasetSchema

PERCENT_MAX = 100.0
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def row_problems(*, schema: DatasetSchema, row: dict) -> list[str]:
    """One sentence per thing wrong with `row`; empty when it is a valid released row."""
    problems = _column_problems(schema=schema, row=row)
    if problems:
        return problems
    if "image_sha256" in row and not SHA256_PATTERN.match(str(row["image_sha256"])):
        problems.append(f"image_sha256 {row['image_sha256']!r} is not 64 lowercase hex characters")
    for point in _points_of(row):
        problems.extend(_point_problems(point=point, units=schema.point_units))
    counted = schema.name in ("pixmo-points", "pixmo-count") and row["count"] is not None
    if counted and row["points"] and row["count"] != len(row["points"]):
        problems.append(f"count {row['count']} differs from the {len(row['points'])} points")
    return problems


def _column_problems(*, schema: DatasetSchema, row: dict) -> list[str]:
    columns = schema.columns
    if len(row) == len(columns) and all(name in row for name in columns):
        return []
    missing = [name for name in columns if name not in row]
    extra = [name for name in row if name not in columns]
    problems = []
    if missing:
        problems.append(f"{schema.name} row lacks columns {missing}")
    if extra:
        problems.append(f"{schema.name} row has columns outside the release {extra}")
    return problems


def _points_of(row: dict) -> list[dict]:
    points = row.get("points") or []
    flat = []
    for item in points:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def _point_problems(*, point: dict, units: str | None) -> list[str]:
    x, y = point.get("x"), point.get("y")
    if not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
        return [f"point {point} lacks numeric x and y"]
    if units == "percent" and not (0.0 <= x <= PERCENT_MAX and 0.0 <= y <= PERCENT_MAX):
        return [f"point ({x}, {y}) lies outside 0–100 percent of the image"]
    if units == "pixels" and (x < 0 or y < 0):
        return [f"point ({x}, {y}) has negative pixel coordinates"]
    return []
