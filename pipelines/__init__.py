"""pipelines: plain processing steps for PixMo Studio; knows nothing of Django.

Entry points (each returns plain dataclasses with `to_dict()` and a provenance record):
- audio.analyse_audio / recording.process_recording: decode, check, transcribe a spoken caption.
- asr.get_transcriber / asr.transcribe: Whisper (faster-whisper), one model per process.
- llm.get_chat_model: the text-only chat model (local transformers or OpenAI-compatible HTTP).
- refine.refine_transcripts: clean-up + LLM rewrite/merge + guards, with a reviewed fallback; by sentence
  (sentences, sentence_guards, refine_sentences) or whole (PIXMO_REFINE_STRATEGY).
- qa.answer_question / qa.revise_answer / qa.answer_from_image: ask-model-anything (OCR + caption),
  judged by answer_guards.check_answer, retried with other decoding, flagged when no attempt passes.
- capqa.generate_capqa: caption -> validated QA dialogue in PixMo-CapQA form.
- prompts.get_prompt: versioned prompt templates (id@vN + sha256).
- metrics.word_error_rate.

Settings are environment variables with embedded defaults: PIXMO_AUDIO_* (audio.AudioPolicy),
PIXMO_ASR_* (asr_settings.AsrSettings), PIXMO_LLM_* (llm_settings.LlmSettings), PIXMO_OCR_ENGINE,
PIXMO_OCR_LANG, PIXMO_OCR_TIMEOUT_S (ocr.ocr_image), and PIXMO_CACHE_DIR (derived model files,
default ~/.cache/pixmo). They are read here and only here: the Django settings do not copy them.
"""
