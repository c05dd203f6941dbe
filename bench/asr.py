"""ASR throughput: audio-seconds transcribed per wall-second.

Compares, over the same files in the same run:
- bare: a plain faster-whisper loop (its own decoding, same model and decoding options);
- pipeline: pipelines.recording.process_recording (PyAV decode + loudness + VAD + ASR +
  speaking-rate checks) plus an insert into a SQLite table standing in for the database write;
- batched: the same pipeline with BatchedInferencePipeline (VAD chunks of one recording decoded
  as a batch);
- across recordings: BatchedInferencePipeline on the decoded recordings joined end to end with
  2 s of silence between them, so one batch holds chunks of several recordings (what a worker
  batching its queued recordings would do), against bare sequential decoding of the same audio.

Prints pipeline/bare (aim: >= 0.9), batched/sequential and across-recordings/sequential ratios.
On one CPU thread the encoder's 30 s windows cost the same batched or not and only the decoder
gains from batching, so neither batch shape reaches 1.5x here (see the README's figures).

    flock /tmp/pixmo-heavy.lock .venv/bin/python bench/asr.py [--files 3] [--repeats 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tqdm import tqdm  # noqa: E402

from devtools.speech import make_ogg_opus, make_scene_speech, make_webm_opus  # noqa: E402
from pipelines.asr import AsrSettings, get_transcriber  # noqa: E402
from pipelines.audio import AudioPolicy  # noqa: E402
from pipelines.recording import process_recording  # noqa: E402


def make_files(folder: Path, *, count: int) -> list[Path]:
    """Scene speech as WAV, WebM/Opus and Ogg/Opus in turn (what browsers upload)."""
    wav = make_scene_speech(folder / "scene.wav")
    makers = [
        lambda i: wav,
        lambda i: make_webm_opus(wav, folder / f"s{i}.webm"),
        lambda i: make_ogg_opus(wav, folder / f"s{i}.ogg"),
    ]
    return [makers[i % 3](i) for i in range(count)]


def bare_loop(files: list[Path], *, model, settings: AsrSettings) -> float:
    start = time.perf_counter()
    for path in tqdm(files, desc="bare faster-whisper", unit="file", file=sys.stderr):
        segments, _ = model.transcribe(
            str(path),
            beam_size=settings.beam_size,
            temperature=list(settings.temperatures),
            word_timestamps=True,
            condition_on_previous_text=True,
        )
        list(segments)
    return time.perf_counter() - start


def across_recordings(files: list[Path], *, batched, settings: AsrSettings) -> float:
    """Wall seconds for one batched transcription of every file's audio joined with silence."""
    import numpy as np

    from pipelines.audio_decode import ANALYSIS_SAMPLE_RATE, decode_audio

    gap = np.zeros(2 * ANALYSIS_SAMPLE_RATE, dtype=np.float32)
    parts = [decode_audio(path, max_bytes=10**9, max_seconds=3600).samples for path in files]
    joined = np.concatenate([piece for samples in parts for piece in (samples, gap)])
    start = time.perf_counter()
    segments, _ = batched.transcribe(joined, batch_size=settings.batch_size, beam_size=settings.beam_size,
                                     word_timestamps=True)
    list(tqdm(segments, desc="across recordings", unit="segment", file=sys.stderr))
    return time.perf_counter() - start


def pipeline_loop(files: list[Path], *, transcriber, database: sqlite3.Connection, label: str) -> tuple[float, float]:
    """(wall seconds, audio seconds) through decode + checks + ASR + a row insert per file."""
    policy = AudioPolicy()
    audio_seconds = 0.0
    start = time.perf_counter()
    for path in tqdm(files, desc=label, unit="file", file=sys.stderr):
        result = process_recording(path.read_bytes(), policy=policy, transcriber=transcriber)
        audio_seconds += result.report.duration_s
        with database:
            database.execute(
                "INSERT INTO transcript (file, report, transcript) VALUES (?, ?, ?)",
                (str(path), json.dumps(result.report.to_dict()), json.dumps(result.transcript.to_dict())),
            )
    return time.perf_counter() - start, audio_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3, help="number of ~66 s recordings (default 3)")
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    settings = AsrSettings.from_env()
    sequential = get_transcriber(dataclasses.replace(settings, batch_size=0))
    batched = get_transcriber(dataclasses.replace(settings, batch_size=args.batch_size))
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(Path(folder), count=args.files)
        database = sqlite3.connect(Path(folder) / "bench.sqlite3")
        database.execute("CREATE TABLE transcript (id INTEGER PRIMARY KEY, file TEXT, report TEXT, transcript TEXT)")
        pipeline_loop(files[:1], transcriber=sequential, database=database, label="warm-up")  # loads VAD + model caches
        bare_s = bare_loop(files, model=sequential.backend.model, settings=sequential.settings)
        pipe_s, audio_s = pipeline_loop(files, transcriber=sequential, database=database, label="pipeline sequential")
        batch_s, _ = pipeline_loop(
            files, transcriber=batched, database=database, label=f"pipeline batched({args.batch_size})"
        )
        across_s = across_recordings(files, batched=batched.backend.batched, settings=batched.settings)

    print(
        f"model {sequential.backend.identity['name']} {sequential.backend.identity['compute_type']}"
        f" on {sequential.backend.identity['device']}, threads={settings.threads}, beam={settings.beam_size};"
        f" {len(files)} files, {audio_s:.1f} s of audio"
    )
    for name, wall in (("bare faster-whisper", bare_s), ("pipeline sequential", pipe_s), ("pipeline batched", batch_s),
                       ("batched across files", across_s)):
        print(f"{name:22s} {wall:7.2f} s wall  {audio_s / wall:6.2f} audio-s per wall-s")
    print(f"pipeline / bare throughput:        {bare_s / pipe_s:.3f}  (aim >= 0.9)")
    print(f"batched / sequential throughput:   {pipe_s / batch_s:.3f}")
    print(f"across recordings / bare sequential throughput: {bare_s / across_s:.3f}")


if __name__ == "__main__":
    main()
