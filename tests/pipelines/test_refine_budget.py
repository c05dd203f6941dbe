"""The caption's token budget is sized from its transcripts (1.3x their tokens + 32), with the
real bundled SmolLM2's tokenizer, and travels in provenance."""

import math

from devtools.speech import SCENE_TEXT
from pipelines.cleanup import clean_transcript
from pipelines.llm import token_count
from pipelines.refine import CAPTION_MAX_NEW_TOKENS, REFINE_PARAMS, refine_params, refine_transcripts


def test_the_budget_is_a_caption_as_long_as_its_transcripts(chat_model):
    cleaned = [clean_transcript(SCENE_TEXT)]
    tokens = token_count(chat_model, cleaned[0])
    params = refine_params(cleaned, chat_model=chat_model)
    assert params.max_new_tokens == math.ceil(1.3 * tokens) + 32
    assert 250 < params.max_new_tokens < REFINE_PARAMS.max_new_tokens  # a 205-word transcript: ~330, was 512
    assert params.repetition_penalty == REFINE_PARAMS.repetition_penalty and params.temperature == 0.0
    merged = refine_params(cleaned * 3, chat_model=chat_model)
    assert merged.max_new_tokens == math.ceil(1.3 * (3 * tokens)) + 32
    assert refine_params(cleaned * 8, chat_model=chat_model).max_new_tokens == CAPTION_MAX_NEW_TOKENS


def test_a_short_transcript_gets_a_short_budget_and_provenance_says_so(chat_model):
    spoken = "um a black cat is sleeping on a green chair next to a wooden table"
    result = refine_transcripts([spoken], chat_model=chat_model, strategy="whole")
    budget = math.ceil(1.3 * token_count(chat_model, clean_transcript(spoken))) + 32
    assert result.provenance["params"]["max_new_tokens"] == budget < 60
