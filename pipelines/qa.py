"""Ask-model-anything answers: the text LLM answers from OCR text + caption + question alone,
and revises from the annotator's feedback and the thread so far. The image reaches only OCR.

Point-explanations: the annotator's points reach the LLM as text ("Point 1 (x 23.1, y 40.2): the
red sign", 0–100 percent), and it is asked to refer to them with `<point …>words</point>` tags. A
small model invents coordinates, so every tag whose coordinates are not the annotator's points is
dropped (its words kept) before the answer is stored; provenance lists what was dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.errors import InputLimitError
from pipelines.llm_types import ChatMessage, ChatModel, GenerationParams
from pipelines.ocr import ocr_image
from pipelines.prompts import get_prompt
from pipelines.provenance import reply_provenance
from pixmo_formats.coords import matches_text, percent_text
from pixmo_formats.points import find_point_tags, stray_tags, strip_stray_tags

QA_PARAMS = GenerationParams(max_new_tokens=256, temperature=0.0, repetition_penalty=1.1)
MAX_QUESTION_CHARS = 2_000
MAX_FEEDBACK_CHARS = 2_000
MAX_CAPTION_CHARS = 8_000
MAX_OCR_CHARS = 4_000  # longer OCR text is cut here (recorded as ocr_truncated)
MAX_THREAD_TURNS = 10
MAX_POINTS = 20  # points per question; more would not fit a short answer's tags anyway
MAX_POINT_LABEL_CHARS = 100


@dataclass(frozen=True, kw_only=True)
class QaTurn:
    """One stored turn: the answer given and the feedback that asked for the next revision."""

    answer: str
    feedback: str | None = None


@dataclass(frozen=True, kw_only=True)
class QaPoint:
    """A place the annotator pointed at: x and y in 0–100 percent of width and height."""

    x: float
    y: float
    label: str = ""


@dataclass(frozen=True, kw_only=True)
class QaAnswer:
    answer: str
    provenance: dict[str, Any] = field(default_factory=dict)


def answer_question(
    *,
    question: str,
    caption: str,
    ocr_text: str,
    chat_model: ChatModel,
    points: Sequence[QaPoint] = (),
    params: GenerationParams = QA_PARAMS,
) -> QaAnswer:
    """The first answer to `question` from the caption, OCR text and the annotator's points."""
    prompt = get_prompt("qa.point_answer" if points else "qa.answer")
    context, truncated = _context_message(question=question, caption=caption, ocr_text=ocr_text, points=points)
    messages = [ChatMessage(role="system", content=prompt.system), context]
    reply = chat_model.chat(messages, params=params)
    answer, dropped = _guarded(reply.text, points)
    return QaAnswer(
        answer=answer,
        provenance=reply_provenance(
            step="qa.answer",
            reply=reply,
            params=params,
            prompt=prompt,
            extra={"ocr_truncated": truncated, **_points_record(points, dropped)},
        ),
    )


def revise_answer(
    *,
    question: str,
    caption: str,
    ocr_text: str,
    thread: Sequence[QaTurn],
    feedback: str,
    chat_model: ChatModel,
    points: Sequence[QaPoint] = (),
    params: GenerationParams = QA_PARAMS,
) -> QaAnswer:
    """A new answer that follows `feedback` on the last answer of `thread` (oldest turn first)."""
    _check_thread(thread, feedback=feedback)
    prompt = get_prompt("qa.point_revise" if points else "qa.revise")
    context_prompt = get_prompt("qa.point_answer" if points else "qa.answer")
    context, truncated = _context_message(question=question, caption=caption, ocr_text=ocr_text, points=points)
    messages = [ChatMessage(role="system", content=prompt.system), context]
    for turn, next_feedback in zip(thread, [t.feedback for t in thread[:-1]] + [feedback], strict=True):
        messages.append(ChatMessage(role="assistant", content=turn.answer))
        messages.append(ChatMessage(role="user", content=prompt.user.format(feedback=next_feedback, question=question)))
    reply = chat_model.chat(messages, params=params)
    answer, dropped = _guarded(reply.text, points)
    return QaAnswer(
        answer=answer,
        provenance=reply_provenance(
            step="qa.revise",
            reply=reply,
            params=params,
            prompt=prompt,
            extra={
                "context_prompt": context_prompt.ref(), "thread_turns": len(thread), "ocr_truncated": truncated,
                **_points_record(points, dropped),
            },
        ),
    )


def answer_from_image(
    *, image: bytes, question: str, caption: str, chat_model: ChatModel, params: GenerationParams = QA_PARAMS
) -> tuple[QaAnswer, str]:
    """OCR the image, then answer; returns (answer, OCR text). Only the OCR text reaches the LLM."""
    ocr = ocr_image(image)
    answer = answer_question(
        question=question, caption=caption, ocr_text=ocr.text, chat_model=chat_model, params=params
    )
    answer.provenance["ocr"] = {"engine": ocr.engine, "timings_ms": ocr.timings_ms}
    return answer, ocr.text


def points_text(points: Sequence[QaPoint]) -> str:
    """One line per point, numbered from 1: `Point 1 (x 23.1, y 40.2): the red sign`."""
    lines = []
    for number, point in enumerate(points, start=1):
        label = point.label.strip()
        place = f"Point {number} (x {percent_text(point.x)}, y {percent_text(point.y)})"
        lines.append(place + (f": {label}" if label else ""))
    return "\n".join(lines)


def keep_known_point_tags(*, text: str, points: Sequence[QaPoint]) -> tuple[str, list[str]]:
    """(text, dropped tags): a `<point>`/`<points>` tag stays only if every coordinate pair in it is
    one of `points` (within half of the tag's last digit: `coords.matches_text`); any other tag is
    replaced by its words, and unclosed tag fragments are removed. Never store a model's
    coordinates without this."""
    dropped: list[str] = []
    pieces: list[str] = []
    last = 0
    for tag in find_point_tags(text):
        pieces.append(_without_fragments(text[last:tag.start], dropped))
        known = tag.points and not tag.malformed and all(_is_known(pair, points) for pair in tag.points)
        if known and not stray_tags(tag.text):
            pieces.append(tag.source)
        else:
            dropped.append(tag.source)
            pieces.append(strip_stray_tags(tag.text))
        last = tag.end
    pieces.append(_without_fragments(text[last:], dropped))
    return "".join(pieces), dropped


def _without_fragments(text: str, dropped: list[str]) -> str:
    dropped.extend(stray_tags(text))
    return strip_stray_tags(text)


def _is_known(pair: tuple[float, float], points: Sequence[QaPoint]) -> bool:
    x, y = pair
    return any(matches_text(x, p.x) and matches_text(y, p.y) for p in points)


def _guarded(reply_text: str, points: Sequence[QaPoint]) -> tuple[str, list[str]]:
    text, dropped = keep_known_point_tags(text=reply_text, points=points)
    return re.sub(r"[ \t]{2,}", " ", text).strip() if dropped else text.strip(), dropped


def _points_record(points: Sequence[QaPoint], dropped: list[str]) -> dict[str, Any]:
    return {"points": len(points), "point_tags_dropped": dropped} if points else {}


def _context_message(
    *, question: str, caption: str, ocr_text: str, points: Sequence[QaPoint] = ()
) -> tuple[ChatMessage, bool]:
    _check_length("question", question, MAX_QUESTION_CHARS)
    _check_length("caption", caption, MAX_CAPTION_CHARS)
    if not question.strip():
        raise InputLimitError("The question is empty.")
    _check_points(points)
    truncated = len(ocr_text) > MAX_OCR_CHARS
    values = {
        "caption": caption.strip() or "(no caption)",
        "ocr_text": ocr_text[:MAX_OCR_CHARS].strip() or "(no text found)",
        "question": question.strip(),
    }
    if points:
        content = get_prompt("qa.point_answer").user.format(**values, points=points_text(points))
    else:
        content = get_prompt("qa.answer").user.format(**values)
    return ChatMessage(role="user", content=content), truncated


def _check_points(points: Sequence[QaPoint]) -> None:
    if len(points) > MAX_POINTS:
        raise InputLimitError(f"The question has {len(points)} points, over the limit of {MAX_POINTS}.")
    for number, point in enumerate(points, start=1):
        if not (0 <= point.x <= 100 and 0 <= point.y <= 100):
            raise InputLimitError(f"Point {number} is outside the image: x and y are percent, 0 to 100.")
        _check_length(f"label of point {number}", point.label, MAX_POINT_LABEL_CHARS)


def _check_thread(thread: Sequence[QaTurn], *, feedback: str) -> None:
    if not thread:
        raise InputLimitError("A revision needs at least one earlier answer in the thread.")
    if len(thread) > MAX_THREAD_TURNS:
        raise InputLimitError(f"The thread has {len(thread)} turns, over the limit of {MAX_THREAD_TURNS}.")
    _check_length("feedback", feedback, MAX_FEEDBACK_CHARS)
    if not feedback.strip():
        raise InputLimitError("The feedback is empty.")


def _check_length(name: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise InputLimitError(f"The {name} has {len(text)} characters, over the limit of {limit}.")
