"""The code version a release records: the git commit when there is one, else the package's."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    commit = _git_commit()
    if commit:
        return f"git:{commit}"
    try:
        return f"pixmo-studio=={metadata.version('pixmo-studio')}"
    except metadata.PackageNotFoundError:
        return "unknown"


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPOSITORY_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    commit = result.stdout.strip() if result.returncode == 0 else None
    return f"{commit}{'+dirty' if dirty else ''}" if commit else None
