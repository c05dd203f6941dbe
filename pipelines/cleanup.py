"""Deterministic transcript clean-up that never adds a word.

Removes fillers, stutters, repeated words and phrases, and short false starts; fixes casing
and spacing around punctuation. Contract: the output's words (lower-cased, punctuation
dropped, see metrics.normalise_words) are a subsequence of the input's words.
"""

from __future__ import annotations

import re

# Sounds that are never content in an image description. "like", "so", "kind of" are
# left alone: they are content often enough ("looks like", "a kind of bird").
FILLER_WORDS = frozenset({"um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "hmm", "hm", "mm", "mhm"})
FILLER_PHRASES = (("you", "know"), ("i", "mean"))
FALSE_START_MAX_WORDS = 4  # a false start is at most this many words, cut off by a comma or dash
_REPEAT_MAX_WORDS = 4  # "on the on the" (2 words) ... up to 4-word repeats collapse
_SENTENCE_END = (".", "!", "?")


def clean_transcript(text: str) -> str:
    """The clean-up of one transcript; an empty or filler-only transcript gives ""."""
    tokens = _attach_punctuation(text.split())
    for step in (_drop_fillers, _drop_cut_words, _drop_false_starts, _drop_repeats):
        tokens = step(tokens)
    return _tidy(tokens)


def _core(token: str) -> str:
    return re.sub(r"[^\w']", "", token.lower())


def _attach_punctuation(tokens: list[str]) -> list[str]:
    """A free-standing "--" or "," belongs to the word before it (Whisper writes both)."""
    attached: list[str] = []
    for token in tokens:
        if attached and not _core(token):
            attached[-1] += token
        else:
            attached.append(token)
    return attached


def _drop_fillers(tokens: list[str]) -> list[str]:
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        pair = (_core(tokens[i]), _core(tokens[i + 1]) if i + 1 < len(tokens) else "")
        if pair in FILLER_PHRASES and _ends_clause(tokens[i + 1]):
            _carry_sentence_end(kept, tokens[i + 1])
            i += 2
        elif _core(tokens[i]) in FILLER_WORDS or not _core(tokens[i]):
            _carry_sentence_end(kept, tokens[i])
            i += 1
        else:
            kept.append(tokens[i])
            i += 1
    return kept


def _ends_clause(token: str) -> bool:
    return token.endswith((",", ".", "!", "?", "-", "—"))


def _carry_sentence_end(kept: list[str], dropped: str) -> None:
    """A dropped filler that ended a sentence hands its full stop to the word before it; one set
    off by commas ("the dog, you know, is big") takes the comma before it along."""
    if kept and dropped.endswith(",") and kept[-1].endswith(","):
        kept[-1] = kept[-1][:-1]
    if kept and dropped.endswith(_SENTENCE_END) and not kept[-1].endswith(_SENTENCE_END):
        kept[-1] = kept[-1].rstrip(",;:-—") + dropped[-1]


def _drop_cut_words(tokens: list[str]) -> list[str]:
    """ "ta- table" -> "table": a word cut off with a hyphen and restarted."""
    kept = []
    for i, token in enumerate(tokens):
        nxt = _core(tokens[i + 1]) if i + 1 < len(tokens) else ""
        stem = _core(token)
        if token.endswith("-") and stem and nxt.startswith(stem):
            continue
        kept.append(token)
    return kept


def _drop_false_starts(tokens: list[str]) -> list[str]:
    """ "there is a, there are two cats" -> "there are two cats": a short phrase cut off by a
    comma or dash and restarted with the same first word."""
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        restart = _false_start_length(tokens, i)
        i += restart if restart else 1
        if not restart:
            kept.append(tokens[i - 1])
    return kept


def _false_start_length(tokens: list[str], i: int) -> int:
    for length in range(1, FALSE_START_MAX_WORDS + 1):
        end = i + length
        if end >= len(tokens):
            return 0
        last = tokens[end - 1]
        if last.endswith((",", "-", "—", "--")) and _core(tokens[end]) == _core(tokens[i]):
            return length
        if last.endswith(_SENTENCE_END):
            return 0
    return 0


def _drop_repeats(tokens: list[str]) -> list[str]:
    """ "the the" -> "the", "on the on the" -> "on the" (repeats of up to 4 words)."""
    kept: list[str] = []
    for token in tokens:
        kept.append(token)
        for size in range(1, _REPEAT_MAX_WORDS + 1):
            if len(kept) >= 2 * size and _same_words(kept[-2 * size : -size], kept[-size:]):
                del kept[-size:]
                break
    return kept


def _same_words(first: list[str], second: list[str]) -> bool:
    # A sentence end inside the first copy means two sentences, not a stutter.
    if any(token.endswith(_SENTENCE_END) for token in first):
        return False
    return [_core(t) for t in first] == [_core(t) for t in second]


def _tidy(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r"\s*(--|—)\s*", ", ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]\s*([.!?])", r"\1", text)
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"\bi'(m|ve|ll|d)\b", lambda m: "I'" + m.group(1), text)
    text = text.strip(" ,;:")
    if not text:
        return ""
    text = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return text if text.endswith(_SENTENCE_END) else text + "."
