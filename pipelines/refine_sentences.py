"""The "sentences" refine strategy: a weak LLM rewrites one sentence at a time and cannot hurt.

Each sentence of the segmented (and, for several transcripts, merged) clean-up goes to the LLM
alone; the rewrite is kept only if `sentence_guards.check_sentence` passes it against that
sentence, else the cleaned sentence stays. Neighbours as context: the sentence before, with its
final text, goes first as an earlier turn of the chat (a one-shot example of the task). The
sentence after is not sent: measured with the bundled SmolLM2-135M, a prompt that shows the next
sentence makes it copy that sentence into the rewrite (every such rewrite refused).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.errors import LlmError
from pipelines.llm import token_count
from pipelines.llm_types import ChatMessage, ChatModel, GenerationParams
from pipelines.prompts import PromptTemplate, get_prompt
from pipelines.sentence_guards import DEFAULT_SENTENCE_POLICY, SentencePolicy, check_sentence
from pipelines.text_shape import strip_chat_preamble

# Greedy, with the same repetition control as the whole-caption rewrite; a sentence's rewrite may
# take 2x its tokens plus a margin (the guards allow 1.6x its words).
SENTENCE_PARAMS = GenerationParams(max_new_tokens=64, temperature=0.0, repetition_penalty=1.1, no_repeat_ngram_size=4)
SENTENCE_TOKEN_RATIO = 2.0
SENTENCE_TOKEN_MARGIN = 16


@dataclass(frozen=True, kw_only=True)
class SentenceEdit:
    source: str  # the cleaned sentence
    rewrite: str | None  # the LLM's rewrite; None when the model gave none
    kept: bool  # the rewrite passed the sentence guards and stands in the caption
    reasons: tuple[str, ...] = ()  # why the rewrite was refused, in words
    failed: tuple[str, ...] = ()  # the failed check names

    @property
    def final(self) -> str:
        return self.rewrite if self.kept and self.rewrite else self.source

    @property
    def changed(self) -> bool:
        return self.kept and self.rewrite is not None and self.rewrite != self.source

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rewrite": self.rewrite, "kept": self.kept, "changed": self.changed,
                "reasons": list(self.reasons), "failed": list(self.failed)}


@dataclass(frozen=True, kw_only=True)
class SentenceRewrites:
    edits: tuple[SentenceEdit, ...]
    model: dict[str, Any]
    error: str | None  # the first LLM error; the sentences from there on keep their clean-up


def sentence_prompt() -> PromptTemplate:
    return get_prompt("refine.sentence")


def rewrite_sentences(
    sentences: Sequence[str], *, chat_model: ChatModel, policy: SentencePolicy = DEFAULT_SENTENCE_POLICY
) -> SentenceRewrites:
    """Each sentence rewritten and judged; after an LLM error the rest are not sent (it would fail again)."""
    prompt, edits, model, error = sentence_prompt(), [], chat_model.identity, None
    for index, sentence in enumerate(sentences):
        if error is not None:
            edits.append(SentenceEdit(source=sentence, rewrite=None, kept=False, failed=("llm_error",),
                                      reasons=("The language model was not asked: it failed on an earlier sentence.",)))
            continue
        earlier = (sentences[index - 1], edits[-1].final) if index else None
        try:
            reply = chat_model.chat(_messages(prompt, sentence, earlier), params=sentence_params(sentence, chat_model))
        except LlmError as failure:
            error = str(failure)
            edits.append(SentenceEdit(source=sentence, rewrite=None, kept=False, failed=("llm_error",),
                                      reasons=(f"The language model gave no rewrite: {error}",)))
            continue
        model = reply.model
        edits.append(judge_rewrite(source=sentence, rewrite=first_line(reply.text), policy=policy))
    return SentenceRewrites(edits=tuple(edits), model=model, error=error)


def judge_rewrite(*, source: str, rewrite: str, policy: SentencePolicy = DEFAULT_SENTENCE_POLICY) -> SentenceEdit:
    verdict = check_sentence(rewrite=rewrite, source=source, policy=policy)
    return SentenceEdit(source=source, rewrite=rewrite, kept=verdict.passed, reasons=tuple(verdict.reasons),
                        failed=verdict.failed)


def sentence_params(
    sentence: str, chat_model: ChatModel, *, base: GenerationParams = SENTENCE_PARAMS
) -> GenerationParams:
    """`base` with max_new_tokens = 2 x the sentence's tokens + 16."""
    budget = math.ceil(SENTENCE_TOKEN_RATIO * token_count(chat_model, sentence)) + SENTENCE_TOKEN_MARGIN
    return dataclasses.replace(base, max_new_tokens=budget)


def first_line(text: str) -> str:
    """The reply's first non-empty line, without quotes that wrap all of it, ending with a full stop
    (a sentence, not what follows it; a bare "says "June"" keeps its quotes)."""
    lines = [line.strip() for line in strip_chat_preamble(text, quotes=False).splitlines() if line.strip()]
    line = lines[0] if lines else ""
    if len(line) > 1 and line[0] == line[-1] == '"' and line.count('"') == 2:
        line = line[1:-1].strip()
    return line if not line or re.search(r"""[.!?]["')]?$""", line) else line + "."


def _messages(prompt: PromptTemplate, sentence: str, earlier: tuple[str, str] | None) -> list[ChatMessage]:
    system, user = prompt.render(sentence=sentence)
    if earlier is None:
        return [system, user]
    before = prompt.render(sentence=earlier[0])[1]
    return [system, before, ChatMessage(role="assistant", content=earlier[1]), user]
