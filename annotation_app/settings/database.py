"""Database: `DATABASE_URL` (PostgreSQL in production), a SQLite file by default.

Connections: `DATABASE_CONN_MAX_AGE` seconds a connection is kept across requests (0, the
default: one per request), checked before reuse unless `DATABASE_CONN_HEALTH_CHECKS=0`.

`PIXMO_DB_PREPARE` (off by default): psycopg binds parameters on the server and prepares a
statement on the server after `PIXMO_DB_PREPARE_THRESHOLD` executions on one connection, so the
claim statement is planned once per connection instead of once per claim. Pays only with
persistent connections. Off behind PgBouncer in transaction mode before 1.21 (or without
`max_prepared_statements`): a prepared statement lives on one server connection and the next
transaction may run on another.
"""

import dj_database_url

from .env import VAR_DIR, env_bool, env_int, env_str

_default_url = f"sqlite:///{VAR_DIR / 'pixmo.sqlite3'}"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_url),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default must work on a fresh checkout: its folder is created on first use.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # SQLite serialises writers; wait for the lock instead of failing, and take it at BEGIN so
    # the claim path never upgrades a read lock mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
elif env_bool("PIXMO_DB_PREPARE", False):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": env_int("PIXMO_DB_PREPARE_THRESHOLD", 2)}
    )
