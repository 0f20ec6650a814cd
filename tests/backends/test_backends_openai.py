"""The OpenAI-compatible backend against a small scripted HTTP server on 127.0.0.1.

    .venv/bin/python -m pytest -q tests/backends/test_backends_openai.py

The server answers from a queue of behaviours ("ok", 429 with Retry-After, 500, a slow answer
that times the client out, 400) and records every request, so each test checks exactly what was
sent and how often.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from socratic.backends import BackendError, GenerationOptions, load_backend
from socratic.backends.openai_backend import OpenAIBackend, retry_after_seconds, split_spec_argument
from socratic.errors import SocraticError

SECRET = "sk-test-SECRET-0123456789"
MESSAGES = [{"role": "system", "content": "Be Socratic."}, {"role": "user", "content": "How do I solve x^2-4=0?"}]


class Scripted(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        behaviour = server.script.pop(0) if server.script else "ok"
        if behaviour == "slow":
            time.sleep(1.5)
            behaviour = "ok"
        if isinstance(behaviour, tuple):  # (status, headers, payload)
            status, headers, payload = behaviour
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            data = json.dumps(payload).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        reply = server.reply_for(body)
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in reply.split(" "):
                chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            return
        data = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.requests, httpd.script = [], []
    httpd.reply_for = lambda body: f"What do you get if you add 4 to both sides? (seed {body.get('seed')})"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def make(server, **kwargs) -> OpenAIBackend:
    backend = OpenAIBackend("tutor-model", server.url, api_key=kwargs.pop("api_key", SECRET), **kwargs)
    backend.sleeps = []
    backend._sleep = backend.sleeps.append  # record the backoff instead of waiting
    return backend


def test_plain_reply_with_bearer_key_and_sampling_options(server):
    backend = make(server)
    out = backend.generate([MESSAGES], GenerationOptions(n=1, seed=7, temperature=0.5, top_p=0.9,
                                                         max_new_tokens=33))
    assert out == [["What do you get if you add 4 to both sides? (seed 7)"]]
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert request["body"] == {"model": "tutor-model", "messages": MESSAGES, "max_tokens": 33,
                               "temperature": 0.5, "top_p": 0.9, "seed": 7}


def test_n_samples_are_separate_requests_with_seed_plus_i(server):
    out = make(server).generate([MESSAGES, MESSAGES[:1] + [{"role": "user", "content": "hi"}]],
                                GenerationOptions(n=3, seed=10))
    assert [[r[-3:-1] for r in replies] for replies in out] == [["10", "11", "12"], ["10", "11", "12"]]
    assert len(server.requests) == 6


def test_greedy_sends_temperature_zero(server):
    make(server).generate([MESSAGES], GenerationOptions(greedy=True))
    assert server.requests[0]["body"]["temperature"] == 0.0


def test_reply_is_cut_at_the_next_speaker_turn(server):
    server.reply_for = lambda body: "What is 2 squared?\nStudent: 4"
    assert make(server).generate([MESSAGES], GenerationOptions()) == [["What is 2 squared?"]]


def test_streaming_parses_server_sent_events(server):
    pieces = list(make(server).stream(MESSAGES, GenerationOptions(seed=1)))
    assert len(pieces) > 3
    assert "".join(pieces) == "What do you get if you add 4 to both sides? (seed 1)"
    assert server.requests[0]["body"]["stream"] is True


def test_429_honours_retry_after_then_succeeds(server):
    server.script = [(429, {"Retry-After": "3"}, {"error": {"message": "slow down"}}), "ok"]
    backend = make(server)
    assert backend.generate([MESSAGES], GenerationOptions(seed=0))[0][0].startswith("What do you get")
    assert backend.sleeps == [3.0]
    assert len(server.requests) == 2


def test_500_is_retried_with_exponential_backoff(server):
    server.script = [(500, {}, {"error": "boom"}), (503, {}, {"error": "busy"}), "ok"]
    backend = make(server, backoff=1.0)
    assert backend.generate([MESSAGES], GenerationOptions())[0][0].startswith("What do you get")
    first, second = backend.sleeps
    assert 0.5 <= first <= 1.5 and 1.0 <= second <= 3.0  # base * 2**attempt, jittered by x0.5..1.5


def test_timeout_is_retried(server):
    server.script = ["slow", "ok"]
    backend = make(server, timeout=0.5)
    assert backend.generate([MESSAGES], GenerationOptions())[0][0].startswith("What do you get")
    assert len(backend.sleeps) == 1 and len(server.requests) == 2


def test_connection_refused_gives_up_after_the_attempts(server):
    backend = OpenAIBackend("m", "http://127.0.0.1:9/v1", max_attempts=3)
    backend._sleep = lambda seconds: None
    with pytest.raises(BackendError, match="gave up after 3 attempts; last error: connection error"):
        backend.generate([MESSAGES], GenerationOptions())


def test_client_error_fails_at_once_with_the_server_message(server):
    server.script = [(400, {}, {"error": {"message": "model 'tutor-model' does not exist"}})]
    backend = make(server)
    with pytest.raises(BackendError, match="HTTP 400: model 'tutor-model' does not exist"):
        backend.generate([MESSAGES], GenerationOptions())
    assert len(server.requests) == 1 and backend.sleeps == []


def test_json_schema_goes_into_response_format(server):
    schema = {"type": "object", "properties": {"questions": {"type": "boolean"}}, "required": ["questions"]}
    server.reply_for = lambda body: '{"questions": true}\nStudent: x'
    out = make(server).generate([MESSAGES], GenerationOptions(json_schema=schema))
    assert out == [['{"questions": true}\nStudent: x']]  # structured output is never cut
    assert server.requests[0]["body"]["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}


def test_without_schema_support_no_response_format_is_sent(server):
    make(server, supports_json_schema=False).generate([MESSAGES], GenerationOptions(json_schema={"type": "object"}))
    assert "response_format" not in server.requests[0]["body"]


def test_key_comes_from_the_environment_and_is_never_logged(server, monkeypatch, caplog):
    monkeypatch.delenv("SOCRATIC_OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    server.script = [(500, {}, {"error": "boom"}), (401, {}, {"error": {"message": "bad key"}})]
    backend = OpenAIBackend.from_spec(f"tutor-model@{server.url}", backoff=0.01)
    with pytest.raises(BackendError) as raised:
        backend.generate([MESSAGES], GenerationOptions())
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert "retry 1/5" in caplog.text  # the retry was logged...
    assert SECRET not in caplog.text and SECRET not in str(raised.value)  # ...without the key
    assert SECRET not in repr(backend.__dict__.get("spec")) and SECRET not in backend.cache_id


def test_local_server_needs_no_key(server, monkeypatch):
    for name in ("OPENAI_API_KEY", "SOCRATIC_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    backend = load_backend(f"openai:tutor-model@{server.url}")
    assert backend.generate([MESSAGES], GenerationOptions(seed=2)) == [
        ["What do you get if you add 4 to both sides? (seed 2)"]]
    assert "Authorization" not in server.requests[0]["headers"]
    assert backend.cache_id == f"openai:tutor-model@{server.url}"


def test_openai_itself_without_a_key_is_a_clear_error(monkeypatch):
    for name in ("OPENAI_API_KEY", "SOCRATIC_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SocraticError, match="set OPENAI_API_KEY"):
        OpenAIBackend.from_spec("gpt-4o-mini")


def test_concurrent_calls_from_threads(server):
    backend = make(server, concurrency=4)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: backend.generate([MESSAGES], GenerationOptions(seed=i))[0][0],
                                range(16)))
    assert results == [f"What do you get if you add 4 to both sides? (seed {i})" for i in range(16)]


def test_spec_argument_and_retry_after_parsing():
    assert split_spec_argument("gpt-4o") == ("gpt-4o", "https://api.openai.com/v1")
    assert split_spec_argument("llama3@http://localhost:11434/v1/") == ("llama3", "http://localhost:11434/v1")
    assert split_spec_argument("org/model@v2") == ("org/model@v2", "https://api.openai.com/v1")
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert 0 <= retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0
