"""Caption refinement: transcripts -> one caption, in two steps.

1. `clean_transcript` on each transcript (deterministic, never adds a word).
2. The text LLM rewrites (one transcript) or merges (several); `check_caption` judges the
   result. If the guards fail or the LLM errors, the clean-up becomes the caption, flagged
   for the reviewer, and the LLM attempt and its verdict are kept beside it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipelines.cleanup import clean_transcript
from pipelines.errors import InputLimitError, LlmError
from pipelines.guards import GuardPolicy, GuardVerdict, check_caption
from pipelines.llm import token_count
from pipelines.llm_types import ChatModel, GenerationParams
from pipelines.prompts import PromptTemplate, get_prompt
from pipelines.provenance import build_provenance
from pipelines.timing import PhaseTimer

MAX_TRANSCRIPTS = 8
DEFAULT_GUARD_POLICY = GuardPolicy()
# Greedy, with repetition control over the caption itself (never the transcript it should copy,
# see llm_local): penalty 1.1 and no 4 tokens twice. max_new_tokens is sized per input by
# `refine_params`: a caption is about as long as its transcripts (the guards allow 0.5x–1.6x of
# the words), so it may take 1.3x the transcripts' tokens plus a margin; a loop ends there
# instead of at a fixed 512 tokens (25 s on one core with the bundled model).
REFINE_PARAMS = GenerationParams(max_new_tokens=512, temperature=0.0, repetition_penalty=1.1, no_repeat_ngram_size=4)
CAPTION_TOKEN_RATIO = 1.3
CAPTION_TOKEN_MARGIN = 32
CAPTION_MAX_NEW_TOKENS = 2048
# Lines a chat model puts around its answer ("Here is the cleaned caption:"), not caption text.
_PREAMBLE = re.compile(r"^\s*(here is|here's|sure|caption|clean caption|cleaned caption)\b[^\n]*:\s*\n?", re.I)


@dataclass(frozen=True, kw_only=True)
class Refinement:
    caption: str
    source: Literal["llm", "cleanup"]
    needs_review: bool
    transcripts: tuple[str, ...]  # raw, always kept
    cleaned: tuple[str, ...]
    llm_text: str | None  # the LLM attempt, kept even when it was rejected
    llm_error: str | None
    verdict: GuardVerdict | None
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "caption": self.caption,
            "source": self.source,
            "needs_review": self.needs_review,
            "transcripts": list(self.transcripts),
            "cleaned": list(self.cleaned),
            "llm_text": self.llm_text,
            "llm_error": self.llm_error,
            "verdict": self.verdict.to_dict() if self.verdict else None,
            "provenance": self.provenance,
        }


def refine_prompt(*, transcript_count: int) -> PromptTemplate:
    """The one place the refine prompt is chosen: a clean rewrite of one transcript, or a merge."""
    return get_prompt("refine.single" if transcript_count == 1 else "refine.merge")


def refine_transcripts(
    transcripts: Sequence[str],
    *,
    chat_model: ChatModel,
    guard_policy: GuardPolicy = DEFAULT_GUARD_POLICY,
    params: GenerationParams | None = None,
) -> Refinement:
    """One caption from one transcript (clean rewrite) or several (merge). `params` defaults to
    `refine_params` of the cleaned transcripts."""
    _check_input(transcripts)
    timer = PhaseTimer()
    with timer.phase("cleanup"):
        cleaned = tuple(clean_transcript(text) for text in transcripts)
    params = params or refine_params(cleaned, chat_model=chat_model)
    prompt = refine_prompt(transcript_count=len(transcripts))
    llm_text, llm_error, reply_model = None, None, chat_model.identity
    try:
        with timer.phase("llm"):
            reply = chat_model.chat(_messages(prompt, cleaned), params=params)
        llm_text, reply_model = strip_chat_preamble(reply.text), reply.model
    except LlmError as error:
        llm_error = str(error)
    verdict = None
    if llm_text is not None:
        with timer.phase("guards"):
            verdict = check_caption(caption=llm_text, transcripts=cleaned, policy=guard_policy)
    accepted = verdict is not None and verdict.passed
    return Refinement(
        caption=llm_text if accepted else fallback_caption(cleaned),
        source="llm" if accepted else "cleanup",
        needs_review=not accepted,
        transcripts=tuple(transcripts),
        cleaned=cleaned,
        llm_text=llm_text,
        llm_error=llm_error,
        verdict=verdict,
        provenance=build_provenance(
            step="refine",
            model=reply_model,
            params=params.to_dict(),
            timings_ms=timer.timings_ms,
            prompt=prompt.ref(),
            extra={"guard_policy": guard_policy.__dict__},
        ),
    )


def refine_params(
    cleaned: Sequence[str], *, chat_model: ChatModel, base: GenerationParams = REFINE_PARAMS
) -> GenerationParams:
    """`base` with max_new_tokens = 1.3 x the cleaned transcripts' tokens + 32 (at most 2048)."""
    tokens = sum(token_count(chat_model, text) for text in cleaned)
    budget = math.ceil(CAPTION_TOKEN_RATIO * tokens) + CAPTION_TOKEN_MARGIN
    return dataclasses.replace(base, max_new_tokens=min(CAPTION_MAX_NEW_TOKENS, budget))


def fallback_caption(cleaned: Sequence[str]) -> str:
    """The cleaned transcripts as paragraphs: every fact kept, nothing added."""
    return "\n\n".join(text for text in cleaned if text)


def strip_chat_preamble(text: str) -> str:
    text = _PREAMBLE.sub("", text.strip(), count=1)
    return text.strip().strip('"').strip()


def _messages(prompt: PromptTemplate, cleaned: Sequence[str]):
    if len(cleaned) == 1:
        return prompt.render(transcript=cleaned[0])
    numbered = "\n\n".join(f"Description {index}:\n{text}" for index, text in enumerate(cleaned, start=1))
    return prompt.render(count=str(len(cleaned)), transcripts=numbered)


def _check_input(transcripts: Sequence[str]) -> None:
    if isinstance(transcripts, str):
        raise TypeError("refine_transcripts takes a sequence of transcripts, not one string.")
    if not 1 <= len(transcripts) <= MAX_TRANSCRIPTS:
        raise InputLimitError(f"Refinement takes 1 to {MAX_TRANSCRIPTS} transcripts, not {len(transcripts)}.")
    if not any(text.strip() for text in transcripts):
        raise InputLimitError("Every transcript is empty; there is nothing to refine.")
