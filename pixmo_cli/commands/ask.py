"""`pixmo ask`: the ask-model-anything step from the shell, without the web app.

OCR reads the image; the text-only LLM answers the question from the OCR text and a caption
alone (the image never reaches it); the ask guards judge the answer, a failing one is retried
with other decoding and printed flagged with its reasons when no attempt passes. Exit 0 with the
verdict printed, flagged or not; 2 for a mistake in the command line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pixmo_cli.main import CommandError


def register(subparsers) -> None:
    ask = subparsers.add_parser(
        "ask",
        help="answer a question about an image from its OCR text and a caption (text LLM + guards)",
        description="OCR the image (PIXMO_OCR_ENGINE), answer QUESTION with the text LLM (PIXMO_LLM_*) from the "
        "OCR text and the caption alone, and print the answer with the guards' verdict.",
    )
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--image", type=Path, required=True, help="the image file (PNG, JPEG, WebP, …)")
    ask.add_argument("--caption-file", type=Path, help="a text file holding the image's caption (default: none)")
    ask.add_argument("--json", action="store_true",
                     help="print everything as JSON: question, caption, OCR text, answer, verdict, provenance")
    ask.set_defaults(func=ask_command)


def ask_command(args: argparse.Namespace) -> int:
    from pipelines.errors import PipelineError
    from pipelines.llm import get_chat_model
    from pipelines.qa import ANSWER_ATTEMPTS, MAX_QUESTION_CHARS, answer_from_image

    question = args.question.strip()
    if not question:
        raise CommandError("the question is empty; write it in quotes after the options")
    if len(question) > MAX_QUESTION_CHARS:
        raise CommandError(f"the question has {len(question)} characters, over the limit of {MAX_QUESTION_CHARS}")
    image = _image_bytes(args.image)
    caption = _caption(args.caption_file)
    try:
        answer, ocr_text = answer_from_image(image=image, question=question, caption=caption,
                                             chat_model=get_chat_model())
    except PipelineError as error:
        raise CommandError(str(error)) from error
    if args.json:
        print(json.dumps({"question": question, "caption": caption, "ocr_text": ocr_text, **answer.to_dict()},
                         indent=2, ensure_ascii=False))
        return 0
    print(answer.answer)
    print()
    if answer.verdict.passed:
        print(f"verdict: passed the checks (attempt {answer.attempts} of at most {len(ANSWER_ATTEMPTS)})")
    else:
        print(f"verdict: FLAGGED after {answer.attempts} attempts; check it before use:")
        for reason in answer.verdict.reasons:
            print(f"  - {reason}")
    return 0


def _image_bytes(path: Path) -> bytes:
    """The file's bytes, once PIL has read it as an image (before any model loads)."""
    from PIL import Image, UnidentifiedImageError

    if not path.exists():
        raise CommandError(f"--image {path} does not exist.")
    if path.is_dir():
        raise CommandError(f"--image {path} is a folder; name an image file inside it.")
    data = path.read_bytes()
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise CommandError(f"--image {path} is not an image that can be read (PNG, JPEG, WebP, …).") from error
    return data


def _caption(path: Path | None) -> str:
    if path is None:
        return ""
    if not path.is_file():
        raise CommandError(f"--caption-file {path} " + ("is a folder, not a text file." if path.is_dir()
                                                        else "does not exist."))
    try:
        return path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError as error:
        raise CommandError(f"--caption-file {path} is not a UTF-8 text file.") from error
