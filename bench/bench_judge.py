"""Benchmark the judges: the rubric judge (load time, judgments/s cold and cached, agreement with the
50 human labels of the MathDial dev file) and the LLM judge over HTTP at concurrency 1, 4 and 8.

    .venv/bin/python bench/bench_judge.py                 # 500 rubric judgments, 96 LLM judgments per level
    .venv/bin/python bench/bench_judge.py --quick         # tiny sizes: checks the script works (writes nothing)
    .venv/bin/python bench/bench_judge.py --latency 0.5   # a slower simulated API

Rubric items are MathDial dialogues with k=5 real, distinct tutor utterances each (taken from other
dialogues), as `socratic generate` produces them, and a worst case where every item has its own
dialogue; judged with NoCache, then through a fresh SQLite cache to show what a re-run costs.

The LLM judge (`llm:openai:judge@http://127.0.0.1:PORT/v1`, our real HTTP client with its retries,
re-asks and parsing) talks to a local stub OpenAI server (tests/fakes/llm_server.py) that answers
after a random latency, lognormal around `--latency` seconds (sigma 0.5, seeded: the same delays
at every level), and answers 5% of first requests with prose instead of JSON, so the re-ask path
runs as it does with real models. This measures the judge's side: how well it keeps `concurrency`
requests in flight. It is not a model's speed; the ideal column is concurrency / mean latency.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
import common

from socratic.data.location import data_file

DEV = data_file("socratic_llm", "mathdial_human_eval_dev.json")
LEVELS = (1, 4, 8)
PROSE_EVERY = 20  # one first request in 20 gets an answer that is not JSON


def bench_items(n: int, k: int = 5):
    """n items: n/k dialogues with k distinct candidate replies each, like `socratic generate -k 5`."""
    from socratic.data import load_dialogues

    dialogues = load_dialogues("mathdial", "test") + load_dialogues("mathdial", "train")
    replies = list(dict.fromkeys(t.text for d in dialogues for t in d.turns if t.role == "tutor"))
    return [(dialogues[(i // k) % len(dialogues)], replies[(i * 7 + 3) % len(replies)]) for i in range(n)]


# --- rubric ------------------------------------------------------------------------------------

def timed(judge, items) -> tuple[float, float, list]:
    """(wall seconds, process CPU seconds, judgments), with the in-process vector cache emptied first."""
    from socratic.judge.rubric import embedding

    embedding._VECTORS.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    out = judge.judge_many(items, progress=False)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def rubric_rows(n: int) -> list[list]:
    from socratic.judge import load_judge
    from socratic.judge.rubric import embedding
    from socratic.store.cache import Cache, NoCache

    rows = []
    start = time.perf_counter()
    embedding.load_encoder()
    rows.append(["rubric: MiniLM load (incl. imports)", time.perf_counter() - start, "s", ""])

    judge = load_judge("rubric", cache=NoCache())
    judge.judge_many(bench_items(8, k=1), progress=False)  # warm-up
    items = bench_items(n)
    for label, batch in ((f"{n} judgments, k=5 candidates per dialogue", items),
                         (f"{n} judgments, every dialogue different", bench_items(n, k=1))):
        wall, cpu, out = timed(judge, batch)
        rows.append([f"rubric, {label}, no cache", len(batch) / wall, "judgments/s",
                     (f"{wall:.1f} s wall; {len(batch) / cpu:.0f} judgments per CPU-second; "
                     f"{sum(not j.ok for j in out)} failures")])

    with tempfile.TemporaryDirectory() as folder:
        cache = Cache(Path(folder) / "bench.sqlite")
        cached_judge = load_judge("rubric", cache=cache)
        filling, _, _ = timed(cached_judge, items)
        hits, _, _ = timed(cached_judge, items)
        cache.close()
    rows.append(["rubric, filling a fresh SQLite cache", n / filling, "judgments/s", f"{filling:.1f} s"])
    rows.append(["rubric, all cache hits (a re-run)", n / hits, "judgments/s", f"{hits:.2f} s"])
    return rows


def agreement_rows() -> list[list]:
    from calibrate_rubric import agreement

    from socratic.data import load_labelled
    from socratic.judge.rubric import judge as rubric

    labelled = load_labelled(DEV)
    outcomes = [rubric.score_reply(x.dialogue, x.reply, s) for x, s in
                zip(labelled, rubric.similarities([(x.dialogue, x.reply) for x in labelled]), strict=True)]
    stats = agreement(labelled, outcomes)
    rows = [[f"rubric vs humans: {name}", stats[name], "accuracy", f"{len(labelled)} MathDial dev items"]
            for name in ("questions", "reveal_answer", "on_topic", "on_topic within 1", "helpful",
                         "helpful within 1")]
    rows.append(["rubric vs humans: summary", stats["summary pearson"], "Pearson r",
                 "calibrated on these same items: optimistic"])
    return rows


# --- LLM judge over HTTP ------------------------------------------------------------------------

def stub_latencies(count: int, median: float, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [median * math.exp(rng.gauss(0.0, 0.5)) for _ in range(count)]


def llm_rows(n: int, median: float) -> tuple[list[list], str]:
    from fakes.llm_server import FakeLLM, Reply, judgment_json
    from socratic.judge.llm.judge import LLMJudge
    from socratic.store.cache import NoCache

    items = bench_items(n)
    delays = stub_latencies(4 * n, median)
    served: list[float] = []

    def behave(request) -> Reply:
        # Delay and prose are functions of the request's content: every level sees the same ones.
        index = zlib.crc32(request.text.encode()) % len(delays)
        served.append(delays[index])
        first_ask = len(request.body["messages"]) == 1
        if first_ask and index % PROSE_EVERY == 0:
            return Reply("The tutor asks a good question and stays on topic.", delay=delays[index])
        return Reply(judgment_json(), delay=delays[index])

    rows, first = [], None
    with FakeLLM(behave) as server:
        for level in LEVELS:
            judge = LLMJudge(f"openai:judge@{server.url}", cache=NoCache(), concurrency=level)
            served.clear()
            started = time.perf_counter()
            judgments = judge.judge_many(items, progress=False)
            wall = time.perf_counter() - started
            rate = n / wall
            first = first or rate
            # Perfect packing: `level` requests always in flight, no time between them.
            ideal_wall = sum(served) / level
            rows.append([f"llm judge over HTTP, concurrency {level}", rate, "judgments/s",
                         (f"{wall:.1f} s; x{rate / first:.2f} of concurrency 1; {ideal_wall / wall:.0%} of "
                         f"perfect packing; {len(served)} requests ({len(served) - n} re-asks); "
                         f"{sum(not j.ok for j in judgments)} failures")])
    notes = (f"LLM judge: {n} judgments per level against a stub OpenAI server on 127.0.0.1 answering after a "
             f"lognormal delay (median {median:.2f} s), 1 in {PROSE_EVERY} first answers prose (re-asked). "
             "Perfect packing = the sum of the delays served / concurrency, as a share of the wall time.")
    return rows, notes


COLUMNS = ["what", "result", "unit", "notes"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--n", type=int, default=500, help="rubric judgments per measurement")
    parser.add_argument("--llm-n", type=int, default=96, help="LLM judgments per concurrency level")
    parser.add_argument("--latency", type=float, default=0.25, help="median stub latency in seconds")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.quick:
        args.n, args.llm_n, args.latency = 20, 8, 0.02

    from socratic.judge.rubric import judge as rubric

    rows = rubric_rows(args.n) + agreement_rows()
    llm, llm_notes = llm_rows(args.llm_n, args.latency)
    rows += llm
    title = "Judging: rubric judgments/s and agreement; LLM judge over HTTP at concurrency 1/4/8"
    common.print_table(title, COLUMNS, rows)
    notes = (f"Rubric version {rubric.RUBRIC_VERSION}; {args.n} judgments per rubric measurement. "
             + llm_notes)
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
