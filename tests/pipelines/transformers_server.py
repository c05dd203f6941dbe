"""transformers' own OpenAI-compatible server (`transformers serve`, from `transformers[serving]`)
serving the bundled SmolLM2 from its local dequantised folder on 127.0.0.1, as a process the
tests can stop and start again on the same port; and a TCP relay in front of it that counts the
requests in flight, so the client's concurrency limit is measured on the wire.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def transformers_cli() -> str:
    """The `transformers` console script of this interpreter's environment."""
    beside = Path(sys.executable).with_name("transformers")
    found = str(beside) if beside.exists() else shutil.which("transformers")
    if not found:
        raise RuntimeError("the transformers command is missing; install transformers[serving]")
    return found


class TransformersServe:
    """`transformers serve MODEL_FOLDER` pinned to one model; `url` is its OpenAI base URL."""

    def __init__(self, model_folder: Path, *, log_path: Path) -> None:
        self.model = str(model_folder)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, *, timeout: float = 180.0) -> TransformersServe:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [transformers_cli(), "serve", self.model, "--host", "127.0.0.1", "--port", str(self.port),
                 "--device", "cpu", "--log-level", "info"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited ({self.process.returncode}):\n{self.log_tail()}")
            if self.healthy():
                return self
            time.sleep(0.3)
        raise RuntimeError(f"transformers serve did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # as a crash would: nothing is finished politely
            self.process.wait(timeout=30)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


class CountingRelay:
    """Forwards 127.0.0.1:`port` to the server, one upstream connection per client connection,
    and counts the requests in flight: a request is in flight from its first byte until the
    reply's first byte comes back (the backend waits for the whole reply before the next one)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.in_flight = self.max_in_flight = self.requests = 0
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self._closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        waiting = False
        try:
            while True:
                readable, _, _ = select.select([client, upstream], [], [], 60)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)
                    with self._lock:
                        if source is client and not waiting:
                            waiting = True
                            self.requests += 1
                            self.in_flight += 1
                            self.max_in_flight = max(self.max_in_flight, self.in_flight)
                        elif source is upstream and waiting:
                            waiting = False
                            self.in_flight -= 1
        finally:
            if waiting:
                with self._lock:
                    self.in_flight -= 1
            client.close()
            upstream.close()
