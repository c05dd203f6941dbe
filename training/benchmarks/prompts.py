"""One benchmark row -> one `Item`: the prompt the model is asked (Molmo's style prefix and layout,
`registry`), what the metric compares the answer with, and the row's image, still encoded."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from training.benchmarks.formats import BenchmarkDataError, Table, has_value, parse_list
from training.benchmarks.registry import CHOICE, OPEN_STYLE, SHORT, Benchmark

INDEX_COLUMNS = ("index", "question_id", "questionId", "pid", "id", "example_id")
IMAGE_COLUMNS = ("decoded_image", "image", "image_1", "image_path")
NO_LETTER_STYLE = "ai2_diagram_no_letter"  # AI2D questions whose options are the diagram's letters
_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])[\.\):]\s*(.+?)\s*$", re.MULTILINE)


@dataclass
class Item:
    index: str  # the row's index column as text (or its 0-based position when there is none)
    prompt: str
    scoring: str  # vqa, anls, relaxed, choice, free_form, count
    answers: list[str]  # annotators' / accepted answers; [option key]; [count]
    choices: list[tuple[str, str]] = field(default_factory=list)  # (key, text) of each option
    precision: int | None = None  # decimals a numeric free-form answer is compared at
    image: object = None  # the row's image cell, encoded (formats.image_bytes)


def items(bench: Benchmark, table: Table) -> list[Item]:
    """Every row of `table` as an item of `bench`; BenchmarkDataError names a missing column or a
    row the benchmark cannot use."""
    _check_columns(bench, table)
    built, seen = [], set()
    for position, row in enumerate(table.rows):
        index = _index(row, position)
        if index in seen:
            raise BenchmarkDataError(f"{table.source} has the index {index} on more than one row")
        seen.add(index)
        try:
            built.append(_item(bench, row, index))
        except ValueError as error:
            raise BenchmarkDataError(f"{table.source} row {position + 1} (index {index}): {error}") from None
    return built


def _check_columns(bench: Benchmark, table: Table) -> None:
    needs = [bench.question_columns, bench.answer_columns]
    if bench.kind == "count":
        needs = [(*bench.question_columns, "label"), bench.answer_columns]
    missing = [" or ".join(names) for names in needs if not set(names) & set(table.columns)]
    if missing:
        raise BenchmarkDataError(
            f"{table.source} lacks the column(s) {'; '.join(missing)} that {bench.name} needs "
            f"(it has {', '.join(table.columns[:12])})"
        )


def _index(row: dict, position: int) -> str:
    for column in INDEX_COLUMNS:
        if has_value(row.get(column)):
            return index_text(row[column])
    return str(position)


def index_text(value) -> str:
    """An index as predictions name it: 12, 12.0 and "12" are all "12"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _first(row: dict, columns: tuple[str, ...]):
    return next((row[c] for c in columns if has_value(row.get(c))), None)


def _question(bench: Benchmark, row: dict) -> str:
    question = str(_first(row, bench.question_columns) or "").strip()
    if bench.simplify_question:  # Molmo's MathVista: the question alone, without hint and choices
        question = question.split("Question:")[-1].split("Hint:")[0].split("Choices:")[0].strip()
    if has_value(row.get("hint")):
        question = f"{str(row['hint']).strip()}\n{question}"
    return question


def _item(bench: Benchmark, row: dict, index: str) -> Item:
    image = _first(row, IMAGE_COLUMNS)
    answer = _first(row, bench.answer_columns)
    if answer is None:
        raise ValueError(f"no answer in {' or '.join(bench.answer_columns)}")
    if bench.kind == "count":
        return _count_item(bench, row, index, answer, image)
    question = _question(bench, row)
    if bench.kind == "choice":
        return _choice_item(bench, row, index, question, answer, image)
    prompt = SHORT.format(style=bench.style, question=question)
    return Item(index, prompt, bench.kind, _answer_texts(answer), image=image)


def _answer_texts(value) -> list[str]:
    """Answers of a cell: a list (of texts, or of VQA's {answer, answer_id, …} dicts) or one text."""
    texts = [v.get("answer") if isinstance(v, dict) else v for v in parse_list(value)]
    answers = [str(t) for t in texts if t is not None]
    if not answers:
        raise ValueError(f"the answer cell {value!r} holds no answer")
    return answers


def _count_item(bench: Benchmark, row: dict, index: str, answer, image) -> Item:
    question = str(_first(row, bench.question_columns) or "").strip()
    if not question:
        if not has_value(row.get("label")):
            raise ValueError("neither a question nor a label to ask about")
        question = f"How many {str(row['label']).strip()} are there?"
    try:
        count = int(float(str(answer).strip()))
    except ValueError:
        raise ValueError(f"the count {answer!r} is not a number") from None
    return Item(index, SHORT.format(style=bench.style, question=question), "count", [str(count)], image=image)


def _choice_item(bench: Benchmark, row: dict, index: str, question: str, answer, image) -> Item:
    """A multiple-choice row (options in columns or a list), one whose options are written into
    the question (RealWorldQA's own files), or an open question (asked in Molmo's short style)."""
    options, positional = _options(row)
    if options:
        position = _answer_position(str(answer).strip(), options, bench.index_answers and positional)
        return _listed_choice_item(bench, index, question, options, position, image)
    inline = _OPTION_LINE.findall(question)
    if str(answer).strip() in {key for key, _ in inline}:
        prompt = SHORT.format(style=bench.style, question=question)
        return Item(index, prompt, "choice", [str(answer).strip()], choices=inline, image=image)
    prompt = SHORT.format(style=OPEN_STYLE, question=question)
    precision = _precision(row.get("precision"))
    return Item(index, prompt, "free_form", _answer_texts(answer), precision=precision, image=image)


def _listed_choice_item(
    bench: Benchmark, index: str, question: str, options: list[str], position: int, image
):
    if bench.name == "ai2d" and _letters_only(options):
        # Molmo asks these with the options' own letters, unlabelled, and expects one of them back
        style, keys = NO_LETTER_STYLE, [o.upper() if _is_letter(o) else o for o in options]
        lines = keys
    else:
        style, keys = bench.style, [chr(ord("A") + i) for i in range(len(options))]
        lines = [f"{key}: {option}" for key, option in zip(keys, options)]
    prompt = CHOICE.format(style=style, question=question, options="\n".join(lines))
    return Item(index, prompt, "choice", [keys[position]], choices=list(zip(keys, options)), image=image)


def _letters_only(options: list[str]) -> bool:
    """AI2D's "abc" questions: all options but at most one are the diagram's letters, all distinct."""
    return sum(_is_letter(o) for o in options) >= len(options) - 1 and len(
        {o.upper() for o in options}
    ) == len(options)


def _options(row: dict) -> tuple[list[str], bool]:
    """(option texts, from a list column) of a row: VLMEvalKit's columns A, B, C, … or a list
    column (`options`: AI2D, MMMU; `choices`: MathVista)."""
    lettered = []
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if not has_value(row.get(letter)):
            break
        lettered.append(str(row[letter]).strip())
    if lettered:
        return lettered, False
    for column in ("options", "choices"):
        if has_value(row.get(column)):
            return [str(o).strip() for o in parse_list(row[column]) if has_value(o)], True
    return [], False


def _answer_position(answer: str, options: list[str], prefer_index: bool) -> int:
    n = len(options)
    as_index = int(answer) if answer.isdigit() and int(answer) < n else None
    if prefer_index and as_index is not None:
        return as_index
    if len(answer) == 1 and "A" <= answer <= chr(ord("A") + n - 1):
        return ord(answer) - ord("A")
    for position, option in enumerate(options):
        if option.lower() == answer.lower():
            return position
    if as_index is not None:
        return as_index
    raise ValueError(f"the answer {answer!r} is none of the {n} options")


def _is_letter(text: str) -> bool:
    return len(text.strip()) == 1 and text.strip().isalpha()


def _precision(value) -> int | None:
    try:
        return int(float(value)) if has_value(value) else None
    except (TypeError, ValueError):
        return None


def templates(bench: Benchmark) -> dict[str, str]:
    """The prompt templates a benchmark's rows are asked with, by the kind of row."""
    if bench.kind != "choice":
        return {"question": SHORT.format(style=bench.style, question="{question}")}
    found = {"multiple choice": CHOICE.format(style=bench.style, question="{question}", options="{options}")}
    if bench.name == "ai2d":
        found["options are the diagram's letters"] = CHOICE.format(
            style=NO_LETTER_STYLE, question="{question}", options="{options}"
        )
    else:
        found["options written in the question"] = SHORT.format(style=bench.style, question="{question}")
        found["open question"] = SHORT.format(style=OPEN_STYLE, question="{question}")
    return found
