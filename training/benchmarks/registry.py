"""The eleven academic benchmarks of Molmo's average (PIXMO_SPEC §4), in one table: how each is
asked (Molmo's style prefix and prompt template), where its answers are, and its official metric.
training/README.md ("Academic benchmarks") shows the same table."""

from __future__ import annotations

import re
from dataclasses import dataclass

SHORT = "{style}: {question}"
CHOICE = "{style}: {question}\n{options}\n"  # options one per line, "A: text" (as Molmo lays them out)
MC_STYLE = "a_okvqa_mc"  # Molmo's style for evaluation-only multiple choice (RealWorldQA, MMMU, MathVista)
OPEN_STYLE = "vqa2"  # Molmo's style for evaluation-only short answers


@dataclass(frozen=True)
class Benchmark:
    name: str  # as the CLI and RUN/eval/NAME.json name it
    title: str
    kind: str  # how items are built and scored: vqa, anls, relaxed, choice, count
    metric: str  # the official metric, as results name it
    style: str  # Molmo's style prefix of the benchmark's questions
    template: str  # the prompt (before ` User: … Assistant:`), with {style} {question} {options}
    answer_columns: tuple[str, ...]  # the first one with a value holds the answer(s)
    split: str  # the split Molmo's published number is on
    question_columns: tuple[str, ...] = ("question",)
    aliases: tuple[str, ...] = ()
    index_answers: bool = False  # an integer answer is the option's position (lmms-lab/ai2d)
    simplify_question: bool = False  # keep only the question of "Hint: … Question: … Choices: …"


def _choice(name, title, style, split, **extra) -> Benchmark:
    return Benchmark(name, title, "choice", "multiple-choice accuracy", style, CHOICE,
                     ("answer_option", "answer"), split, **extra)  # fmt: skip


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        _choice("ai2d", "AI2D", "ai2_diagram", "test", index_answers=True),
        Benchmark("chartqa", "ChartQA", "relaxed", "relaxed accuracy", "chart_qa", SHORT, ("answer", "label"),
                  "test", question_columns=("question", "query")),
        Benchmark("vqav2", "VQA v2", "vqa", "VQA accuracy", "vqa2", SHORT, ("answers", "answer", "multiple_choice_answer"),
                  "validation", aliases=("vqa2", "vqa_v2")),
        Benchmark("docvqa", "DocVQA", "anls", "ANLS", "doc_qa", SHORT, ("answers", "answer"), "validation"),
        Benchmark("infovqa", "InfoVQA", "anls", "ANLS", "info_qa", SHORT, ("answers", "answer"), "validation",
                  aliases=("infographicvqa", "infographicsvqa")),
        Benchmark("textvqa", "TextVQA", "vqa", "VQA accuracy", "text_vqa", SHORT, ("answers", "answer"),
                  "validation"),
        _choice("realworldqa", "RealWorldQA", MC_STYLE, "test"),
        _choice("mmmu", "MMMU", MC_STYLE, "validation"),
        _choice("mathvista", "MathVista", MC_STYLE, "testmini", simplify_question=True),
        Benchmark("countbenchqa", "CountBenchQA", "count", "counting accuracy", "point_count", SHORT,
                  ("number", "count", "answer"), "test", aliases=("countbench",)),
        Benchmark("pixmo-count", "PixMo-Count", "count", "counting accuracy", "point_count", SHORT,
                  ("count", "number", "answer"), "test", aliases=("pixmocount",)),
    )
}  # fmt: skip


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


_BY_KEY = {_key(alias): b for b in BENCHMARKS.values() for alias in (b.name, b.title, *b.aliases)}


def benchmark(name: str) -> Benchmark:
    """The benchmark a user's name means, in any case and spelling of separators ("ChartQA",
    "vqa_v2", "PixMo-Count"); ValueError naming the known ones otherwise."""
    found = _BY_KEY.get(_key(name))
    if found is None:
        raise ValueError(f"unknown benchmark {name!r}; the known ones: {', '.join(BENCHMARKS)}")
    return found
