"""Turn the rows of one image into training text (PIXMO_SPEC §4, text format).

Every release kind maps to a formatter; a formatter takes all rows of one image and returns its
annotations as (prompt, answer) text pairs. `render` then lays them out: pre-training prompts are
a style and length tag (`long_caption 83:`), SFT turns are ` User: {prompt} Assistant:` with the
answer ` {answer}` followed by EOS.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from pixmo_formats.capqa import USER, parse_dialogue
from pixmo_formats.coords import to_percent
from pixmo_formats.points import format_count, format_points

MAX_POINTS = 40  # pointing rows with more instances were left out of Molmo's training
NO_POINTING_PREFIX = "Answer without pointing:"
LENGTH_HINT_PROB = 0.9
CHAT_STYLE_PROB = 0.1  # chat-style PixMo tasks carry their style prefix this often
# Molmo's style names where they are not the dataset's own name; any other dataset's style is
# derived from its name and config (pixmo-docs + charts -> pixmo_docs_charts)
DEFAULT_STYLES = {
    "pixmo-cap": "long_caption", "pixmo-points": "pointing", "pixmo-points-eval": "pointing",
    "pixmo-count": "point_count", "pixmo-ask-model-anything": "user_qa", "pixmo-point-explanations": "point_qa",
}  # fmt: skip
COUNT_STYLE = "point_count"  # counting rows inside pixmo-points
# the chat-style PixMo tasks: their prefix only CHAT_STYLE_PROB of the time; every other
# (academic or synthetic) dataset always carries its prefix
CHAT_STYLE_KINDS = {
    "pixmo-cap", "pixmo-points", "pixmo-points-eval", "pixmo-count", "pixmo-ask-model-anything"
}  # fmt: skip
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


def style_for(kind: str, config: str | None = None, overrides: dict[str, str] | None = None) -> Style:
    """The style prefix of a dataset (and config, e.g. pixmo-docs' charts): an override keyed
    `kind/config` or `kind` (DataConfig.styles), else Molmo's name, else derived from the names."""
    overrides = overrides or {}
    keys = [f"{kind}/{config}", kind] if config else [kind]
    name = next((overrides[k] for k in keys if k in overrides), None)
    if name is None:
        name = DEFAULT_STYLES.get(kind) or snake(f"{kind} {config or ''}")
    return Style(name, always=kind not in CHAT_STYLE_KINDS)


def snake(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def chat(prompt: str, answer: str, style: Style, rng: random.Random) -> Annotation:
    return Annotation(f" User: {style.apply(prompt, rng)} Assistant:", f" {answer}")


def _qa_prompt(question: str) -> str:
    if question.strip().lower().startswith("how many"):
        return f"{NO_POINTING_PREFIX} {question}"
    return question


def cap_pretrain(rows, rng, size, style):
    out = []
    for row in rows:
        if row.get("caption"):
            out.append(Annotation(length_tag("long_caption", row["caption"], rng), f" {row['caption']}"))
        for transcript in row.get("transcripts") or []:
            out.append(Annotation(length_tag("transcript", transcript, rng), f" {transcript}"))
    return out


def cap_sft(rows, rng, size, style):
    return [chat(rng.choice(CAPTION_PROMPTS), r["caption"], style, rng) for r in rows if r.get("caption")]


def points(rows, rng, size, style):
    out = []
    for r in rows:
        pts = [(p["x"], p["y"]) for p in r.get("points") or []]
        if len(pts) > MAX_POINTS:
            continue
        if r.get("collection_method") == "counting":
            count_style = Style(COUNT_STYLE, style.always)
            out.append(
                chat(f"How many {r['label']} are there?", format_count(pts, r["label"]), count_style, rng)
            )
        else:
            out.append(chat(f"Point to {r['label']}", format_points(pts, r["label"]), style, rng))
    return out


def count(rows, rng, size, style):
    """pixmo-count rows carry pixel points; the model speaks 0-100."""
    width, height = size
    out = []
    for r in rows:
        pts = [(to_percent(p["x"], width), to_percent(p["y"], height)) for p in r.get("points") or []]
        if len(pts) > MAX_POINTS:
            continue
        answer = format_count(pts, r["label"]) if pts else str(r["count"])
        out.append(chat(f"How many {r['label']} are there?", answer, style, rng))
    return out


def ask_model_anything(rows, rng, size, style):
    return [chat(_qa_prompt(r["question"]), r["answer"], style, rng) for r in rows]


def cap_qa(rows, rng, size, style):
    """`question` holds the dialogue so far as `[USER] ... [ASSISTANT] ... [USER] ...`, `answer`
    the last assistant turn. Every assistant answer of the dialogue carries loss, not only the last."""
    out = []
    for r in rows:
        history, prompt = [], ""
        for i, (role, text) in enumerate(parse_dialogue(r["question"])):
            if role == USER:
                question = _qa_prompt(text)
                prompt += f" User: {style.apply(question, rng) if i == 0 else question}"
            elif prompt:
                history.append((f"{prompt} Assistant:", f" {text}"))
                prompt = ""
            else:  # an answer with no question before it: context, not trained on
                prompt += f" Assistant: {text}"
        out.append(Annotation(f"{prompt} Assistant:", f" {r['answer']}", tuple(history)))
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
    return [chat("What time is being shown?", r["text"], style, rng) for r in rows]


FORMATTERS = {
    ("pixmo-cap", "pretrain"): cap_pretrain,
    ("pixmo-cap", "sft"): cap_sft,
    ("pixmo-points", "sft"): points,
    ("pixmo-points-eval", "sft"): points,
    ("pixmo-count", "sft"): count,
    ("pixmo-ask-model-anything", "sft"): ask_model_anything,
    ("pixmo-cap-qa", "sft"): cap_qa,
    ("pixmo-point-explanations", "sft"): point_explanations,
    ("pixmo-docs", "sft"): docs,
    ("pixmo-clocks", "sft"): clocks,
}


def format_example(
    kind: str,
    stage: str,
    rows: list[dict],
    rng: random.Random,
    size: tuple[int, int],
    style: Style | None = None,
) -> list[Annotation]:
    """Annotations of one image's rows; `size` is the image's (width, height) in px; `style` the
    SFT prefix (default: `style_for(kind)`). Any kind without its own pre-training format trains
    as SFT turns, so any mix of releases trains."""
    if stage not in ("pretrain", "sft"):
        raise ValueError(f"stage={stage!r} must be pretrain or sft")
    formatter = FORMATTERS.get((kind, stage)) or FORMATTERS.get((kind, "sft"))
    if formatter is None:
        raise ValueError(
            f"no formatting for release kind {kind!r}; known: {sorted({k for k, _ in FORMATTERS})}"
        )
    return formatter(rows, rng, size, style or style_for(kind))
