"""What ASR returns: text, timed segments with word timestamps, and how it was produced."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Word:
    start: float  # seconds from the start of the recording
    end: float
    word: str
    probability: float


@dataclass(frozen=True, kw_only=True)
class Segment:
    start: float  # seconds
    end: float
    text: str
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float
    temperature: float  # the decoding temperature that produced this segment
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AsrTranscript:
    text: str
    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration_s: float
    temperature_fallbacks: int  # segments decoded above the first temperature
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def word_count(self) -> int:
        return len(self.text.split())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> AsrTranscript:
        segments = tuple(
            Segment(**{**segment, "words": tuple(Word(**word) for word in segment.get("words", ()))})
            for segment in record["segments"]
        )
        return cls(**{**record, "segments": segments})
