"""Text-LLM decoding on one CPU core with the bundled SmolLM2: the refine budget, and the ask answers.

Budget: a 200-word transcript (devtools.speech.SCENE_TEXT, 205 words) refined in <= 30 s on one
core (torch.set_num_threads(1)). Compares, on the same prompts in the same run:
- pipeline: what the workers run now (refine: reply-only repetition control, no 4 tokens twice,
  max_new_tokens = 1.3 x transcript tokens + 32; ask: the guarded attempts of pipelines.qa);
- old: the decoding before issue #12 (transformers' repetition_penalty=1.1, which counts the
  prompt too; 512 new tokens for a caption, 256 for an answer, no guards);
- bare: model.generate greedy with no repetition control, same token caps as old.
Prints tokens/s (new tokens over generate wall time, prefill included) and ratios against old and
bare, and for the ask how many answers passed the guards and how long each took.

    flock /tmp/pixmo-heavy.lock .venv/bin/python bench/llm.py [--repeats 1] [--questions 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from devtools.speech import SCENE_TEXT  # noqa: E402
from pipelines.answer_guards import check_answer  # noqa: E402
from pipelines.cleanup import clean_transcript  # noqa: E402
from pipelines.guards import GuardPolicy, check_caption  # noqa: E402
from pipelines.llm import LlmSettings, get_chat_model  # noqa: E402
from pipelines.llm_types import ChatMessage  # noqa: E402
from pipelines.prompts import get_prompt  # noqa: E402
from pipelines.qa import _context_message, answer_question  # noqa: E402
from pipelines.refine import refine_params, refine_prompt, refine_transcripts  # noqa: E402

BUDGET_S = 30.0
SIGN = ("A man stands on a street corner wearing a red hat and a blue coat. Behind him a shop sign says "
        "OPEN 24 HOURS. A bicycle leans against a lamp post.")
KITCHEN = "A kitchen wall with a calendar above a round clock. A black cat sleeps on a green chair."
QUESTIONS = [  # (caption, OCR text, question): the sample questions of issue #12
    (SIGN, "OPEN 24 HOURS", "What are the opening hours on the sign?"),
    (SIGN, "OPEN 24 HOURS", "What is the man wearing?"),
    (SIGN, "OPEN 24 HOURS", "What color is the bicycle?"),
    ("", "OPEN 9-5", "What does the sign say, and is <b>this</b> bold?"),
    (SCENE_TEXT, "JUNE", "What month does the calendar show?"),
    (SCENE_TEXT, "", "How many apples are there and what color are they?"),
    (KITCHEN, "JUNE 2024\nBake Sale Friday", "What month does the calendar show?"),
    ("", "", "Describe the image."),
]


def raw_generate(model, messages: list[ChatMessage], **options) -> tuple[str, int, float, str]:
    """transformers' generate on the chat template, as the backend ran before: (text, new tokens,
    seconds, finish reason)."""
    inputs = model._encode(messages)
    prompt_tokens = inputs["input_ids"].shape[1]
    started = time.perf_counter()
    with torch.inference_mode():
        output = model.model.generate(**inputs, do_sample=False, pad_token_id=model.tokenizer.eos_token_id, **options)
    seconds = time.perf_counter() - started
    completion = output[0][prompt_tokens:]
    finished = len(completion) and int(completion[-1]) in model.stop_token_ids
    return (model.tokenizer.decode(completion, skip_special_tokens=True).strip(), len(completion), seconds,
            "stop" if finished else "length")


def bench_refine(model, *, repeats: int) -> None:
    cleaned = [clean_transcript(SCENE_TEXT)]
    messages = refine_prompt(transcript_count=1).render(transcript=cleaned[0])
    params = refine_params(cleaned, chat_model=model)
    print(f"refine: {len(SCENE_TEXT.split())}-word transcript, {model.count_tokens(cleaned[0])} tokens; "
          f"budget max_new_tokens={params.max_new_tokens}")
    rows = {}
    for _ in range(repeats):
        started = time.perf_counter()
        refinement = refine_transcripts([SCENE_TEXT], chat_model=model, strategy="whole")  # the budgeted rewrite
        wall = time.perf_counter() - started
        reply = model.chat(messages, params=params)
        rows.setdefault("pipeline", []).append((reply.usage["completion_tokens"], reply.timings_ms["generate"] / 1000,
                                                reply.finish_reason, refinement.llm_text or "", wall))
        for name, options in (("old", {"repetition_penalty": 1.1, "max_new_tokens": 512}),
                              ("bare", {"max_new_tokens": 512})):
            text, tokens, seconds, finish = raw_generate(model, messages, **options)
            rows.setdefault(name, []).append((tokens, seconds, finish, text, seconds))
    speed = {}
    for name, runs in rows.items():
        tokens, seconds = sum(r[0] for r in runs) / len(runs), sum(r[1] for r in runs) / len(runs)
        wall = sum(r[4] for r in runs) / len(runs)
        speed[name] = (tokens, seconds, tokens / seconds)
        verdict = check_caption(caption=runs[-1][3], transcripts=cleaned, policy=GuardPolicy())
        print(f"  {name:8s} {tokens:5.0f} new tokens in {seconds:5.1f} s = {tokens / seconds:5.1f} tokens/s, "
              f"stopped by {runs[-1][2]}; guards {'pass' if verdict.passed else 'fail: ' + ','.join(verdict.failed)}"
              + (f"; whole refine step {wall:.1f} s" if name == "pipeline" else ""))
    wall = sum(r[4] for r in rows["pipeline"]) / len(rows["pipeline"])
    for name in ("old", "bare"):
        print(f"  pipeline/{name}: time {speed['pipeline'][1] / speed[name][1]:.2f}x, "
              f"tokens/s {speed['pipeline'][2] / speed[name][2]:.2f}x")
    print(f"  budget: refine of a 200-word transcript {wall:.1f} s on one core, budget {BUDGET_S:.0f} s: "
          f"{'OK' if wall <= BUDGET_S else 'OVER'}")


def bench_ask(model, *, questions: int) -> None:
    print(f"ask: {questions} questions; pipeline = guarded attempts, old = generate(repetition_penalty=1.1, "
          "max_new_tokens=256) judged by the same guards")
    totals = {"pipeline": [0, 0.0, 0.0, 0], "old": [0, 0.0, 0.0, 0]}
    for caption, ocr_text, question in QUESTIONS[:questions]:
        started = time.perf_counter()
        answer = answer_question(question=question, caption=caption, ocr_text=ocr_text, chat_model=model)
        seconds = time.perf_counter() - started
        tokens = sum(a["usage"]["completion_tokens"] for a in answer.provenance["attempts"])
        _add(totals["pipeline"], answer.verdict.passed, seconds, tokens)
        prompt = get_prompt("qa.answer")
        context, _ = _context_message(question=question, caption=caption, ocr_text=ocr_text)
        text, old_tokens, old_seconds, finish = raw_generate(
            model, [ChatMessage(role="system", content=prompt.system), context],
            repetition_penalty=1.1, max_new_tokens=256)
        old = check_answer(answer=text, question=question, context=[caption, ocr_text], finish_reason=finish)
        _add(totals["old"], old.passed, old_seconds, old_tokens)
        print(f"  {question[:44]:44s} pipeline {seconds:5.1f} s, {answer.attempts} attempt(s), "
              f"{'pass' if answer.verdict.passed else 'FLAGGED ' + ','.join(answer.verdict.failed)} | "
              f"old {old_seconds:5.1f} s, {'pass' if old.passed else 'fail ' + ','.join(old.failed)}")
    for name, (passed, seconds, worst, tokens) in totals.items():
        print(f"  {name:8s} passed {passed}/{questions}, {seconds:.1f} s in all, slowest {worst:.1f} s, "
              f"{tokens} new tokens, {tokens / seconds:.1f} tokens/s")
    print(f"  pipeline/old: time {totals['pipeline'][1] / totals['old'][1]:.2f}x")


def _add(total: list, passed: bool, seconds: float, tokens: int) -> None:
    total[0] += passed
    total[1] += seconds
    total[2] = max(total[2], seconds)
    total[3] += tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="refine runs per variant (default 1)")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS), help=f"ask questions, 1..{len(QUESTIONS)}")
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    model = get_chat_model(LlmSettings(threads=1, device="cpu"))
    print(f"model {model.identity['name']} loaded in {time.perf_counter() - started:.1f} s; "
          f"torch threads {torch.get_num_threads()}")
    bench_refine(model, repeats=args.repeats)
    bench_ask(model, questions=max(1, min(args.questions, len(QUESTIONS))))


if __name__ == "__main__":
    main()
