"""An OpenAI-compatible /v1/chat/completions server on 127.0.0.1 that answers with the real
local SmolLM2 backend, so the HTTP backend is tested against a real model behind real HTTP.

Fault injection for the retry and timeout tests: `fail_next` answers that many requests with
HTTP 503; `delay_s` sleeps before answering. `max_in_flight` records peak concurrency.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipelines.llm_types import ChatMessage, GenerationParams


class ChatServer:
    def __init__(self, *, chat_model) -> None:
        self.chat_model = chat_model
        self.fail_next = 0
        self.delay_s = 0.0
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        """Wait (up to 5 s) for requests a previous test abandoned, then clear the counters."""
        deadline = time.monotonic() + 5.0
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        self.fail_next, self.delay_s, self.requests, self.max_in_flight = 0, 0.0, 0, 0

    def answer(self, body: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            failing = self.fail_next > 0
            self.fail_next -= 1 if failing else 0
        try:
            time.sleep(self.delay_s)
            if failing:
                return 503, {"error": {"message": "overloaded"}}
            return 200, self._complete(body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _complete(self, body: dict) -> dict:
        messages = [ChatMessage(role=m["role"], content=m["content"]) for m in body["messages"]]
        params = GenerationParams(max_new_tokens=body.get("max_tokens", 256), temperature=body.get("temperature", 0.0))
        reply = self.chat_model.chat(messages, params=params)
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body.get("model", "smollm2"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": reply.usage["prompt_tokens"],
                "completion_tokens": reply.usage["completion_tokens"],
            },
        }


def _handler_for(server: ChatServer):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            if self.path != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found"}})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self._send(*server.answer(body))

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args) -> None:
            pass

    return Handler
