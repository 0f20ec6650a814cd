"""Load test of `socratic serve` on 127.0.0.1: N concurrent clients for a fixed time (bounded; stops by itself).

    .venv/bin/python bench/bench_load.py                        # 32 clients, 60 s, slow fake backend
    .venv/bin/python bench/bench_load.py --model embedded       # the real embedded model (slow on 2 CPUs)
    .venv/bin/python bench/bench_load.py --seconds 8 --no-record

The server runs as a child process with an API key set (SOCRATIC_API_KEY), 4 workers and a waiting
queue of 8, so 32 clients overflow it on purpose: the documented answer to overflow is 503 with
Retry-After. Each client loops, alternating streaming and non-streaming requests, until the time is
up. Reported: requests per status, replies/s, p50/p95 latency of successful replies, and the server's
RSS after warm-up and at the end (memory must stay flat). Passes when there is no 5xx other than 503,
no transport error, and RSS growth stays under --max-growth-mib. Appends a section to bench/RESULTS.md
(via bench/common.py). `--model slow-fake` is a backend that streams 8 words, 50 ms apart: it measures
the server (admission control, streaming, memory), not a model.

Also used by tests/reliability/test_reliability_server.py (the short CI form).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PYTHON = sys.executable
SOCRATIC = Path(PYTHON).with_name("socratic")
HOST = "127.0.0.1"  # loopback only, whatever the options say


# --- the server under test ---------------------------------------------------------------------

class SlowBackend:
    """Streams `words` words, `delay` seconds apart, like a slow model (no model loaded)."""

    spec = cache_id = "slow-fake"
    supports_json_schema = False

    def __init__(self, words: int = 8, delay: float = 0.05):
        self.words, self.delay = words, delay

    def generate(self, conversations, options):
        return [[" ".join(self.stream(c, options)).strip()] * options.n for c in conversations]

    def stream(self, messages, options):
        for i in range(min(self.words, options.max_new_tokens)):
            time.sleep(self.delay)
            yield f" step{i}?" if i == self.words - 1 else f" word{i}"


def serve_slow_fake(port: int, max_concurrency: int, queue_size: int, max_body_bytes: int, delay: float) -> None:
    """Child-process entry: the real app (create_app) around SlowBackend, under uvicorn, key from the env."""
    import logging

    import uvicorn

    from socratic.serve.app import API_KEY_ENV, ServeConfig, create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = ServeConfig(model="fake", host=HOST, port=port, max_concurrency=max_concurrency, queue_size=queue_size,
                         max_body_bytes=max_body_bytes, max_tokens_limit=256, queue_timeout_s=30)
    app = create_app(SlowBackend(delay=delay), config, api_key=os.environ.get(API_KEY_ENV) or None)
    uvicorn.run(app, host=HOST, port=port, access_log=False, log_level="info")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(command: list[str], port: int, env: dict[str, str], log: Path, timeout: float = 180):
    """Start a server process (output to `log`) and wait until /health answers."""
    import httpx

    handle = log.open("ab")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **env})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not answer /health in time")


def slow_fake_command(port: int, *, max_concurrency: int = 4, queue_size: int = 8, max_body_bytes: int = 65536,
                      delay: float = 0.05) -> list[str]:
    return [PYTHON, str(Path(__file__).resolve()), "--child-serve", str(port), "--max-concurrency",
            str(max_concurrency), "--queue-size", str(queue_size), "--max-body-bytes", str(max_body_bytes),
            "--delay", str(delay)]


def stop_server(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the clients -------------------------------------------------------------------------------

@dataclass
class LoadResult:
    seconds: float
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)      # transport errors / broken streams, by type
    latencies: list[float] = field(default_factory=list)  # successful replies, seconds
    missing_retry_after: int = 0                          # 503s without the documented Retry-After

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def bad_5xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 and status != 503)


def body(i: int, stream: bool, max_tokens: int) -> dict:
    return {"messages": [{"role": "user", "content": f"Client question {i}: is 3 + 4 equal to 12?"}],
            "context": "Tom has 3 apples and buys 4 more.", "stream": stream, "max_tokens": max_tokens,
            "temperature": 0}


async def _client(http, index: int, deadline: float, result: LoadResult, max_tokens: int) -> None:
    import httpx

    n = 0
    while time.monotonic() < deadline:
        n += 1
        stream = n % 2 == 0
        started = time.monotonic()
        try:
            if stream:
                async with http.stream("POST", "/v1/chat/completions", json=body(index, True, max_tokens)) as response:
                    status = response.status_code
                    done = False
                    async for line in response.aiter_lines():
                        done = done or line.strip() == "data: [DONE]"
                        if line.startswith("data:") and '"error"' in line:
                            result.errors["stream error event"] += 1
                    if status == 200 and not done:
                        result.errors["stream without [DONE]"] += 1
            else:
                response = await http.post("/v1/chat/completions", json=body(index, False, max_tokens))
                status = response.status_code
                if status == 200 and not response.json()["choices"][0]["message"]["content"]:
                    result.errors["empty reply"] += 1
        except httpx.HTTPError as error:
            result.errors[type(error).__name__] += 1
            continue
        result.statuses[status] += 1
        if status == 200:
            result.latencies.append(time.monotonic() - started)
        elif status == 503:
            if "retry-after" not in response.headers:
                result.missing_retry_after += 1
            await asyncio.sleep(0.2)  # a polite client backs off (it would wait Retry-After seconds)


async def run_load(base_url: str, clients: int, seconds: float, api_key: str | None = None,
                   max_tokens: int = 16) -> LoadResult:
    """`clients` concurrent loops for `seconds` (bounded: each stops at the deadline)."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    result = LoadResult(seconds)
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=120) as http:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_client(http, i, deadline, result, max_tokens) for i in range(clients)))
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    return ordered[low] + (ordered[min(low + 1, len(ordered) - 1)] - ordered[low]) * (pos - low)


# --- the benchmark -----------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="slow-fake", help="slow-fake (default) or any spec `socratic serve` takes")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--max-growth-mib", type=float, default=30.0)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    # child mode: serve the slow fake backend
    parser.add_argument("--child-serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--max-concurrency", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--queue-size", type=int, default=8, help=argparse.SUPPRESS)
    parser.add_argument("--max-body-bytes", type=int, default=65536, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.05, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_serve is not None:
        serve_slow_fake(args.child_serve, args.max_concurrency, args.queue_size, args.max_body_bytes, args.delay)
        return 0

    import tempfile

    import common

    key = "sk-bench-" + secrets.token_hex(12)
    port = free_port()
    if args.model == "slow-fake":
        command = slow_fake_command(port)
    else:
        command = [str(SOCRATIC), "serve", "--model", args.model, "--host", HOST, "--port", str(port),
                   "--max-concurrency", "4", "--queue-size", "8", "--max-tokens-limit", "256"]
    with tempfile.TemporaryDirectory(prefix="socratic-load-") as tmp:
        log = Path(tmp) / "server.log"
        process = start_server(command, port, {"SOCRATIC_API_KEY": key}, log)
        try:
            url = f"http://{HOST}:{port}"
            warm = asyncio.run(run_load(url, args.clients, min(5.0, args.seconds / 4), key, args.max_tokens))
            rss_start = rss_mib(process.pid)
            result = asyncio.run(run_load(url, args.clients, args.seconds, key, args.max_tokens))
            rss_end = rss_mib(process.pid)
        finally:
            code = stop_server(process)
        server_log = log.read_text(errors="replace")
    leaked = key in server_log
    growth = rss_end - rss_start
    ok_count = result.statuses.get(200, 0)
    passed = (result.bad_5xx == 0 and not result.errors and not leaked and growth < args.max_growth_mib
              and ok_count > 0 and result.missing_retry_after == 0)
    other = sum(n for s, n in result.statuses.items() if s not in (200, 503))
    rows = [("model", args.model), ("clients x seconds", f"{args.clients} x {args.seconds:g}"),
            ("requests", result.requests), ("200 OK", ok_count), ("503 busy (documented)", result.statuses.get(503, 0)),
            ("other status", other), ("5xx other than 503", result.bad_5xx),
            ("transport errors / broken streams", sum(result.errors.values())),
            ("replies/s", ok_count / args.seconds), ("p50 reply latency, s", percentile(result.latencies, 50)),
            ("p95 reply latency, s", percentile(result.latencies, 95)),
            ("server RSS after warm-up, MiB", rss_start), ("server RSS at the end, MiB", rss_end),
            ("API key in the server log", leaked), ("verdict", "pass" if passed else "FAIL")]
    columns = ["measure", "value"]
    common.print_table("socratic serve under load (127.0.0.1)", columns, rows)
    notes = (f"Server: 4 workers + queue of 8, API key on; warm-up {warm.requests} requests before the RSS baseline; "
             f"server exit code after SIGTERM {code}; 503s all carried Retry-After: "
             f"{'yes' if result.missing_retry_after == 0 else 'no'}. Errors: {dict(result.errors) or 'none'}. "
             f"{common.busy_warning()}")
    print(notes)
    if not args.no_record:
        common.append_results("bench_load.py — serve under load", common.markdown_table(columns, rows), notes)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
