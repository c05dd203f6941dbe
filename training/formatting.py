"""Turn the rows of one image into training text (PIXMO_SPEC §4, text format).

A release's dataset has a task in the registry (`pixmo_builders.schemas`: caption, pointing, ...)
and every task maps to a formatter, so a new dataset of a known task trains with no change here. A
formatter takes all rows of one image and returns its annotations as (prompt, answer) text pairs.
`render` then lays them out: pre-training prompts are a style and length tag (`long_caption 83:`),
SFT turns are ` User: {prompt} Assistant:` with the answer ` {answer}` followed by EOS.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from pixmo_builders.schemas import DATASETS
from pixmo_formats.capqa import USER, parse_dialogue
from pixmo_formats.coords import to_percent
from pixmo_formats.points import format_count, format_points

MAX_POINTS = 40  # pointing rows with more instances were left out of Molmo's training
NO_POINTING_PREFIX = "Answer without pointing:"
LENGTH_HINT_PROB = 0.9
CHAT_STYLE_PROB = 0.1  # chat-style PixMo tasks carry their style prefix this often
# Molmo's style name for every dataset of a task; a dataset of any other task takes its style
# from its own name and config (pixmo-docs + charts -> pixmo_docs_charts)
TASK_STYLES = {
    "caption": "long_caption", "pointing": "pointing", "counting": "point_count", "user_qa": "user_qa",
    "point_qa": "point_qa",
}  # fmt: skip
COUNT_STYLE = TASK_STYLES["counting"]  # counting rows inside a pointing dataset
# the chat-style PixMo tasks: their prefix only CHAT_STYLE_PROB of the time; every other
# (academic or synthetic) task always carries its prefix
CHAT_STYLE_TASKS = {"caption", "pointing", "counting", "user_qa"}
CLOCK_QUESTION = "What time is being shown?"
CAPTION_PROMPTS = (
    "Describe this image in detail.",
    "Write a long caption for this image.",
    "What is in this image?",
)


@dataclass
class Annotation:
    prompt: str  # text before the answer, already laid out (tag or User/Assistant turns)
    answer: str  # text the loss is on (EOS is appended at tokenisation)
    # earlier (prompt, answer) turns of the same dialogue; each of their answers carries loss too
    history: tuple[tuple[str, str], ...] = ()
    # the same dialogue as plain (question, answer) turns, for a model that lays text out with
    # its own chat template (the molmo2 family); a question carries its style prefix, if any
    chat_turns: tuple[tuple[str, str], ...] = ()

    @property
    def turns(self) -> list[tuple[str, str]]:
        return [*self.history, (self.prompt, self.answer)]


def length_tag(style: str, text: str, rng: random.Random, hint_prob: float = LENGTH_HINT_PROB) -> str:
    """`style N:` with N = (characters + N(0, 25) noise) // 15, present `hint_prob` of the time."""
    if rng.random() >= hint_prob:
        return f"{style}:"
    return f"{style} {max(0, int((len(text) + rng.gauss(0, 25)) // 15))}:"


@dataclass(frozen=True)
class Style:
    name: str  # the prefix without its colon; "" = none
    always: bool  # False: only CHAT_STYLE_PROB of the time

    def apply(self, prompt: str, rng: random.Random) -> str:
        if self.name and (self.always or rng.random() < CHAT_STYLE_PROB):
            return f"{self.name}: {prompt}"
        return prompt


def task_of(kind: str) -> str | None:
    """The registry's task of a released dataset; None for a name the registry does not hold."""
    schema = DATASETS.get(kind)
    return schema.task if schema else None


def style_for(kind: str, config: str | None = None, overrides: dict[str, str] | None = None) -> Style:
    """The style prefix of a dataset (and config, e.g. pixmo-docs' charts): an override keyed
    `kind/config` or `kind` (DataConfig.styles), else Molmo's name for its task, else derived
    from the names."""
    overrides, task = overrides or {}, task_of(kind)
    keys = [f"{kind}/{config}", kind] if config else [kind]
    name = next((overrides[k] for k in keys if k in overrides), None)
    if name is None:
        name = TASK_STYLES.get(task) or snake(f"{kind} {config or ''}")
    return Style(name, always=task not in CHAT_STYLE_TASKS)


def snake(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def chat(prompt: str, answer: str, style: Style, rng: random.Random) -> Annotation:
    question = style.apply(prompt, rng)
    return Annotation(f" User: {question} Assistant:", f" {answer}", chat_turns=((question, answer),))


@dataclass(frozen=True)
class PointText:
    """How answers write points: ours (`pixmo_formats.points`) or a model family's own."""

    format_points: Callable[[list, str], str]
    format_count: Callable[[list, str], str]


MOLMO_POINTS = PointText(format_points, format_count)


def _qa_prompt(question: str) -> str:
    if question.strip().lower().startswith("how many"):
        return f"{NO_POINTING_PREFIX} {question}"
    return question


TRANSCRIPT_CHOICES = ("one", "all")


def cap_pretrain(rows, rng, size, style, transcripts="one"):
    """The caption and, with `transcripts="one"`, one of its transcripts drawn at random (as the
    released `pixmo_cap_with_transcripts`), or with "all" every transcript; each its own annotation."""
    out = []
    for row in rows:
        if row.get("caption"):
            out.append(_tagged(length_tag("long_caption", row["caption"], rng), row["caption"]))
        spoken = row.get("transcripts") or []
        if transcripts == "one" and spoken:
            spoken = [rng.choice(spoken)]
        for transcript in spoken:
            out.append(_tagged(length_tag("transcript", transcript, rng), transcript))
    return out


def _tagged(tag: str, text: str) -> Annotation:
    return Annotation(tag, f" {text}", chat_turns=((tag, text),))


def cap_sft(rows, rng, size, style):
    return [chat(rng.choice(CAPTION_PROMPTS), r["caption"], style, rng) for r in rows if r.get("caption")]


def points(rows, rng, size, style, point_text: PointText = MOLMO_POINTS):
    out = []
    for r in rows:
        pts = [(p["x"], p["y"]) for p in r.get("points") or []]
        if len(pts) > MAX_POINTS:
            continue
        if r.get("collection_method") == "counting":
            count_style = Style(COUNT_STYLE, style.always)
            out.append(
                chat(
                    f"How many {r['label']} are there?",
                    point_text.format_count(pts, r["label"]),
                    count_style,
                    rng,
                )
            )
        else:
            out.append(chat(f"Point to {r['label']}", point_text.format_points(pts, r["label"]), style, rng))
    return out


def count(rows, rng, size, style, point_text: PointText = MOLMO_POINTS):
    """Counting rows (pixmo-count) carry pixel points; the model speaks 0-100."""
    width, height = size
    out = []
    for r in rows:
        pts = [(to_percent(p["x"], width), to_percent(p["y"], height)) for p in r.get("points") or []]
        if len(pts) > MAX_POINTS:
            continue
        answer = point_text.format_count(pts, r["label"]) if pts else str(r["count"])
        out.append(chat(f"How many {r['label']} are there?", answer, style, rng))
    return out


def ask_model_anything(rows, rng, size, style):
    return [chat(_qa_prompt(r["question"]), r["answer"], style, rng) for r in rows]


def cap_qa(rows, rng, size, style):
    """`question` holds the dialogue so far as `[USER] ... [ASSISTANT] ... [USER] ...`, `answer`
    the last assistant turn. Every assistant answer of the dialogue carries loss, not only the last."""
    out = []
    for r in rows:
        history, prompt, turns, asked = [], "", [], []
        for i, (role, text) in enumerate(parse_dialogue(r["question"])):
            if role == USER:
                question = _qa_prompt(text)
                question = style.apply(question, rng) if i == 0 else question
                prompt += f" User: {question}"
                asked.append(question)
            elif prompt:
                history.append((f"{prompt} Assistant:", f" {text}"))
                turns.append((" ".join(asked), text))
                prompt, asked = "", []
            else:  # an answer with no question before it: context, not trained on
                prompt += f" Assistant: {text}"
                asked.append(f"Assistant: {text}")
        turns.append((" ".join(asked), r["answer"]))
        out.append(Annotation(f"{prompt} Assistant:", f" {r['answer']}", tuple(history), tuple(turns)))
    return out


def point_explanations(rows, rng, size, style):
    return [chat(r["question"], r["response"], style, rng) for r in rows]


def docs(rows, rng, size, style):
    return [
        chat(_qa_prompt(qa["question"]), qa["answer"], style, rng)
        for r in rows
        for qa in r.get("questions") or []
    ]


def clocks(rows, rng, size, style):
    return [chat(CLOCK_QUESTION, r["text"], style, rng) for r in rows]


FORMATTERS = {  # (task, stage)
    ("caption", "pretrain"): cap_pretrain,
    ("caption", "sft"): cap_sft,
    ("pointing", "sft"): points,
    ("counting", "sft"): count,
    ("user_qa", "sft"): ask_model_anything,
    ("dialogue_qa", "sft"): cap_qa,
    ("point_qa", "sft"): point_explanations,
    ("doc_qa", "sft"): docs,
    ("clock_reading", "sft"): clocks,
}


def format_example(
    kind: str,
    stage: str,
    rows: list[dict],
    rng: random.Random,
    size: tuple[int, int],
    style: Style | None = None,
    *,
    transcripts: str = "one",
    point_text: PointText = MOLMO_POINTS,
) -> list[Annotation]:
    """Annotations of one image's rows; `size` is the image's (width, height) in px; `style` the
    SFT prefix (default: `style_for(kind)`); `transcripts` how many of a caption's transcripts
    pre-training takes ("one" at random, or "all"); `point_text` how answers write points (ours, or
    a model family's own). Any kind without its own pre-training format
    trains as SFT turns, so any mix of releases trains."""
    if stage not in ("pretrain", "sft"):
        raise ValueError(f"stage={stage!r} must be pretrain or sft")
    if transcripts not in TRANSCRIPT_CHOICES:
        raise ValueError(f"transcripts={transcripts!r} must be one of {TRANSCRIPT_CHOICES}")
    task = task_of(kind)
    formatter = FORMATTERS.get((task, stage)) or FORMATTERS.get((task, "sft"))
    if formatter is None:
        known = sorted(name for name, schema in DATASETS.items() if (schema.task, "sft") in FORMATTERS)
        of_task = f" (task {task!r})" if task else ""
        raise ValueError(f"no formatting for release kind {kind!r}{of_task}; known: {known}")
    options = {"transcripts": transcripts} if formatter is cap_pretrain else {}
    if formatter in (points, count):
        options["point_text"] = point_text
    return formatter(rows, rng, size, style or style_for(kind), **options)
