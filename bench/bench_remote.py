"""Benchmark: `socratic generate` and `socratic evaluate` against a served model, at concurrency 1, 4, 8.

    .venv/bin/python bench/bench_remote.py                 # socratic serve --model embedded on 127.0.0.1
    .venv/bin/python bench/bench_remote.py --quick         # tiny sizes: checks the script works (writes nothing)
    .venv/bin/python bench/bench_remote.py --url http://gpu-box:8000/v1 --served-model Qwen/Qwen2.5-0.5B-Instruct

Starts this project's own OpenAI-compatible server (`socratic serve`, which decodes up to 8 concurrent
requests in one batch) on a free 127.0.0.1 port, or uses `--url` (a vLLM/Ollama/llama.cpp server).
Then for each concurrency level it runs the generate stage (MathDial test dialogues, k candidates
each, fixed batches of --batch-dialogues) and the evaluate stage's reply generation (greedy, batches
of 8), both with the cache off, through the real HTTP client. Every request's start and end are
recorded on the client (the HTTP request itself, not the wait for a free slot): "mean in flight" is the summed request time over the wall time, "peak" the
most requests open at once. Throughput is requests per second and the speed-up over concurrency 1.
This measures how well the client keeps the server fed; the server's own speed is bench_serve.py's.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import common
from bench_serve import free_port, wait_healthy

COLUMNS = ["command", "concurrency", "requests", "wall s", "requests/s", "speed-up vs 1", "mean in flight",
           "peak in flight"]


class Recorder:
    """Wraps httpx.Client.post (what OpenAIBackend sends with, inside its in-flight limit) to record the
    (start, end) of every HTTP request: time a request waits for a free slot is not counted."""

    def __init__(self):
        self.spans: list[tuple[float, float]] = []
        self.lock = threading.Lock()

    def install(self):
        import httpx

        original, recorder = httpx.Client.post, self

        def post(client, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(client, *args, **kwargs)
            finally:
                with recorder.lock:
                    recorder.spans.append((start, time.perf_counter()))

        httpx.Client.post = post

    def take(self) -> list[tuple[float, float]]:
        with self.lock:
            spans, self.spans = self.spans, []
        return spans


def in_flight(spans: list[tuple[float, float]], wall: float) -> tuple[float, int]:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return sum(e - s for s, e in spans) / wall, peak


def run_generate(spec: str, concurrency: int, args, folder: Path) -> None:
    from socratic.preference import generate

    generate.run(generate.GenerateConfig(
        dataset="mathdial", split="test", model=spec, k=args.k, limit=args.dialogues,
        batch_dialogues=args.batch_dialogues, max_new_tokens=args.max_tokens, concurrency=concurrency,
        no_cache=True, overwrite=True, out=folder / f"candidates-{concurrency}.jsonl"))


def run_evaluate(spec: str, concurrency: int, args, folder: Path) -> None:
    from socratic.evaluate import evaluation as evaluate
    from socratic.store.cache import NoCache

    config = evaluate.EvaluateConfig(models={"served": spec}, datasets=["mathdial"], limit=args.dialogues * args.k,
                                     judges=["rubric"], out=folder / f"eval-{concurrency}", batch_size=8,
                                     max_new_tokens=args.max_tokens, concurrency=concurrency, no_cache=True)
    config.out.mkdir(parents=True, exist_ok=True)
    evaluate.produce_replies(config, evaluate.load_test_sets(config), NoCache())


def cpu_flags() -> str:
    """The CPU features that decide CPU inference speed, from /proc/cpuinfo."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        return "CPU flags unknown"
    have = set(flags.split(":", 1)[1].split())
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return "CPU flags: " + ", ".join(f"{f} {'yes' if f in have else 'no'}" for f in wanted)


def start_server(model: str, timeout: float):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile("w+", prefix="bench-remote-", suffix=".log", delete=False)  # noqa: SIM115
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("SOCRATIC_API_KEY", None)
    proc = subprocess.Popen([str(Path(common.PYTHON).with_name("socratic")), "serve", "--model", model, "--port",
                             str(port)], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=common.ROOT)
    wait_healthy(base, proc, timeout)
    return proc, log, f"{base}/v1"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--model", default="embedded", help="what `socratic serve` serves (without --url)")
    parser.add_argument("--url", help="an OpenAI-compatible server already running (instead of socratic serve)")
    parser.add_argument("--served-model", default="tutor", help="the model name sent to --url")
    parser.add_argument("--levels", default="1,4,8")
    parser.add_argument("--dialogues", type=int, default=8)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--batch-dialogues", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--startup-timeout", type=float, default=600)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.levels, args.dialogues, args.k, args.max_tokens = "1,2", 2, 2, 4
    levels = [int(x) for x in args.levels.split(",")]

    proc = log = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        proc, log, url = start_server(args.model, args.startup_timeout)
    spec = f"openai:{args.served_model}@{url}"
    recorder = Recorder()
    recorder.install()
    load_start = common.load_average()[0]
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-remote-") as folder:
            run_generate(spec, 1, argparse.Namespace(**{**vars(args), "dialogues": 1, "k": 1}), Path(folder))  # warm-up
            recorder.take()
            for name, command in (("generate", run_generate), ("evaluate", run_evaluate)):
                base_rate = None
                for concurrency in levels:
                    started = time.perf_counter()
                    command(spec, concurrency, args, Path(folder))
                    wall = time.perf_counter() - started
                    spans = recorder.take()
                    rate = len(spans) / wall
                    base_rate = base_rate or (rate if concurrency == levels[0] else None)
                    mean, peak = in_flight(spans, wall)
                    rows.append([name, concurrency, len(spans), wall, rate, rate / base_rate if base_rate else None,
                                 mean, peak])
                    print(f"{name} at concurrency {concurrency}: {len(spans)} requests in {wall:.1f} s, "
                          f"{mean:.2f} in flight on average (peak {peak})", flush=True)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            os.unlink(log.name)

    server = args.url or f"`socratic serve --model {args.model}` (up to 8 requests decoded in one batch)"
    title = f"Generation and evaluation against a served model: {server}, concurrency {args.levels}"
    common.print_table(title, COLUMNS, rows)
    notes = (f"generate: {args.dialogues} MathDial test dialogues x k={args.k}, batches of {args.batch_dialogues} "
             f"dialogues ({args.batch_dialogues * args.k} requests each); evaluate: {args.dialogues * args.k} "
             f"dialogues, greedy, batches of 8; max_tokens {args.max_tokens}; cache off; client and server on "
             f"this machine ({cpu_flags()}). 1-min load average {load_start:.1f} -> "
             f"{common.load_average()[0]:.1f}.")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
