"""Servers the reliability tests and benchmarks run as a user would: gunicorn over real PostgreSQL.

`Gunicorn` starts `annotation_app.wsgi` with several workers on a free 127.0.0.1 port, pointed at
the database the caller names (the test database, so rows the test writes are the server's);
`OwnRedis` is a Redis server the caller can stop and start;
`TokenClient` is a thread's keep-alive HTTP connection with an API token; `multipart_body` encodes
an upload; `latency_summary` prints p50/p99 the same way everywhere.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(db: dict) -> str:
    """The URL of a Django DATABASES entry (PostgreSQL; trust auth in the tests' cluster)."""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Gunicorn:
    """gunicorn with `workers` processes × `threads` threads; `stop()` waits for it to exit."""

    def __init__(self, *, folder: Path, env: dict, workers: int = 3, threads: int = 4,
                 app: str = "annotation_app.wsgi:application"):
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"gunicorn-{self.port}.log"
        self.env = {**os.environ, "DJANGO_DEBUG": "0", "PYTHONUNBUFFERED": "1", **env}
        self.command = [
            sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
            "--timeout", "120", "--keep-alive", "30", "--backlog", "512", "--log-level", "warning",
        ]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Gunicorn:
        log = open(self.log_path, "a")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/api/me/")
                connection.getresponse().read()
                connection.close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on {self.url} within {timeout:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class OwnRedis:
    """A Redis server of the caller's own on a free port, so it can be stopped and started, and
    a worker on it takes no one else's messages."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> OwnRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ping = ["redis-cli", "-p", str(self.port), "ping"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run(ping, check=False, capture_output=True, text=True).stdout.strip() == "PONG":
                return self
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def celery_sends_to(app, url: str):
    """The Celery `app`'s sends from this process go to the broker at `url` while the block runs
    (a Redis a test owns, or one nothing listens on), then back to the configured one."""
    previous = app.conf.broker_write_url
    app.conf.broker_write_url = url
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_write_url = previous
        app._pool = None
        app.amqp._producer_pool = None


class TokenClient:
    """One keep-alive connection with `Authorization: Token …`; reconnects when the server drops it."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 60):
        host, port = base_url.removeprefix("http://").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.headers = {"Authorization": f"Token {token}"} if token else {}
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes, float]:
        """(status, body, seconds); a connection the server closed is retried once on a new one."""
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            start = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers={**self.headers, **(headers or {})})
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter() - start
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return response.status, data, elapsed
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, payload=None, *, body: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, object, float]:
        """A request with a JSON `payload` (or a ready `body` of `content_type`); the answer parsed."""
        if payload is not None:
            body = json.dumps(payload).encode()
        status, data, elapsed = self.request(method, path, body=body,
                                             headers={"Content-Type": content_type} if body else None)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = data.decode(errors="replace")
        return status, parsed, elapsed

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def multipart_body(fields: dict[str, str], files: dict[str, tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data request; `files` maps a field to
    (file name, content type, bytes)."""
    boundary = f"pixmo-{uuid.uuid4().hex}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content_type, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def run_together(worker, count: int, barrier) -> float:
    """Start `count` threads running `worker(index)`; each waits on `barrier` (made for count + 1
    parties) once its untimed set-up is done. Returns the seconds from the barrier's release until
    the last thread ends."""
    import threading

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def percentile_ms(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def latency_summary(values: list[float]) -> str:
    return f"p50 {percentile_ms(values, 50):.1f} ms, p99 {percentile_ms(values, 99):.1f} ms"
