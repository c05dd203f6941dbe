"""Ask-model-anything: real Tesseract OCR and the real bundled SmolLM2, text only; every answer
judged by the real ask guards, retried with other decoding, flagged when no attempt passes."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.errors import InputLimitError, OcrError
from pipelines.llm_types import GenerationParams
from pipelines.ocr import ocr_image
from pipelines.qa import (
    ANSWER_ATTEMPTS,
    ANSWER_MAX_NEW_TOKENS,
    MAX_POINTS,
    REVISION_ATTEMPTS,
    QaPoint,
    QaTurn,
    answer_from_image,
    answer_question,
    keep_known_point_tags,
    revise_answer,
)

CAPTION = "A kitchen wall with a calendar above a round clock. A black cat sleeps on a green chair."
QUESTION = "What month does the calendar show?"
SHORT = [GenerationParams(max_new_tokens=40)]  # one attempt, enough to read what the prompt held
CUT = GenerationParams(max_new_tokens=5)  # the real model, cut off after 5 tokens: a reply the guards fail
POINTS = [QaPoint(x=23.1, y=40.2, label="the calendar"), QaPoint(x=70.0, y=75.5)]
INVENTED = ' Also <point x="99.9" y="1.0" alt="ghost">a ghost</point>.'
REAL = ' See <point x="23.1" y="40.2" alt="calendar">the calendar</point>.'


def calendar_png() -> bytes:
    image = Image.new("RGB", (640, 320), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 56)
    draw.text((60, 60), "JUNE 2024", fill="black", font=font)
    draw.text((60, 170), "Bake Sale Friday", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class RecordingModel:
    """The real chat model; keeps the messages it was sent so a test can read them."""

    def __init__(self, inner) -> None:
        self.inner, self.identity, self.sent = inner, inner.identity, []

    def chat(self, messages, *, params):
        self.sent.append(messages)
        return self.inner.chat(messages, params=params)


class TaggingModel(RecordingModel):
    """The real model's reply with one invented and one real point tag appended, as a weak model might."""

    def chat(self, messages, *, params):
        reply = super().chat(messages, params=params)
        return replace(reply, text=reply.text + INVENTED + REAL)


def test_tesseract_reads_the_text_in_the_image():
    result = ocr_image(calendar_png())
    assert "JUNE 2024" in result.text and "Bake Sale Friday" in result.text
    assert result.engine["name"] == "tesseract" and result.engine["version"][0].isdigit()


def test_ocr_refuses_what_is_not_an_image():
    with pytest.raises(OcrError, match="could not be decoded"):
        ocr_image(b"GIF89a but not really")


def test_answer_uses_only_ocr_text_caption_and_question(chat_model):
    model = RecordingModel(chat_model)
    answer, ocr_text = answer_from_image(
        image=calendar_png(), question=QUESTION, caption=CAPTION, chat_model=model, attempts=SHORT
    )
    assert answer.answer
    sent = model.sent[0]
    assert all(isinstance(message.content, str) for message in sent)
    assert "JUNE 2024" in sent[-1].content and CAPTION in sent[-1].content and QUESTION in sent[-1].content
    assert answer.provenance["prompt"]["id"] == "qa.answer@v1"
    assert answer.provenance["ocr"]["engine"]["name"] == "tesseract"
    assert "JUNE" in ocr_text


def test_revision_sends_the_thread_and_feedback(chat_model):
    model = RecordingModel(chat_model)
    first = answer_question(question=QUESTION, caption=CAPTION, ocr_text="JUNE 2024", chat_model=model, attempts=SHORT)
    thread = [QaTurn(answer=first.answer, feedback="Answer in one word."), QaTurn(answer="June.")]
    revised = revise_answer(
        question=QUESTION,
        caption=CAPTION,
        ocr_text="JUNE 2024",
        thread=thread,
        feedback="Also say the year.",
        chat_model=model,
        attempts=SHORT,
    )
    assert revised.answer
    sent = model.sent[-1]
    assert [m.role for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert sent[2].content == first.answer and "Answer in one word." in sent[3].content
    assert "Also say the year." in sent[-1].content
    assert revised.provenance["thread_turns"] == 2
    assert revised.provenance["context_prompt"]["id"] == "qa.answer@v1"


def test_limits_are_named(chat_model):
    with pytest.raises(InputLimitError, match="over the limit of 2000"):
        answer_question(question="?" * 2001, caption=CAPTION, ocr_text="", chat_model=chat_model)
    with pytest.raises(InputLimitError, match="at least one earlier answer"):
        revise_answer(question=QUESTION, caption=CAPTION, ocr_text="", thread=[], feedback="x", chat_model=chat_model)


def test_points_reach_the_prompt_as_text_and_invented_tags_are_dropped(chat_model):
    model = TaggingModel(chat_model)
    answer = answer_question(question=QUESTION, caption=CAPTION, ocr_text="JUNE 2024", points=POINTS,
                             chat_model=model, attempts=SHORT)
    system, user = model.sent[0]
    assert "Point 1 (x 23.1, y 40.2): the calendar\nPoint 2 (x 70.0, y 75.5)" in user.content
    assert "<point x=" in system.content and all(isinstance(m.content, str) for m in model.sent[0])
    assert REAL.strip() in answer.answer
    assert "99.9" not in answer.answer and "Also a ghost." in answer.answer  # the words stay, the tag goes
    assert keep_known_point_tags(text=answer.answer, points=POINTS)[1] == []  # whatever the model wrote itself
    assert INVENTED.strip()[5:-1] in answer.provenance["point_tags_dropped"]
    assert answer.provenance["prompt"]["id"] == "qa.point_answer@v1" and len(answer.provenance["prompt"]["sha256"]) == 64
    assert answer.provenance["points"] == 2

    revised = revise_answer(question=QUESTION, caption=CAPTION, ocr_text="JUNE 2024", points=POINTS,
                            thread=[QaTurn(answer=answer.answer)], feedback="Shorter.", chat_model=model,
                            attempts=SHORT)
    assert "Point 2 (x 70.0, y 75.5)" in model.sent[-1][1].content
    assert "99.9" not in revised.answer and REAL.strip() in revised.answer
    assert revised.provenance["prompt"]["id"] == "qa.point_revise@v1"
    assert revised.provenance["context_prompt"]["id"] == "qa.point_answer@v1"


def test_the_point_guard_keeps_only_the_annotators_coordinates():
    text = ('<points x1="23.10" y1="40.2" x2="70.0" y2="75.5" alt="both">both</points>, '
            '<points x1="23.1" y1="40.2" x2="5.0" y2="5.0" alt="half">half</points>, '
            '<point x="abc" y="40.2">bad number</point>, <point alt="none">no place</point>, '
            '<point x="23.1" y="40.2" alt="open">unclosed')
    kept, dropped = keep_known_point_tags(text=text, points=POINTS)
    assert kept == ('<points x1="23.10" y1="40.2" x2="70.0" y2="75.5" alt="both">both</points>, '
                    'half, bad number, no place, unclosed')
    assert len(dropped) == 4
    assert keep_known_point_tags(text="No tags at all.", points=POINTS) == ("No tags at all.", [])


def test_point_limits_are_named(chat_model):
    too_many = [QaPoint(x=float(i), y=1.0) for i in range(MAX_POINTS + 1)]
    with pytest.raises(InputLimitError, match=f"over the limit of {MAX_POINTS}"):
        answer_question(question=QUESTION, caption=CAPTION, ocr_text="", points=too_many, chat_model=chat_model)
    with pytest.raises(InputLimitError, match="percent, 0 to 100"):
        answer_question(question=QUESTION, caption=CAPTION, ocr_text="", points=[QaPoint(x=101, y=1)],
                        chat_model=chat_model)


SIGN_CAPTION = ("A man stands on a street corner wearing a red hat and a blue coat. Behind him a shop sign says "
                "OPEN 24 HOURS. A bicycle leans against a lamp post.")
SIGN_QUESTION = "What are the opening hours on the sign?"


def test_a_cut_off_answer_is_retried_with_the_next_decoding_and_the_retry_passes(chat_model):
    answer = answer_question(question=SIGN_QUESTION, caption=SIGN_CAPTION, ocr_text="OPEN 24 HOURS",
                             chat_model=chat_model, attempts=[CUT, ANSWER_ATTEMPTS[0]])
    first, second = answer.provenance["attempts"]
    assert first["finish_reason"] == "length" and first["usage"]["completion_tokens"] == 5
    assert "cut_off" in first["verdict"]["failed"] and first["verdict"]["reasons"]
    assert second["params"] == ANSWER_ATTEMPTS[0].to_dict() and second["finish_reason"] == "stop"
    assert answer.verdict.passed and not answer.needs_review, answer.verdict.reasons
    assert answer.attempts == 2 and answer.answer == second["text"]
    assert answer.provenance["chosen_attempt"] == 2 and answer.provenance["verdict"]["passed"] is True
    assert answer.provenance["params"] == ANSWER_ATTEMPTS[0].to_dict()
    # Both sides are sums of 1-decimal milliseconds; the provenance rounds its sum to 1 decimal too.
    assert answer.provenance["timings_ms"]["generate"] == round(sum(a["timings_ms"]["generate"] for a in (first, second)), 1)


def test_when_no_attempt_passes_the_answer_is_flagged_with_its_reasons(chat_model):
    attempts = [CUT, GenerationParams(max_new_tokens=5, temperature=0.7, seed=1), GenerationParams(max_new_tokens=5)]
    answer = answer_question(question=SIGN_QUESTION, caption=SIGN_CAPTION, ocr_text="OPEN 24 HOURS",
                             chat_model=chat_model, attempts=attempts)
    assert answer.needs_review and answer.attempts == 3
    assert "cut_off" in answer.verdict.failed
    assert any("stops mid-sentence" in reason for reason in answer.verdict.reasons)
    records = answer.provenance["attempts"]
    assert [r["attempt"] for r in records] == [1, 2, 3] and all(not r["verdict"]["passed"] for r in records)
    assert answer.answer == records[answer.provenance["chosen_attempt"] - 1]["text"]
    assert answer.provenance["needs_review"] is True and answer.to_dict()["verdict"]["reasons"]


def test_a_revision_that_copies_the_answer_is_retried_without_copying(chat_model):
    first = answer_question(question=QUESTION, caption=CAPTION, ocr_text="JUNE 2024", chat_model=chat_model,
                            attempts=ANSWER_ATTEMPTS[:1])
    revised = revise_answer(question=QUESTION, caption=CAPTION, ocr_text="JUNE 2024",
                            thread=[QaTurn(answer=first.answer)], feedback="Answer in one short sentence.",
                            chat_model=chat_model)
    records = revised.provenance["attempts"]
    # The bundled model's greedy revision is the answer again, word for word (issue #12).
    assert records[0]["text"] == first.answer and "revision_unchanged" in records[0]["verdict"]["failed"]
    assert len(records) >= 2 and records[1]["params"]["earlier_reply_ngram_size"] == 5
    for record in records[1:]:
        assert record["text"] != first.answer
    assert revised.verdict.passed or revised.needs_review
    assert revised.answer != first.answer or revised.needs_review


def test_stated_decoding_per_attempt():
    assert len(ANSWER_ATTEMPTS) == len(REVISION_ATTEMPTS) == 3  # two retries at most
    assert {p.max_new_tokens for p in (*ANSWER_ATTEMPTS, *REVISION_ATTEMPTS)} == {ANSWER_MAX_NEW_TOKENS}
    assert ANSWER_ATTEMPTS[0].temperature == 0.0 and all(p.temperature > 0 for p in ANSWER_ATTEMPTS[1:])
    assert len({(p.temperature, p.seed, p.repetition_penalty) for p in ANSWER_ATTEMPTS}) == 3
    assert REVISION_ATTEMPTS[0] == ANSWER_ATTEMPTS[0]
    assert [p.earlier_reply_ngram_size for p in REVISION_ATTEMPTS] == [0, 5, 4]
