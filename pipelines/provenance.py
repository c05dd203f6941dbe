"""Provenance records: which model, which prompt, which parameters and how long.

Every model output in the pipelines carries one of these plain dicts; the Celery tasks add
the input row ids and store it beside the output.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_HASH_CHUNK_BYTES = 1 << 20


@functools.cache
def file_sha256(path: Path) -> str:
    """sha256 of a model file, cached per process (files of a loaded model do not change)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def folder_sha256(folder: Path, *, names: tuple[str, ...]) -> str:
    """One sha256 over the named files of a model folder, in the given order."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(name.encode())
        digest.update(file_sha256(folder / name).encode())
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_provenance(
    *,
    step: str,
    model: Mapping[str, Any],
    params: Mapping[str, Any],
    timings_ms: Mapping[str, float],
    prompt: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A JSON-serialisable provenance record for one model output."""
    record: dict[str, Any] = {
        "step": step,
        "model": dict(model),
        "params": dict(params),
        "timings_ms": dict(timings_ms),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if prompt is not None:
        record["prompt"] = dict(prompt)
    if extra:
        record.update(extra)
    return record


def reply_provenance(
    *, step: str, reply: Any, params: Any, prompt: Any, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`build_provenance` for one chat reply: its model and timings, the generation params and the
    prompt that produced it."""
    return build_provenance(
        step=step,
        model=reply.model,
        params=params.to_dict(),
        timings_ms=reply.timings_ms,
        prompt=prompt.ref(),
        extra=extra,
    )
