import random

import pytest

from training.formatting import MAX_POINTS, NO_POINTING_PREFIX, format_example, length_tag


def test_length_tag_is_chars_over_15_with_noise_and_sometimes_absent():
    text = "x" * 1500
    tags = [length_tag("long_caption", text, random.Random(i)) for i in range(400)]
    numbered = [int(t.split()[1][:-1]) for t in tags if " " in t]
    assert 0.8 < len(numbered) / len(tags) < 0.97  # present 90% of the time
    assert all(t == "long_caption:" for t in tags if " " not in t)
    assert 95 <= sum(numbered) / len(numbered) <= 105 and max(numbered) - min(numbered) > 2


def test_pretrain_caption_and_transcripts_are_separate_annotations():
    rows = [{"image_url": "u", "caption": "A dog.", "transcripts": ["uh a dog", "a dog um"]}]
    anns = format_example("pixmo-cap", "pretrain", rows, random.Random(0), (10, 10), transcripts="all")
    assert [a.prompt.split()[0].rstrip(":") for a in anns] == ["long_caption", "transcript", "transcript"]
    assert [a.answer for a in anns] == [" A dog.", " uh a dog", " a dog um"]


def test_pretrain_takes_the_caption_and_one_transcript_drawn_at_random():
    """As the released `pixmo_cap_with_transcripts`: each example is the caption plus one of its
    transcripts, a different one from example to example."""
    spoken = ["uh a dog", "a dog um", "so a dog", "a brown dog"]
    rows = [{"image_url": "u", "caption": "A dog.", "transcripts": spoken}]
    drawn = []
    for seed in range(40):
        anns = format_example("pixmo-cap", "pretrain", rows, random.Random(seed), (10, 10))
        assert [a.prompt.split()[0].rstrip(":") for a in anns] == ["long_caption", "transcript"]
        assert anns[0].answer == " A dog."
        drawn.append(anns[1].answer.strip())
    assert set(drawn) == set(spoken)
    again = format_example("pixmo-cap", "pretrain", rows, random.Random(7), (10, 10))
    assert again[1].answer.strip() == drawn[7]  # seeded: the same RNG draws the same one
    no_transcripts = [{"image_url": "u", "caption": "A dog.", "transcripts": []}]
    assert len(format_example("pixmo-cap", "pretrain", no_transcripts, random.Random(0), (10, 10))) == 1
    with pytest.raises(ValueError, match="transcripts='some'"):
        format_example("pixmo-cap", "pretrain", rows, random.Random(0), (10, 10), transcripts="some")


def test_sft_turn_layout_and_how_many_prefix():
    rows = [{"question": "How many cats?", "answer": "Two."}, {"question": "What colour?", "answer": "Red."}]
    anns = format_example("pixmo-ask-model-anything", "sft", rows, random.Random(3), (10, 10))
    assert (
        anns[0].prompt.endswith(f"{NO_POINTING_PREFIX} How many cats? Assistant:")
        and anns[0].answer == " Two."
    )
    assert anns[1].prompt.endswith("What colour? Assistant:") and anns[1].prompt.startswith(" User: ")


def test_pointing_rows_drop_over_40_points_and_count_uses_percent():
    many = [{"x": 1.0 + i, "y": 2.0} for i in range(MAX_POINTS + 1)]
    rows = [
        {"label": "bird", "points": many, "count": len(many), "collection_method": "counting"},
        {"label": "cat", "points": [], "count": 0, "collection_method": "pointing"},
    ]
    anns = format_example("pixmo-points", "sft", rows, random.Random(0), (10, 10))
    assert len(anns) == 1 and anns[0].answer == " There are none."
    count = format_example(
        "pixmo-count",
        "sft",
        [{"label": "cup", "count": 1, "points": [{"x": 50, "y": 25}]}],
        random.Random(0),
        (200, 100),
    )
    assert 'x="25.0" y="25.0"' in count[0].answer and count[0].answer.endswith("a total of 1.")


def test_synthetic_sets_always_carry_their_style_prefix():
    anns = [
        format_example("pixmo-clocks", "sft", [{"text": "7:57 AM"}], random.Random(i), (5, 5))[0]
        for i in range(20)
    ]
    assert all(a.prompt.startswith(" User: pixmo_clocks: ") for a in anns)


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="no formatting for release kind"):
        format_example("pixmo-nope", "sft", [], random.Random(0), (1, 1))


def test_cap_qa_dialogue_turns_each_answer_is_a_trained_turn():
    rows = [{"question": "[USER] What is it? [ASSISTANT] A dog. [USER] How many dogs? ", "answer": "One."}]
    (ann,) = format_example("pixmo-cap-qa", "sft", rows, random.Random(0), (10, 10))
    assert ann.turns == [
        (" User: pixmo_cap_qa: What is it? Assistant:", " A dog."),
        (f" User: {NO_POINTING_PREFIX} How many dogs? Assistant:", " One."),
    ]
