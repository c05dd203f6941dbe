"""The guards on one rewritten sentence: a rewording passes, a new or lost fact does not."""

from pipelines.sentence_guards import check_sentence

SOURCE = "On the left there is a black cat sleeping on a green chair."


def test_a_rewording_passes():
    for rewrite in (
        "On the left, there is a black cat sleeping on a green chair.",
        "A black cat sleeps on a green chair on the left.",
        "On the left, a black cat is sleeping peacefully on a green chair.",  # one new word is allowed
    ):
        verdict = check_sentence(rewrite=rewrite, source=SOURCE)
        assert verdict.passed, (rewrite, verdict.reasons)


def test_an_invented_fact_is_refused_with_its_reason():
    verdict = check_sentence(rewrite="On the left there is a black cat sleeping on a red chair.", source=SOURCE)
    assert not verdict.passed and {"invented_facts", "dropped_words"} <= set(verdict.failed)
    assert "The rewrite states a fact the sentence does not (red)." in verdict.reasons
    assert "The rewrite drops words of the sentence (green)." in verdict.reasons


def test_a_dropped_fact_or_number_is_refused():
    verdict = check_sentence(rewrite="There is a cat sleeping on a chair on the left.", source=SOURCE)
    assert verdict.failed == ("dropped_words",) and verdict.dropped_words == ("black", "green")
    assert not check_sentence(rewrite="There are apples.", source="There are three apples.").passed


def test_two_new_words_or_a_new_number_are_refused():
    assert "invented_words" in check_sentence(
        rewrite="On the left a fluffy black cat is sleeping on a green velvet chair.", source=SOURCE).failed
    verdict = check_sentence(rewrite="There are 3 apples in 2 bowls.", source="There are three apples in bowls.")
    assert "invented_facts" in verdict.failed


def test_length_bounds_and_empty():
    assert check_sentence(rewrite="", source=SOURCE).failed[:2] == ("empty", "too_short")
    padded = SOURCE + " " + SOURCE
    assert "too_long" in check_sentence(rewrite=padded, source=SOURCE).failed


def test_a_swapped_word_counts_as_dropped_the_facts_must_survive_word_for_word():
    verdict = check_sentence(rewrite="On the left, a black cat is asleep on a green chair.", source=SOURCE)
    assert verdict.failed == ("dropped_words",) and verdict.dropped_words == ("sleeping",)
