"""The OpenAI-compatible HTTP backend against a real server: `transformers serve` serving the
bundled SmolLM2 from its local folder on 127.0.0.1. Refine and ask run through it end to end;
retries with backoff, giving up, timeouts and the concurrency limit are exercised on that server,
which is killed and started again in the middle of a run. Nothing here is mocked.
"""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.env import cache_dir
from pipelines.errors import LlmError
from pipelines.llm import ChatMessage, GenerationParams, LlmSettings
from pipelines.llm_gguf_cache import bundled_gguf_path, dequantised_folder
from pipelines.llm_http import HttpChatModel
from pipelines.qa import answer_question
from pipelines.refine import refine_transcripts
from tests.pipelines.transformers_server import CountingRelay, TransformersServe

QUESTION = [ChatMessage(role="user", content="Name three colors of fruit.")]
SHORT = GenerationParams(max_new_tokens=12)
TRANSCRIPTS = [
    "um so this is a photo of a small kitchen uh there are three red apples in a white bowl on a wooden "
    "table and and two blue mugs next to the bowl the light comes from a window on the left",
    "a kitchen table with a white bowl of red apples and two blue mugs there is a window on the left",
    "i see uh three apples red ones in a white bowl and two mugs they are blue on a wooden table",
]


@pytest.fixture(scope="module")
def server(chat_model, tmp_path_factory):
    """One `transformers serve` for the module (the local chat model is loaded first, so the
    dequantised folder exists)."""
    folder = dequantised_folder(bundled_gguf_path(), cache_root=cache_dir())
    served = TransformersServe(folder, log_path=tmp_path_factory.mktemp("serve") / "serve.log").start()
    yield served
    served.stop()


@pytest.fixture
def running(server):
    if not server.healthy():
        server.start()
    return server


def http_model(server: TransformersServe, url: str | None = None, **overrides) -> HttpChatModel:
    options = {"backend": "openai", "model": server.model, "url": url or server.url, "backoff_s": 0.2,
               "timeout_s": 60.0, "max_retries": 2}
    return HttpChatModel(settings=LlmSettings(**{**options, **overrides}))


def test_the_served_model_answers_through_the_http_backend(running):
    reply = http_model(running).chat(QUESTION, params=SHORT)
    assert reply.text and reply.attempts == 1
    assert reply.model["backend"] == "openai-http" and reply.model["served_model"] == running.model
    assert 0 < reply.usage["completion_tokens"] <= SHORT.max_new_tokens
    assert reply.finish_reason in ("stop", "length")


def test_refine_and_ask_run_through_the_server(running):
    model = http_model(running)
    refinement = refine_transcripts(TRANSCRIPTS[:1], chat_model=model, strategy="whole")
    assert refinement.llm_error is None and refinement.llm_text, "the server's rewrite reached the guards"
    assert refinement.caption  # the rewrite, or the clean-up when the guards refused it
    answer = answer_question(question="What is in the bowl?", caption="Three red apples in a white bowl.",
                             ocr_text="", chat_model=model)
    assert answer.answer
    assert "openai-http" in repr(answer.provenance)


def test_a_server_killed_mid_run_is_waited_for_with_backoff(running, capsys):
    """Three refinements run while the server is killed and started again: every one finishes
    through the HTTP backend's retries, none falls back to an error."""
    model = http_model(running, max_retries=8, backoff_s=0.5, timeout_s=120.0)
    results: dict[int, object] = {}

    def refine(index: int) -> None:
        results[index] = refine_transcripts([TRANSCRIPTS[index]], chat_model=model, strategy="whole")

    first = threading.Thread(target=refine, args=(0,))
    first.start()
    first.join()
    running.stop()  # killed: connections refused from here on
    killed_at = time.monotonic()
    rest = [threading.Thread(target=refine, args=(i,)) for i in (1, 2)]
    for thread in rest:
        thread.start()
    time.sleep(1.5)  # the backend is retrying against a dead port
    running.start()
    for thread in rest:
        thread.join(timeout=300)
    back_s = time.monotonic() - killed_at
    assert all(results[i].llm_error is None and results[i].llm_text for i in range(3)), {
        i: results[i].llm_error for i in results}
    with capsys.disabled():
        print(f"\ntransformers serve killed and restarted: 3/3 refinements finished through retries, "
              f"{back_s:.1f} s after the kill (restart {running.starts} starts)")


def test_the_backend_gives_up_after_its_retries_naming_the_failure(running):
    running.stop()
    started = time.monotonic()
    with pytest.raises(LlmError, match="connection failed"):
        http_model(running, max_retries=2, backoff_s=0.2).chat(QUESTION, params=SHORT)
    assert time.monotonic() - started >= 0.2 + 0.4  # two backoffs, the second twice the first
    running.start()


def test_a_slow_answer_times_out_naming_the_setting(running):
    with pytest.raises(LlmError, match=r"PIXMO_LLM_TIMEOUT_S=0\.05"):
        http_model(running, timeout_s=0.05, max_retries=0).chat(QUESTION, params=GenerationParams(max_new_tokens=200))


def test_the_backend_keeps_to_its_concurrency_limit_on_the_wire(running):
    relay = CountingRelay(running.port)
    try:
        model = http_model(running, url=relay.url(), concurrency=2)
        tiny = GenerationParams(max_new_tokens=4)
        threads = [threading.Thread(target=model.chat, args=(QUESTION,), kwargs={"params": tiny}) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert relay.requests == 5
        assert relay.max_in_flight == 2
    finally:
        relay.close()
