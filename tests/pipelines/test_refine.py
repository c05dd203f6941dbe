"""The whole-caption refine strategy (PIXMO_REFINE_STRATEGY=whole, for capable models) with the real
bundled SmolLM2-135M-Instruct (greedy, deterministic); the sentence strategy is in test_refine_sentences.py."""

from __future__ import annotations

import dataclasses

import pytest

from pipelines.errors import InputLimitError, SettingError
from pipelines.guards import GuardPolicy, check_caption
from pipelines.llm_http import HttpChatModel
from pipelines.llm_settings import LlmSettings
from pipelines.metrics import normalise_words
from pipelines.prompts import get_prompt
from pipelines.refine import refine_transcripts, strip_chat_preamble

MESSY = (
    "um so this is uh a photo of a a small kitchen, you know, and there is a, there are three red apples "
    "in a white bowl on the the wooden table. uh two blue mugs stand next to the bowl. a black cat is um "
    "sleeping on a green chair to the left of the table. the calendar on the wall says june."
)
SECOND = "uh a kitchen with a bowl of apples on a table and, and a cat on a green chair. the mugs are blue."
PLANTED = " A purple elephant juggles flaming torches beside a grand piano."


class PlantingModel:
    """The real chat model, with a planted hallucination appended to each of its answers."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.identity = inner.identity

    def chat(self, messages, *, params):
        reply = self.inner.chat(messages, params=params)
        return dataclasses.replace(reply, text=reply.text + PLANTED)


def unreachable_model() -> HttpChatModel:
    """The real HTTP backend pointed at a port where nothing listens."""
    settings = LlmSettings(backend="openai", url="http://127.0.0.1:9/v1", max_retries=0, timeout_s=1.0)
    return HttpChatModel(settings=settings)


@pytest.fixture(scope="module")
def messy_refinement(chat_model):
    return refine_transcripts([MESSY], chat_model=chat_model, strategy="whole")


def test_messy_transcript_ends_in_a_caption_that_passes_or_is_flagged(messy_refinement):
    result = messy_refinement
    assert result.llm_text  # the LLM attempt is always kept
    assert result.verdict is not None
    if result.source == "llm":
        assert result.verdict.passed and not result.needs_review
        assert check_caption(caption=result.caption, transcripts=result.cleaned, policy=GuardPolicy()).passed
    else:
        assert result.needs_review and not result.verdict.passed
        assert result.caption == result.cleaned[0]
    assert "um" not in normalise_words(result.caption) and "uh" not in normalise_words(result.caption)
    assert result.transcripts == (MESSY,)


def test_provenance_names_model_prompt_params_and_timings(messy_refinement):
    provenance = messy_refinement.provenance
    prompt = get_prompt("refine.single")
    assert provenance["prompt"] == {"id": "refine.single@v1", "sha256": prompt.sha256}
    assert provenance["model"]["name"] == "SmolLM2-135M-Instruct.Q4_1"
    assert len(provenance["model"]["sha256"]) == 64
    assert provenance["params"]["temperature"] == 0.0
    assert provenance["timings_ms"]["llm"] > 0
    assert provenance["guard_policy"]["max_novel_words"] == 3
    assert provenance["strategy"] == "whole" and messy_refinement.sentences == ()


def test_planted_hallucination_falls_back_to_the_cleanup(chat_model):
    result = refine_transcripts([MESSY], chat_model=PlantingModel(chat_model), strategy="whole")
    assert result.source == "cleanup" and result.needs_review
    assert result.llm_text.endswith(PLANTED.strip())
    assert {"elephant", "piano"} <= set(result.verdict.novel_words)
    assert "elephant" not in result.caption


def test_the_whole_strategy_is_chosen_by_its_setting(monkeypatch):
    monkeypatch.setenv("PIXMO_REFINE_STRATEGY", "whole")
    result = refine_transcripts([MESSY], chat_model=unreachable_model())
    assert result.strategy == "whole" and result.provenance["strategy"] == "whole"
    assert result.provenance["prompt"]["id"] == "refine.single@v1"
    monkeypatch.setenv("PIXMO_REFINE_STRATEGY", "paragraphs")
    with pytest.raises(SettingError, match="PIXMO_REFINE_STRATEGY='paragraphs'"):
        refine_transcripts([MESSY], chat_model=unreachable_model())


def test_several_transcripts_merge_into_one_caption(chat_model):
    result = refine_transcripts([MESSY, SECOND], chat_model=chat_model, strategy="whole")
    assert result.provenance["prompt"]["id"] == "refine.merge@v1"
    assert len(result.cleaned) == 2
    if result.source == "cleanup":
        assert result.caption == "\n\n".join(result.cleaned)


def test_llm_failure_keeps_the_cleanup_for_review():
    result = refine_transcripts([MESSY], chat_model=unreachable_model(), strategy="whole")
    assert result.source == "cleanup" and result.needs_review
    assert result.llm_text is None and "did not answer" in result.llm_error
    assert result.to_dict()["verdict"] is None


def test_input_limits():
    with pytest.raises(InputLimitError, match="1 to 8"):
        refine_transcripts([], chat_model=unreachable_model())
    with pytest.raises(InputLimitError, match="empty"):
        refine_transcripts(["  "], chat_model=unreachable_model())
    with pytest.raises(TypeError):
        refine_transcripts(MESSY, chat_model=unreachable_model())


def test_chat_preamble_is_stripped():
    assert strip_chat_preamble('Here is the cleaned caption:\n"A red car."') == "A red car."
    assert strip_chat_preamble("A red car.") == "A red car."
