"""Caption refinement: transcripts -> one caption, in two steps.

1. `clean_transcript` on each transcript (deterministic, never adds a word).
2. The text LLM improves it, by one of two strategies (PIXMO_REFINE_STRATEGY, recorded in
   provenance):
   - "sentences" (default, for the bundled 135M model): the clean-up is cut into sentences with
     their punctuation restored (pipelines.sentences; several transcripts are merged and
     de-duplicated sentence by sentence first), and the LLM rewrites one sentence at a time;
     a rewrite stands only if the sentence guards pass it, else the cleaned sentence stays
     (pipelines.refine_sentences). Each sentence's outcome is kept in `sentences`.
   - "whole" (for capable models): the LLM rewrites (one transcript) or merges (several) the
     whole caption; `check_caption` judges the result. If the guards fail or the LLM errors, the
     clean-up becomes the caption, flagged for the reviewer, and the LLM attempt and its verdict
     are kept beside it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipelines.cleanup import clean_transcript
from pipelines.env import env_str
from pipelines.errors import InputLimitError, LlmError, SettingError
from pipelines.guards import GuardPolicy, GuardVerdict, check_caption
from pipelines.llm import token_count
from pipelines.llm_types import ChatModel, GenerationParams
from pipelines.prompts import PromptTemplate, get_prompt
from pipelines.provenance import build_provenance
from pipelines.refine_sentences import SENTENCE_PARAMS, SentenceEdit, rewrite_sentences, sentence_prompt
from pipelines.sentence_guards import DEFAULT_SENTENCE_POLICY, SentencePolicy
from pipelines.sentences import MergedSentence, merge_sentences, segment_sentences
from pipelines.text_shape import strip_chat_preamble
from pipelines.timing import PhaseTimer

__all__ = ["Refinement", "refine_params", "refine_prompt", "refine_strategy", "refine_transcripts",
           "strip_chat_preamble"]

MAX_TRANSCRIPTS = 8
STRATEGIES = ("sentences", "whole")
DEFAULT_STRATEGY = "sentences"  # the bundled 135M model cannot rewrite a whole caption without inventing
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
    strategy: str = "whole"
    sentences: tuple[SentenceEdit, ...] = ()  # "sentences" strategy: each sentence's outcome

    def report(self) -> dict[str, Any]:
        """What a stored caption version keeps as its guard report: the verdict on the caption,
        the strategy, and (sentence strategy) each sentence's source, rewrite and outcome."""
        record = self.verdict.to_dict() if self.verdict else {}
        if self.strategy == "sentences":
            record = {**record, "strategy": self.strategy, "sentences": [edit.to_dict() for edit in self.sentences]}
        return record

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
            "strategy": self.strategy,
            "sentences": [edit.to_dict() for edit in self.sentences],
        }


def refine_strategy() -> str:
    """PIXMO_REFINE_STRATEGY: "sentences" (default) or "whole"."""
    strategy = env_str(name="PIXMO_REFINE_STRATEGY", default=DEFAULT_STRATEGY)
    if strategy not in STRATEGIES:
        raise SettingError(f"PIXMO_REFINE_STRATEGY={strategy!r} is not one of {', '.join(STRATEGIES)}.")
    return strategy


def refine_prompt(*, transcript_count: int, strategy: str = "whole") -> PromptTemplate:
    """The one place the refine prompt is chosen: one sentence at a time, or a clean rewrite of
    one transcript, or a merge."""
    if strategy == "sentences":
        return sentence_prompt()
    return get_prompt("refine.single" if transcript_count == 1 else "refine.merge")


def refine_transcripts(
    transcripts: Sequence[str],
    *,
    chat_model: ChatModel,
    guard_policy: GuardPolicy = DEFAULT_GUARD_POLICY,
    params: GenerationParams | None = None,
    strategy: str | None = None,
    sentence_policy: SentencePolicy = DEFAULT_SENTENCE_POLICY,
) -> Refinement:
    """One caption from one transcript or several, by `strategy` (default: `refine_strategy()`).
    Whole strategy: `params` defaults to `refine_params` of the cleaned transcripts."""
    _check_input(transcripts)
    strategy = strategy or refine_strategy()
    if strategy not in STRATEGIES:
        raise SettingError(f"Refine strategy {strategy!r} is not one of {', '.join(STRATEGIES)}.")
    timer = PhaseTimer()
    with timer.phase("cleanup"):
        cleaned = tuple(clean_transcript(text) for text in transcripts)
    if strategy == "sentences":
        return _refine_by_sentences(transcripts, cleaned, chat_model=chat_model, timer=timer,
                                    guard_policy=guard_policy, sentence_policy=sentence_policy)
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
            extra={"guard_policy": guard_policy.__dict__, "strategy": "whole"},
        ),
    )


def _refine_by_sentences(
    transcripts: Sequence[str], cleaned: tuple[str, ...], *, chat_model: ChatModel, timer: PhaseTimer,
    guard_policy: GuardPolicy, sentence_policy: SentencePolicy,
) -> Refinement:
    """Segment (and merge), rewrite sentence by sentence, keep what the guards pass. The caption
    needs review only when the LLM failed or the whole caption fails `check_caption`."""
    with timer.phase("segment"):
        merged = caption_sentences(cleaned)
    with timer.phase("llm"):
        rewrites = rewrite_sentences([m.text for m in merged], chat_model=chat_model, policy=sentence_policy)
    caption = " ".join(edit.final for edit in rewrites.edits)
    with timer.phase("guards"):
        verdict = check_caption(caption=caption, transcripts=cleaned, policy=guard_policy)
    changed = any(edit.changed for edit in rewrites.edits)
    return Refinement(
        caption=caption,
        source="llm" if changed else "cleanup",
        needs_review=rewrites.error is not None or not verdict.passed,
        transcripts=tuple(transcripts),
        cleaned=cleaned,
        llm_text=None,
        llm_error=rewrites.error,
        verdict=verdict,
        strategy="sentences",
        sentences=rewrites.edits,
        provenance=build_provenance(
            step="refine",
            model=rewrites.model,
            params=SENTENCE_PARAMS.to_dict(),
            timings_ms=timer.timings_ms,
            prompt=sentence_prompt().ref(),
            extra={"guard_policy": guard_policy.__dict__, "sentence_policy": sentence_policy.__dict__,
                   "strategy": "sentences", "sentences": [edit.to_dict() for edit in rewrites.edits],
                   "merged_duplicates": [list(m.duplicates) for m in merged if m.duplicates]},
        ),
    )


def caption_sentences(cleaned: Sequence[str]) -> list[MergedSentence]:
    """The cleaned transcripts' sentences, punctuated; several transcripts merged and de-duplicated."""
    segmented = [segment_sentences(text) for text in cleaned]
    if len(segmented) == 1:
        return [MergedSentence(text=text, transcript=0) for text in segmented[0]]
    return merge_sentences(segmented)


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
