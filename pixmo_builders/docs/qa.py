"""Questions and answers about a document, written by the LLM from the code alone.

Each model answer is checked against facts recoverable from the code (the numbers and labels
it contains); one that fails is replaced by a template question built from the same facts,
and the replacement is recorded. The unanswerable question is always a template: its answer
must be a refusal, which a small model does not reliably write.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from pixmo_builders.docs.data import DocData

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
OPTION = re.compile(r"\b([A-D])[.)] (.+?)(?= [A-D][.)] |[?.]?$)")
QA_LINE = re.compile(r"Question:\s*(.+?)\s*\n+\s*Answer:\s*(.+)", re.DOTALL)
UNANSWERABLE_ANSWER = "This cannot be answered from the image: it does not show that information."
MAX_QUESTION_CHARS = 300
MAX_SHORT_ANSWER_WORDS = 6
MIN_SUMMARY_WORDS = 6
SUMMARY_QUESTION = "Summarize what this document shows."
# Words that give away that a summary describes the code, not the document a reader sees.
CODE_WORDS = re.compile(r"\b(code|matplotlib|plotly|graphviz|latex|mermaid|html|node|plt|n\d+)\b", re.IGNORECASE)
STOP_WORDS = frozenset(("a", "an", "and", "at", "by", "for", "from", "in", "of", "on", "per", "the", "to", "with"))
CODE_CHARACTERS = set("+_=()[]{}<>\\")
MOST = re.compile(r"\b(most|highest|largest|biggest|greatest|top)\b", re.IGNORECASE)
LEAST = re.compile(r"\b(least|lowest|smallest|fewest)\b", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionAnswer:
    kind: str  # short, choice, yes_no, summary, unanswerable
    question: str
    answer: str
    source: str  # "llm" or "template"


def parse_question_answer(*, reply: str) -> tuple[str, str] | None:
    match = QA_LINE.search(reply)
    if not match:
        return None
    question = " ".join(match.group(1).split())
    answer = " ".join(match.group(2).strip().splitlines()[0].split()) if match.group(2).strip() else ""
    if not question or not answer or len(question) > MAX_QUESTION_CHARS:
        return None
    return question, answer


def model_answer_is_grounded(*, kind: str, question: str, answer: str, code: str, data: DocData) -> bool:
    """Whether a model-written pair can be trusted, judged only by what the code contains."""
    if kind == "short":
        return len(answer.split()) <= MAX_SHORT_ANSWER_WORDS and _short_truth(question, answer, data)
    if kind == "choice":
        return _choice_truth(question, data) == answer.strip(" .").upper()
    if kind == "yes_no":
        labels_named = sum(label in question for label, _ in data.items)
        return (
            answer.strip(" .").lower() in ("yes", "no")
            and labels_named == 2
            and _yes_no_truth(question, data) == answer.strip(" .").lower()
        )
    if kind == "summary":
        return summary_is_grounded(summary=answer, data=data)
    return False


def _superlatives_hold(*, summary: str, data: DocData) -> bool:
    """"X is the most …" is kept only when X has the largest value (and likewise for the least)."""
    named = [(label, value) for label, value in data.items if label.lower() in summary.lower()]
    if not named:
        return True
    values = [value for _, value in data.items]
    named_values = {value for _, value in named}
    most_holds = not MOST.search(summary) or max(values) in named_values
    least_holds = not LEAST.search(summary) or min(values) in named_values
    return most_holds and least_holds


def first_sentence(text: str) -> str:
    line = " ".join(text.strip().split())
    match = re.match(r"(.+?[.!])(?:\s|$)", line)
    return match.group(1) if match else line


def summary_is_grounded(*, summary: str, data: DocData) -> bool:
    """A model summary is kept when it is a sentence about this document's subject (a label, or two
    words of its title), names no number the document lacks, and describes the document rather
    than the code that draws it."""
    if len(summary.split()) < MIN_SUMMARY_WORDS or CODE_WORDS.search(summary):
        return False
    if CODE_CHARACTERS & set(summary) or not _superlatives_hold(summary=summary, data=data):
        return False
    values = {value for _, value in data.items}
    if any(float(number) not in values for number in NUMBER.findall(summary)):
        return False
    words = {word.lower() for word in re.findall(r"[A-Za-z]+", summary)}
    title_words = {word.lower() for word in re.findall(r"[A-Za-z]+", data.title)} - STOP_WORDS
    names_a_label = any(label.lower() in summary.lower() for label, _ in data.items)
    return names_a_label or len(words & title_words) >= 2


def _number(text: str) -> float | None:
    match = NUMBER.search(text)
    return float(match.group(0)) if match else None


def _short_truth(question: str, answer: str, data: DocData) -> bool:
    named = [value for label, value in data.items if label in question]
    return len(named) == 1 and _number(answer) == named[0]


def _choice_truth(question: str, data: DocData) -> str | None:
    """The letter of the listed option with the largest value, when every option is a label."""
    values = dict(data.items)
    options = dict(OPTION.findall(question))
    if len(options) < 2 or not all(option in values for option in options.values()):
        return None
    return max(options, key=lambda letter: values[options[letter]])


def _yes_no_truth(question: str, data: DocData) -> str | None:
    named = [(question.index(label), label, value) for label, value in data.items if label in question]
    if len(named) != 2:
        return None
    (_, _, first), (_, _, second) = sorted(named)
    lowered = question.lower()
    if any(word in lowered for word in ("more", "greater", "higher", "larger")):
        return "yes" if first > second else "no"
    if any(word in lowered for word in ("less", "fewer", "lower", "smaller")):
        return "yes" if first < second else "no"
    return None


def template_question(*, kind: str, data: DocData, rng: random.Random) -> QuestionAnswer:
    labels = [label for label, _ in data.items]
    values = dict(data.items)
    if kind == "short":
        label = rng.choice(labels)
        return QuestionAnswer(kind, f"What value is shown for {label}?", f"{values[label]:g}", "template")
    if kind == "choice":
        options = rng.sample(labels, k=min(4, len(labels)))
        best = max(options, key=values.__getitem__)
        letters = "ABCD"[: len(options)]
        listed = " ".join(f"{letter}. {option}" for letter, option in zip(letters, options))
        return QuestionAnswer(
            kind, f"Which of these has the largest value? {listed}", letters[options.index(best)], "template"
        )
    if kind == "yes_no":
        first, second = rng.sample(labels, k=2)
        answer = "Yes" if values[first] > values[second] else "No"
        return QuestionAnswer(
            kind, f"Is the value for {first} greater than the value for {second}?", answer, "template"
        )
    if kind == "summary":
        high = max(labels, key=values.__getitem__)
        low = min(labels, key=values.__getitem__)
        answer = (
            f"{data.title} shows {len(labels)} items; {high} is highest at {values[high]:g} "
            f"and {low} is lowest at {values[low]:g}."
        )
        return QuestionAnswer(kind, SUMMARY_QUESTION, answer, "template")
    label = rng.choice(labels)
    return QuestionAnswer(
        "unanswerable", f"What was the value for {label} ten years earlier?", UNANSWERABLE_ANSWER, "template"
    )
