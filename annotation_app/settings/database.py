"""Database: `DATABASE_URL` (PostgreSQL in production), a SQLite file by default."""

import dj_database_url

from .env import VAR_DIR, env_int, env_str

_default_url = f"sqlite:///{VAR_DIR / 'pixmo.sqlite3'}"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_url),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
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
