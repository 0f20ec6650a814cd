"""Benchmark: `socratic serve` under 1, 4 and 8 concurrent streaming clients.

    .venv/bin/python bench/bench_serve.py               # embedded model, 2 requests per client, 64 tokens
    .venv/bin/python bench/bench_serve.py --quick       # 1 request per client, 8 tokens, levels 1 and 2
    .venv/bin/python bench/bench_serve.py --model hf:runs/quickstart/tutor-mathdial
    .venv/bin/python bench/bench_serve.py --servers default

Starts the server as a child process on a free 127.0.0.1 port, waits for /health, sends one warm-up
request, then for each concurrency level runs that many clients, each sending its requests one after
another (streaming, `stream_options.include_usage`). Two servers by default, one after the other:
`default` (its defaults: up to 8 concurrent requests decoded in one batch) and `serial`
(`--max-concurrency 1`: one reply at a time, the default before 2026-12). Conversations are MathDial
test dialogues rendered with `render_messages`. Reported per level: aggregate completion tokens/s
over the level's wall time, and p50 / p95 of time to first token and of the full reply. Each
server's peak RSS comes from the kernel when it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conversations(n: int) -> list[list[dict[str, str]]]:
    from socratic.data import load_dialogues
    from socratic.render import render_messages

    return [render_messages(d) for d in load_dialogues("mathdial", "test")[:n]]


async def one_request(client, url: str, messages, max_tokens: int, seed: int) -> dict:
    body = {"messages": messages, "stream": True, "max_tokens": max_tokens, "seed": seed,  # the served model
            "stream_options": {"include_usage": True}}
    started = time.perf_counter()
    first = None
    tokens = chunks = 0
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {(await response.aread())[:300]!r}")
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if "error" in event:
                raise RuntimeError(f"server error: {event['error']}")
            for choice in event.get("choices") or []:
                if choice.get("delta", {}).get("content"):
                    chunks += 1
                    if first is None:
                        first = time.perf_counter() - started
            if event.get("usage"):
                tokens = event["usage"]["completion_tokens"]
    total = time.perf_counter() - started
    return {"ttft": first if first is not None else total, "latency": total, "tokens": tokens or chunks}


async def run_level(base: str, convs, clients: int, per_client: int, max_tokens: int) -> dict:
    import httpx

    url = f"{base}/v1/chat/completions"
    timeout = httpx.Timeout(1800.0)
    async with httpx.AsyncClient(timeout=timeout) as client:
        async def worker(cid: int) -> list[dict]:
            out = []
            for r in range(per_client):
                messages = convs[(cid * per_client + r) % len(convs)]
                out.append(await one_request(client, url, messages, max_tokens, seed=cid * 1000 + r))
            return out

        started = time.perf_counter()
        results = [x for batch in await asyncio.gather(*(worker(c) for c in range(clients))) for x in batch]
        wall = time.perf_counter() - started
    return {"clients": clients, "requests": len(results), "wall_s": wall,
            "tokens": sum(r["tokens"] for r in results),
            "ttft": [r["ttft"] for r in results], "latency": [r["latency"] for r in results]}


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the server did not answer /health within {timeout:.0f} s")


SERVERS = {"default": [], "serial": ["--max-concurrency", "1"]}
COLUMNS = ["server", "clients", "requests", "tokens/s (all clients)", "TTFT p50 s", "TTFT p95 s", "reply p50 s",
           "reply p95 s", "tokens/reply"]


def measure_server(args, extra: list[str], levels: list[int], convs) -> tuple[list[dict], float, float]:
    """Start one server, run every level against it; (results, start-up seconds, peak RSS MiB)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    socratic = Path(common.PYTHON).with_name("socratic")
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-serve-", suffix=".log", delete=False)  # noqa: SIM115
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("SOCRATIC_API_KEY", None)
    proc = subprocess.Popen([str(socratic), "serve", "--model", args.model, "--port", str(port), *extra],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=common.ROOT)
    results, peak = [], float("nan")
    try:
        started = time.perf_counter()
        wait_healthy(base, proc, args.startup_timeout)
        startup = time.perf_counter() - started
        asyncio.run(run_level(base, convs, 1, 1, 4))  # warm-up
        for clients in levels:
            print(f"{clients} client(s): running ...", flush=True)
            result = asyncio.run(run_level(base, convs, clients, args.per_client, args.max_tokens))
            print(f"{clients} client(s): {result['requests']} replies, {result['tokens']} tokens in "
                  f"{result['wall_s']:.1f} s")
            results.append(result)
    except BaseException:
        log.seek(0)
        print("server log tail:\n" + "\n".join(log.read().splitlines()[-20:]), file=sys.stderr)
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
        try:
            _, usage = common._wait_with_rusage(proc, 30)
            peak = usage.ru_maxrss / 1024
        except TimeoutError:
            pass
        log.close()
        os.unlink(log.name)
    return results, startup, peak


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"comma list of {', '.join(SERVERS)}")
    parser.add_argument("--levels", default="1,4,8")
    parser.add_argument("--per-client", type=int, default=2, help="requests each client sends in turn")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--startup-timeout", type=float, default=600)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.levels, args.per_client, args.max_tokens = "1,2", 1, 8
    levels = [int(x) for x in args.levels.split(",")]
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = set(servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    convs = conversations(max(levels) * args.per_client)

    load_start = common.load_average()[0]
    rows, facts = [], []
    for name in servers:
        print(f"== server {name} ({' '.join(SERVERS[name]) or 'its defaults'})", flush=True)
        results, startup, peak = measure_server(args, SERVERS[name], levels, convs)
        rows += [[name, r["clients"], r["requests"], r["tokens"] / r["wall_s"], common.percentile(r["ttft"], 50),
                  common.percentile(r["ttft"], 95), common.percentile(r["latency"], 50),
                  common.percentile(r["latency"], 95), r["tokens"] / max(1, r["requests"])] for r in results]
        facts.append(f"{name}: start-up (model load) {startup:.1f} s, peak RSS {peak:.0f} MiB")
    title = f"Serving: `socratic serve --model {args.model}`, streaming, max_tokens {args.max_tokens}"
    common.print_table(title, COLUMNS, rows)
    notes = (f"Servers: default = its defaults (up to 8 concurrent requests decoded in one batch); serial = "
             f"--max-concurrency 1 (one reply at a time). Each client sends {args.per_client} requests in turn; "
             f"MathDial test conversations. {'; '.join(facts)}. 1-min load average "
             f"{load_start:.1f} -> {common.load_average()[0]:.1f}.")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
