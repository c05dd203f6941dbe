#!/usr/bin/env bash
# Brings PixMo Studio up on the embedded defaults: SQLite, a filesystem Celery broker, a local
# media folder. Creates .venv, installs, migrates, seeds the demo, then runs the web server,
# a Celery worker (queues default, asr, llm) and beat until you press Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install.sh
export PIXMO_VAR_DIR=${PIXMO_VAR_DIR:-$PWD/var}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PORT=${PORT:-8000}
mkdir -p "$PIXMO_VAR_DIR/logs"

echo "==> migrating the database ($PIXMO_VAR_DIR)"
.venv/bin/python manage.py migrate --noinput -v0
echo "==> collecting static files"
.venv/bin/python manage.py collectstatic --noinput -v0
echo "==> seeding the demo"
.venv/bin/python manage.py seed_demo
echo "==> starting the web server, a worker (queues default, asr, llm) and beat"

trap 'trap - EXIT INT TERM; kill 0 2>/dev/null' EXIT INT TERM
.venv/bin/celery -A annotation_app worker -Q default,asr,llm --concurrency 1 --loglevel INFO \
  >"$PIXMO_VAR_DIR/logs/worker.log" 2>&1 &
.venv/bin/celery -A annotation_app beat --loglevel INFO \
  --schedule "$PIXMO_VAR_DIR/celerybeat-schedule" >"$PIXMO_VAR_DIR/logs/beat.log" 2>&1 &
(
  for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "http://127.0.0.1:$PORT/login/" 2>/dev/null \
       || python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/login/')" 2>/dev/null; then
      echo
      echo "PixMo Studio is up at http://127.0.0.1:$PORT/  (API docs: http://127.0.0.1:$PORT/api/docs/)"
      echo "Worker and beat logs: $PIXMO_VAR_DIR/logs/. The pixmo command: ./pixmo --help. Press Ctrl-C to stop."
      exit 0
    fi
    sleep 1
  done
  echo "ERROR: the web server did not answer on 127.0.0.1:$PORT within 120 s" >&2
) &
exec_status=0
.venv/bin/python manage.py runserver "127.0.0.1:$PORT" --noreload || exec_status=$?
exit "$exec_status"
