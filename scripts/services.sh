# Throwaway PostgreSQL and Redis on 127.0.0.1 for the tests; sourced by scripts/test.sh.
# Each function fails loudly with the reason when a service does not come up.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

die() { echo "ERROR: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

apt_ensure() {
  # apt_ensure COMMAND PACKAGE...: install the Debian packages when COMMAND is missing.
  local command=$1; shift
  if ! command -v "$command" >/dev/null 2>&1 && [ ! -x "$command" ]; then
    if [ "${APT_UPDATED:-0}" != 1 ]; then
      echo "==> apt-get update"
      apt-get update -qq || die "apt-get update failed"
      APT_UPDATED=1
    fi
    echo "==> installing Debian packages: $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
      || die "apt-get install $* failed"
  fi
}

postgres_start() {
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin)"
  PG_DIR=$(mktemp -d /tmp/pixmo-pg.XXXXXX)
  PG_PORT=$(free_port)
  chown postgres:postgres "$PG_DIR" 2>/dev/null || true
  local as_pg=""
  [ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
  $as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U pixmo --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; die "initdb failed"; }
  $as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$PG_DIR/server.log"; die "PostgreSQL did not start on 127.0.0.1:$PG_PORT"; }
  export DATABASE_URL="postgres://pixmo@127.0.0.1:$PG_PORT/postgres"
  echo "==> PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

postgres_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  local as_pg=""
  [ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
  $as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}

redis_start() {
  command -v redis-server >/dev/null || die "redis-server not found"
  REDIS_DIR=$(mktemp -d /tmp/pixmo-redis.XXXXXX)
  REDIS_PORT=$(free_port)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$REDIS_DIR" \
    --save "" --appendonly no --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    || die "redis-server failed to start"
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { cat "$REDIS_DIR/redis.log"; die "Redis did not answer on 127.0.0.1:$REDIS_PORT"; }
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  echo "==> Redis $(redis-server --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT"
}

redis_stop() {
  [ -n "${REDIS_DIR:-}" ] || return 0
  [ -f "$REDIS_DIR/redis.pid" ] && kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
  rm -rf "$REDIS_DIR"
}
