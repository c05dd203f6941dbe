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

from training.points import format_count, format_points

MAX_POINTS = 40  # pointing rows with more instances were left out of Molmo's training
NO_POINTING_PREFIX = "Answer without pointing:"
LENGTH_HINT_PROB = 0.9
CHAT_STYLE_PROB = 0.1  # chat-style PixMo tasks carry their style prefix this often
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


def chat(
    prompt: str, answer: str, *, style: str | None, always_style: bool, rng: random.Random
) -> Annotation:
    if style and (always_style or rng.random() < CHAT_STYLE_PROB):
        prompt = f"{style}: {prompt}"
    return Annotation(f" User: {prompt} Assistant:", f" {answer}")


def _qa_prompt(question: str) -> str:
    if question.strip().lower().startswith("how many"):
        return f"{NO_POINTING_PREFIX} {question}"
    return question


def cap_pretrain(rows, rng, size):
    out = []
    for row in rows:
        if row.get("caption"):
            out.append(Annotation(length_tag("long_caption", row["caption"], rng), f" {row['caption']}"))
        for transcript in row.get("transcripts") or []:
            out.append(Annotation(length_tag("transcript", transcript, rng), f" {transcript}"))
    return out


def cap_sft(rows, rng, size):
    return [
        chat(rng.choice(CAPTION_PROMPTS), r["caption"], style="long_caption", always_style=False, rng=rng)
        for r in rows
        if r.get("caption")
    ]


def points(rows, rng, size):
    out = []
    for r in rows:
        pts = [(p["x"], p["y"]) for p in r.get("points") or []]
        if len(pts) > MAX_POINTS:
            continue
        if r.get("collection_method") == "counting":
            out.append(
                chat(
                    f"How many {r['label']} are there?",
                    format_count(pts, r["label"]),
                    style="point_count",
                    always_style=False,
                    rng=rng,
                )
            )
        else:
            out.append(
                chat(
                    f"Point to {r['label']}",
                    format_points(pts, r["label"]),
                    style="pointing",
                    always_style=False,
                    rng=rng,
                )
            )
    return out


def count(rows, rng, size):
    """pixmo-count rows carry pixel points; the model speaks 0-100."""
    width, height = size
    out = []
    for r in rows:
        pts = [(100 * p["x"] / width, 100 * p["y"] / height) for p in r.get("points") or []]
        if len(pts) > MAX_POINTS:
            continue
        answer = format_count(pts, r["label"]) if pts else str(r["count"])
        out.append(
            chat(
                f"How many {r['label']} are there?", answer, style="point_count", always_style=False, rng=rng
            )
        )
    return out


def ask_model_anything(rows, rng, size):
    return [
        chat(_qa_prompt(r["question"]), r["answer"], style="user_qa", always_style=False, rng=rng)
        for r in rows
    ]


def dialogue(text: str) -> list[tuple[str, str]]:
    """`[USER] q1 [ASSISTANT] a1 [USER] q2` -> [("USER", "q1"), ("ASSISTANT", "a1"), ("USER", "q2")];
    text before the first marker is a user turn."""
    parts = re.split(r"\[(USER|ASSISTANT)\]", text)
    turns = [("USER", parts[0].strip())] if parts[0].strip() else []
    return turns + [(role, t.strip()) for role, t in zip(parts[1::2], parts[2::2]) if t.strip()]


def cap_qa(rows, rng, size):
    """`question` holds the dialogue so far as `[USER] ... [ASSISTANT] ... [USER] ...`, `answer`
    the last assistant turn. Every assistant answer of the dialogue carries loss, not only the last."""
    out = []
    for r in rows:
        history, prompt = [], ""
        for role, text in dialogue(r["question"]):
            if role == "USER":
                prompt += f" User: {_qa_prompt(text)}"
            elif prompt:
                history.append((f"{prompt} Assistant:", f" {text}"))
                prompt = ""
            else:  # an answer with no question before it: context, not trained on
                prompt += f" Assistant: {text}"
        out.append(Annotation(f"{prompt} Assistant:", f" {r['answer']}", tuple(history)))
    return out


def point_explanations(rows, rng, size):
    return [chat(r["question"], r["response"], style="point_qa", always_style=True, rng=rng) for r in rows]


def docs(rows, rng, size):
    return [
        chat(_qa_prompt(qa["question"]), qa["answer"], style="pixmo_docs", always_style=True, rng=rng)
        for r in rows
        for qa in r.get("questions") or []
    ]


def clocks(rows, rng, size):
    return [
        chat("What time is being shown?", r["text"], style="pixmo_clocks", always_style=True, rng=rng)
        for r in rows
    ]


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
    kind: str, stage: str, rows: list[dict], rng: random.Random, size: tuple[int, int]
) -> list[Annotation]:
    """Annotations of one image's rows; `size` is the image's (width, height) in px. Any kind
    without its own pre-training format trains as SFT turns, so any mix of releases trains."""
    if stage not in ("pretrain", "sft"):
        raise ValueError(f"stage={stage!r} must be pretrain or sft")
    formatter = FORMATTERS.get((kind, stage)) or FORMATTERS.get((kind, "sft"))
    if formatter is None:
        raise ValueError(
            f"no formatting for release kind {kind!r}; known: {sorted({k for k, _ in FORMATTERS})}"
        )
    return formatter(rows, rng, size)
