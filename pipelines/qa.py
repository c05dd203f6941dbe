"""Ask-model-anything answers: the text LLM answers from OCR text + caption + question alone,
and revises from the annotator's feedback and the thread so far. The image reaches only OCR."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.errors import InputLimitError
from pipelines.llm_types import ChatMessage, ChatModel, GenerationParams
from pipelines.ocr import ocr_image
from pipelines.prompts import get_prompt
from pipelines.provenance import build_provenance

QA_PARAMS = GenerationParams(max_new_tokens=256, temperature=0.0, repetition_penalty=1.1)
MAX_QUESTION_CHARS = 2_000
MAX_FEEDBACK_CHARS = 2_000
MAX_CAPTION_CHARS = 8_000
MAX_OCR_CHARS = 4_000  # longer OCR text is cut here (recorded as ocr_truncated)
MAX_THREAD_TURNS = 10


@dataclass(frozen=True, kw_only=True)
class QaTurn:
    """One stored turn: the answer given and the feedback that asked for the next revision."""

    answer: str
    feedback: str | None = None


@dataclass(frozen=True, kw_only=True)
class QaAnswer:
    answer: str
    provenance: dict[str, Any] = field(default_factory=dict)


def answer_question(
    *, question: str, caption: str, ocr_text: str, chat_model: ChatModel, params: GenerationParams = QA_PARAMS
) -> QaAnswer:
    """The first answer to `question` from the caption and OCR text."""
    prompt = get_prompt("qa.answer")
    context, truncated = _context_message(question=question, caption=caption, ocr_text=ocr_text)
    messages = [ChatMessage(role="system", content=prompt.system), context]
    reply = chat_model.chat(messages, params=params)
    return QaAnswer(
        answer=reply.text.strip(),
        provenance=build_provenance(
            step="qa.answer",
            model=reply.model,
            params=params.to_dict(),
            timings_ms=reply.timings_ms,
            prompt=prompt.ref(),
            extra={"ocr_truncated": truncated},
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
    params: GenerationParams = QA_PARAMS,
) -> QaAnswer:
    """A new answer that follows `feedback` on the last answer of `thread` (oldest turn first)."""
    _check_thread(thread, feedback=feedback)
    prompt, context_prompt = get_prompt("qa.revise"), get_prompt("qa.answer")
    context, truncated = _context_message(question=question, caption=caption, ocr_text=ocr_text)
    messages = [ChatMessage(role="system", content=prompt.system), context]
    for turn, next_feedback in zip(thread, [t.feedback for t in thread[:-1]] + [feedback], strict=True):
        messages.append(ChatMessage(role="assistant", content=turn.answer))
        messages.append(ChatMessage(role="user", content=prompt.user.format(feedback=next_feedback, question=question)))
    reply = chat_model.chat(messages, params=params)
    return QaAnswer(
        answer=reply.text.strip(),
        provenance=build_provenance(
            step="qa.revise",
            model=reply.model,
            params=params.to_dict(),
            timings_ms=reply.timings_ms,
            prompt=prompt.ref(),
            extra={"context_prompt": context_prompt.ref(), "thread_turns": len(thread), "ocr_truncated": truncated},
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


def _context_message(*, question: str, caption: str, ocr_text: str) -> tuple[ChatMessage, bool]:
    _check_length("question", question, MAX_QUESTION_CHARS)
    _check_length("caption", caption, MAX_CAPTION_CHARS)
    if not question.strip():
        raise InputLimitError("The question is empty.")
    truncated = len(ocr_text) > MAX_OCR_CHARS
    content = get_prompt("qa.answer").user.format(
        caption=caption.strip() or "(no caption)",
        ocr_text=ocr_text[:MAX_OCR_CHARS].strip() or "(no text found)",
        question=question.strip(),
    )
    return ChatMessage(role="user", content=content), truncated


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
