"""Errors raised by the pipelines; each message is one readable sentence fit to store on a row."""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error a pipeline step raises on purpose."""


class SettingError(PipelineError):
    """An environment setting holds a value the pipelines cannot use."""


class AudioDecodeError(PipelineError):
    """The audio bytes are not a recording the pipelines can decode; `reason` is stored on the row."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ModelNotFoundError(PipelineError):
    """A model path or package is missing; the message names the setting to change."""


class LlmError(PipelineError):
    """The language model failed to answer (after retries, for a remote backend)."""


class OcrError(PipelineError):
    """The OCR engine is missing or could not read the image."""


class InputLimitError(PipelineError):
    """An input is larger than a stated limit; the message names the limit."""
