import random

import pytest

from pipelines.cleanup import FILLER_WORDS, clean_transcript
from pipelines.metrics import normalise_words


def is_subsequence(small: list[str], big: list[str]) -> bool:
    remaining = iter(big)
    return all(word in remaining for word in small)


@pytest.mark.parametrize(
    "spoken, written",
    [
        ("um so this is uh a photo of a a red car", "So this is a photo of a red car."),
        ("there is a, there are two cats on the on the sofa", "There are two cats on the sofa."),
        ("the ta- table is brown. i think it's oak", "The table is brown. I think it's oak."),
        ("the dog, you know, is big", "The dog is big."),
        ("Um. Uh.", ""),
        ("a red -- a blue car", "A blue car."),
    ],
)
def test_spoken_artefacts_are_removed(spoken, written):
    assert clean_transcript(spoken) == written


def test_sentences_stay_apart_when_a_word_repeats_across_them():
    assert clean_transcript("It is red. Red is the main color.") == "It is red. Red is the main color."


def test_facts_and_numbers_survive():
    text = "there are three red apples and 2 blue mugs, the clock says 9:10"
    assert normalise_words(clean_transcript(text)) == normalise_words(text)


def test_never_adds_a_word_on_random_messy_speech():
    rng = random.Random(7)
    vocabulary = "the a red car is on table two three cats i there and near window blue".split()
    noise = sorted(FILLER_WORDS) + ["you know,", "i mean,", "ta-", "--", ",", "."]
    for _ in range(500):
        words = [rng.choice(vocabulary + noise) for _ in range(rng.randint(0, 40))]
        spoken = " ".join(words)
        cleaned = clean_transcript(spoken)
        assert is_subsequence(normalise_words(cleaned), normalise_words(spoken)), spoken


def test_deterministic():
    text = "uh the the cat um is is on the, on the mat"
    assert clean_transcript(text) == clean_transcript(text)
