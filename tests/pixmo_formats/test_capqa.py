import pytest

from pixmo_formats.capqa import dialogue_text, parse_dialogue


@pytest.mark.parametrize(("turns", "text"), [
    ([("q1", "a1"), ("q2", "a2")], "[USER] q1 [ASSISTANT] a1 [USER] q2"),
    ([("Only?", "Yes.")], "[USER] Only?"),
    ([], ""),
])  # fmt: skip
def test_dialogue_text_leaves_out_the_last_answer(turns, text):
    assert dialogue_text(turns) == text


def test_parse_dialogue_reads_it_back():
    turns = [("How many apples?", "Three."), ("What color is the chair?", "Green.")]
    assert parse_dialogue(dialogue_text(turns)) == [
        ("USER", "How many apples?"),
        ("ASSISTANT", "Three."),
        ("USER", "What color is the chair?"),
    ]
    assert parse_dialogue("context [ASSISTANT] a [USER]  ") == [("USER", "context"), ("ASSISTANT", "a")]
