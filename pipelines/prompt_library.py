"""The text of every prompt template. Never edit a published version: add the next one.

Placeholders: refine.single {transcript}; refine.merge {count} {transcripts}; refine.sentence {sentence};
qa.answer {caption} {ocr_text} {question}; qa.revise {feedback} {question};
qa.point_answer {caption} {ocr_text} {points} {question}; qa.point_revise {feedback} {question};
capqa.dialogue {caption} {turns}.
"""

from __future__ import annotations

_REFINE_SYSTEM = (
    "You turn a spoken description of an image into a clean written caption. "
    "Remove filler words, false starts, repetitions and spoken asides. "
    "Keep every fact: every object, count, color, position and piece of text that was said. "
    "Do not add anything that was not said. Write plain prose paragraphs, no lists, no title."
)

TEMPLATES: list[dict] = [
    {
        "id": "refine.single",
        "version": 1,
        "system": _REFINE_SYSTEM,
        "user": "Spoken description:\n{transcript}\n\nRewrite it as a clean caption.",
    },
    {
        "id": "refine.merge",
        "version": 1,
        "system": _REFINE_SYSTEM,
        "user": (
            "{count} people described the same image:\n{transcripts}\n\n"
            "Write one caption that keeps every fact from all of the descriptions."
        ),
    },
    {
        # One sentence at a time, for a weak model (pipelines.refine_sentences): the sentence alone is
        # the user turn; the sentence before it and its final text come first as an earlier turn.
        "id": "refine.sentence",
        "version": 1,
        "system": "Rewrite this sentence as clear written English. Keep every fact; add nothing.",
        "user": "{sentence}",
    },
    {
        "id": "qa.answer",
        "version": 1,
        "system": (
            "You answer questions about an image you cannot see. You know only its caption and the "
            "text that OCR read from it. Answer from that information alone, briefly and directly. "
            "If the information does not contain the answer, say that the description does not say."
        ),
        "user": "Caption:\n{caption}\n\nText in the image (OCR):\n{ocr_text}\n\nQuestion: {question}",
    },
    {
        "id": "qa.revise",
        "version": 1,
        "system": (
            "You answer questions about an image you cannot see, from its caption and OCR text alone. "
            "The person asking has given feedback on your last answer. Follow the feedback and write an "
            "improved answer; do not mention the feedback itself."
        ),
        "user": "Feedback on your last answer: {feedback}\n\nWrite the improved answer to: {question}",
    },
    {
        "id": "qa.point_answer",
        "version": 1,
        "system": (
            "You answer questions about an image you cannot see. You know only its caption, the text that "
            "OCR read from it, and a numbered list of places the person asking pointed at, each with its x "
            "and y position in percent of the image's width and height. Answer from that information alone, "
            "briefly and directly. When your answer talks about a pointed place, wrap the words for it in a "
            "point tag with that place's exact coordinates from the list, like this: "
            'The <point x="23.1" y="40.2" alt="red sign">red sign</point> says STOP. '
            "Never make up coordinates. If the information does not contain the answer, say that the "
            "description does not say."
        ),
        "user": (
            "Caption:\n{caption}\n\nText in the image (OCR):\n{ocr_text}\n\n"
            "Places the person pointed at (x, y in percent):\n{points}\n\nQuestion: {question}"
        ),
    },
    {
        "id": "qa.point_revise",
        "version": 1,
        "system": (
            "You answer questions about an image you cannot see, from its caption, its OCR text and the places "
            "the person asking pointed at. The person has given feedback on your last answer. Follow the "
            "feedback and write an improved answer; do not mention the feedback itself. Wrap the words for "
            'each pointed place you mention in <point x="..." y="..." alt="...">words</point> with that '
            "place's exact coordinates from the list; never make up coordinates."
        ),
        "user": "Feedback on your last answer: {feedback}\n\nWrite the improved answer to: {question}",
    },
    {
        "id": "capqa.dialogue",
        "version": 1,
        "system": (
            "You write questions and answers about an image from its caption alone. Each answer must "
            "be stated in the caption. Write each question on a line starting with 'Q:' and its answer "
            "on the next line starting with 'A:'."
        ),
        "user": (
            "Caption:\n{caption}\n\nWrite {turns} different questions about this image, each followed by its "
            "answer from the caption, in this format:\nQ: What color is the car?\nA: The car is red."
        ),
    },
]
