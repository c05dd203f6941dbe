"""`pixmo transcribe` and `pixmo refine`: the workers' pipeline steps, from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pixmo_cli.main import CommandError


def register(subparsers) -> None:
    transcribe = subparsers.add_parser(
        "transcribe",
        help="check and transcribe spoken captions (Whisper)",
        description="Decode, check against the audio policy (PIXMO_AUDIO_*) and transcribe each file.",
    )
    transcribe.add_argument("audio", nargs="+", type=Path, help="audio files: webm, ogg, mp4, wav, flac, mp3")
    transcribe.add_argument("--model", help="faster-whisper model folder or name (default: PIXMO_ASR_MODEL)")
    transcribe.add_argument("--batch-size", type=int, help="batched decoding batch size, 0 for sequential")
    transcribe.add_argument("--json", action="store_true", help="print one JSON object per file")
    transcribe.set_defaults(func=transcribe_command)

    refine = subparsers.add_parser(
        "refine",
        help="turn transcripts into one caption (clean-up + text LLM + guards)",
        description=("Refine one transcript, or merge several, into a caption. '-' or no file reads stdin. "
                     "PIXMO_REFINE_STRATEGY: sentences (default; the sentences the LLM changed or was "
                     "refused are listed on stderr) or whole."),
    )
    refine.add_argument("transcripts", nargs="*", type=Path, help="text files (or `pixmo transcribe --json` output)")
    refine.add_argument("--json", action="store_true", help="print the refinement with its verdict and provenance")
    refine.set_defaults(func=refine_command)


def transcribe_command(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipelines.asr import AsrSettings, get_transcriber
    from pipelines.audio import AudioPolicy
    from pipelines.errors import AudioDecodeError, PipelineError

    _require_files(args.audio)
    try:
        settings = _asr_settings(AsrSettings.from_env(), model=args.model, batch_size=args.batch_size)
        policy = AudioPolicy.from_env()
        transcriber = get_transcriber(settings)
    except PipelineError as error:
        raise CommandError(str(error)) from error
    failures = 0
    for path in tqdm(args.audio, desc="transcribing", unit="file", disable=len(args.audio) < 2, file=sys.stderr):
        try:
            _print_recording(path, policy=policy, transcriber=transcriber, as_json=args.json)
        except AudioDecodeError as error:
            failures += 1
            _print_failure(path, reason=error.reason, as_json=args.json)
    if failures:
        print(f"pixmo transcribe: {failures} of {len(args.audio)} files could not be decoded (reasons above).",
              file=sys.stderr)
    return 1 if failures else 0


def _asr_settings(settings, *, model: str | None, batch_size: int | None):
    import dataclasses

    if batch_size is not None and batch_size < 0:
        raise CommandError(f"--batch-size {batch_size} must be 0 or more.")
    changes = {"model": model} if model else {}
    if batch_size is not None:
        changes["batch_size"] = batch_size
    return dataclasses.replace(settings, **changes)


def _print_recording(path: Path, *, policy, transcriber, as_json: bool) -> None:
    from pipelines.recording import process_recording

    result = process_recording(path, policy=policy, transcriber=transcriber)
    if as_json:
        record = {"file": str(path), "report": result.report.to_dict(), "timings_ms": result.timings_ms}
        record["transcript"] = result.transcript.to_dict() if result.transcript else None
        print(json.dumps(record))
        return
    report = result.report
    flags = ", ".join(report.flags) or "none"
    print(f"== {path}  {report.duration_s:.1f} s  speech {report.speech_ratio:.0%}  flags: {flags}")
    print(result.transcript.text if result.transcript else "(silent: not transcribed)")


def _print_failure(path: Path, *, reason: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"file": str(path), "error": reason}))
    else:
        print(f"== {path}  failed: {reason}")


def refine_command(args: argparse.Namespace) -> int:
    from pipelines.errors import PipelineError
    from pipelines.llm import get_chat_model
    from pipelines.refine import refine_transcripts

    transcripts = _read_transcripts(args.transcripts)
    try:
        result = refine_transcripts(transcripts, chat_model=get_chat_model())
    except PipelineError as error:
        raise CommandError(str(error)) from error
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(result.caption)
    if result.strategy == "sentences":
        _print_sentence_edits(result)
    elif result.needs_review:
        reason = result.llm_error or "guards failed: " + ", ".join(result.verdict.failed)
        print(
            f"pixmo refine: the LLM caption was not used ({reason}); this is the clean-up, flagged for review.",
            file=sys.stderr,
        )
    return 0


def _print_sentence_edits(result) -> None:
    """On stderr (stdout is the caption): which sentences the LLM changed, which rewrites were refused and why."""
    edits = result.sentences
    changed = [edit for edit in edits if edit.changed]
    refused = [edit for edit in edits if not edit.kept]
    print(f"pixmo refine: the LLM changed {len(changed)} of {len(edits)} sentences; "
          f"{len(refused)} rewrite{'s' if len(refused) != 1 else ''} refused.", file=sys.stderr)
    for edit in changed:
        print(f"  changed: {edit.source}\n       to: {edit.rewrite}", file=sys.stderr)
    for edit in refused:
        print(f"  refused: {edit.source}\n      why: {' '.join(edit.reasons)}", file=sys.stderr)
    if result.needs_review:
        why = result.llm_error or "the caption failed its guards: " + ", ".join(result.verdict.failed)
        print(f"pixmo refine: flagged for review ({why}).", file=sys.stderr)


def _read_transcripts(paths: list[Path]) -> list[str]:
    texts = []
    for path in paths or [Path("-")]:
        if str(path) == "-":
            texts.append(sys.stdin.read())
            continue
        _require_files([path])
        texts.append(_transcript_text(path.read_text(encoding="utf-8")))
    if not any(text.strip() for text in texts):
        raise CommandError("every transcript given is empty.")
    return texts


def _transcript_text(content: str) -> str:
    """Plain text, or the text of a `pixmo transcribe --json` record."""
    if content.lstrip().startswith("{"):
        try:
            record = json.loads(content)
        except ValueError:
            return content
        transcript = record.get("transcript") or record
        return transcript.get("text", "") if isinstance(transcript, dict) else content
    return content


def _require_files(paths: list[Path]) -> None:
    folders = [str(path) for path in paths if path.is_dir()]
    if folders:
        raise CommandError(f"{', '.join(folders)}: a folder, not a file; name the files inside it.")
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise CommandError(f"no such file: {', '.join(missing)}.")
