"""CapQA parsing and validation on typical weak-model output, then a real SmolLM2 generation."""

from __future__ import annotations

import pytest

from pipelines.capqa import capqa_row, generate_capqa, validate_pairs
from pipelines.capqa_parse import parse_qa_pairs
from pipelines.errors import InputLimitError
from pipelines.llm_types import GenerationParams

CAPTION = (
    "A black cat sleeps on a green chair next to a wooden table. Three red apples lie in a white bowl "
    "on the table, and the calendar on the wall says June."
)


@pytest.mark.parametrize(
    "text",
    [
        "Q: How many apples are there?\nA: Three.\nQ: What color is the chair?\nA: Green.",
        "Question 1: How many apples are there?\nAnswer 1: Three.\n\n"
        "Question 2: What color is the chair?\nAnswer 2: Green.",
        "1. **Q:** How many apples are there?\n   **A:** Three.\n2. **Q:** What color is the chair?\n   **A:** Green.",
        "User: How many apples are there?\nAssistant: Three.\nUser: What color is the chair?\nAssistant: Green.",
        "Sure! Here you go:\n1. How many apples are there?\nThree.\n2. What color is the chair?\nGreen.",
    ],
)
def test_parser_reads_the_formats_small_models_write(text):
    assert parse_qa_pairs(text) == [("How many apples are there?", "Three."), ("What color is the chair?", "Green.")]


def test_parser_drops_unanswered_questions_and_joins_multiline_answers():
    text = "1. What is this?\n2. How many apples are there?\nA: Three red apples\nin a white bowl."
    assert parse_qa_pairs(text) == [("How many apples are there?", "Three red apples in a white bowl.")]


def test_validation_rejects_ungrounded_repeated_and_malformed_turns():
    pairs = [
        ("How many apples are there?", "Three red apples."),
        ("How many apples are there?", "Three."),
        ("What does the person eat for lunch?", "The person eats pizza."),
        ("Describe the chair", "It is green."),
        ("What color is the bowl?", "What color is the bowl?"),
        ("What does the calendar say?", "It says June."),
    ]
    accepted, rejected = validate_pairs(pairs, caption=CAPTION, limit=4)
    assert accepted == [
        ("How many apples are there?", "Three red apples."),
        ("What does the calendar say?", "It says June."),
    ]
    reasons = [item["reason"] for item in rejected]
    assert reasons[0] == "repeated question"
    assert reasons[1].startswith("not grounded in the caption") and "pizza" in reasons[1]
    assert "end with '?'" in reasons[2]
    assert reasons[3] == "answer repeats the question"


def test_row_has_pixmo_capqa_form():
    row = capqa_row([("How many apples?", "Three."), ("What color is the chair?", "Green.")])
    assert row == {
        "question": "[USER] How many apples? [ASSISTANT] Three. [USER] What color is the chair?",
        "answer": "Green.",
    }


def test_real_model_dialogue_is_validated_and_recorded(chat_model):
    dialogue = generate_capqa(
        caption=CAPTION, chat_model=chat_model, turns=3, params=GenerationParams(max_new_tokens=100)
    )
    assert dialogue.raw_text
    assert len(dialogue.turns) <= 3
    again, _ = validate_pairs(list(dialogue.turns), caption=CAPTION, limit=3)
    assert again == list(dialogue.turns)  # every accepted turn passes validation
    assert dialogue.provenance["prompt"]["id"] == "capqa.dialogue@v1"
    assert dialogue.provenance["accepted_turns"] == len(dialogue.turns)
    row = dialogue.to_row()
    assert row is None or (row["question"].startswith("[USER] ") and row["answer"] == dialogue.turns[-1][1])


def test_input_limits(chat_model):
    with pytest.raises(InputLimitError, match="empty"):
        generate_capqa(caption=" ", chat_model=chat_model)
    with pytest.raises(InputLimitError, match="1 to 10"):
        generate_capqa(caption=CAPTION, chat_model=chat_model, turns=11)
