"""Signs that a model's text went wrong whatever it says: it loops (the same word n-grams again
and again, a sentence said twice) or it stops mid-sentence or mid-phrase.

Plain measures on words (`metrics.normalise_words`: lower case, punctuation dropped), for the
answer guards and for any other guard that wants them.
"""

from __future__ import annotations

import re

from pipelines.metrics import normalise_words

LOOP_NGRAM_WORDS = 4  # a 4-word phrase said again is a loop; 3 words repeat in good prose ("on the left")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
# A finished text ends with one of these, optionally followed by closing quotes or brackets.
_FINISHED = re.compile(r"""[.!?…](?:["'”’)\]*_]*)$""")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S")
_CLOSING_POINT_TAG = re.compile(r"</points?>$", re.I)
# No sentence ends with these: a text whose last word is one of them was cut off mid-phrase.
# Lines a chat model puts around its answer ("Here is the cleaned caption:"), not the answer's text.
_PREAMBLE = re.compile(r"^\s*(here is|here's|sure|caption|clean caption|cleaned caption)\b[^\n]*:\s*\n?", re.I)
_DANGLING_WORDS = frozenset(
    "a an the and or but nor of to with in on at for by from into onto than that which who whose is are was were "
    "be been has have had its their his her my our your this these those".split()
)


def repeated_ngram_share(text: str, *, n: int = LOOP_NGRAM_WORDS) -> float:
    """The share of the text's word n-grams that already occurred earlier in it: 0.0 when no
    phrase of n words comes twice; a phrase said 20 times in a row gives about 0.95."""
    words = normalise_words(text)
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for gram in grams:
        repeats += gram in seen
        seen.add(gram)
    return repeats / len(grams)


def sentences(text: str) -> list[str]:
    """The text cut after each . ! ? and at line breaks; empty pieces dropped."""
    return [piece.strip() for piece in _SENTENCE_SPLIT.split(text.strip()) if piece.strip()]


def repeated_sentences(text: str, *, min_words: int = 3) -> tuple[str, ...]:
    """Sentences of at least `min_words` words that the text says more than once (compared on
    normalised words), each once, in the order they first repeat."""
    seen: set[tuple[str, ...]] = set()
    repeated: dict[str, None] = {}
    for sentence in sentences(text):
        words = tuple(normalise_words(sentence))
        if len(words) < min_words:
            continue
        if words in seen:
            repeated[" ".join(words)] = None
        seen.add(words)
    return tuple(repeated)


def ends_mid_phrase(text: str) -> bool:
    """True when the text ends where no sentence can: after a comma, colon, semicolon, dash or
    opening bracket, or on a word such as "the", "of", "and" ("… a picture of a")."""
    stripped = text.strip()
    if not stripped:
        return False
    words = normalise_words(stripped)
    return stripped[-1] in ",:;-–—([" or (bool(words) and words[-1] in _DANGLING_WORDS and stripped[-1].isalpha())


def ends_without_full_stop(text: str, *, min_words: int = 8) -> bool:
    """True when the last line does not end with . ! ? or … (closing quotes and brackets may
    follow), is not a list item and does not end with a closing point tag. Texts under `min_words`
    words need no full stop: a short answer such as "June 2024" is whole. A model that ended its
    turn itself may leave the full stop off ("The answer is: OPEN 24 HOURS"), so callers use this
    only where they do not know why generation stopped."""
    if len(normalise_words(text)) < min_words:
        return False
    last_line = text.strip().splitlines()[-1].strip()
    finished = _FINISHED.search(last_line) or _LIST_ITEM.match(last_line) or _CLOSING_POINT_TAG.search(last_line)
    return not finished


def strip_chat_preamble(text: str, *, quotes: bool = True) -> str:
    """The reply without a leading "Here is the caption:" line and (`quotes`) without the quote
    marks at its ends."""
    text = _PREAMBLE.sub("", text.strip(), count=1).strip()
    return text.strip('"').strip() if quotes else text
