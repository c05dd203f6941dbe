"""CapQA dialogue text (PixMo-CapQA): a row's `question` holds the dialogue up to its last user
turn as `[USER] q1 [ASSISTANT] a1 [USER] q2`, and its `answer` the last assistant turn."""

from __future__ import annotations

import re
from collections.abc import Sequence

USER = "USER"
ASSISTANT = "ASSISTANT"
_MARKER = re.compile(rf"\[({USER}|{ASSISTANT})\]")


def dialogue_text(turns: Sequence[tuple[str, str]]) -> str:
    """(question, answer) turns -> every turn but the last answer, as `[USER] q1 [ASSISTANT] a1 [USER] q2`."""
    parts = []
    for question, answer in turns[:-1]:
        parts += [f"[{USER}] {question}", f"[{ASSISTANT}] {answer}"]
    if turns:
        parts.append(f"[{USER}] {turns[-1][0]}")
    return " ".join(parts)


def parse_dialogue(text: str) -> list[tuple[str, str]]:
    """`[USER] q1 [ASSISTANT] a1 [USER] q2` -> [("USER", "q1"), ("ASSISTANT", "a1"), ("USER", "q2")];
    text before the first marker is a user turn, empty turns are left out."""
    parts = _MARKER.split(text)
    turns = [(USER, parts[0].strip())] if parts[0].strip() else []
    return turns + [(role, turn.strip()) for role, turn in zip(parts[1::2], parts[2::2]) if turn.strip()]
