"""Decoding of the local backend with the real bundled SmolLM2: it stops at the chat end token and
says why it stopped, its repetition control counts the reply only, a revision's retry cannot copy
the earlier answer, and the model loads once per process."""

from __future__ import annotations

import torch

from pipelines.llm import ChatMessage, GenerationParams, LlmSettings, get_chat_model, token_count
from pipelines.llm_local import _reply_only_processors
from pipelines.metrics import normalise_words
from pipelines.qa import ANSWER_ATTEMPTS, _context_message
from pipelines.prompts import get_prompt
from pipelines.text_shape import repeated_ngram_share

HELLO = [ChatMessage(role="user", content="Say hello in three words.")]


def test_a_reply_stops_at_the_chat_end_token_and_says_why(chat_model):
    whole = chat_model.chat(HELLO, params=GenerationParams(max_new_tokens=100))
    assert whole.finish_reason == "stop" and whole.usage["completion_tokens"] < 100
    cut = chat_model.chat(HELLO, params=GenerationParams(max_new_tokens=2))
    assert cut.finish_reason == "length" and cut.usage["completion_tokens"] == 2
    assert chat_model.tokenizer.convert_tokens_to_ids("<|im_end|>") in chat_model.stop_token_ids


def test_the_chat_template_frames_the_turns(chat_model):
    text = chat_model.tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
                                                    tokenize=False)
    assert text.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_repetition_control_counts_the_reply_only():
    prompt_only, in_reply = 5, 7
    input_ids = torch.tensor([[prompt_only, 1, 2, 3, in_reply, 8]])  # 4 prompt tokens, then the reply
    params = GenerationParams(repetition_penalty=2.0, no_repeat_ngram_size=2)
    scores = torch.ones(1, 10)
    out = _reply_only_processors(params, prompt_tokens=4, earlier_replies=[])(input_ids, scores.clone())
    assert out[0, prompt_only] == 1.0  # a prompt token (a caption word to quote) is not penalised
    assert out[0, in_reply] == 0.5  # a token the reply already holds is
    assert out[0, 8] == 0.5
    input_ids = torch.tensor([[1, 2, 3, 4, 7, 8, 7]])  # the reply holds "7 8": after 7, 8 is banned
    out = _reply_only_processors(params, prompt_tokens=4, earlier_replies=[])(input_ids, scores.clone())
    assert out[0, 8] == -float("inf")
    input_ids = torch.tensor([[2, 3, 4, 2, 3]])  # "2 3 4" is only in the prompt: 4 stays allowed
    out = _reply_only_processors(GenerationParams(no_repeat_ngram_size=3), prompt_tokens=3,
                                 earlier_replies=[])(input_ids, scores.clone())
    assert out[0, 4] == 1.0


def test_the_first_attempt_decoding_breaks_the_bundled_models_loop(chat_model):
    """With no caption and no OCR text, greedy decoding without repetition control loops."""
    prompt = get_prompt("qa.answer")
    context, _ = _context_message(question="Describe the image.", caption="", ocr_text="")
    messages = [ChatMessage(role="system", content=prompt.system), context]
    bare = chat_model.chat(messages, params=GenerationParams(max_new_tokens=80))
    controlled = chat_model.chat(messages, params=ANSWER_ATTEMPTS[0])
    assert repeated_ngram_share(bare.text) > 0.2, bare.text
    assert repeated_ngram_share(controlled.text) == 0.0 and controlled.finish_reason == "stop", controlled.text


def test_a_retry_may_not_copy_an_earlier_answer(chat_model):
    earlier = "The calendar in the image shows the month of June, above a round clock on the kitchen wall."
    messages = [
        ChatMessage(role="user", content="What month does the calendar show?"),
        ChatMessage(role="assistant", content=earlier),
        ChatMessage(role="user", content="Say that again."),
    ]
    copied = chat_model.chat(messages, params=GenerationParams(max_new_tokens=60))
    banned = chat_model.chat(messages, params=GenerationParams(max_new_tokens=60, earlier_reply_ngram_size=4))
    assert _longest_shared_run(copied.text, earlier) >= 6, copied.text  # the bundled model copies
    assert _longest_shared_run(banned.text, earlier) < 6, banned.text  # 6 words hold 4 tokens in a row


def test_token_counts_size_budgets(chat_model):
    text = "Three red apples lie in a white bowl."
    assert token_count(chat_model, text) == len(chat_model.tokenizer(text, add_special_tokens=False)["input_ids"])

    class Remote:  # a backend without a tokenizer here: one token per 3.5 characters, rounded up
        identity: dict = {}

    assert token_count(Remote(), "x" * 35) == 10 and token_count(Remote(), "x" * 36) == 11


def test_one_load_per_process(chat_model):
    """The ask, refine and CapQA steps all call get_chat_model() with the environment's settings:
    one model object, loaded once, however many steps a worker runs."""
    assert get_chat_model() is chat_model
    assert get_chat_model(LlmSettings.from_env()) is get_chat_model(LlmSettings())


def _longest_shared_run(text: str, other: str) -> int:
    words, others = normalise_words(text), normalise_words(other)
    best = 0
    for i in range(len(words)):
        for j in range(len(others)):
            k = 0
            while i + k < len(words) and j + k < len(others) and words[i + k] == others[j + k]:
                k += 1
            best = max(best, k)
    return best
