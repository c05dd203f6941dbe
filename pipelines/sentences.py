"""Cleaned transcripts -> written sentences, deterministically: the units a weak LLM rewrites.

`segment_sentences` cuts one cleaned transcript into sentences, restoring the punctuation a
transcript without any lacks (Whisper often writes one run-on sentence): it cuts where the
speaker starts a new statement ("… and there is a cat", "… in the background there are trees")
and cuts clauses longer than `LONG_SENTENCE_WORDS` at an "and". Every piece gets a capital and a
full stop. Contract, as for the clean-up: the output's words are the input's words in order, less
the "and"/"so"/"then" a cut removes (stop words, never content).

`merge_sentences` orders and de-duplicates the sentences of several transcripts of one image
before any rewriting: a sentence whose content words mostly repeat another's is a near-duplicate
(`DUPLICATE_OVERLAP`), and the one with more content words is kept; sentences are ordered by
first appearance, measured as the position within their own transcript (every speaker follows
the same guiding questions, so "at first glance" comes early in each).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.guards import content_terms
from pipelines.text_shape import sentences as split_sentences

LONG_SENTENCE_WORDS = 28  # a piece longer than this is cut again at an "and" near its middle
MIN_PIECE_WORDS = 3  # a cut never leaves a piece shorter than this
DUPLICATE_OVERLAP = 0.7  # shared content words / content words of the smaller sentence
# A new statement starts here: cut before these (a joining "and" before them goes with the cut).
_STATEMENT_CUES = (("there", "is"), ("there", "are"), ("there's",), ("there", "was"), ("there", "were"))
# Places a speaker opens a statement with ("in the background there are trees"); cut before them
# only when a statement follows within a few words, so "the chair on the left" stays whole.
_PLACE_CUES = (
    ("on", "the", "left"), ("on", "the", "right"), ("in", "the", "background"), ("in", "the", "foreground"),
    ("in", "the", "middle"), ("in", "the", "center"), ("in", "the", "centre"), ("at", "the", "top"),
    ("at", "the", "bottom"), ("in", "front"), ("behind", "it"), ("behind", "them"), ("next", "to", "it"),
    ("above", "it"), ("below", "it"),
)
_PLACE_FOLLOWED_BY = frozenset({"there", "there's", "is", "are", "we", "you", "i"})
_PLACE_LOOKAHEAD = 5
_JOINERS = frozenset({"and", "so", "then"})
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True, kw_only=True)
class MergedSentence:
    text: str
    transcript: int  # index of the transcript it came from
    duplicates: tuple[str, ...] = ()  # the near-duplicate sentences it stands for


def segment_sentences(cleaned: str) -> list[str]:
    """The sentences of one cleaned transcript, each capitalised and ending . ! or ?"""
    pieces: list[list[str]] = []
    for sentence in split_sentences(cleaned):
        for piece in _cut_statements(sentence.split()):
            pieces.extend(_cut_long(piece))
    return [_finish(piece) for piece in pieces if any(_WORD.search(token) for token in piece)]


def merge_sentences(transcripts: Sequence[Sequence[str]]) -> list[MergedSentence]:
    """One ordered, de-duplicated list of sentences from several transcripts' sentences."""
    timeline = [
        (index / max(1, len(sentences)), number, index, text)
        for number, sentences in enumerate(transcripts)
        for index, text in enumerate(sentences)
    ]
    kept: list[dict] = []
    for position, number, _, text in sorted(timeline):
        terms = content_terms(text)
        twin = next((entry for entry in kept if _near_duplicate(terms, entry["terms"])), None)
        if twin is None:
            kept.append({"text": text, "terms": terms, "transcript": number, "duplicates": []})
        elif len(terms) > len(twin["terms"]):  # the more informative one stands, in the earlier place
            twin["duplicates"].append(twin["text"])
            twin.update(text=text, terms=terms, transcript=number)
        else:
            twin["duplicates"].append(text)
    return [MergedSentence(text=e["text"], transcript=e["transcript"], duplicates=tuple(e["duplicates"]))
            for e in kept]


def _near_duplicate(first: set[str], second: set[str]) -> bool:
    smaller = min(len(first), len(second))
    return smaller > 0 and len(first & second) / smaller >= DUPLICATE_OVERLAP


def _cut_statements(tokens: list[str]) -> list[list[str]]:
    pieces, start, opened_by_place = [], 0, False
    words = [_core(token) for token in tokens]
    for i in range(1, len(tokens)):
        cue = _cue_at(words, i, after_comma=tokens[i - 1].endswith(","))
        # "in the background there are trees" is one statement: no second cut at its "there are".
        if not cue or (cue == "statement" and opened_by_place and i - start <= _PLACE_LOOKAHEAD + 3):
            continue
        joiner = i - 1 if words[i - 1] in _JOINERS else i
        if joiner - start >= MIN_PIECE_WORDS and len(tokens) - i >= MIN_PIECE_WORDS:
            pieces.append(tokens[start:joiner])
            start, opened_by_place = i, cue == "place"
    return [*pieces, tokens[start:]]


def _cue_at(words: list[str], i: int, *, after_comma: bool) -> str:
    """"statement" or "place" when a new statement starts at word i, else "". A place opens a
    statement after "and" or a comma when a verb or "there" follows it ("and on the left is a
    lamp"), or anywhere when "there" follows at once; "the chair on the left is red" stays whole."""
    for cue in _PLACE_CUES:
        if tuple(words[i : i + len(cue)]) == cue:
            after = words[i + len(cue) : i + len(cue) + _PLACE_LOOKAHEAD]
            opens = (words[i - 1] in _JOINERS or after_comma) and bool(_PLACE_FOLLOWED_BY & set(after))
            return "place" if opens or after[:1] in (["there"], ["there's"]) else ""
    if any(tuple(words[i : i + len(cue)]) == cue for cue in _STATEMENT_CUES):
        return "statement" if words[i - 1] not in {"is", "are", "was", "were", "that", "which", "where"} else ""
    return ""


def _cut_long(tokens: list[str]) -> list[list[str]]:
    """Cut at the "and" nearest the middle until no piece is longer than LONG_SENTENCE_WORDS."""
    if len(tokens) <= LONG_SENTENCE_WORDS:
        return [tokens]
    middle = len(tokens) / 2
    ands = [i for i, token in enumerate(tokens) if _core(token) == "and"
            and MIN_PIECE_WORDS + 2 <= i <= len(tokens) - MIN_PIECE_WORDS - 3]
    if not ands:
        return [tokens]
    cut = min(ands, key=lambda i: abs(i - middle))
    return _cut_long(tokens[:cut]) + _cut_long(tokens[cut + 1 :])


def _finish(tokens: list[str]) -> str:
    text = " ".join(tokens).strip().rstrip(",;:-—").strip()
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _core(token: str) -> str:
    return re.sub(r"[^\w']", "", token.lower())
