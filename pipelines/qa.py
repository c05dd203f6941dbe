"""Ask-model-anything answers: the text LLM answers from OCR text + caption + question alone,
and revises from the annotator's feedback and the thread so far. The image reaches only OCR.

Every answer is judged by `answer_guards.check_answer` (loops, cut-off, length, invented words,
and for a revision: changed, in the direction of the feedback). A failing answer is asked for
again with the next decoding of `ANSWER_ATTEMPTS` (at most 2 retries); when every attempt fails,
the attempt with the fewest failed checks is returned with `needs_review` and its verdict, so
the annotator sees it flagged with the reasons. Every attempt and its verdict go into provenance.

Point-explanations: the annotator's points reach the LLM as text ("Point 1 (x 23.1, y 40.2): the
red sign", 0–100 percent), and it is asked to refer to them with `<point …>words</point>` tags. A
small model invents coordinates, so every tag whose coordinates are not the annotator's points is
dropped (its words kept) before the answer is stored; provenance lists what was dropped."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.answer_guards import DEFAULT_ANSWER_POLICY, AnswerPolicy, AnswerVerdict, check_answer
from pipelines.errors import InputLimitError
from pipelines.llm_types import ChatMessage, ChatModel, ChatReply, GenerationParams
from pipelines.ocr import ocr_image
from pipelines.prompts import PromptTemplate, get_prompt
from pipelines.provenance import build_provenance
from pixmo_formats.coords import matches_text, percent_text
from pixmo_formats.points import find_point_tags, stray_tags, strip_stray_tags

ANSWER_MAX_NEW_TOKENS = 200  # the cap of one answer, about 150 words; a reply that reaches it is flagged
# The decoding of each attempt; the next one runs only when the guards fail the answer before.
# Repetition control counts the reply's tokens only (see llm_local), so the answer may quote its
# caption and OCR text. 1: greedy (deterministic), penalty 1.2, never the same 3 tokens twice;
# 2 and 3: sampled with fixed seeds (reproducible), to leave the path the greedy answer took:
# a cool temperature with a milder penalty, then a warmer one.
ANSWER_ATTEMPTS = (
    GenerationParams(max_new_tokens=ANSWER_MAX_NEW_TOKENS, temperature=0.0, repetition_penalty=1.2,
                     no_repeat_ngram_size=3),
    GenerationParams(max_new_tokens=ANSWER_MAX_NEW_TOKENS, temperature=0.3, top_p=0.8, seed=1,
                     repetition_penalty=1.1, no_repeat_ngram_size=4),
    GenerationParams(max_new_tokens=ANSWER_MAX_NEW_TOKENS, temperature=0.7, top_p=0.9, seed=2,
                     repetition_penalty=1.2, no_repeat_ngram_size=3),
)
# A revision's first attempt is the answer's. A weak model then mostly copies the answer it
# revises (guard: revision_unchanged), whatever the temperature, so the retries may not repeat
# 5 (greedy), then 4 (sampled, cool) tokens in a row of an earlier answer.
REVISION_ATTEMPTS = (
    ANSWER_ATTEMPTS[0],
    GenerationParams(max_new_tokens=ANSWER_MAX_NEW_TOKENS, temperature=0.0, repetition_penalty=1.2,
                     no_repeat_ngram_size=3, earlier_reply_ngram_size=5),
    GenerationParams(max_new_tokens=ANSWER_MAX_NEW_TOKENS, temperature=0.3, top_p=0.8, seed=1,
                     repetition_penalty=1.1, no_repeat_ngram_size=4, earlier_reply_ngram_size=4),
)
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
    flagged: bool = False  # the guards failed this answer: its words vouch for no later answer


@dataclass(frozen=True, kw_only=True)
class QaPoint:
    """A place the annotator pointed at: x and y in 0–100 percent of width and height."""

    x: float
    y: float
    label: str = ""


@dataclass(frozen=True, kw_only=True)
class QaAnswer:
    answer: str
    verdict: AnswerVerdict
    attempts: int  # how many answers were generated (1 + retries)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_review(self) -> bool:
        """Every attempt failed the guards: show the answer flagged, with `verdict.reasons`."""
        return not self.verdict.passed

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "needs_review": self.needs_review, "verdict": self.verdict.to_dict(),
                "attempts": self.attempts, "provenance": self.provenance}


@dataclass(frozen=True, kw_only=True)
class _Attempt:
    text: str
    reply: ChatReply
    params: GenerationParams
    verdict: AnswerVerdict
    dropped: list[str]
    guards_ms: float

    def record(self, number: int) -> dict[str, Any]:
        verdict = self.verdict.to_dict()
        return {
            "attempt": number, "text": self.text, "params": self.params.to_dict(),
            "finish_reason": self.reply.finish_reason, "usage": self.reply.usage,
            "timings_ms": {**self.reply.timings_ms, "guards": self.guards_ms},
            "verdict": {key: verdict[key] for key in ("passed", "failed", "reasons", "novel_words")},
        }


def answer_question(
    *,
    question: str,
    caption: str,
    ocr_text: str,
    chat_model: ChatModel,
    points: Sequence[QaPoint] = (),
    attempts: Sequence[GenerationParams] = ANSWER_ATTEMPTS,
    policy: AnswerPolicy = DEFAULT_ANSWER_POLICY,
) -> QaAnswer:
    """The first answer to `question` from the caption, OCR text and the annotator's points."""
    prompt = get_prompt("qa.point_answer" if points else "qa.answer")
    context, truncated = _context_message(question=question, caption=caption, ocr_text=ocr_text, points=points)
    messages = [ChatMessage(role="system", content=prompt.system), context]
    sources = [caption, ocr_text, points_text(points)]

    def judge(text: str, reply: ChatReply) -> AnswerVerdict:
        return check_answer(answer=text, question=question, context=sources, finish_reason=reply.finish_reason,
                            policy=policy)

    tried = _attempt_until_passed(messages, chat_model=chat_model, attempts=attempts, points=points, judge=judge)
    return _qa_answer(tried, step="qa.answer", prompt=prompt, points=points,
                      extra={"ocr_truncated": truncated, "guard_policy": policy.__dict__})


def revise_answer(
    *,
    question: str,
    caption: str,
    ocr_text: str,
    thread: Sequence[QaTurn],
    feedback: str,
    chat_model: ChatModel,
    points: Sequence[QaPoint] = (),
    attempts: Sequence[GenerationParams] = REVISION_ATTEMPTS,
    policy: AnswerPolicy = DEFAULT_ANSWER_POLICY,
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
    sources = [caption, ocr_text, points_text(points), *(turn.answer for turn in thread if not turn.flagged)]
    earlier = [turn.answer for turn in thread]
    feedbacks = [turn.feedback for turn in thread if turn.feedback] + [feedback]

    def judge(text: str, reply: ChatReply) -> AnswerVerdict:
        return check_answer(answer=text, question=question, context=sources, earlier_answers=earlier,
                            feedback=feedbacks, finish_reason=reply.finish_reason, policy=policy)

    tried = _attempt_until_passed(messages, chat_model=chat_model, attempts=attempts, points=points, judge=judge)
    return _qa_answer(tried, step="qa.revise", prompt=prompt, points=points, extra={
        "context_prompt": context_prompt.ref(), "thread_turns": len(thread), "ocr_truncated": truncated,
        "guard_policy": policy.__dict__,
    })


def answer_from_image(
    *,
    image: bytes,
    question: str,
    caption: str,
    chat_model: ChatModel,
    attempts: Sequence[GenerationParams] = ANSWER_ATTEMPTS,
) -> tuple[QaAnswer, str]:
    """OCR the image, then answer; returns (answer, OCR text). Only the OCR text reaches the LLM."""
    ocr = ocr_image(image)
    answer = answer_question(
        question=question, caption=caption, ocr_text=ocr.text, chat_model=chat_model, attempts=attempts
    )
    answer.provenance["ocr"] = {"engine": ocr.engine, "timings_ms": ocr.timings_ms}
    return answer, ocr.text


def _attempt_until_passed(
    messages: list[ChatMessage],
    *,
    chat_model: ChatModel,
    attempts: Sequence[GenerationParams],
    points: Sequence[QaPoint],
    judge: Callable[[str, ChatReply], AnswerVerdict],
) -> list[_Attempt]:
    """Generate with each decoding of `attempts` in turn until the guards pass one; every attempt
    made, in order. An LlmError is not retried here (the HTTP backend retries its own requests)."""
    if not attempts:
        raise ValueError("At least one decoding attempt is needed.")
    tried: list[_Attempt] = []
    for params in attempts:
        reply = chat_model.chat(messages, params=params)
        text, dropped = _guarded(reply.text, points)
        started = time.perf_counter()
        verdict = judge(text, reply)
        guards_ms = round((time.perf_counter() - started) * 1000.0, 1)
        tried.append(_Attempt(text=text, reply=reply, params=params, verdict=verdict, dropped=dropped,
                              guards_ms=guards_ms))
        if verdict.passed:
            break
    return tried


def _qa_answer(
    tried: list[_Attempt], *, step: str, prompt: PromptTemplate, points: Sequence[QaPoint], extra: dict[str, Any]
) -> QaAnswer:
    """The passing attempt, else the one with the fewest failed checks (the earlier on a tie)."""
    chosen = tried[-1] if tried[-1].verdict.passed else min(tried, key=lambda attempt: len(attempt.verdict.failed))
    number = tried.index(chosen) + 1
    timings = {
        "generate": round(sum(sum(a.reply.timings_ms.values()) for a in tried), 1),
        "guards": round(sum(a.guards_ms for a in tried), 1),
    }
    provenance = build_provenance(
        step=step, model=chosen.reply.model, params=chosen.params.to_dict(), timings_ms=timings, prompt=prompt.ref(),
        extra={
            **extra, "verdict": chosen.verdict.to_dict(), "needs_review": not chosen.verdict.passed,
            "chosen_attempt": number, "attempts": [attempt.record(n) for n, attempt in enumerate(tried, start=1)],
            "usage": chosen.reply.usage, **_points_record(points, chosen.dropped),
        },
    )
    return QaAnswer(answer=chosen.text, verdict=chosen.verdict, attempts=len(tried), provenance=provenance)


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
