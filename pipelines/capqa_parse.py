"""Robust parsing of a weak model's question-answer text into (question, answer) pairs.

Accepts "Q:/A:", "Question:/Answer:", "User:/Assistant:", numbered ("1. Q:", "Q1:"), bold
markdown labels, and bare numbered questions ending in "?" followed by an answer line.
"""

from __future__ import annotations

import re

_LABEL = re.compile(
    r"^\s*(?:[-*#>]+\s*)*(?:\d+[.)]\s*)?\**\s*(q|question|user|a|answer|assistant)\s*\d*\s*\**\s*[:.)-]\s*\**\s*",
    re.IGNORECASE,
)
_NUMBERING = re.compile(r"^\s*(?:[-*#>]+\s*)*\d+[.)]\s*")
_QUESTION_LABELS = {"q", "question", "user"}


def parse_qa_pairs(text: str) -> list[tuple[str, str]]:
    """(question, answer) pairs in order; a question with no answer is dropped."""
    pairs: list[list[str]] = []
    expecting_answer = False
    for raw_line in text.splitlines():
        kind, body = _classify(raw_line, expecting_answer=expecting_answer)
        if kind == "question":
            pairs.append([body, ""])
            expecting_answer = True
        elif kind == "answer" and pairs and expecting_answer:
            pairs[-1][1] = body
            expecting_answer = False
        elif kind == "text" and pairs and pairs[-1][1]:
            pairs[-1][1] += " " + body  # an answer that runs over several lines
    return [(question, answer) for question, answer in pairs if answer]


def _classify(line: str, *, expecting_answer: bool) -> tuple[str, str]:
    if not line.strip():
        return "blank", ""
    match = _LABEL.match(line)
    if match:
        body = line[match.end() :].strip().strip("*").strip()
        return ("question" if match.group(1).lower() in _QUESTION_LABELS else "answer"), body
    body = _NUMBERING.sub("", line).strip().strip("*").strip()
    if body.endswith("?"):
        return "question", body  # a new question, even if the last one went unanswered
    return ("answer" if expecting_answer else "text"), body
