"""`socratic serve` under load and abuse on 127.0.0.1: the short CI form of bench/bench_load.py.

- 32 concurrent clients for ~8 s against the real app (create_app + uvicorn, in a child process) around
  a backend that streams slowly: no 5xx but the documented 503 (+ Retry-After) when the queue is full,
  no broken streams, the server's RSS flat between warm-up and the end;
- limits: oversized body 413, max_tokens over the limit 400, invalid JSON 400, a bad request 422;
- with SOCRATIC_API_KEY set: no key or a wrong key 401; the key never in the server's output;
- the installed `socratic serve` once, with a key;
- an API key for an `openai:` model never lands in a run folder or in the cache.
Runs in ~30 s.

    .venv/bin/python -m pytest -q tests/reliability/test_reliability_server.py
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_load

from fakes.llm_server import FakeLLM, Reply

KEY = "sk-test-9f8e7d6c5b4a39281706"
SOCRATIC = Path(sys.executable).with_name("socratic")
BODY_LIMIT = 65536


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "server.log"
    port = bench_load.free_port()
    process = bench_load.start_server(bench_load.slow_fake_command(port, max_concurrency=4, queue_size=8,
                                                                   max_body_bytes=BODY_LIMIT),
                                      port, {"SOCRATIC_API_KEY": KEY}, log)
    try:
        yield f"http://127.0.0.1:{port}", process, log
    finally:
        bench_load.stop_server(process)


def post(url: str, payload, key: str | None = KEY, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if isinstance(payload, (bytes, str)):
        return httpx.post(f"{url}/v1/chat/completions", content=payload,
                          headers={**headers, "Content-Type": "application/json"}, timeout=30, **kwargs)
    return httpx.post(f"{url}/v1/chat/completions", json=payload, headers=headers, timeout=30, **kwargs)


def test_32_clients_get_replies_or_a_documented_503_and_memory_stays_flat(server):
    url, process, _ = server
    asyncio.run(bench_load.run_load(url, clients=32, seconds=2, api_key=KEY))  # warm-up: first-use allocations
    before = bench_load.rss_mib(process.pid)
    result = asyncio.run(bench_load.run_load(url, clients=32, seconds=8, api_key=KEY))
    after = bench_load.rss_mib(process.pid)
    assert result.bad_5xx == 0, result.statuses
    assert set(result.statuses) <= {200, 503}, result.statuses
    assert not result.errors, result.errors  # no transport errors, no stream without [DONE], no error events
    assert result.statuses[200] >= 20 and result.statuses[503] > 0  # 32 clients overflow 4 workers + 8 waiting
    assert result.missing_retry_after == 0
    assert after - before < 15, f"server RSS grew from {before:.1f} to {after:.1f} MiB"
    health = httpx.get(f"{url}/health", timeout=10).json()
    assert health["active"] == 0 and health["waiting"] == 0  # every slot was given back


def test_oversized_bodies_are_refused_with_413(server):
    url, _, _ = server
    huge = {"messages": [{"role": "user", "content": "x" * (BODY_LIMIT + 10)}]}
    assert post(url, huge).status_code == 413
    # Without a Content-Length (chunked upload) the limit holds too.
    chunks = (json.dumps(huge)[i:i + 4096].encode() for i in range(0, len(json.dumps(huge)), 4096))
    response = httpx.post(f"{url}/v1/chat/completions", content=chunks, timeout=30,
                          headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    assert response.status_code == 413


def test_max_tokens_over_the_limit_is_a_400(server):
    url, _, _ = server
    messages = [{"role": "user", "content": "Is it 12?"}]
    assert post(url, {"messages": messages, "max_tokens": 100_000}).status_code == 400
    assert post(url, {"messages": messages, "max_completion_tokens": 257}).status_code == 400
    assert post(url, {"messages": messages, "max_tokens": 8}).status_code == 200


@pytest.mark.parametrize(("payload", "status"), [
    (b'{"messages": [{"role": "user", "content": "hi"}', 400),        # truncated JSON
    (b"\xff\xfe not json", 400),                                        # not even UTF-8
    (b"[1, 2, 3]", 400),                                                # JSON, but not an object
    ({"messages": []}, 422),
    ({"messages": [{"role": "wizard", "content": "hi"}]}, 422),
    ({"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}, 422),
    ({"messages": [{"role": "user", "content": "hi"}], "n": 3}, 422),
])
def test_invalid_requests_get_a_4xx_with_an_openai_error_body(server, payload, status):
    url, _, _ = server
    response = post(url, payload)
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_without_the_key_requests_get_401(server):
    url, _, _ = server
    ok = {"messages": [{"role": "user", "content": "Is it 12?"}], "max_tokens": 4}
    assert post(url, ok, key=None).status_code == 401
    assert post(url, ok, key="sk-wrong").status_code == 401
    assert post(url, ok, key=KEY[:-1]).status_code == 401
    assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401
    wrong_scheme = httpx.post(f"{url}/v1/chat/completions", json=ok, headers={"Authorization": f"Basic {KEY}"})
    assert wrong_scheme.status_code == 401
    assert post(url, ok).status_code == 200


def test_the_key_never_appears_in_the_server_output(server):
    url, _, log = server
    # Even a client that sends the key in the body or the URL gets it neither echoed nor logged.
    post(url, {"messages": [{"role": "user", "content": KEY}], "model": KEY, "max_tokens": 4}, key=KEY)
    httpx.get(f"{url}/v1/models?key={KEY}", timeout=10)
    text = log.read_text(errors="replace")
    assert "POST /v1/chat/completions 200" in text  # the access log is there...
    assert KEY not in text  # ...without the key


def test_the_installed_serve_command_with_a_key(tmp_path):
    port = bench_load.free_port()
    log = tmp_path / "serve.log"
    process = bench_load.start_server([str(SOCRATIC), "serve", "--model", "fake:What do you notice first?",
                                       "--port", str(port)], port, {"SOCRATIC_API_KEY": KEY}, log)
    try:
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health", timeout=10).json()["auth_required"] is True
        ok = {"messages": [{"role": "user", "content": "Is it 12?"}], "max_tokens": 16}
        assert post(url, ok, key=None).status_code == 401
        reply = post(url, ok)
        assert reply.status_code == 200
        assert reply.json()["choices"][0]["message"]["content"] == "What do you notice first?"
        with httpx.stream("POST", f"{url}/v1/chat/completions", json={**ok, "stream": True}, timeout=30,
                          headers={"Authorization": f"Bearer {KEY}"}) as stream:
            lines = [line for line in stream.iter_lines() if line]
        assert lines[-1] == "data: [DONE]"
        assert post(url, b"{oops").status_code == 400
    finally:
        bench_load.stop_server(process)
    text = log.read_text(errors="replace")
    assert "127.0.0.1" in text and "auth on" in text
    assert KEY not in text and "Traceback" not in text


def test_api_keys_never_land_in_a_run_folder_or_the_cache(tmp_path, isolated_cache):
    key = "sk-openai-secret-5a4b3c2d1e0f"
    data = tmp_path / "dialogues.jsonl"
    data.write_text(json.dumps({"id": "d1", "source": "user", "split": "test", "context": "3 + 4?",
                                "turns": [{"role": "student", "text": "Is it 12?"}], "reference": "7"}) + "\n")
    env = {**os.environ, "OPENAI_API_KEY": key, "SOCRATIC_CACHE": str(isolated_cache)}
    judge_answer = json.dumps({"questions": True, "on_topic": 4, "helpful": 3, "reveal_answer": False})
    with FakeLLM(lambda r: Reply(judge_answer if "<tutor_reply>" in r.text else "What is 3 + 4?")) as llm:
        for args in (["generate", "--dataset", data, "--model", f"openai:tutor@{llm.url}", "-k", "2",
                      "-o", tmp_path / "run" / "candidates.jsonl"],
                     ["judge", "-i", tmp_path / "run" / "candidates.jsonl", "--judge", f"llm:openai:judge@{llm.url}",
                      "-o", tmp_path / "run" / "judgments.jsonl"],
                     ["evaluate", "--model", f"tutor=openai:tutor@{llm.url}", "--dataset", data, "--judge",
                      f"llm:openai:judge@{llm.url}", "-o", tmp_path / "run" / "eval"]):
            done = subprocess.run([str(SOCRATIC), *map(str, args)], env=env, capture_output=True, text=True,
                                  check=False, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
            assert key not in done.stdout + done.stderr
        sent = {r.headers.get("Authorization") for r in llm.requests}
    assert sent == {f"Bearer {key}"}  # the key was used, in the header only...
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()] + list(tmp_path.glob("cache.sqlite*"))
    assert len(files) >= 5 and (tmp_path / "run" / "eval" / "report.html").exists()
    assert [p.name for p in files if key.encode() in p.read_bytes()] == []  # ...and stored nowhere
