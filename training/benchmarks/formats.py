"""Benchmark data as people already have it, read from local files only (nothing is downloaded):

- VLMEvalKit's TSV (one file per benchmark, e.g. `ChartQA_TEST.tsv` under `$LMUData`): a header
  row, then one row per question with `index`, `image` (base64; a short value names the `index`
  of the row holding the same image), `question`, `answer`, the options as columns `A`, `B`, …,
  `hint` and others. An `image_path` column may name image files instead.
- Hugging Face `datasets` parquet: one `.parquet` file, or a folder of them (e.g. a snapshot's
  `data/test-00000-of-00002.parquet`), read with pyarrow; an image column holds an
  `{bytes, path}` struct, raw bytes, or a path relative to the file.

Rows come back as plain dicts of the file's columns; images stay encoded until `open_image`."""

from __future__ import annotations

import ast
import base64
import binascii
import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

DATA_HINT = (
    "pass the benchmark's VLMEvalKit TSV (e.g. ChartQA_TEST.tsv from $LMUData) or its Hugging Face "
    "parquet file or folder (e.g. a snapshot's data/ folder)"
)
IMAGE_HINT = (
    "a VLMEvalKit TSV holds each image base64 in its image column, a parquet file as bytes or an "
    "{bytes, path} struct"
)
# parquet shards as `datasets` names them: test-00000-of-00002.parquet
_SHARD = re.compile(r"(?P<split>.+?)-\d{5}-of-\d{5}")
_SPLIT_NAMES = {"train", "validation", "val", "test", "testmini", "dev"}


class BenchmarkDataError(ValueError):
    """A data file that is missing, unreadable or lacks what a benchmark needs; one sentence."""


@dataclass
class Table:
    source: Path  # the file or folder given
    format: str  # "tsv" or "parquet"
    columns: list[str]
    rows: list[dict]
    folder: Path  # where relative image paths start

    def describe(self) -> str:
        return f"{self.source} ({self.format}, {len(self.rows)} rows)"


def read_table(path: str | Path, split: str | None = None) -> Table:
    """The rows of a TSV file, a parquet file, or a folder of parquet files (one split of it:
    `split` chooses when the folder holds several)."""
    path = Path(path)
    if not path.exists():
        raise BenchmarkDataError(f"{path} does not exist; {DATA_HINT}")
    if path.is_dir():
        return _read_parquet_files(path, _split_files(path, split))
    if path.suffix.lower() == ".tsv":
        return _read_tsv(path)
    if path.suffix.lower() == ".parquet":
        return _read_parquet_files(path, [path])
    raise BenchmarkDataError(f"{path} is neither a .tsv nor a .parquet file; {DATA_HINT}")


def _read_tsv(path: Path) -> Table:
    csv.field_size_limit(sys.maxsize)  # base64 images are megabytes long
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter="\t")
            header = next(reader, None)
            if not header or len(header) < 2:
                raise BenchmarkDataError(f"{path} is not a tab-separated file with a header row; {DATA_HINT}")
            rows = [dict(zip(header, values)) for values in reader if any(values)]
    except UnicodeDecodeError:
        raise BenchmarkDataError(f"{path} is not a UTF-8 text file; {DATA_HINT}") from None
    except csv.Error as error:
        raise BenchmarkDataError(f"{path} is not a readable TSV file ({error})") from None
    _resolve_shared_images(rows)
    return Table(path, "tsv", header, rows, path.parent)


def _resolve_shared_images(rows: list[dict]) -> None:
    """VLMEvalKit stores an image once; a row that shows the same image holds the index of that row."""
    by_index = {row.get("index"): row.get("image") for row in rows}
    for row in rows:
        image = row.get("image")
        if image and len(image) <= 64 and len(by_index.get(image) or "") > 64:
            row["image"] = by_index[image]


def _split_files(folder: Path, split: str | None) -> list[Path]:
    files = sorted(p for p in folder.rglob("*.parquet") if p.is_file())
    if not files:
        raise BenchmarkDataError(f"{folder} holds no .parquet files; {DATA_HINT}")
    by_split: dict[str, list[Path]] = {}
    for file in files:
        by_split.setdefault(_split_of(file), []).append(file)
    if len(by_split) == 1:
        return files
    if split in by_split:
        return by_split[split]
    names = ", ".join(sorted(by_split))
    chosen = f"; it has no split {split!r}" if split else ""
    raise BenchmarkDataError(f"{folder} holds the splits {names}{chosen}; choose one with --split")


def _split_of(file: Path) -> str:
    if match := _SHARD.fullmatch(file.stem):
        return match.group("split")
    return file.stem if file.stem in _SPLIT_NAMES else ""


def _read_parquet_files(source: Path, files: list[Path]) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, columns = [], []
    for file in files:
        try:
            table = pq.read_table(file)
        except (pa.ArrowException, OSError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise BenchmarkDataError(f"{file} is not a readable parquet file ({reason})") from None
        columns = columns or table.column_names
        rows.extend(table.to_pylist())
    folder = source if source.is_dir() else source.parent
    return Table(source, "parquet", columns, rows, folder)


def parse_list(value) -> list:
    """A cell that holds several values: a list already (parquet), or text written as a JSON list
    or a Python list literal (VLMEvalKit writes "['a', 'b']"); any other value is a list of one."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if hasattr(value, "tolist"):
        return list(value.tolist())
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        for parse in (json.loads, ast.literal_eval):
            try:
                parsed = parse(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                continue
            if isinstance(parsed, (list, tuple)):
                return list(parsed)
    return [value]


def has_value(value) -> bool:
    """A cell with something in it (TSV cells are "" when empty, parquet ones None)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def image_bytes(value, folder: Path) -> bytes | None:
    """The encoded image a cell holds, or None: bytes, an {bytes, path} struct, base64 text, a list
    of those (the first: MMMU questions with several images), or a path relative to `folder`."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, dict):
        return image_bytes(value.get("bytes"), folder) or image_bytes(value.get("path"), folder)
    if isinstance(value, (list, tuple)):
        return image_bytes(value[0], folder) if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.startswith("["):
        return image_bytes(parse_list(text), folder)
    if file := _file(text, folder):
        return file.read_bytes()
    if len(text) <= 64:  # VLMEvalKit's bound: shorter is a row index, longer an image
        return None
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return None


def has_image(value, folder: Path) -> bool:
    """Whether a cell holds an image, without decoding base64 (done when the image is shown)."""
    if isinstance(value, str) and len(value.strip()) > 64 and not value.strip().startswith("["):
        return True
    return image_bytes(value, folder) is not None


def _file(text: str, folder: Path) -> Path | None:
    if len(text) > 1024:
        return None
    try:
        file = Path(text) if Path(text).is_absolute() else folder / text
        return file if file.is_file() else None
    except (OSError, ValueError):
        return None


def open_image(data: bytes):
    """A PIL image from encoded bytes, upright by its EXIF orientation (as training reads); each
    model family converts it to RGB its own way."""
    from PIL import Image

    from training.preprocessor import load_image

    return load_image(Image.open(io.BytesIO(data)), rgb=False)
