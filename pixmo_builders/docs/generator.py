"""Generate pixmo-docs rows: one attempt = topic -> data -> code -> image -> questions.

The model's data and code are used when they parse and render; otherwise the attempt falls
back to deterministic data or template code for the same topic, and records that it did. An
attempt whose code cannot be rendered even from the template is logged and skipped.

With a journal, each finished attempt's outcome (its row and image, or its failure) is stored
as it is made; a resumed run replays journalled attempts without calling the model or a
renderer again, so only the attempts a crash cut off cost model time twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pixmo_builders.docs import prompts
from pixmo_builders.docs.chat import TextChat
from pixmo_builders.docs.data import DocData, fallback_doc_data, parse_doc_data
from pixmo_builders.docs.qa import (
    SUMMARY_QUESTION,
    QuestionAnswer,
    first_sentence,
    model_answer_is_grounded,
    parse_question_answer,
    summary_is_grounded,
    template_question,
)
from pixmo_builders.docs.renderers import Renderer, available_renderers, is_blank, shows_data
from pixmo_builders.docs.topics import TOPICS
from pixmo_builders.writer import ExportRow

logger = logging.getLogger(__name__)
DATA_TOKENS = 90
CODE_TOKENS = 256
QA_TOKENS = 80
MAX_CODE_CHARS_IN_PROMPT = 3000
QA_KINDS = ("short", "choice", "yes_no", "summary")


@dataclass
class DocsYield:
    """What the generator made of its attempts; `rendered / attempts` is the yield."""

    attempts: int = 0
    rendered: int = 0
    data_from_llm: int = 0
    code_from_llm: int = 0
    questions_from_llm: int = 0
    questions: int = 0
    failures: Counter = field(default_factory=Counter)
    by_renderer: Counter = field(default_factory=Counter)
    replayed: int = 0  # attempts a resumed run took from the journal instead of the model

    def summary(self) -> dict:
        share = lambda part, whole: round(part / whole, 3) if whole else 0.0
        return {
            "attempts": self.attempts,
            "rendered": self.rendered,
            "yield": share(self.rendered, self.attempts),
            "llm_data_rate": share(self.data_from_llm, self.attempts),
            "llm_code_rate": share(self.code_from_llm, self.attempts),
            "llm_question_rate": share(self.questions_from_llm, self.questions),
            "rendered_by_renderer": dict(self.by_renderer),
            "failures": dict(self.failures),
        }


class AttemptJournal(Protocol):
    """Where finished attempts are kept between runs (see `pixmo_builders.docs.journal`)."""

    def get(self, index: int) -> dict | None: ...

    def put(self, index: int, record: dict) -> None: ...


@dataclass(frozen=True)
class _Attempt:
    index: int
    topic: str
    labels: tuple[str, ...]
    renderer: Renderer
    rng: random.Random


def generate_docs(
    *,
    chat: TextChat,
    n: int,
    seed: int = 0,
    renderers: dict[str, Renderer] | None = None,
    stats: DocsYield | None = None,
    on_attempt: Callable[[DocsYield], None] | None = None,
    journal: AttemptJournal | None = None,
) -> Iterator[ExportRow]:
    """Up to `n` pixmo-docs rows (n attempts); `stats` is filled in as they are made."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    renderers = renderers or available_renderers()
    if not renderers:
        raise ValueError("no docs renderer is available here (need matplotlib, vl-convert, chromium or dot)")
    stats = stats if stats is not None else DocsYield()
    ordered = [renderers[name] for name in sorted(renderers)]
    for index in range(n):
        rng = random.Random(f"{seed}-{index}")
        topic, labels = TOPICS[rng.randrange(len(TOPICS))]
        attempt = _Attempt(
            index=index, topic=topic, labels=labels, renderer=ordered[index % len(ordered)], rng=rng
        )
        record = journal.get(index) if journal is not None else None
        if record is not None:
            stats.replayed += 1
        else:
            record = _attempt(chat=chat, attempt=attempt, seed=seed)
            if journal is not None:
                journal.put(index, record)
        row = _replay(record=record, stats=stats)
        if on_attempt:
            on_attempt(stats)
        if row is not None:
            yield row


def _attempt(*, chat: TextChat, attempt: _Attempt, seed: int) -> dict:
    """Make one attempt; its outcome as a JSON-able record (see `_replay`)."""
    data, data_from_llm = _data(chat=chat, attempt=attempt, seed=seed)
    rendered = _render(chat=chat, attempt=attempt, data=data)
    if rendered is None:
        return {"outcome": "render_failed", "renderer": attempt.renderer.name}
    png, code, code_from_llm = rendered
    questions = _questions(chat=chat, code=code, data=data, rng=attempt.rng)
    image_id = f"{attempt.renderer.config}-{seed}-{attempt.index:06d}"
    row = {
        "image_id": image_id,
        "questions": [{"question": qa.question, "answer": qa.answer} for qa in questions],
    }
    meta = {
        "config": attempt.renderer.config,
        "renderer": attempt.renderer.name,
        "topic": attempt.topic,
        "data_from_llm": data_from_llm,
        "code_from_llm": code_from_llm,
        "question_sources": [qa.source for qa in questions],
        "code": code,
    }
    return {
        "outcome": "rendered",
        "renderer": attempt.renderer.name,
        "png": base64.b64encode(png).decode(),
        "row": row,
        "meta": meta,
    }


def _replay(*, record: dict, stats: DocsYield) -> ExportRow | None:
    """Count an attempt's outcome in `stats` and return its row, if it rendered."""
    stats.attempts += 1
    if record["outcome"] != "rendered":
        stats.failures["render"] += 1
        return None
    meta = record["meta"]
    png = base64.b64decode(record["png"])
    stats.rendered += 1
    stats.by_renderer[record["renderer"]] += 1
    stats.data_from_llm += meta["data_from_llm"]
    stats.code_from_llm += meta["code_from_llm"]
    stats.questions += len(meta["question_sources"])
    stats.questions_from_llm += sum(source == "llm" for source in meta["question_sources"])
    row = {"image": {"bytes": png, "path": f"{record['row']['image_id']}.png"}, **record["row"]}
    return ExportRow(row=row, image_sha256=hashlib.sha256(png).hexdigest(), image=png, meta=meta)


def attempt_fingerprint(*, chat: TextChat, seed: int, renderers: dict[str, Renderer]) -> str:
    """What a journalled attempt depends on: a journal made under other settings is not replayed."""
    settings = {
        "seed": seed,
        "renderers": sorted(renderers),
        "prompts": [template.sha256 for template in prompts.ALL_PROMPTS],
        "model": json.dumps(chat.identity, sort_keys=True, default=str),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def _data(*, chat: TextChat, attempt: _Attempt, seed: int) -> tuple[DocData, bool]:
    messages = prompts.DATA.messages(topic=attempt.topic, labels=", ".join(attempt.labels))
    reply = chat.chat(messages, max_new_tokens=DATA_TOKENS)
    data = parse_doc_data(reply=reply, topic=attempt.topic, labels=attempt.labels)
    if data is not None:
        return data, True
    logger.info("docs attempt %d: data reply unusable, using fallback data", attempt.index)
    return fallback_doc_data(topic=attempt.topic, labels=attempt.labels, seed=seed), False


def _render(*, chat: TextChat, attempt: _Attempt, data: DocData) -> tuple[bytes, str, bool] | None:
    renderer = attempt.renderer
    prelude = renderer.prelude(data)
    messages = prompts.CODE.messages(
        language=renderer.language, example=renderer.example, data=data.as_json(), prelude=prelude
    )
    code = renderer.extract_code(reply=chat.chat(messages, max_new_tokens=CODE_TOKENS), prelude=prelude)
    if code is not None and not shows_data(code=code, data=data):
        logger.info(
            "docs attempt %d: %s code from the model does not show the data", attempt.index, renderer.name
        )
        code = None
    if code is not None:
        result = renderer.run(code)
        if result.ok and not is_blank(png=result.output):
            return result.output, code, True
        logger.info(
            "docs attempt %d: %s code from the model failed: %s", attempt.index, renderer.name, result.error
        )
    template = renderer.template(data)
    result = renderer.run(template)
    if result.ok and not is_blank(png=result.output):
        return result.output, template, False
    logger.warning(
        "docs attempt %d: %s template failed, skipped: %s", attempt.index, renderer.name, result.error
    )
    return None


def _questions(*, chat: TextChat, code: str, data: DocData, rng: random.Random) -> list[QuestionAnswer]:
    shown = code[:MAX_CODE_CHARS_IN_PROMPT]
    questions = []
    for kind in QA_KINDS:
        if kind == "summary":
            questions.append(_summary(chat=chat, code=shown, data=data, rng=rng))
            continue
        messages = prompts.QUESTION.messages(
            code=shown, instruction=prompts.QA_INSTRUCTIONS[kind], example=prompts.QA_EXAMPLES[kind]
        )
        # The prompt ends with "Question:", so the reply starts with the question itself.
        reply = chat.chat(messages, max_new_tokens=QA_TOKENS)
        parsed = parse_question_answer(reply=reply if "Question:" in reply else f"Question: {reply}")
        if parsed and model_answer_is_grounded(
            kind=kind, question=parsed[0], answer=parsed[1], code=code, data=data
        ):
            questions.append(QuestionAnswer(kind=kind, question=parsed[0], answer=parsed[1], source="llm"))
        else:
            questions.append(template_question(kind=kind, data=data, rng=rng))
    questions.append(template_question(kind="unanswerable", data=data, rng=rng))
    return questions


def _summary(*, chat: TextChat, code: str, data: DocData, rng: random.Random) -> QuestionAnswer:
    reply = chat.chat(prompts.SUMMARY.messages(code=code), max_new_tokens=QA_TOKENS)
    summary = first_sentence(reply)
    if summary_is_grounded(summary=summary, data=data):
        return QuestionAnswer(kind="summary", question=SUMMARY_QUESTION, answer=summary, source="llm")
    return template_question(kind="summary", data=data, rng=rng)
