"""CapQA: from an accepted caption (never the image), the text LLM writes a question-answer
dialogue, validated turn by turn and returned in PixMo-CapQA form.

Validation of each parsed pair (the bundled model is weak, so nothing is trusted):
- the question has 3..300 characters and ends with "?"; the answer has 1..600 characters;
- no repeated question (compared on normalised words); the answer is not the question;
- grounding: question and answer together have at most 2 distinct content words found nowhere
  in the caption (question words such as "kind" or "color" do not count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.capqa_parse import parse_qa_pairs
from pipelines.errors import InputLimitError
from pipelines.guards import novel_content_words
from pipelines.llm_types import ChatModel, GenerationParams
from pipelines.metrics import normalise_words
from pipelines.prompts import PromptTemplate, get_prompt
from pipelines.provenance import reply_provenance
from pixmo_formats.capqa import dialogue_text

CAPQA_PARAMS = GenerationParams(max_new_tokens=300, temperature=0.0, repetition_penalty=1.1)
MAX_CAPTION_CHARS = 8_000
MAX_TURNS = 10
MAX_NOVEL_WORDS = 2
_QUESTION_WORDS = (
    "kind type sort color colour colors many much number describe described mention mentioned tell say says"
)


@dataclass(frozen=True, kw_only=True)
class CapQaDialogue:
    turns: tuple[tuple[str, str], ...]  # accepted (question, answer) pairs, in order
    rejected: tuple[dict[str, str], ...]  # {"question", "answer", "reason"}
    raw_text: str  # the model's full output, kept for review
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, str] | None:
        """The dialogue as one PixMo-CapQA row, or None when no turn survived validation."""
        return capqa_row(self.turns) if self.turns else None


def capqa_row(turns: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> dict[str, str]:
    """PixMo-CapQA form: `question` holds the dialogue up to the last user turn as
    "[USER] q1 [ASSISTANT] a1 [USER] q2", `answer` the last assistant turn."""
    return {"question": dialogue_text(turns), "answer": turns[-1][1]}


def capqa_prompt() -> PromptTemplate:
    """The one place the CapQA prompt is chosen (its hash is part of the stored dialogue's key)."""
    return get_prompt("capqa.dialogue")


def generate_capqa(
    *, caption: str, chat_model: ChatModel, turns: int = 4, params: GenerationParams = CAPQA_PARAMS
) -> CapQaDialogue:
    if not caption.strip():
        raise InputLimitError("The caption is empty.")
    if len(caption) > MAX_CAPTION_CHARS:
        raise InputLimitError(f"The caption has {len(caption)} characters, over the limit of {MAX_CAPTION_CHARS}.")
    if not 1 <= turns <= MAX_TURNS:
        raise InputLimitError(f"CapQA turns must be 1 to {MAX_TURNS}, not {turns}.")
    prompt = capqa_prompt()
    reply = chat_model.chat(prompt.render(caption=caption.strip(), turns=str(turns)), params=params)
    accepted, rejected = validate_pairs(parse_qa_pairs(reply.text), caption=caption, limit=turns)
    return CapQaDialogue(
        turns=tuple(accepted),
        rejected=tuple(rejected),
        raw_text=reply.text,
        provenance=reply_provenance(
            step="capqa",
            reply=reply,
            params=params,
            prompt=prompt,
            extra={"requested_turns": turns, "accepted_turns": len(accepted)},
        ),
    )


def validate_pairs(
    pairs: list[tuple[str, str]], *, caption: str, limit: int
) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    accepted: list[tuple[str, str]] = []
    rejected: list[dict[str, str]] = []
    seen: set[tuple[str, ...]] = set()
    for question, answer in pairs:
        reason = _rejection(question, answer, caption=caption, seen=seen)
        if reason is None and len(accepted) >= limit:
            reason = f"beyond the {limit} requested turns"
        if reason:
            rejected.append({"question": question, "answer": answer, "reason": reason})
            continue
        seen.add(tuple(normalise_words(question)))
        accepted.append((question, answer))
    return accepted, rejected


def _rejection(question: str, answer: str, *, caption: str, seen: set[tuple[str, ...]]) -> str | None:
    if not 3 <= len(question) <= 300 or not question.endswith("?"):
        return "question must have 3..300 characters and end with '?'"
    if not 1 <= len(answer) <= 600:
        return "answer must have 1..600 characters"
    if tuple(normalise_words(question)) in seen:
        return "repeated question"
    if normalise_words(answer) == normalise_words(question):
        return "answer repeats the question"
    novel = novel_content_words(caption=f"{question} {answer}", transcripts=[caption, _QUESTION_WORDS])
    if len(novel) > MAX_NOVEL_WORDS:
        return f"not grounded in the caption (new words: {', '.join(novel)})"
    return None
