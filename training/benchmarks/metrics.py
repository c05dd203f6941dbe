"""The official metric of each academic benchmark, per item, as a number in [0, 1] (PIXMO_SPEC §6).

- `vqa_accuracy` (VQA v2, TextVQA): min(#annotators agreeing / 3, 1) averaged over the leave-one-out
  subsets of the annotators' answers, after the official normalisation (`vqa_text`).
- `anls` (DocVQA, InfoVQA): 1 - normalised Levenshtein distance when that distance is below 0.5,
  else 0; the best over the accepted answers; case-insensitive.
- `relaxed_correct` (ChartQA): a number within 5 % of the target, else exact (case-insensitive).
- `choice_of` / `choice_correct` (AI2D, MMMU, RealWorldQA, MathVista multiple choice): the option a
  free-text answer names.
- `free_form_correct` (the open questions of MMMU, RealWorldQA, MathVista): normalised exact match.
- `count_of` (CountBenchQA, PixMo-Count): the count an answer states (PIXMO_SPEC §3).
"""

from __future__ import annotations

import math
import re
from statistics import fmean

from pixmo_formats.points import strip_point_markup
from training.benchmarks.vqa_text import normalise_answer
from training.points import parse_count, parse_points

ANLS_THRESHOLD = 0.5
RELAXED_TOLERANCE = 0.05


def vqa_accuracy(prediction: str, answers: list[str]) -> float:
    """Official VQA accuracy. With ten answers: for each annotator left out, min(matches among the
    other nine / 3, 1), averaged; 2 of 10 agreeing -> (2 * 1/3 + 8 * 2/3) / 10 = 0.6. A single
    answer (a data file without the annotators' list) is exact normalised match."""
    predicted = normalise_answer(prediction)
    truths = [normalise_answer(a) for a in answers]
    if len(truths) == 1:
        return float(predicted == truths[0])
    subsets = [truths[:i] + truths[i + 1 :] for i in range(len(truths))]
    return fmean(min(1.0, sum(t == predicted for t in others) / 3) for others in subsets)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insert, delete, substitute each cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def anls(prediction: str, answers: list[str], threshold: float = ANLS_THRESHOLD) -> float:
    """Biten et al. 2019, eq. 1: the best over the accepted answers of 1 - NL when NL < threshold,
    else 0, NL = Levenshtein / max(len); compared lower-cased with the ends stripped (the answers
    are "not case sensitive" but "space sensitive" inside)."""
    predicted = prediction.strip().lower()
    best = 0.0
    for answer in answers:
        truth = answer.strip().lower()
        longest = max(len(truth), len(predicted))
        distance = levenshtein(truth, predicted) / longest if longest else 0.0
        best = max(best, 1.0 - distance if distance < threshold else 0.0)
    return best


_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _number(text: str) -> tuple[float, bool] | None:
    """(value, written with a trailing %) of a text that is one number: "1,234", "45%", "-0.5"."""
    text = text.strip()
    percent = text.endswith("%")
    body = text[:-1].strip() if percent else text
    if _THOUSANDS.fullmatch(body):
        body = body.replace(",", "")
    try:
        value = float(body)
    except ValueError:
        return None
    return (value, percent) if math.isfinite(value) else None


def relaxed_correct(prediction: str, target: str, tolerance: float = RELAXED_TOLERANCE) -> bool:
    """ChartQA's relaxed accuracy (Masry et al. 2022, after Methani et al. 2020), as pix2struct's
    reference code computes it: a numeric target is met by a number within `tolerance` of it
    relative to the target (a 0 target only by 0); anything else by the same text, case-insensitive.
    A trailing % reads as a percent (45% = 0.45, as pix2struct); when only one side has it, the
    number without it counts too (45% = 45), since the answers drop the sign the chart shows.
    Thousands commas are dropped (1,234 = 1234)."""
    predicted, truth = _number(prediction), _number(target)
    if predicted is None or truth is None:
        return prediction.strip().lower() == target.strip().lower()
    (p, p_percent), (t, t_percent) = predicted, truth
    pairs = [(p / 100 if p_percent else p, t / 100 if t_percent else t)]
    if p_percent != t_percent:
        pairs.append((p, t))
    return any(_within(p, t, tolerance) for p, t in pairs)


def _within(predicted: float, target: float, tolerance: float) -> bool:
    if target == 0:
        return predicted == 0
    return abs(predicted - target) / abs(target) <= tolerance


# "(B)", "[B]" anywhere; "B." / "B:" / "B)" opening the answer; "answer is B", "Answer: (B)"
_BARE = re.compile(r"[\(\[]?\s*([A-Za-z])\s*[\)\]\.:]?")
_IN_BRACKETS = re.compile(r"[\(\[]([A-Z])[\)\]]")
_OPENING = re.compile(r"^([A-Z])\s*[\.:\)]\s")
_ANSWER_IS = re.compile(r"(?i:\banswer(?:\s+is|:))\s*(?:(?i:option)\s+)?[\(\[]?([A-Z])(?=[\)\]\.:,;]|\s|$)")


def choice_of(prediction: str, choices: list[tuple[str, str]]) -> str | None:
    """The key of the option a free-text answer names, or None. `choices` are (key, text), keys
    single letters ("A", "B", ...). In order: the answer is the letter alone ("B", "(B)", "b."); it
    says "the answer is B" / "Answer: (B)"; it holds one letter in brackets; it opens with "B." /
    "B:" / "B)"; it is an option's text; it contains exactly one option's text."""
    keys = {key.upper(): key for key, _ in choices}
    text = prediction.strip()
    if (match := _BARE.fullmatch(text)) and match.group(1).upper() in keys:
        return keys[match.group(1).upper()]
    if (match := _ANSWER_IS.search(text)) and match.group(1).upper() in keys:
        return keys[match.group(1).upper()]
    bracketed = {m for m in _IN_BRACKETS.findall(text) if m in keys}
    if len(bracketed) == 1:
        return keys[bracketed.pop()]
    if (match := _OPENING.match(text)) and match.group(1) in keys:
        return keys[match.group(1)]
    return _choice_by_text(text, choices)


def _choice_by_text(text: str, choices: list[tuple[str, str]]) -> str | None:
    said = _plain(text)
    options = [(key, _plain(option)) for key, option in choices if _plain(option)]
    for key, option in options:
        if said == option:
            return key
    contained = [key for key, option in options if re.search(rf"(?<!\w){re.escape(option)}(?!\w)", said)]
    return contained[0] if len(contained) == 1 else None


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s%.\-/]", " ", text.lower()).split()).strip(" .")


def choice_correct(prediction: str, choices: list[tuple[str, str]], answer: str) -> float:
    return float(choice_of(prediction, choices) == answer)


_LAST_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+")


def free_form_correct(prediction: str, answer: str, precision: int | None = None) -> float:
    """An open answer: a numeric target is met by the last number the prediction states, equal to
    it, or equal once both are rounded to `precision` decimals (MathVista's `precision` column);
    any other target by the same text after the VQA normalisation."""
    target = _number(answer)
    if target is None or target[1]:
        return float(normalise_answer(prediction) == normalise_answer(answer))
    numbers = _LAST_NUMBER.findall(prediction)
    if not numbers:
        return float(normalise_answer(prediction) == normalise_answer(answer))
    said = _number(numbers[-1].replace(",", ""))
    if said is None:
        return 0.0
    if precision is not None:
        return float(round(said[0], precision) == round(target[0], precision))
    return float(said[0] == target[0])


_TOTAL = re.compile(r"a total of\s+(\d+)", re.IGNORECASE)
_NUMBER_WORD = re.compile(r"\b(\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten)\b", re.IGNORECASE)


def count_of(prediction: str) -> int | None:
    """The count an answer states (PIXMO_SPEC §3): "a total of N"; else, when the answer is only
    points (no number outside the tags), the number of points; else the final number or number
    word, or 0 for "none" (training.points.parse_count). None when it states no count."""
    if match := _TOTAL.search(prediction):
        return int(match.group(1))
    points = parse_points(prediction)
    if points and not _NUMBER_WORD.search(strip_point_markup(prediction)):
        return len(points)
    return parse_count(prediction)


def count_correct(prediction: str, truth: int) -> tuple[float, float]:
    """(exact, within one) for one counting answer; an answer with no count is wrong."""
    said = count_of(prediction)
    if said is None:
        return 0.0, 0.0
    return float(said == truth), float(abs(said - truth) <= 1)
