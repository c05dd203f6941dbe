"""The released PixMo columns, one pyarrow schema per dataset (PIXMO_SPEC.md §1).

A release's parquet files carry exactly these columns. `pixmo-docs` and `pixmo-clocks` embed
the image as a Hugging Face `Image` column (a struct of bytes and path); every other dataset
references its image by URL and sha256. Rows are plain dicts keyed by column name.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import pyarrow as pa

# Bump when a column is added, removed or retyped; readers refuse a newer major version.
SCHEMA_VERSION = "1.0"

POINT = pa.struct([("x", pa.float64()), ("y", pa.float64())])
IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
QUESTION_ANSWER = pa.struct([("question", pa.string()), ("answer", pa.string())])


@dataclass(frozen=True)
class DatasetSchema:
    """One released dataset: its columns and the facts the writer and validator need."""

    name: str
    arrow: pa.Schema
    # Column holding embedded image bytes, or None when the image is referenced by URL.
    embedded_image_column: str | None = None
    # "percent" for 0–100 points, "pixels" for image pixels, None when there are no points.
    point_units: str | None = None
    # True for the synthetic datasets (Docs, Clocks) that generators write; False for those
    # exported from annotations collected on the platform.
    generated: bool = False
    # What one row teaches a model, the key by which training formats, mixes and scores a
    # dataset (so a new dataset of a known task needs no change there): caption | pointing
    # (0–100 points, or counting rows) | counting (pixel points) | user_qa (one question, one
    # answer) | dialogue_qa (`[USER] … [ASSISTANT] …` so far, then the answer) | point_qa
    # (an answer that points) | doc_qa (a document's list of QA pairs) | clock_reading.
    task: str | None = None

    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.arrow.names)

    def arrow_with_features(self) -> pa.Schema:
        """The schema plus the metadata that makes `datasets` decode `Image` columns."""
        features = {name: _feature(self.arrow.field(name).type) for name in self.arrow.names}
        if self.embedded_image_column:
            features[self.embedded_image_column] = {"_type": "Image"}
        metadata = {b"huggingface": json.dumps({"info": {"features": features}}).encode()}
        return self.arrow.with_metadata(metadata)


def _feature(arrow_type: pa.DataType) -> object:
    if pa.types.is_struct(arrow_type):
        return {field.name: _feature(field.type) for field in arrow_type}
    if pa.types.is_list(arrow_type):
        return {"feature": _feature(arrow_type.value_type), "_type": "List"}
    return {"dtype": str(arrow_type).replace("double", "float64").replace("large_", ""), "_type": "Value"}


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, arrow_type) for name, arrow_type in fields])


CAP = DatasetSchema(
    name="pixmo-cap",
    arrow=_schema(
        ("image_url", pa.string()), ("caption", pa.string()), ("transcripts", pa.list_(pa.string()))
    ),
    task="caption",
)
POINTS = DatasetSchema(
    name="pixmo-points",
    arrow=_schema(
        ("image_url", pa.string()),
        ("image_sha256", pa.string()),
        ("points", pa.list_(POINT)),
        ("count", pa.int64()),
        ("label", pa.string()),
        ("collection_method", pa.string()),
    ),
    point_units="percent",
    task="pointing",
)
POINTS_EVAL = DatasetSchema(
    name="pixmo-points-eval",
    arrow=_schema(
        ("image_url", pa.string()),
        ("image_sha256", pa.string()),
        ("label", pa.string()),
        ("points", pa.list_(POINT)),
        ("masks", pa.list_(pa.list_(pa.list_(pa.bool_())))),
    ),
    point_units="percent",
    task="pointing",
)
ASK_MODEL_ANYTHING = DatasetSchema(
    name="pixmo-ask-model-anything",
    arrow=_schema(
        ("image_url", pa.string()),
        ("image_sha256", pa.string()),
        ("question", pa.string()),
        ("answer", pa.string()),
    ),
    task="user_qa",
)
CAP_QA = DatasetSchema(
    name="pixmo-cap-qa",
    arrow=_schema(("image_url", pa.string()), ("question", pa.string()), ("answer", pa.string())),
    task="dialogue_qa",
)
POINT_EXPLANATIONS = DatasetSchema(
    name="pixmo-point-explanations",
    arrow=_schema(
        ("image_url", pa.string()),
        ("image_sha256", pa.string()),
        ("question", pa.string()),
        ("response", pa.string()),
        ("parsed_response", pa.string()),
        ("alt_text", pa.list_(pa.string())),
        ("inline_text", pa.list_(pa.string())),
        ("points", pa.list_(pa.list_(POINT))),
    ),
    point_units="percent",
    task="point_qa",
)
COUNT = DatasetSchema(
    name="pixmo-count",
    arrow=_schema(
        ("image_url", pa.string()),
        ("image_sha256", pa.string()),
        ("count", pa.int64()),
        ("points", pa.list_(POINT)),
        ("label", pa.string()),
    ),
    point_units="pixels",
    task="counting",
)
DOCS = DatasetSchema(
    name="pixmo-docs",
    arrow=_schema(("image", IMAGE), ("image_id", pa.string()), ("questions", pa.list_(QUESTION_ANSWER))),
    embedded_image_column="image",
    generated=True,
    task="doc_qa",
)
CLOCKS = DatasetSchema(
    name="pixmo-clocks",
    arrow=_schema(
        ("example_id", pa.string()),
        ("watchface_id", pa.int64()),
        ("watchface_name", pa.string()),
        ("watch_time", pa.string()),
        ("time_format", pa.string()),
        ("shows_seconds", pa.bool_()),
        ("hour_visible", pa.int64()),
        ("minute_visible", pa.int64()),
        ("second_visible", pa.int64()),
        ("text", pa.string()),
        ("image", IMAGE),
    ),
    embedded_image_column="image",
    generated=True,
    task="clock_reading",
)

DATASETS: dict[str, DatasetSchema] = {
    schema.name: schema
    for schema in (
        CAP,
        POINTS,
        POINTS_EVAL,
        ASK_MODEL_ANYTHING,
        CAP_QA,
        POINT_EXPLANATIONS,
        COUNT,
        DOCS,
        CLOCKS,
    )
}


# The datasets a release of collected annotations can hold, in registry order.
ANNOTATION_DATASETS: tuple[str, ...] = tuple(name for name, schema in DATASETS.items() if not schema.generated)


def dataset_schema(*, name: str) -> DatasetSchema:
    """The schema of a released dataset by its name, e.g. `pixmo-points`."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None
