"""Benchmark: the evaluation's greedy replies asked in batches of the test sets' order vs of similar prompt lengths.

    .venv/bin/python bench/bench_eval_batching.py                       # 100 Debugging test prompts, batches of 32
    .venv/bin/python bench/bench_eval_batching.py --datasets tutorchat:64
    .venv/bin/python bench/bench_eval_batching.py --datasets mathdial:40,mathdial-raw:40,debugging:8,tutorchat:8 \
        --orders per-set,across                                         # the quickstart's test items
    .venv/bin/python bench/bench_eval_batching.py --quick               # tiny sizes: checks the script works

A local model decodes a batch left-padded to its longest prompt, and at every new token it attends to the
padding too: a batch that mixes 300- and 2,000-token prompts reads several times the keys and values it
needs, and holds them in memory; and every call decodes until its longest reply ends, so a call of a few
rows costs nearly what a full one does. The orders:
- `dataset`: each test set sliced in its own order (the evaluation before 2026-12-07);
- `per-set`: each test set sorted by prompt length (characters), then sliced (`evaluate.evaluation.dataset_batches`,
  today's);
- `across`: all test items sorted by prompt length together, then sliced, so small test sets share calls (tried
  2026-12-07, not shipped: bench/RESULTS.md).
Each order runs in its own child process (embedded model, its default dtype, `--tokens` greedy tokens, as the
shipped configs' evaluation). Reported (best of `--repeats` alternating runs): seconds, model calls, the child's
peak RSS, the prompts' real and padded tokens, and how many replies are word for word the same as the first
order's (all in float32; in bfloat16 the rounding depends on a batch's shape, so some differ).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

ORDERS = ("dataset", "per-set", "across")
COLUMNS = ["batches by", "seconds", "calls", "peak RSS MiB", "prompt tokens", "padded tokens", "speed-up"]


def parse_datasets(text: str) -> dict[str, int]:
    """"mathdial:40,debugging:8" -> {"mathdial": 40, "debugging": 8}; a set without a count takes 100."""
    sizes = {}
    for part in text.split(","):
        name, _, count = part.strip().partition(":")
        sizes[name] = int(count) if count else 100
    return sizes


def batches_in(order: str, test_sets: dict, size: int, render) -> list[list[tuple[str, object]]]:
    """The (dataset, dialogue) batches of `order` (ORDERS)."""
    from socratic.backends.reply_loop import fixed_batches, length_batches
    from socratic.evaluate.evaluation import dataset_batches, prompt_chars

    if order == "across":
        return length_batches([(name, d) for name, dialogues in test_sets.items() for d in dialogues], size,
                              lambda item: prompt_chars(render, item[1]))
    if order == "per-set":
        return [[(name, d) for d in batch] for name, batch in dataset_batches(test_sets, size, render)]
    return [[(name, d) for d in batch] for name, dialogues in test_sets.items()
            for batch in fixed_batches(dialogues, size)]


def worker(args) -> dict:
    from functools import partial

    from socratic.backends import load_backend
    from socratic.evaluate.evaluation import EvaluateConfig, load_test_sets
    from socratic.render import load_system_prompt, render_messages

    sizes = parse_datasets(args.datasets)
    config = EvaluateConfig(models={"base": "embedded"}, datasets=list(sizes), limits=sizes,
                            max_new_tokens=args.tokens, batch_size=args.batch_size, out=Path("unused"))
    test_sets = load_test_sets(config)
    render = partial(render_messages, system_prompt=load_system_prompt(None))
    batches = batches_in(args.worker, test_sets, args.batch_size, render)
    backend = load_backend("embedded")
    lengths = [[len(backend.prompt_ids(render(d))) for _, d in batch] for batch in batches]
    replies: dict[str, str] = {}
    started = time.perf_counter()
    for batch in batches:
        asked = backend.generate([render(d) for _, d in batch], config.options())
        for (name, dialogue), reply in zip(batch, asked, strict=True):
            replies[f"{name}/{dialogue.id}"] = reply[0]
    return {"seconds": time.perf_counter() - started, "dtype": backend.dtype_name, "replies": replies,
            "calls": len(batches), "tokens": sum(map(sum, lengths)), "padded": sum(len(b) * max(b) for b in lengths)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="debugging:100",
                        help="test sets and their sizes, NAME:N,... (default: Debugging's 100, its longest prompts)")
    parser.add_argument("--orders", default="dataset,per-set",
                        help=f"batch orders to compare, the first the baseline ({', '.join(ORDERS)})")
    parser.add_argument("--batch-size", type=int, default=32, help="conversations per model call (the configs')")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--worker", choices=ORDERS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    orders = [o.strip() for o in args.orders.split(",")]
    if unknown := [o for o in orders if o not in ORDERS]:
        parser.error(f"--orders: unknown {', '.join(unknown)} (choose from {', '.join(ORDERS)})")
    if args.quick:
        args.datasets, args.batch_size, args.tokens, args.repeats = "mathdial:4,debugging:2", 3, 4, 1
    if args.worker_out:
        common.write_worker_result(args.worker_out, worker(args))
        return 0

    sizes = ["--datasets", args.datasets, "--batch-size", str(args.batch_size), "--tokens", str(args.tokens)]
    runs: dict[str, list[dict]] = {order: [] for order in orders}
    for repeat in range(args.repeats):  # alternating, so a slower spell of a shared host hits every order
        for order in orders:
            load = common.load_average()[0]
            result, child = common.run_worker(Path(__file__).resolve(), [*sizes, "--worker", order],
                                              timeout=args.timeout)
            runs[order].append({**result, "peak_rss_mib": child.peak_rss_mib, "load": load})
            print(f"{order} #{repeat + 1}: {result['seconds']:.1f} s, {child.peak_rss_mib:.0f} MiB "
                  f"(load {load:.1f})", flush=True)
    best = {order: min(r["seconds"] for r in rs) for order, rs in runs.items()}
    baseline = runs[orders[0]][0]
    rows = [[order, best[order], rs[0]["calls"], max(r["peak_rss_mib"] for r in rs), rs[0]["tokens"], rs[0]["padded"],
             best[orders[0]] / best[order]] for order, rs in runs.items()]
    same = {order: sum(baseline["replies"][i] == rs[0]["replies"][i] for i in baseline["replies"])
            for order, rs in runs.items()}
    title = (f"Evaluation batches by prompt length ({args.datasets} test prompts, batches of "
             f"{args.batch_size}, {args.tokens} greedy tokens)")
    common.print_table(title, COLUMNS, rows)
    notes = (f"Embedded model, dtype {baseline['dtype']}; each order in its own child process, {args.repeats} "
             f"alternating repeats, the best of each reported (all: "
             + "; ".join(f"{o} " + ", ".join(f"{r['seconds']:.1f}" for r in rs) for o, rs in runs.items())
             + f" s). Replies word for word the same as {orders[0]}'s: "
             + ", ".join(f"{o} {n}/{len(baseline['replies'])}" for o, n in same.items() if o != orders[0])
             + ". 1-min load average at each child's start: "
             + "; ".join(f"{o} " + ", ".join(f"{r['load']:.1f}" for r in rs) for o, rs in runs.items()) + ".")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    print(json.dumps({o: round(seconds, 1) for o, seconds in best.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
