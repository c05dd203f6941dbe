# One image for web, workers and beat; docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      ffmpeg tesseract-ocr tesseract-ocr-eng graphviz chromium fonts-dejavu-core curl \
      texlive-latex-base dvipng \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY scripts/install.sh scripts/install.sh
COPY . .
RUN PYTHON=python3 scripts/install.sh && .venv/bin/python manage.py collectstatic --noinput -v0
ENV PATH=/app/.venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=annotation_app.settings.production \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["gunicorn", "annotation_app.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
