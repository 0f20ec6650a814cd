"""Benchmark the rubric judge: load time, judgments per second (cold and cached), and its agreement
with the 50 human labels of the MathDial dev file. Prints a table and appends a dated section to
bench/RESULTS.md.

    .venv/bin/python bench/bench_judge.py [--n 500]

Items are MathDial dialogues with k=5 real, distinct tutor utterances each (taken from other
dialogues), as `socratic generate` produces them, and a worst case where every item has its own
dialogue; judged with NoCache, then through a fresh SQLite cache to show what a re-run costs.
Timings depend on machine load: the load average and judgments per CPU-second are printed too
(with 2 idle cores, wall throughput is about 2x the per-CPU-second figure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from socratic.cache import Cache, NoCache
from socratic.data import load_dialogues, load_labelled
from socratic.judge import load_judge, rubric

HERE = Path(__file__).resolve().parent
DEV = HERE.parents[1] / "shared" / "data" / "socratic_llm" / "mathdial_human_eval_dev.json"


def bench_items(n: int, k: int = 5):
    """n items: n/k dialogues with k distinct candidate replies each, like `socratic generate -k 5`."""
    dialogues = load_dialogues("mathdial", "test") + load_dialogues("mathdial", "train")
    replies = list(dict.fromkeys(t.text for d in dialogues for t in d.turns if t.role == "tutor"))
    return [(dialogues[(i // k) % len(dialogues)], replies[(i * 7 + 3) % len(replies)]) for i in range(n)]


def timed(judge, items) -> tuple[float, float, list]:
    """(wall seconds, process CPU seconds, judgments), with the in-process vector cache emptied first."""
    rubric._VECTORS.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    out = judge.judge_many(items, progress=False)
    return time.perf_counter() - wall, time.process_time() - cpu, out


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    items = bench_items(args.n)
    rows = []

    start = time.perf_counter()
    rubric.load_encoder()
    rows.append(("MiniLM load (bf16, incl. imports)", f"{time.perf_counter() - start:.1f} s", ""))

    judge = load_judge("rubric", cache=NoCache())
    judge.judge_many(bench_items(8, k=1), progress=False)  # warm-up
    for label, batch in ((f"{len(items)} judgments, k=5 candidates per dialogue", items),
                         (f"{len(items)} judgments, every dialogue different", bench_items(args.n, k=1))):
        wall, cpu, out = timed(judge, batch)
        notes = (f"{wall:.1f} s wall; {len(batch) / cpu:.0f} judgments per CPU-second; "
                 f"{sum(not j.ok for j in out)} failures")
        rows.append((f"rubric, {label}, no cache", f"{len(batch) / wall:.0f} judgments/s", notes))

    with tempfile.TemporaryDirectory() as folder:
        cache = Cache(Path(folder) / "bench.sqlite")
        cached_judge = load_judge("rubric", cache=cache)
        filling, _, _ = timed(cached_judge, items)
        hits, _, _ = timed(cached_judge, items)
        cache.close()
    rows.append(("rubric, filling a fresh SQLite cache", f"{len(items) / filling:.0f} judgments/s", f"{filling:.1f} s"))
    rows.append(("rubric, all cache hits (a re-run)", f"{len(items) / hits:.0f} judgments/s", f"{hits:.2f} s"))

    sys.path.insert(0, str(HERE))
    from calibrate_rubric import agreement

    labelled = load_labelled(DEV)
    outcomes = [rubric.score_reply(x.dialogue, x.reply, s) for x, s in
                zip(labelled, rubric.similarities([(x.dialogue, x.reply) for x in labelled]), strict=True)]
    stats = agreement(labelled, outcomes)
    for name in ("questions", "reveal_answer", "on_topic", "on_topic within 1", "helpful", "helpful within 1"):
        rows.append((f"agreement with humans: {name}", f"{stats[name]:.2f}", "50 MathDial dev items"))
    rows.append(("Pearson of summary vs human", f"{stats['summary pearson']:.2f}",
                 "calibrated on these same 50 items: optimistic"))

    load = os.getloadavg()
    table = Table(title=f"bench_judge (load average {load[0]:.1f}, {os.cpu_count()} CPUs)")
    for column in ("what", "result", "notes"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    if args.no_write:
        return
    results = HERE / "RESULTS.md"
    if not results.exists():
        results.write_text("# Benchmark results\n\nEach script appends a dated section; newest last.\n")
    lines = [f"\n## bench_judge.py — {dt.datetime.now().isoformat(timespec='minutes')}\n",
             (f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} while running "
              "(shared dev machine; numbers scale with load). Rubric version "
              f"{rubric.RUBRIC_VERSION}.\n"), "| what | result | notes |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    with results.open("a", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
