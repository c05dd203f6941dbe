import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pixmo(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The `pixmo` command as a user runs it: a new process, its own stdout, stderr and exit code.
    By default on a fresh, unmigrated SQLite database (no DATABASE_URL), models offline."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run([sys.executable, "-m", "pixmo_cli", *args], check=False, cwd=ROOT, capture_output=True, text=True,
                          env={**base, "HF_HUB_OFFLINE": "1", **(env or {})}, timeout=timeout)


@pytest.fixture(scope="session")
def clocks_folder(tmp_path_factory) -> str:
    """One small pixmo-clocks dataset folder written by the builders: 24 faces of 64 px."""
    from pixmo_builders.clocks import write_clocks_release

    location = tmp_path_factory.mktemp("release") / "pixmo-clocks"
    write_clocks_release(n=24, location=str(location), size=64, shard_max_samples=8, validation_fraction=0.2)
    return str(location)
