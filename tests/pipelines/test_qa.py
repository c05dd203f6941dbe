"""Ask-model-anything: real Tesseract OCR and the real bundled SmolLM2, text only."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.errors import InputLimitError, OcrError
from pipelines.llm_types import GenerationParams
from pipelines.ocr import ocr_image
from pipelines.qa import QaTurn, answer_from_image, answer_question, revise_answer

CAPTION = "A kitchen wall with a calendar above a round clock. A black cat sleeps on a green chair."
QUESTION = "What month does the calendar show?"
SHORT = GenerationParams(max_new_tokens=40)


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
        image=calendar_png(), question=QUESTION, caption=CAPTION, chat_model=model, params=SHORT
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
    first = answer_question(question=QUESTION, caption=CAPTION, ocr_text="JUNE 2024", chat_model=model, params=SHORT)
    thread = [QaTurn(answer=first.answer, feedback="Answer in one word."), QaTurn(answer="June.")]
    revised = revise_answer(
        question=QUESTION,
        caption=CAPTION,
        ocr_text="JUNE 2024",
        thread=thread,
        feedback="Also say the year.",
        chat_model=model,
        params=SHORT,
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
