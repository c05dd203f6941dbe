"""The arena's JSON Lines files: prompts about images, and one model's answers to them.

A prompts line is `{"prompt_id", "image", "prompt", "category"?}` (the image a path relative to
the file, or absolute); an answers line is `{"prompt_id", "model", "answer"}`. `pixmo infer
--prompts` reads the first and writes the second; the platform's arena import reads both.
Reading collects every problem as "FILE line N: …" instead of stopping at the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_PROMPT_CHARS = 4_000
MAX_ANSWER_CHARS = 20_000
MAX_LINES = 100_000


class ArenaFormatError(ValueError):
    """A file that cannot be read as JSON Lines at all (not UTF-8, too many lines)."""


@dataclass(frozen=True)
class ArenaPrompt:
    prompt_id: str
    image: str
    prompt: str
    category: str = ""

    def image_path(self, prompts_file: Path) -> Path:
        path = Path(self.image)
        return path if path.is_absolute() else prompts_file.parent / path


def read_prompts(path: Path) -> tuple[list[ArenaPrompt], list[str]]:
    """(prompts, problems): every line with a prompt_id, image and prompt, ids unique."""
    prompts, seen, problems = [], set(), []
    for line_no, row in _json_lines(path, problems):
        prompt_id, image, prompt = (_text(row, key) for key in ("prompt_id", "image", "prompt"))
        category = row.get("category") or ""
        where = f"{path.name} line {line_no}"
        if missing := _missing(prompt_id=prompt_id, image=image, prompt=prompt):
            problems.append(f"{where}: no {missing}")
        elif prompt_id in seen:
            problems.append(f"{where}: prompt_id '{prompt_id}' appears twice")
        elif len(prompt) > MAX_PROMPT_CHARS:
            problems.append(f"{where}: the prompt is {len(prompt):,} characters, over the {MAX_PROMPT_CHARS:,}-character limit")
        elif not isinstance(category, str):
            problems.append(f"{where}: category must be text")
        else:
            seen.add(prompt_id)
            prompts.append(ArenaPrompt(prompt_id=prompt_id, image=image, prompt=prompt, category=category[:64]))
    return prompts, problems


def read_answers(path: Path, *, prompt_ids: set[str]) -> tuple[set[str], dict[str, str], list[str]]:
    """(models named, prompt_id -> answer, problems): each known prompt answered at most once.
    An empty answer is an answer (a bad one); a missing `answer` key is a problem."""
    answers, models, problems = {}, set(), []
    for line_no, row in _json_lines(path, problems):
        prompt_id, model, answer = (_text(row, key) for key in ("prompt_id", "model", "answer"))
        where = f"{path.name} line {line_no}"
        if missing := _missing(prompt_id=prompt_id, model=model, answer=answer, may_be_empty=("answer",)):
            problems.append(f"{where}: no {missing}")
        elif prompt_id not in prompt_ids:
            problems.append(f"{where}: prompt_id '{prompt_id}' is not in the prompts file")
        elif prompt_id in answers:
            problems.append(f"{where}: prompt '{prompt_id}' is answered twice")
        elif len(answer) > MAX_ANSWER_CHARS:
            problems.append(f"{where}: the answer is {len(answer):,} characters, over the {MAX_ANSWER_CHARS:,}-character limit")
        else:
            answers[prompt_id] = answer.strip()
            models.add(model)
    return models, answers, problems


def answer_line(*, prompt_id: str, model: str, answer: str) -> str:
    return json.dumps({"prompt_id": prompt_id, "model": model, "answer": answer}) + "\n"


def _json_lines(path: Path, problems: list[str]) -> Iterator[tuple[int, dict]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArenaFormatError(f"{path.name} is not UTF-8 text; write JSON Lines, one object per line") from None
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line_no > MAX_LINES:
            raise ArenaFormatError(f"{path.name} has more than {MAX_LINES:,} lines; split it")
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            problems.append(f"{path.name} line {line_no}: not JSON ({error.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{path.name} line {line_no}: not a JSON object")
            continue
        yield line_no, row


def _text(row: dict, key: str) -> str | None:
    value = row.get(key)
    if key == "prompt_id" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def _missing(*, may_be_empty: tuple[str, ...] = (), **values: str | None) -> str:
    """'image or prompt' for the keys absent (or blank, unless they may be empty); '' when none."""
    gone = [key for key, value in values.items()
            if value is None or (key not in may_be_empty and not value.strip())]
    return " or ".join(gone)
