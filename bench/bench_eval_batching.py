"""Benchmark: the evaluation's greedy replies asked in batches of the test set's order vs of similar prompt lengths.

    .venv/bin/python bench/bench_eval_batching.py                       # 100 Debugging test prompts, batches of 32
    .venv/bin/python bench/bench_eval_batching.py --dataset tutorchat --limit 64
    .venv/bin/python bench/bench_eval_batching.py --quick               # tiny sizes: checks the script works

A local model decodes a batch left-padded to its longest prompt, and at every new token it attends to the
padding too: a batch that mixes 300- and 2,000-token prompts reads several times the keys and values it
needs, and holds them in memory. `evaluate.evaluation.dataset_batches` sorts the test items by prompt length
(characters) before slicing them into batches (reply_loop.length_batches). Each order runs in its own child
process (embedded model, its default dtype, `--tokens` greedy tokens, as configs/cpu.yaml's evaluation).
Reported (best of `--repeats` alternating runs): seconds, the child's peak RSS, the prompts' real and padded tokens, and how many replies are word
for word the same (all in float32; in bfloat16 the rounding depends on a batch's shape, so some differ).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

ORDERS = ("dataset", "length")
COLUMNS = ["batches by", "seconds", "peak RSS MiB", "prompt tokens", "padded tokens", "speed-up"]


def worker(args) -> dict:
    from functools import partial

    from socratic.backends import load_backend
    from socratic.backends.reply_loop import fixed_batches
    from socratic.evaluate.evaluation import EvaluateConfig, dataset_batches, load_test_sets
    from socratic.render import load_system_prompt, render_messages

    config = EvaluateConfig(models={"base": "embedded"}, datasets=[args.dataset], limit=args.limit,
                            max_new_tokens=args.tokens, batch_size=args.batch_size, out=Path("unused"))
    test_sets = load_test_sets(config)
    render = partial(render_messages, system_prompt=load_system_prompt(None))
    if args.worker == "length":
        batches = [[d for _, d in batch] for batch in dataset_batches(test_sets, args.batch_size, render)]
    else:
        batches = fixed_batches(test_sets[args.dataset], args.batch_size)
    backend = load_backend("embedded")
    lengths = [[len(backend.prompt_ids(render(d))) for d in batch] for batch in batches]
    replies: dict[str, str] = {}
    started = time.perf_counter()
    for batch in batches:
        for dialogue, reply in zip(batch, backend.generate([render(d) for d in batch], config.options()), strict=True):
            replies[dialogue.id] = reply[0]
    return {"seconds": time.perf_counter() - started, "dtype": backend.dtype_name, "replies": replies,
            "tokens": sum(map(sum, lengths)), "padded": sum(len(b) * max(b) for b in lengths)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="debugging", help="test set (its longest prompts: Debugging's)")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32, help="conversations per model call (cpu.yaml's)")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--worker", choices=ORDERS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.limit, args.batch_size, args.tokens, args.repeats = 6, 3, 4, 1
    if args.worker_out:
        common.write_worker_result(args.worker_out, worker(args))
        return 0

    sizes = ["--dataset", args.dataset, "--limit", str(args.limit), "--batch-size", str(args.batch_size),
             "--tokens", str(args.tokens)]
    runs: dict[str, list[dict]] = {order: [] for order in ORDERS}
    for repeat in range(args.repeats):  # alternating, so a slower spell of a shared host hits both orders
        for order in ORDERS:
            load = common.load_average()[0]
            result, child = common.run_worker(Path(__file__).resolve(), [*sizes, "--worker", order],
                                              timeout=args.timeout)
            runs[order].append({**result, "peak_rss_mib": child.peak_rss_mib, "load": load})
            print(f"{order} #{repeat + 1}: {result['seconds']:.1f} s, {child.peak_rss_mib:.0f} MiB "
                  f"(load {load:.1f})", flush=True)
    best = {order: min(r["seconds"] for r in rs) for order, rs in runs.items()}
    rows = [[order, best[order], max(r["peak_rss_mib"] for r in rs), rs[0]["tokens"], rs[0]["padded"],
             best["dataset"] / best[order]] for order, rs in runs.items()]
    before, after = runs["dataset"][0], runs["length"][0]
    same = sum(before["replies"][i] == after["replies"][i] for i in before["replies"])
    title = (f"Evaluation batches by prompt length ({args.limit} {args.dataset} test prompts, batches of "
             f"{args.batch_size}, {args.tokens} greedy tokens)")
    common.print_table(title, COLUMNS, rows)
    notes = (f"Embedded model, dtype {before['dtype']}; each order in its own child process, {args.repeats} "
             f"alternating repeats, the best of each reported (all: "
             + "; ".join(f"{o} " + ", ".join(f"{r['seconds']:.1f}" for r in rs) for o, rs in runs.items())
             + f" s). Replies word for word the same: {same}/{len(before['replies'])}. 1-min load average at each "
             f"child's start: " + "; ".join(f"{o} " + ", ".join(f"{r['load']:.1f}" for r in rs)
                                           for o, rs in runs.items()) + ".")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    print(json.dumps({o: round(seconds, 1) for o, seconds in best.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
