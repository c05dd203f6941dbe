"""Run untrusted renderer code in a separate process: time and memory limits, a temporary
folder, an environment without proxies or credentials, and no network.

No network: the process runs in a fresh network namespace (`unshare --net`) where the kernel
allows it; Python renderers additionally get a `sitecustomize` that makes sockets refuse to
connect, so the guard holds even where namespaces are unavailable.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
SOCKET_GUARD = """
import socket

def _refuse(*args, **kwargs):
    raise OSError("network access is disabled in the PixMo docs sandbox")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 30.0
    cpu_s: int = 30
    # Address-space cap; None for programs (Chromium) that reserve far more than they use.
    memory_bytes: int | None = 1024 * MIB
    max_file_bytes: int = 64 * MIB


@dataclass(frozen=True)
class SandboxResult:
    ok: bool
    output: bytes | None
    error: str
    seconds: float


@functools.cache
def network_namespace_prefix() -> tuple[str, ...]:
    """`unshare` arguments that cut the network off, or () where this kernel forbids it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    prefix = (unshare, "--net", "--map-root-user")
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    return prefix if probe.returncode == 0 else ()


def _limit(*, limits: SandboxLimits) -> None:
    os.setsid()
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.max_file_bytes, limits.max_file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.memory_bytes is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))


def _environment(*, folder: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.update(
        {
            "HOME": str(folder),
            "TMPDIR": str(folder),
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(folder),
            "PYTHONPATH": str(folder),
            "PYTHONNOUSERSITE": "1",
            "XDG_CONFIG_HOME": str(folder),
            "XDG_CACHE_HOME": str(folder),
        }
    )
    env.update(extra)
    return env


def run_sandboxed(
    *,
    argv: list[str],
    files: dict[str, bytes],
    output_name: str,
    limits: SandboxLimits = SandboxLimits(),
    env: dict[str, str] | None = None,
) -> SandboxResult:
    """Write `files` into a fresh temporary folder, run `argv` there, and return `output_name`'s bytes.

    `{folder}` in an argument is replaced by the folder's path; `env` adds variables to the
    otherwise bare environment.
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pixmo-sandbox-") as name:
        folder = Path(name)
        (folder / "sitecustomize.py").write_text(SOCKET_GUARD)
        for file_name, data in files.items():
            (folder / file_name).write_bytes(data)
        command = [*network_namespace_prefix(), *(arg.replace("{folder}", name) for arg in argv)]
        error = _run(command=command, folder=folder, limits=limits, env=env or {})
        output = folder / output_name
        seconds = time.perf_counter() - start
        if error is None and output.is_file() and output.stat().st_size > 0:
            return SandboxResult(ok=True, output=output.read_bytes(), error="", seconds=seconds)
        return SandboxResult(
            ok=False, output=None, error=error or f"no {output_name} was written", seconds=seconds
        )


def _run(*, command: list[str], folder: Path, limits: SandboxLimits, env: dict[str, str]) -> str | None:
    process = subprocess.Popen(
        command,
        cwd=folder,
        env=_environment(folder=folder, extra=env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # Runs between fork and exec: the one place where rlimits bind the child alone.
        preexec_fn=lambda: _limit(limits=limits),
    )
    try:
        _, stderr = process.communicate(timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return f"timed out after {limits.timeout_s:.0f} s"
    if process.returncode != 0:
        last_line = (stderr.decode(errors="replace").strip().splitlines() or ["(no message)"])[-1]
        return f"exit code {process.returncode}: {last_line[:300]}"
    return None
