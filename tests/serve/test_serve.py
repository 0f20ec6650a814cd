"""Tests of `socratic serve`: the OpenAI-compatible API, its limits and its key check.

Fast tests drive `create_app` around a FakeBackend (TestClient, or a real uvicorn on loopback for
the official `openai` client); the slow one runs `socratic serve --model embedded` as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
from fastapi.testclient import TestClient

from fakes.live_server import live_server
from socratic.backends import FakeBackend
from socratic.render import default_system_prompt, system_message
from socratic.serve import ServeConfig, create_app
from socratic.serve.generations import Busy, Limiter, StopScanner

REPLY = "What do you get if you subtract 3 from both sides?"
USER = [{"role": "user", "content": "How do I solve 2x + 3 = 11?"}]


def make_client(backend=None, **config) -> TestClient:
    backend = backend or FakeBackend([REPLY])
    return TestClient(create_app(backend, ServeConfig(model=backend.spec, **config)))


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]


# ---- pure pieces -------------------------------------------------------------------------------

def test_stop_scanner_cuts_at_a_stop_split_across_pieces():
    scanner = StopScanner(["<|im_end|>"])
    out = [scanner.feed(p) for p in ["  Why", " not? <|im", "_end|> more"]]
    assert out == ["Why", " not?", ""]
    assert scanner.stopped and scanner.flush() == ""


def test_stop_scanner_releases_held_text_that_was_no_stop():
    scanner = StopScanner(["STOP"])
    assert scanner.feed("a ST") == "a"
    assert scanner.feed("ar") == " STar"
    assert scanner.feed(" S") == ""
    assert scanner.feed("ky ") == " Sky"
    assert scanner.flush() == "" and not scanner.stopped


def test_limiter_admits_running_plus_queue_then_refuses():
    async def scenario():
        limiter = Limiter(max_active=1, queue_size=1, queue_timeout=5)
        await limiter.acquire()
        waiter = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        assert (limiter.active, limiter.waiting) == (1, 1)
        with pytest.raises(Busy):
            await limiter.acquire()
        limiter.release()
        await waiter
        assert (limiter.active, limiter.waiting) == (1, 0)
        limiter.release()
        assert limiter.admitted == 0

    asyncio.run(scenario())


def test_limiter_queue_timeout_is_busy():
    async def scenario():
        limiter = Limiter(max_active=1, queue_size=4, queue_timeout=0.05)
        await limiter.acquire()
        with pytest.raises(Busy):
            await limiter.acquire()
        assert limiter.admitted == 1

    asyncio.run(scenario())


# ---- the API with a fake backend ---------------------------------------------------------------

def test_completion_prepends_the_tutor_prompt_and_maps_options():
    backend = FakeBackend([REPLY])
    with make_client(backend) as client:
        response = client.post("/v1/chat/completions", json={
            "model": "fake", "messages": USER, "max_tokens": 50, "temperature": 0, "seed": 7})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == "fake"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
    assert body["choices"][0]["finish_reason"] == "stop"
    messages, options = backend.calls[0]
    assert messages == [system_message("", default_system_prompt()), *USER]
    assert (options.max_new_tokens, options.greedy, options.seed, options.n) == (50, True, 7, 1)


def test_context_goes_into_the_tutor_system_message():
    backend = FakeBackend([REPLY])
    with make_client(backend) as client:
        client.post("/v1/chat/completions", json={"messages": USER, "context": "2x + 3 = 11"})
    assert backend.calls[0][0][0] == system_message("2x + 3 = 11", default_system_prompt())


def test_the_answer_key_goes_into_the_system_message_and_never_back():
    backend = FakeBackend([REPLY])
    with make_client(backend) as client:
        response = client.post("/v1/chat/completions", json={"messages": USER, "context": "2x + 3 = 11",
                                                             "answer_key": "2x = 8, x = 4"})
    assert backend.calls[0][0][0] == system_message("2x + 3 = 11", default_system_prompt(), "2x = 8, x = 4")
    assert "x = 4" in backend.calls[0][0][0]["content"] and "x = 4" not in response.text


def test_own_system_message_is_respected(tmp_path):
    backend = FakeBackend([REPLY])
    own = [{"role": "system", "content": "Be a pirate."}, *USER]
    with make_client(backend) as client:
        client.post("/v1/chat/completions", json={"messages": own})
    assert backend.calls[0][0] == own


def test_system_prompt_file_replaces_the_default(tmp_path):
    prompt = tmp_path / "prompt.md"
    prompt.write_text("Only ask questions.\n", "utf-8")
    backend = FakeBackend([REPLY])
    with make_client(backend, system_prompt=prompt) as client:
        client.post("/v1/chat/completions", json={"messages": USER})
    assert backend.calls[0][0][0] == {"role": "system", "content": "Only ask questions."}


def test_streaming_sends_role_content_finish_and_done():
    with make_client() as client:
        response = client.post("/v1/chat/completions", json={
            "messages": USER, "stream": True, "stream_options": {"include_usage": True}})
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks[1:-1]]
    assert len(pieces) > 3 and "".join(pieces) == REPLY
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_stop_sequences_cut_the_reply():
    with make_client(FakeBackend(["Think again. Student: ok"])) as client:
        response = client.post("/v1/chat/completions", json={"messages": USER, "stop": "Student:"})
        streamed = client.post("/v1/chat/completions", json={"messages": USER, "stop": ["Student:"], "stream": True})
    assert response.json()["choices"][0]["message"]["content"] == "Think again."
    text = "".join(json.loads(p)["choices"][0]["delta"].get("content", "")
                   for p in sse_payloads(streamed.text)[:-1])
    assert text == "Think again."


def test_models_and_health():
    with make_client(served_model_name="tutor") as client:
        models = client.get("/v1/models").json()
        health = client.get("/health").json()
        page = client.get("/")
    assert [m["id"] for m in models["data"]] == ["tutor"]
    assert health["status"] == "ok" and health["auth_required"] is False
    assert page.status_code == 200 and "New conversation" in page.text


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (json.dumps({"model": "x"}).encode(), 422, "messages"),
    (json.dumps({"messages": []}).encode(), 422, "messages"),
    (json.dumps({"messages": [{"role": "robot", "content": "hi"}]}).encode(), 422, "role"),
    (json.dumps({"messages": USER, "n": 2}).encode(), 422, "n=1"),
    (json.dumps({"messages": USER, "temperature": 5}).encode(), 422, "temperature"),
    (json.dumps({"messages": USER, "max_tokens": 100_000}).encode(), 400, "max_tokens"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 70_000}]}).encode(), 400, "characters"),
])
def test_bad_requests_get_clear_openai_style_errors(body, status, words):
    backend = FakeBackend([REPLY])
    with make_client(backend) as client:
        response = client.post("/v1/chat/completions", content=body,
                               headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert words in error["message"] and error["type"] == "invalid_request_error"
    assert backend.calls == []


def test_oversized_body_is_413_declared_or_streamed():
    big = json.dumps({"messages": [{"role": "user", "content": "x" * 5000}]}).encode()
    with make_client(max_body_bytes=2048) as client:
        declared = client.post("/v1/chat/completions", content=big)
        chunked = client.post("/v1/chat/completions", content=iter([big[:1500], big[1500:]]))
    assert declared.status_code == 413 and chunked.status_code == 413
    assert "limit of 2048 bytes" in declared.json()["error"]["message"]


def test_api_key_is_required_and_compared(caplog):
    backend = FakeBackend([REPLY])
    app = create_app(backend, api_key="s3cret-key")
    with caplog.at_level(logging.INFO, logger="socratic.serve"), TestClient(app) as client:
        missing = client.post("/v1/chat/completions", json={"messages": USER})
        wrong = client.post("/v1/chat/completions", json={"messages": USER},
                            headers={"Authorization": "Bearer s3cret-kez"})
        models = client.get("/v1/models")
        ok = client.post("/v1/chat/completions", json={"messages": USER},
                         headers={"Authorization": "Bearer s3cret-key"})
        health = client.get("/health")
    assert (missing.status_code, wrong.status_code, models.status_code) == (401, 401, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert ok.status_code == 200 and health.json()["auth_required"] is True
    assert len(backend.calls) == 1
    lines = [r.getMessage() for r in caplog.records]
    assert sum("/v1/chat/completions" in line for line in lines) == 3
    assert not any("s3cret" in line or "subtract" in line or "solve" in line for line in lines)


def test_backend_failure_is_a_500_json_error_and_an_error_event():
    def broken(messages, options):
        raise RuntimeError("boom")

    with make_client(FakeBackend(responder=broken)) as client:
        plain = client.post("/v1/chat/completions", json={"messages": USER})
        streamed = client.post("/v1/chat/completions", json={"messages": USER, "stream": True})
        after = client.get("/health").json()
    assert plain.status_code == 500 and plain.json()["error"]["type"] == "server_error"
    payloads = sse_payloads(streamed.text)
    assert payloads[-1] == "[DONE]" and "generation failed" in payloads[-2]
    assert (after["active"], after["waiting"]) == (0, 0)


class GatedBackend(FakeBackend):
    """Streams REPLY only once `gate` is set: holds workers busy to fill the queue."""

    def __init__(self):
        super().__init__([REPLY])
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def stream(self, messages, options):
        self.started.release()
        self.gate.wait(30)
        yield from super().stream(messages, options)


def test_full_queue_answers_503_with_retry_after_then_recovers():
    backend = GatedBackend()
    app = create_app(backend, ServeConfig(model="fake", max_concurrency=1, queue_size=1))

    async def scenario(base: str):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            def post():
                return client.post("/v1/chat/completions", json={"messages": USER})

            running = asyncio.create_task(post())
            await asyncio.to_thread(backend.started.acquire, True, 10)
            waiting = asyncio.create_task(post())
            while (await client.get("/health")).json()["waiting"] < 1:
                await asyncio.sleep(0.02)
            refused = await post()
            backend.gate.set()
            return refused, await running, await waiting, (await client.get("/health")).json()

    with live_server(app) as base:
        refused, first, second, health = asyncio.run(scenario(base))
    assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
    assert refused.json()["error"]["code"] == "server_busy"
    assert first.status_code == 200 and second.status_code == 200
    assert (health["active"], health["waiting"]) == (0, 0)


def test_official_openai_client_streams_from_a_live_server():
    backend = FakeBackend([REPLY])
    app = create_app(backend, ServeConfig(model="fake", served_model_name="socratic-tutor"), api_key="k-123")
    with live_server(app) as base:
        client = openai.OpenAI(base_url=base + "/v1", api_key="k-123", max_retries=0)
        assert [m.id for m in client.models.list()] == ["socratic-tutor"]
        stream = client.chat.completions.create(model="socratic-tutor", messages=USER, stream=True, max_tokens=20)
        pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
        plain = client.chat.completions.create(model="socratic-tutor", messages=USER, max_tokens=20)
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=base + "/v1", api_key="wrong", max_retries=0).models.list()
        with pytest.raises(openai.BadRequestError, match="max_tokens"):
            client.chat.completions.create(model="socratic-tutor", messages=USER, max_tokens=10_000)
    assert "".join(pieces) == REPLY and len(pieces) > 3
    assert plain.choices[0].message.content == REPLY


# ---- the real thing ----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_socratic_serve_embedded_streams_a_tutor_reply_to_the_openai_client(tmp_path):
    port, key = _free_port(), "test-key-9f8e7d"
    log_path = tmp_path / "serve.log"
    env = {**os.environ, "SOCRATIC_API_KEY": key}
    cli = Path(sys.executable).with_name("socratic")
    with log_path.open("w") as log:
        server = subprocess.Popen([str(cli), "serve", "--model", "embedded", "--port", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.5)
        client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=600)
        start = time.perf_counter()
        stream = client.chat.completions.create(
            model="embedded", stream=True, max_tokens=24, temperature=0,
            messages=[{"role": "user", "content": "I think 3 + 4 * 2 is 14. Is that right?"}])
        pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
        print(f"streamed {len(pieces)} pieces in {time.perf_counter() - start:.1f}s: {''.join(pieces)!r}")
        assert "".join(pieces).strip() and sum(1 for p in pieces if p) >= 2
        assert "<|im_end|>" not in "".join(pieces)
        assert httpx.get(base + "/v1/models").status_code == 401
    finally:
        server.terminate()
        server.wait(30)
    log_text = log_path.read_text()
    assert "POST /v1/chat/completions 200" in log_text
    assert key not in log_text and "3 + 4" not in log_text
