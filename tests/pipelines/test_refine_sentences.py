"""The "sentences" refine strategy (the default): each sentence rewritten alone, kept only if its
guards pass, with each sentence's outcome in provenance. One run with the real bundled SmolLM2."""

from __future__ import annotations

import time

from pipelines.guards import novel_content_words
from pipelines.llm_http import HttpChatModel
from pipelines.llm_settings import LlmSettings
from pipelines.llm_types import ChatReply
from pipelines.metrics import normalise_words
from pipelines.refine import refine_transcripts

RUN_ON = (
    "um so this is a photo of a kitchen and there is a uh wooden table with three red apples in a white bowl "
    "and on the left there is a black cat sleeping on a green chair"
)
SENTENCES = [
    "So this is a photo of a kitchen.",
    "There is a wooden table with three red apples in a white bowl.",
    "On the left there is a black cat sleeping on a green chair.",
]


class ScriptedModel:
    """Answers each sentence with its scripted rewrite (else the sentence itself); keeps every prompt."""

    identity = {"backend": "test", "name": "scripted"}

    def __init__(self, rewrites: dict[str, str]) -> None:
        self.rewrites, self.prompts = rewrites, []

    def chat(self, messages, *, params):
        self.prompts.append(messages)
        sentence = messages[-1].content
        return ChatReply(text=self.rewrites.get(sentence, sentence), model=self.identity,
                         params=params.to_dict(), timings_ms={})


def test_a_rewrite_is_kept_and_the_caption_is_punctuated():
    model = ScriptedModel({SENTENCES[0]: "This is a photo of a kitchen."})
    result = refine_transcripts([RUN_ON], chat_model=model, strategy="sentences")
    assert result.caption == " ".join(["This is a photo of a kitchen.", *SENTENCES[1:]])
    assert result.source == "llm" and not result.needs_review and result.verdict.passed
    assert [(e.kept, e.changed) for e in result.sentences] == [(True, True), (True, False), (True, False)]


def test_a_rewrite_that_invents_or_drops_a_fact_is_refused_and_the_cleaned_sentence_stays():
    model = ScriptedModel({
        SENTENCES[1]: "There is a wooden table with four red apples in a white bowl.",  # a new count
        SENTENCES[2]: "On the left there is a cat sleeping on a chair.",  # black and green lost
    })
    result = refine_transcripts([RUN_ON], chat_model=model, strategy="sentences")
    assert result.caption == " ".join(SENTENCES)
    assert result.source == "cleanup" and not result.needs_review  # nothing harmful reached the caption
    invented, dropped = result.sentences[1], result.sentences[2]
    assert not invented.kept and "invented_facts" in invented.failed
    assert "The rewrite states a fact the sentence does not (four)." in invented.reasons
    assert not dropped.kept and dropped.reasons == ("The rewrite drops words of the sentence (black, green).",)


def test_provenance_records_the_strategy_and_each_sentence():
    model = ScriptedModel({SENTENCES[0]: "This is a photo of a kitchen.",
                           SENTENCES[1]: "A purple elephant sits at a wooden table."})
    result = refine_transcripts([RUN_ON], chat_model=model, strategy="sentences")
    provenance = result.provenance
    assert provenance["strategy"] == "sentences" and provenance["prompt"]["id"] == "refine.sentence@v1"
    assert provenance["sentence_policy"] == {"min_length_ratio": 0.6, "max_length_ratio": 1.6,
                                             "max_novel_words": 1, "max_dropped_words": 0}
    records = provenance["sentences"]
    assert [r["source"] for r in records] == SENTENCES
    assert records[0] == {"source": SENTENCES[0], "rewrite": "This is a photo of a kitchen.", "kept": True,
                          "changed": True, "reasons": [], "failed": []}
    assert records[1]["kept"] is False and "invented_words" in records[1]["failed"] and records[1]["reasons"]
    report = result.report()
    assert report["strategy"] == "sentences" and report["sentences"] == records and report["checks"]


def test_each_sentence_is_sent_alone_after_the_one_before_it():
    model = ScriptedModel({SENTENCES[0]: "This is a photo of a kitchen."})
    refine_transcripts([RUN_ON], chat_model=model, strategy="sentences")
    first, second = model.prompts[0], model.prompts[1]
    assert [m.role for m in first] == ["system", "user"] and first[1].content == SENTENCES[0]
    assert [(m.role, m.content) for m in second[1:]] == [
        ("user", SENTENCES[0]), ("assistant", "This is a photo of a kitchen."), ("user", SENTENCES[1])]


def test_several_transcripts_are_merged_sentence_by_sentence_before_rewriting():
    second = "uh a kitchen. there are three red apples in a white bowl on a wooden table. the cat is black"
    model = ScriptedModel({})
    result = refine_transcripts([RUN_ON, second], chat_model=model, strategy="sentences")
    assert [e.source for e in result.sentences] == [
        "So this is a photo of a kitchen.",
        "There is a wooden table with three red apples in a white bowl.",
        "On the left there is a black cat sleeping on a green chair.",  # says all "The cat is black." does
    ]
    assert result.provenance["merged_duplicates"] == [
        ["A kitchen."], ["There are three red apples in a white bowl on a wooden table."], ["The cat is black."]]


def test_an_llm_failure_keeps_every_cleaned_sentence_and_asks_once():
    settings = LlmSettings(backend="openai", url="http://127.0.0.1:9/v1", max_retries=0, timeout_s=1.0)
    result = refine_transcripts([RUN_ON], chat_model=HttpChatModel(settings=settings), strategy="sentences")
    assert result.caption == " ".join(SENTENCES) and result.needs_review and "did not answer" in result.llm_error
    assert [e.failed for e in result.sentences] == [("llm_error",)] * 3
    assert "failed on an earlier sentence" in result.sentences[2].reasons[0]


def test_the_real_model_refines_sentence_by_sentence_within_30_s(chat_model):
    started = time.perf_counter()
    result = refine_transcripts([RUN_ON], chat_model=chat_model)  # the default strategy
    seconds = time.perf_counter() - started
    assert result.strategy == "sentences" and len(result.sentences) == 3
    assert seconds < 30, seconds
    for edit in result.sentences:
        assert edit.final in result.caption
        if not edit.kept:
            assert edit.reasons
    # whatever the model wrote, every fact survives and at most one new word per sentence stands
    for fact in ("kitchen", "wooden", "table", "three", "red", "apples", "white", "bowl", "left", "black", "cat",
                 "green", "chair"):
        assert fact in normalise_words(result.caption), fact
    assert len(novel_content_words(caption=result.caption, transcripts=result.cleaned)) <= len(result.sentences)
