"""Guards on one rewritten sentence: a weak model's rewrite is kept only if it says the same.

Judged against the source sentence alone (not its neighbours: a word moved in from the next
sentence is a fact said twice). The checks and their thresholds (defaults of `SentencePolicy`;
`sentence_reasons` says each failed one in words):
- empty: the rewrite has no words.
- too_short / too_long: rewrite words < 0.6 x or > 1.6 x the source sentence's words.
- invented_words: more than 1 distinct content word (guards.novel_content_words: not a stop or
  framing word, after number-word and suffix normalisation) that the source does not have. One
  is allowed for a rewording ("sleeps" for "is lying asleep").
- invented_facts: any new number (digits or a number word such as "four"), colour, month or weekday.
- dropped_words: any content word of the source missing from the rewrite (nouns, numbers,
  colours, positions: the facts). None may go: the clean-up already removed the fillers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.answer_guards import invented_facts
from pipelines.guards import GuardCheck, GuardVerdict, content_term, novel_content_words
from pipelines.metrics import normalise_words
from pipelines.word_lists import NUMBER_WORDS


@dataclass(frozen=True, kw_only=True)
class SentencePolicy:
    min_length_ratio: float = 0.6
    max_length_ratio: float = 1.6
    max_novel_words: int = 1
    max_dropped_words: int = 0


DEFAULT_SENTENCE_POLICY = SentencePolicy()


@dataclass(frozen=True, kw_only=True)
class SentenceVerdict(GuardVerdict):
    dropped_words: tuple[str, ...] = ()

    @property
    def reasons(self) -> list[str]:
        return sentence_reasons(self.to_dict(reasons=False))

    def to_dict(self, *, reasons: bool = True) -> dict[str, Any]:
        record = {**super().to_dict(), "dropped_words": list(self.dropped_words)}
        return {**record, "reasons": sentence_reasons(record)} if reasons else record


def check_sentence(*, rewrite: str, source: str, policy: SentencePolicy = DEFAULT_SENTENCE_POLICY) -> SentenceVerdict:
    """Judge `rewrite` against the one `source` sentence it rewrites."""
    words, source_words = normalise_words(rewrite), normalise_words(source)
    ratio = round(len(words) / len(source_words), 3) if source_words else 0.0
    novel = novel_content_words(caption=rewrite, transcripts=[source])
    dropped = dropped_content_words(rewrite=rewrite, source=source)
    checks = (
        GuardCheck(name="empty", value=len(words), threshold=1, passed=bool(words)),
        GuardCheck(name="too_short", value=ratio, threshold=policy.min_length_ratio,
                   passed=ratio >= policy.min_length_ratio),
        GuardCheck(name="too_long", value=ratio, threshold=policy.max_length_ratio,
                   passed=ratio <= policy.max_length_ratio),
        _at_most("invented_words", len(novel), policy.max_novel_words),
        _at_most("invented_facts", len(fact_words(novel)), 0),
        _at_most("dropped_words", len(dropped), policy.max_dropped_words),
    )
    return SentenceVerdict(passed=all(check.passed for check in checks), checks=checks, novel_words=novel,
                           dropped_words=dropped)


def fact_words(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The words that state a checkable fact: numbers in digits or words, colours, months, weekdays."""
    return tuple(dict.fromkeys([*invented_facts(words), *(word for word in words if word in NUMBER_WORDS)]))


def dropped_content_words(*, rewrite: str, source: str) -> tuple[str, ...]:
    """Distinct content words of `source` whose stems the rewrite lacks, in source order."""
    kept = {content_term(word) for word in normalise_words(rewrite)}
    dropped: dict[str, None] = {}
    for word in normalise_words(source):
        term = content_term(word)
        if term and term not in kept:
            dropped[word] = None
    return tuple(dropped)


def sentence_reasons(verdict: dict[str, Any]) -> list[str]:
    """One sentence per failed check of a stored verdict (`SentenceVerdict.to_dict()`)."""
    failed = [check for check in verdict.get("checks", []) if not check["passed"]]
    return [_reason(check, verdict) for check in failed]


def _reason(check: dict[str, Any], verdict: dict[str, Any]) -> str:
    name, value, threshold = check["name"], check["value"], check["threshold"]
    novel, dropped = verdict.get("novel_words", []), verdict.get("dropped_words", [])
    if name == "empty":
        return "The rewrite is empty."
    if name == "too_short":
        return f"The rewrite is too short: {value:.0%} of the sentence's words, at least {threshold:.0%} needed."
    if name == "too_long":
        return f"The rewrite is too long: {value:.0%} of the sentence's words, at most {threshold:.0%} allowed."
    if name == "invented_words":
        return (f"The rewrite adds words the sentence does not have ({', '.join(novel)}); "
                f"at most {int(threshold)} may be new.")
    if name == "invented_facts":
        return f"The rewrite states a fact the sentence does not ({', '.join(fact_words(novel))})."
    if name == "dropped_words":
        return f"The rewrite drops words of the sentence ({', '.join(dropped)})."
    return f"The rewrite failed the {name.replace('_', ' ')} check."


def _at_most(name: str, value: float, threshold: float) -> GuardCheck:
    return GuardCheck(name=name, value=value, threshold=threshold, passed=value <= threshold)
