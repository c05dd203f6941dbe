"""Guards on an LLM caption: they flag, never silently pass.

Thresholds (defaults of `GuardPolicy`, stated here because reviewers rely on them):
- empty: the caption has no words.
- too short: caption words < 0.5 x the words of the longest cleaned transcript (a rewrite drops
  fillers, not facts; the clean-up has already dropped the fillers).
- too long: caption words > 1.6 x the words of all cleaned transcripts together.
- invented content: a content word (not a stop word, not caption framing such as "image" or
  "shows") that appears, after number-word and suffix normalisation, in no transcript. Flagged
  when there are more than 3 such distinct words, or they are more than 8 % of the caption's
  distinct content words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pipelines.metrics import normalise_words
from pipelines.word_lists import FRAMING_WORDS, NUMBER_WORDS, STOP_WORDS


@dataclass(frozen=True, kw_only=True)
class GuardPolicy:
    min_length_ratio: float = 0.5
    max_length_ratio: float = 1.6
    max_novel_words: int = 3
    max_novel_ratio: float = 0.08


@dataclass(frozen=True, kw_only=True)
class GuardCheck:
    name: str
    value: float
    threshold: float
    passed: bool


@dataclass(frozen=True, kw_only=True)
class GuardVerdict:
    passed: bool
    checks: tuple[GuardCheck, ...]
    novel_words: tuple[str, ...]

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(check.name for check in self.checks if not check.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": list(self.failed),
            "checks": [asdict(check) for check in self.checks],
            "novel_words": list(self.novel_words),
        }


def check_caption(*, caption: str, transcripts: Sequence[str], policy: GuardPolicy) -> GuardVerdict:
    """Judge `caption` against the (cleaned) transcripts it was written from."""
    caption_words = normalise_words(caption)
    lengths = [len(normalise_words(text)) for text in transcripts] or [0]
    novel = novel_content_words(caption=caption, transcripts=transcripts)
    content = _content_terms(caption_words)
    checks = (
        GuardCheck(name="empty", value=len(caption_words), threshold=1, passed=len(caption_words) >= 1),
        _ratio_check("too_short", len(caption_words), max(lengths), policy.min_length_ratio, below=True),
        _ratio_check("too_long", len(caption_words), sum(lengths), policy.max_length_ratio, below=False),
        GuardCheck(
            name="invented_words",
            value=len(novel),
            threshold=policy.max_novel_words,
            passed=len(novel) <= policy.max_novel_words,
        ),
        GuardCheck(
            name="invented_ratio",
            value=round(len(novel) / max(1, len(content)), 3),
            threshold=policy.max_novel_ratio,
            passed=len(novel) / max(1, len(content)) <= policy.max_novel_ratio,
        ),
    )
    return GuardVerdict(passed=all(check.passed for check in checks), checks=checks, novel_words=novel)


def _ratio_check(name: str, words: int, reference: int, threshold: float, *, below: bool) -> GuardCheck:
    ratio = round(words / reference, 3) if reference else 0.0
    passed = ratio >= threshold if below else ratio <= threshold
    return GuardCheck(name=name, value=ratio, threshold=threshold, passed=passed or reference == 0)


def novel_content_words(*, caption: str, transcripts: Sequence[str]) -> tuple[str, ...]:
    """Distinct content words of `caption` found in none of `transcripts`, in caption order."""
    known = set().union(*(_content_terms(normalise_words(text)) for text in transcripts)) if transcripts else set()
    novel: dict[str, None] = {}
    for word in normalise_words(caption):
        term = _term(word)
        if term and term not in known:
            novel[word] = None
    return tuple(novel)


def _content_terms(words: list[str]) -> set[str]:
    return {term for term in map(_term, words) if term}


def content_terms(text: str) -> set[str]:
    """The comparable stems of `text`'s content words (stop and framing words left out)."""
    return _content_terms(normalise_words(text))


def content_term(word: str) -> str:
    """One normalised word's comparable stem, or "" for a stop or framing word."""
    return _term(word)


def _term(word: str) -> str:
    """A comparable stem of a content word, or "" for stop/framing words."""
    word = NUMBER_WORDS.get(word, word)
    if word in STOP_WORDS or word in FRAMING_WORDS:
        return ""
    for suffix in ("'s", "ies", "es", "s", "ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word
