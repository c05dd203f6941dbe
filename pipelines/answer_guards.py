"""Guards on an ask-model-anything answer: a weak model's junk is flagged, never passed on as fine.

The checks and their thresholds (defaults of `AnswerPolicy`; the ask page and `pixmo ask` say
each failed one in words, see `AnswerVerdict.reasons`):
- empty: the answer has no words.
- too_long: more than 150 words (the decoding cap is 200 tokens, about 150–170 words).
- repeated_ngrams: more than 20 % of the answer's 4-word phrases come again later in it (a loop:
  one phrase said 20 times gives about 95 %; good prose stays under 5 %).
- repeated_sentence: a sentence of 3 or more words is said twice.
- cut_off: the model hit its token cap (finish reason "length"), or the answer ends mid-phrase
  (on a comma, colon or dash, or on a word such as "the", "of", "and"), or, where the backend does
  not say why it stopped, an answer of 8 words or more whose last line does not end with . ! ? …,
  a list item or a closing point tag.
- echoes_question: the answer ends with a question mark, or is the question's words again.
- invented_words: more than 3 distinct content words (not stop words, not framing words such as
  "image", "caption", "says") that appear, after number-word and suffix normalisation, in none of
  the question, the caption, the OCR text, the points' labels, the feedback and the earlier answers
  of the thread (an earlier answer the guards flagged does not count: junk does not vouch for junk).
  Three are allowed so that a capable model may paraphrase ("the shop never closes" for "OPEN 24
  HOURS"); a lone invented word in a short answer passes this check, the annotator still reads it.
- invented_facts: any number written in digits ("2019"), colour word ("crimson"), month or
  weekday name ("July") among those new words: these state a fact, and one made up is enough to
  mislead ("the calendar shows July" when the caption says June). A capable model's arithmetic
  ("3 apples and 2 mugs, 5 things") is flagged too, for the annotator to check.
Revisions only:
- revision_unchanged: the revision has the same words as an earlier answer of the thread.
- feedback_not_followed: the feedback asked for something the revision plainly does not do:
  "one sentence" (more than one), "one word" (more than 3 words), shorter / brief / concise (not
  fewer words than the last answer), longer / more detail (not more words), or a "quoted" phrase
  that the revision does not contain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.guards import GuardCheck, GuardVerdict, novel_content_words
from pipelines.metrics import normalise_words
from pipelines.text_shape import (
    LOOP_NGRAM_WORDS,
    ends_mid_phrase,
    ends_without_full_stop,
    repeated_ngram_share,
    repeated_sentences,
    sentences,
)
from pixmo_formats.points import strip_point_markup

# Words an answer uses to talk about its sources, which need not be in them.
ANSWER_FRAMING_TEXT = (
    "answer answers question caption description describe described describes mention mentioned mentions "
    "say says said saying text ocr read reads written write writes information provide provided given tell "
    "tells unclear unknown sure know clear word words letter letters state states stated yes"
)
_ONE_SENTENCE = re.compile(r"\b(?:one|a single|1)\s+(?:short\s+)?sentence\b", re.I)
_ONE_WORD = re.compile(r"\b(?:one|a single|1)\s+word\b|\bin a word\b", re.I)
_SHORTER = re.compile(r"\b(?:shorter|brief|briefly|concise|too long|fewer words|less detail)\b", re.I)
_LONGER = re.compile(r"\b(?:longer|more detail|more details|in detail|elaborate|expand|too short|say more)\b", re.I)
# Closed word classes that state a checkable fact ("may" and "march" are left out: they are verbs too).
FACT_WORDS = frozenset(
    """red orange yellow green blue purple violet pink brown black white grey gray gold golden silver beige tan
    maroon navy teal turquoise cyan magenta crimson scarlet ivory cream amber bronze copper lavender lilac indigo
    olive khaki january february april june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday""".split()
)
_QUOTED = re.compile(r'"([^"]{1,80})"|“([^”]{1,80})”')


@dataclass(frozen=True, kw_only=True)
class AnswerPolicy:
    max_words: int = 150
    max_repeated_ngram_share: float = 0.2
    max_novel_words: int = 3
    cut_off_min_words: int = 8


DEFAULT_ANSWER_POLICY = AnswerPolicy()


@dataclass(frozen=True, kw_only=True)
class AnswerVerdict(GuardVerdict):
    """The caption guards' verdict, plus what an answer's reasons need to be said in words."""

    repeated: tuple[str, ...] = ()  # sentences said more than once
    unmet_feedback: tuple[str, ...] = ()  # what the feedback asked that the revision does not do

    @property
    def reasons(self) -> list[str]:
        return answer_reasons(self.to_dict(reasons=False))

    def to_dict(self, *, reasons: bool = True) -> dict[str, Any]:
        record = {**super().to_dict(), "repeated": list(self.repeated), "unmet_feedback": list(self.unmet_feedback)}
        return {**record, "reasons": answer_reasons(record)} if reasons else record


def check_answer(
    *,
    answer: str,
    question: str,
    context: Sequence[str],
    earlier_answers: Sequence[str] = (),
    feedback: Sequence[str] = (),
    finish_reason: str = "",
    policy: AnswerPolicy = DEFAULT_ANSWER_POLICY,
) -> AnswerVerdict:
    """Judge `answer` to `question`. `context` is every text it may draw its words from (caption,
    OCR text, points as text, the earlier answers that passed or that the annotator wrote); with
    `feedback` (oldest first), it is a revision of `earlier_answers[-1]` asked for by `feedback[-1]`,
    and must differ from every one of `earlier_answers`."""
    text = strip_point_markup(answer, "")
    words = normalise_words(text)
    sources = [question, *context, *feedback, ANSWER_FRAMING_TEXT]
    novel = novel_content_words(caption=text, transcripts=sources)
    facts = invented_facts(novel)
    repeated = repeated_sentences(text)
    share = round(repeated_ngram_share(text), 3)
    cut = finish_reason == "length" or ends_mid_phrase(text) or (
        not finish_reason and ends_without_full_stop(text, min_words=policy.cut_off_min_words))
    echoes = text.rstrip().endswith("?") or (bool(words) and words == normalise_words(question))
    checks = [
        _at_most("empty", 0 if words else 1, 0),
        _at_most("too_long", len(words), policy.max_words),
        _at_most("repeated_ngrams", share, policy.max_repeated_ngram_share),
        _at_most("repeated_sentence", len(repeated), 0),
        _at_most("cut_off", int(cut), 0),
        _at_most("echoes_question", int(echoes), 0),
        _at_most("invented_words", len(novel), policy.max_novel_words),
        _at_most("invented_facts", len(facts), 0),
    ]
    unmet: tuple[str, ...] = ()
    if feedback:
        unchanged = any(words == normalise_words(strip_point_markup(earlier, "")) for earlier in earlier_answers)
        unmet = unmet_feedback(revision=text, previous=earlier_answers[-1] if earlier_answers else "",
                               feedback=feedback[-1])
        checks += [_at_most("revision_unchanged", int(unchanged), 0), _at_most("feedback_not_followed", len(unmet), 0)]
    return AnswerVerdict(passed=all(check.passed for check in checks), checks=tuple(checks), novel_words=novel,
                         repeated=repeated, unmet_feedback=unmet)


def invented_facts(novel_words: Sequence[str]) -> tuple[str, ...]:
    """The new words that state a checkable fact: numbers in digits, colours, months, weekdays."""
    return tuple(word for word in novel_words if word in FACT_WORDS or any(c.isdigit() for c in word))


def unmet_feedback(*, revision: str, previous: str, feedback: str) -> tuple[str, ...]:
    """What `feedback` plainly asks for that `revision` (of `previous`) does not do, in words."""
    words, before = len(normalise_words(revision)), len(normalise_words(strip_point_markup(previous, "")))
    unmet = []
    if _ONE_SENTENCE.search(feedback) and len(sentences(revision)) > 1:
        unmet.append(f"one sentence (it has {len(sentences(revision))})")
    if _ONE_WORD.search(feedback) and words > 3:
        unmet.append(f"one word (it has {words})")
    elif _SHORTER.search(feedback) and words >= before:
        unmet.append(f"a shorter answer (it has {words} words, the last one had {before})")
    if _LONGER.search(feedback) and words <= before:
        unmet.append(f"a longer answer (it has {words} words, the last one had {before})")
    for match in _QUOTED.finditer(feedback):
        quoted = next(group for group in match.groups() if group)
        if normalise_words(quoted) and " ".join(normalise_words(quoted)) not in " ".join(normalise_words(revision)):
            unmet.append(f'the words "{quoted}"')
    return tuple(unmet)


def answer_reasons(verdict: dict[str, Any]) -> list[str]:
    """One sentence per failed check of a stored verdict (`AnswerVerdict.to_dict()`)."""
    checks = {check["name"]: check for check in verdict.get("checks", [])}
    return [_reason(name, check, verdict) for name, check in checks.items() if not check["passed"]]


def _reason(name: str, check: dict[str, Any], verdict: dict[str, Any]) -> str:
    value, threshold = check["value"], check["threshold"]
    if name == "empty":
        return "The answer is empty."
    if name == "too_long":
        return f"The answer has {value} words, over the limit of {threshold}."
    if name == "repeated_ngrams":
        return (f"The answer repeats itself: {value:.0%} of its {LOOP_NGRAM_WORDS}-word phrases come again "
                f"(at most {threshold:.0%} may).")
    if name == "repeated_sentence":
        return f'The answer says the same sentence more than once ("{verdict.get("repeated", ["?"])[0]}").'
    if name == "cut_off":
        return "The answer stops mid-sentence: the model was cut off or lost its way."
    if name == "echoes_question":
        return "The answer asks a question or repeats the question instead of answering it."
    if name == "invented_words":
        novel = verdict.get("novel_words", [])
        words = ", ".join(novel[:8]) + (", …" if len(novel) > 8 else "")
        return (f"The answer uses {value} words found nowhere in the question, caption, OCR text or thread "
                f"({words}); at most {threshold} may be new.")
    if name == "invented_facts":
        facts = ", ".join(invented_facts(verdict.get("novel_words", [])))
        return f"The answer states facts found nowhere in the question, caption, OCR text or thread ({facts})."
    if name == "revision_unchanged":
        return "The revision is the same as an earlier answer: it did not change."
    if name == "feedback_not_followed":
        return "The revision does not do what the feedback asked: " + "; ".join(verdict.get("unmet_feedback", [])) + "."
    return f"The answer failed the {name.replace('_', ' ')} check."


def _at_most(name: str, value: float, threshold: float) -> GuardCheck:
    return GuardCheck(name=name, value=value, threshold=threshold, passed=value <= threshold)
