"""The ask guards on hand-written answers: each check fails the junk it is for (the loops,
cut-offs and inventions the bundled model wrote, issue #12) and passes good answers, including
paraphrases a capable model writes."""

import pytest

from pipelines.answer_guards import AnswerPolicy, answer_reasons, check_answer, unmet_feedback
from pipelines.text_shape import ends_mid_phrase, ends_without_full_stop, repeated_ngram_share, repeated_sentences

CAPTION = (
    "A man stands on a street corner wearing a red hat and a blue coat. Behind him a shop sign says "
    "OPEN 24 HOURS. A bicycle leans against a lamp post."
)
OCR = "OPEN 24 HOURS"
QUESTION = "What are the opening hours on the sign?"
LOOP = "The image shows " + "a picture of a person wearing a hat, " * 20 + "a picture of a"
PREVIOUS = "The sign says the shop is open 24 hours, every day of the week, and the man stands beside it."


def judge(answer: str, **options):
    return check_answer(answer=answer, question=QUESTION, context=[CAPTION, OCR], **options)


def revise(revision: str, feedback: str):
    """A revision of PREVIOUS, which passed its own guards, so its words count as a source too."""
    return check_answer(answer=revision, question=QUESTION, context=[CAPTION, OCR, PREVIOUS],
                        earlier_answers=[PREVIOUS], feedback=[feedback])


@pytest.mark.parametrize("answer", [
    "The sign says the shop is open 24 hours.",
    "24 hours",
    "OPEN 24 HOURS",
    "The description does not say.",
    "According to the caption, the shop never closes: its sign reads OPEN 24 HOURS.",
    'The sign reads "OPEN 24 HOURS", so the shop is open all day and all night.',
    "It is open around the clock; the sign above the man in the red hat reads OPEN 24 HOURS.",
    "The answer is: OPEN 24 HOURS",  # no full stop, but the model ended its turn itself
])
def test_good_answers_and_paraphrases_pass(answer):
    verdict = judge(answer, finish_reason="stop")
    assert verdict.passed, verdict.reasons
    assert verdict.to_dict()["reasons"] == []


def test_a_loop_cut_off_mid_phrase_fails_three_ways():
    verdict = judge(LOOP, finish_reason="length")
    assert {"repeated_ngrams", "cut_off", "too_long"} <= set(verdict.failed)
    reasons = " ".join(verdict.reasons)
    assert "repeats itself: 93% of its 4-word phrases" in reasons and "stops mid-sentence" in reasons


def test_a_sentence_said_twice_fails():
    answer = ("The bicycle is blue with a red hat. The man on the street corner wears a red hat and a blue "
              "coat. The bicycle is blue with a red hat.")
    verdict = judge(answer)
    assert "repeated_sentence" in verdict.failed
    assert 'same sentence more than once ("the bicycle is blue with a red hat")' in " ".join(verdict.reasons)


@pytest.mark.parametrize(("answer", "finish_reason"), [
    ("The sign above the man in the red hat says that the shop is open", "stop"),  # on "open": fine
    ("The sign says the shop is open 24 hours, and the", "stop"),
    ("The sign says the shop is open 24 hours and the man wears a", "stop"),
    ("The sign says the shop is open 24 hours, and the man wears", "length"),
    ("The sign says the shop is open 24 hours and the man wears a red", ""),  # backend did not say why
])
def test_cut_off_answers(answer, finish_reason):
    cut = "cut_off" in judge(answer, finish_reason=finish_reason).failed
    assert cut == (answer != "The sign above the man in the red hat says that the shop is open")


def test_invented_words_fail_and_are_named():
    verdict = judge("The sign shows a black coin on top of a gold coin next to a mirror.")
    assert {"invented_words", "invented_facts"} <= set(verdict.failed)
    assert verdict.novel_words == ("black", "coin", "top", "gold", "mirror")
    assert "(black, coin, top, gold, mirror); at most 3 may be new" in " ".join(verdict.reasons)
    assert "states facts found nowhere" in " ".join(verdict.reasons) and "(black, gold)" in " ".join(verdict.reasons)


@pytest.mark.parametrize(("answer", "fact"), [
    ("The calendar shows July.", "july"),
    ("The shop opens at 9.", "9"),
    ("The bicycle is purple.", "purple"),
])
def test_a_single_invented_fact_fails(answer, fact):
    verdict = judge(answer)
    assert verdict.failed == ("invented_facts",) and fact in verdict.novel_words


def test_words_of_every_source_count_and_number_words_match_digits():
    verdict = check_answer(answer="There are 3 apples; the label of point 1 says ripe.", question="How many apples?",
                           context=["Three apples lie in a bowl.", "Point 1 (x 2.0, y 3.0): ripe label"])
    assert verdict.passed, verdict.reasons


def test_echoing_or_asking_back_fails():
    assert judge("What's that?").failed == ("echoes_question",)
    assert judge("What are the opening hours on the sign", finish_reason="stop").failed == ("echoes_question",)


def test_empty_and_too_long_answers_fail():
    assert "empty" in judge("  ").failed
    long = " ".join(["The man wears a red hat."] * 5)
    verdict = check_answer(answer=long, question=QUESTION, context=[CAPTION], policy=AnswerPolicy(max_words=20))
    assert "too_long" in verdict.failed and "30 words, over the limit of 20" in " ".join(verdict.reasons)


def test_an_unchanged_revision_fails():
    verdict = revise(PREVIOUS + "  ", "Answer in one short sentence.")
    assert "revision_unchanged" in verdict.failed
    assert "same as an earlier answer" in " ".join(verdict.reasons)


@pytest.mark.parametrize(("feedback", "revision", "unmet"), [
    ("Answer in one short sentence.", "The shop is open 24 hours. The man stands beside it.",
     "one sentence (it has 2)"),
    ("Shorter, please.", PREVIOUS.replace("it.", "the sign on the corner."), "a shorter answer"),
    ("In one word?", "The shop is open all day.", "one word (it has 6)"),
    ("Give more detail.", "Open 24 hours.", "a longer answer (it has 3 words, the last one had 20)"),
    ('Say "OPEN 24 HOURS" exactly.', "It is open all the time.", 'the words "OPEN 24 HOURS"'),
])
def test_a_revision_must_go_the_way_of_the_feedback(feedback, revision, unmet):
    verdict = revise(revision, feedback)
    assert "feedback_not_followed" in verdict.failed
    assert unmet in " ".join(verdict.reasons)


@pytest.mark.parametrize(("feedback", "revision"), [
    ("Answer in one short sentence.", "The shop is open 24 hours."),
    ("Shorter, please.", "The shop is open 24 hours."),
    ("Give more detail.", PREVIOUS + " The sign reads OPEN 24 HOURS, so the shop never closes."),
    ('Say "OPEN 24 HOURS" exactly.', "The sign says OPEN 24 HOURS."),
    ("Mention the bicycle too.", "The shop is open 24 hours; a bicycle leans against the lamp post."),
])
def test_a_revision_that_follows_the_feedback_passes(feedback, revision):
    verdict = revise(revision, feedback)
    assert verdict.passed, verdict.reasons


def test_a_flagged_earlier_answer_lends_no_words():
    junk = "The sign is a product of AI-powered OCR technology."
    revision = "The sign is a result of AI-driven OCR technology."
    lent = check_answer(answer=revision, question=QUESTION, context=[CAPTION, junk], earlier_answers=[junk],
                        feedback=["Shorter."])
    kept_out = check_answer(answer=revision, question=QUESTION, context=[CAPTION], earlier_answers=[junk],
                            feedback=["Shorter."])
    assert "invented_words" not in lent.failed and "invented_words" in kept_out.failed


def test_feedback_words_may_appear_in_the_revision():
    verdict = revise("The sign is green and says OPEN 24 HOURS.", "Also say that the sign is green.")
    assert verdict.passed, verdict.reasons
    assert unmet_feedback(revision="x", previous="y", feedback="Be nice.") == ()


def test_point_tags_are_read_as_their_words():
    answer = 'The <point x="23.1" y="40.2" alt="sign">sign</point> says OPEN 24 HOURS.'
    assert judge(answer).passed


def test_every_check_states_its_threshold_and_reasons_come_from_a_stored_verdict():
    record = check_answer(answer=LOOP, question=QUESTION, context=[CAPTION], earlier_answers=[PREVIOUS],
                          feedback=["Shorter."], finish_reason="length").to_dict()
    assert {check["name"] for check in record["checks"]} == {
        "empty", "too_long", "repeated_ngrams", "repeated_sentence", "cut_off", "echoes_question",
        "invented_words", "invented_facts", "revision_unchanged", "feedback_not_followed",
    }
    assert all({"value", "threshold", "passed"} <= set(check) for check in record["checks"])
    assert answer_reasons(record) == record["reasons"] and len(record["reasons"]) == len(record["failed"])


def test_text_shape_measures():
    assert repeated_ngram_share("the red hat and the blue coat") == 0.0
    assert repeated_ngram_share(LOOP) > 0.9
    assert repeated_sentences("A cat sleeps. A dog runs. A cat sleeps.") == ("a cat sleeps",)
    assert repeated_sentences("Yes. Yes.") == ()  # under 3 words: not a loop
    assert ends_mid_phrase("The man wears a") and ends_mid_phrase("The items are:") and not ends_mid_phrase("Open.")
    assert ends_without_full_stop("The sign says that the shop is open all day long")
    assert not ends_without_full_stop("June 2024")
    assert not ends_without_full_stop("The sign lists what is sold:\n- apples and pears\n- bread")
