#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need, starts a throwaway
# PostgreSQL and Redis on 127.0.0.1, and runs pytest against them. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

echo "==> system packages"
apt_ensure "$PG_BIN/initdb" postgresql
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
apt_ensure redis-server redis-server
apt_ensure chromium chromium fonts-dejavu-core
apt_ensure espeak-ng espeak-ng
apt_ensure ffmpeg ffmpeg
apt_ensure tesseract tesseract-ocr tesseract-ocr-eng
apt_ensure sox sox
apt_ensure dot graphviz
apt_ensure dvipng texlive-latex-base dvipng

scripts/install.sh test

trap 'postgres_stop; redis_stop' EXIT
postgres_start
redis_start

export CELERY_BROKER_URL="$REDIS_URL"
export PIXMO_VAR_DIR=$(mktemp -d /tmp/pixmo-var.XXXXXX)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PIXMO_MODEL_CACHE=${PIXMO_MODEL_CACHE:-$HOME/.cache/pixmo}
export PYTHONUNBUFFERED=1
# Every pixmo-docs renderer must run here: a missing one fails its test instead of skipping.
export PIXMO_REQUIRE_ALL_RENDERERS=1

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "ERROR: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
