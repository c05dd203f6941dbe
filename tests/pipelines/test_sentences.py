"""Sentences from a cleaned transcript, punctuation restored where Whisper wrote none, and the
sentence-level merge of several transcripts of one image."""

from pipelines.cleanup import clean_transcript
from pipelines.metrics import normalise_words
from pipelines.sentences import merge_sentences, segment_sentences

RUN_ON = (
    "um so this is a photo of a kitchen and there is a uh wooden table with three red apples in a white bowl "
    "and on the left there is a black cat sleeping on a green chair and in the background there are two "
    "windows with white curtains"
)


def is_subsequence(short: list[str], long: list[str]) -> bool:
    remaining = iter(long)
    return all(word in remaining for word in short)


def test_an_unpunctuated_transcript_is_cut_at_its_statements():
    assert segment_sentences(clean_transcript(RUN_ON)) == [
        "So this is a photo of a kitchen.",
        "There is a wooden table with three red apples in a white bowl.",
        "On the left there is a black cat sleeping on a green chair.",
        "In the background there are two windows with white curtains.",
    ]


def test_a_place_that_is_not_a_new_statement_stays_in_its_sentence():
    assert segment_sentences("The chair on the left is red and the table is brown.") == [
        "The chair on the left is red and the table is brown."]
    assert segment_sentences("A cat is sitting in the background.") == ["A cat is sitting in the background."]


def test_punctuated_sentences_are_kept_and_tidied():
    assert segment_sentences("There are two cats on the sofa. the sofa is red") == [
        "There are two cats on the sofa.", "The sofa is red."]
    assert segment_sentences("") == []


def test_a_long_clause_is_cut_at_an_and_near_its_middle():
    long = ("a tall man with a grey beard wears a blue coat with brass buttons and a woman beside him holds a "
            "small brown dog with a red collar while a boy eats an ice cream near the fountain")
    pieces = segment_sentences(long)
    assert len(pieces) == 2 and all(len(p.split()) <= 28 for p in pieces)
    assert pieces[1].startswith("A woman beside him")


def test_segmenting_never_adds_a_word():
    cleaned = clean_transcript(RUN_ON)
    words = normalise_words(" ".join(segment_sentences(cleaned)))
    assert is_subsequence(words, normalise_words(cleaned))
    assert set(normalise_words(cleaned)) - set(words) <= {"and"}


def test_merge_keeps_the_more_informative_near_duplicate_in_order_of_first_appearance():
    first = ["A kitchen with a table.", "There are three red apples in a bowl.", "A cat sleeps on a chair."]
    second = ["This is a kitchen with a wooden table.", "The cat is black.", "There are three apples in a bowl."]
    merged = merge_sentences([first, second])
    assert [m.text for m in merged] == [
        "This is a kitchen with a wooden table.",  # replaces its shorter twin, in the first place
        "There are three red apples in a bowl.",
        "The cat is black.",
        "A cat sleeps on a chair.",
    ]
    assert merged[0].duplicates == ("A kitchen with a table.",) and merged[0].transcript == 1
    assert merged[1].duplicates == ("There are three apples in a bowl.",)


def test_merge_of_one_transcript_changes_nothing():
    sentences = ["A red car.", "A blue bike."]
    assert [m.text for m in merge_sentences([sentences])] == sentences
