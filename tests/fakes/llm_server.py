"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1, for the reliability tests (helper J).

    with FakeLLM(lambda request: Reply("What do you think?", delay=0.1)) as server:
        spec = f"openai:tutor@{server.url}"       # any socratic command can use it as a model

The behaviour function gets each parsed request (a `Request`: body, the text of its messages, how many
requests came before it) and returns a `Reply`: a status, a text (wrapped in a chat.completion) or a
raw body, headers, a delay before answering, or `drop=True` to close the connection unanswered. Every
request is recorded with its arrival time, so tests can check retries, re-asks and Retry-After waits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass
class Reply:
    text: str | None = None             # the assistant message content (a normal completion)
    status: int = 200
    raw: bytes | None = None            # sent as is instead of a completion
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False                  # close the connection without answering


@dataclass
class Request:
    body: dict[str, Any]
    arrived: float
    number: int                         # 0 for the first request this server saw
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


class FakeLLM:
    def __init__(self, behave: Callable[[Request], Reply]):
        self.behave = behave
        self.requests: list[Request] = []
        self.answered = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, the body waits ~40 ms for the
            # client's delayed ACK, which a benchmark would charge to the client.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer._lock:
                    request = Request(body, time.monotonic(), len(outer.requests), dict(self.headers.items()))
                    outer.requests.append(request)
                reply = outer.behave(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                payload = reply.raw if reply.raw is not None else json.dumps({
                    "id": f"chatcmpl-{request.number}", "object": "chat.completion", "created": 0,
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply.text or ""}}],
                }).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                    with outer._lock:
                        outer.answered += 1
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def judgment_json(questions: bool = True, on_topic: int = 4, helpful: int = 3, reveal_answer: bool = False) -> str:
    return json.dumps({"questions": questions, "on_topic": on_topic, "helpful": helpful,
                       "reveal_answer": reveal_answer})


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
