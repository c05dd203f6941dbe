"""pixmo-cap, pixmo-ask-model-anything and pixmo-cap-qa rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pixmo_builders.builders.sources import DialogueSource, ImageCaptionSource, QuestionAnswerSource
from pixmo_builders.writer import ExportRow
from pixmo_formats.capqa import dialogue_text


def build_cap_rows(sources: Iterable[ImageCaptionSource]) -> Iterator[ExportRow]:
    for source in sources:
        if not source.caption.strip():
            raise ValueError(f"empty caption for {source.image_url}")
        row = {
            "image_url": source.image_url,
            "caption": source.caption,
            "transcripts": list(source.transcripts),
        }
        yield ExportRow(row=row, image_sha256=source.image_sha256, image=source.image)


def build_ask_model_anything_rows(sources: Iterable[QuestionAnswerSource]) -> Iterator[ExportRow]:
    for source in sources:
        row = {
            "image_url": source.image_url,
            "image_sha256": source.image_sha256,
            "question": source.question,
            "answer": source.answer,
        }
        yield ExportRow(row=row, image_sha256=source.image_sha256, image=source.image)


def build_cap_qa_rows(sources: Iterable[DialogueSource]) -> Iterator[ExportRow]:
    for source in sources:
        if not source.turns:
            raise ValueError(f"a CapQA dialogue needs at least one turn ({source.image_url})")
        row = {
            "image_url": source.image_url,
            "question": dialogue_text(source.turns),
            "answer": source.turns[-1][1],
        }
        yield ExportRow(row=row, image_sha256=source.image_sha256, image=source.image)
