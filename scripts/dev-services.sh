#!/usr/bin/env bash
# Starts a throwaway PostgreSQL and Redis on 127.0.0.1 and prints the exports for them:
#   source <(scripts/dev-services.sh)
# They keep running until you stop them (pg_ctl stop / redis-cli shutdown) or reboot.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
postgres_start >&2
redis_start >&2
echo "export DATABASE_URL=$DATABASE_URL CELERY_BROKER_URL=$REDIS_URL REDIS_URL=$REDIS_URL"
