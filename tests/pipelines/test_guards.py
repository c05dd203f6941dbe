from pipelines.cleanup import clean_transcript
from pipelines.guards import GuardPolicy, check_caption, novel_content_words

TRANSCRIPT = clean_transcript(
    "um this is a photo of a small kitchen. there are three red apples in a white bowl on a wooden table, "
    "and two blue mugs stand next to the bowl. a black cat is sleeping on a green chair"
)
POLICY = GuardPolicy()


def test_faithful_rewrite_passes():
    caption = (
        "The image shows a small kitchen. Three red apples sit in a white bowl on a wooden table, with "
        "2 blue mugs next to the bowl. A black cat sleeps on a green chair."
    )
    verdict = check_caption(caption=caption, transcripts=[TRANSCRIPT], policy=POLICY)
    assert verdict.passed, verdict.to_dict()


def test_planted_hallucination_trips_the_guard():
    caption = TRANSCRIPT + " A purple elephant juggles flaming torches beside a grand piano."
    verdict = check_caption(caption=caption, transcripts=[TRANSCRIPT], policy=POLICY)
    assert not verdict.passed
    assert "invented_words" in verdict.failed
    assert {"purple", "elephant", "juggles", "flaming", "torches", "grand", "piano"} <= set(verdict.novel_words)


def test_empty_caption_fails():
    verdict = check_caption(caption="  ", transcripts=[TRANSCRIPT], policy=POLICY)
    assert {"empty", "too_short"} <= set(verdict.failed)


def test_much_shorter_caption_fails():
    verdict = check_caption(caption="A kitchen with apples.", transcripts=[TRANSCRIPT], policy=POLICY)
    assert verdict.failed == ("too_short",)


def test_padded_caption_fails_too_long():
    caption = " ".join([TRANSCRIPT] * 2)
    assert "too_long" in check_caption(caption=caption, transcripts=[TRANSCRIPT], policy=POLICY).failed


def test_merge_sees_words_from_every_transcript():
    other = "the window has white curtains and a yellow pot"
    caption = TRANSCRIPT + " The window has white curtains and a yellow pot."
    assert check_caption(caption=caption, transcripts=[TRANSCRIPT, other], policy=POLICY).passed
    assert novel_content_words(caption=caption, transcripts=[TRANSCRIPT]) == ("window", "curtains", "yellow", "pot")


def test_verdict_records_each_threshold():
    record = check_caption(caption=TRANSCRIPT, transcripts=[TRANSCRIPT], policy=POLICY).to_dict()
    assert {check["name"] for check in record["checks"]} == {
        "empty",
        "too_short",
        "too_long",
        "invented_words",
        "invented_ratio",
    }
    assert all("threshold" in check and "value" in check for check in record["checks"])
