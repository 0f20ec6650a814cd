"""Benchmark: DPO training speed and memory, LoRA vs full fine-tuning, with and without precomputed
reference log-probs, fp32 and bf16 autocast, through `socratic.train.run(TrainConfig(...))`.

    .venv/bin/python bench/bench_train.py             # 4 steps each at effective batch 4 (2 x 2)
    .venv/bin/python bench/bench_train.py --quick     # 2 tiny steps each: checks the script works
    .venv/bin/python bench/bench_train.py --variants lora,lora-precompute

Pairs: prompts are MathDial train dialogues rendered with `render_messages` (the quickstart's kind of
prompt), each with a short Socratic chosen reply and a short answer-revealing rejected reply; the
quickstart's length limits (max_length 768, max_prompt_length 640) and TrainConfig's default batch
(2 x grad-accum 2) apply. Each variant runs in its own child process with a fresh
datasets cache (so TRL cannot reuse precomputed log-probs from an earlier variant).

Reported per variant: seconds per optimizer step (median over steps 2..N: the first step carries
warm-up), the trainer set-up time (where TRL precomputes reference log-probs when asked), the total
wall time of `train.run` (loading, training, saving adapter + merged model) and the child's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

VARIANTS = {
    "lora": {"lora": True, "precompute_ref_log_probs": False},
    "lora-precompute": {"lora": True, "precompute_ref_log_probs": True},
    "full": {"lora": False, "precompute_ref_log_probs": False},
    "full-precompute": {"lora": False, "precompute_ref_log_probs": True},
    # bf16 autocast (fp32 master weights): native on CPUs with avx512_bf16 / amx_bf16.
    "lora-bf16": {"lora": True, "precompute_ref_log_probs": False, "bf16": True},
    "lora-bf16-precompute": {"lora": True, "precompute_ref_log_probs": True, "bf16": True},
}

CHOSEN = ("Let's slow down and look at the problem together. What is the first quantity the question gives you, "
          "and what do you think you should do with it before anything else?")
REJECTED = ("The answer is {answer}. You just need to multiply the two numbers and then add the rest, so the "
            "final result is {answer}, and you can write that down.")


def make_pairs(path: Path, n: int) -> dict:
    """Write n pairs from MathDial train prompts; returns prompt-length statistics (in characters)."""
    from socratic.data import load_dialogues
    from socratic.render import render_messages

    dialogues = load_dialogues("mathdial", "train")[:n]
    with path.open("w", encoding="utf-8") as out:
        for d in dialogues:
            answer = (d.reference or "42").strip().splitlines()[0][:60]
            out.write(json.dumps({
                "prompt": render_messages(d), "chosen": [{"role": "assistant", "content": CHOSEN}],
                "rejected": [{"role": "assistant", "content": REJECTED.format(answer=answer)}],
                "chosen_score": 0.9, "rejected_score": 0.2, "dialogue_id": d.id}) + "\n")
    return {"pairs": len(dialogues)}


def worker(args) -> dict:
    import trl
    from transformers import TrainerCallback

    from socratic.train import monitor as train_monitor
    from socratic.train.dpo import TrainConfig, run

    steps: list[tuple[str, float]] = []

    class Timing(train_monitor.MetricsCallback):
        def on_train_begin(self, *a, **k):
            steps.append(("train_begin", time.perf_counter()))

        def on_step_end(self, *a, **k):
            steps.append(("step_end", time.perf_counter()))

    assert issubclass(Timing, TrainerCallback)
    train_monitor.MetricsCallback = Timing  # train.run builds its callbacks from this module attribute

    setup: dict[str, float] = {}
    original_init = trl.DPOTrainer.__init__

    def timed_init(self, *a, **k):
        started = time.perf_counter()
        original_init(self, *a, **k)
        setup["seconds"] = time.perf_counter() - started

    trl.DPOTrainer.__init__ = timed_init

    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        tmp = Path(tmp)
        pairs = tmp / "pairs.jsonl"
        make_pairs(pairs, args.steps * args.batch_size * args.grad_accum)
        variant = VARIANTS[args.worker]
        config = TrainConfig(pairs=pairs, model="embedded", out=tmp / "out", max_steps=args.steps,
                             batch_size=args.batch_size, grad_accum=args.grad_accum, save_steps=10_000,
                             max_length=args.max_length, max_prompt_length=args.max_prompt_length, **variant)
        started = time.perf_counter()
        run(config)
        total = time.perf_counter() - started
        summary = json.loads((tmp / "out" / "train_summary.json").read_text())
    ends = [t for kind, t in steps if kind == "step_end"]
    begin = next(t for kind, t in steps if kind == "train_begin")
    per_step = [b - a for a, b in zip([begin, *ends], ends)]
    return {"variant": args.worker, "steps": len(ends), "step_seconds": per_step,
            "seconds_per_step": statistics.median(per_step[1:] or per_step), "setup_s": setup.get("seconds"),
            "total_s": total, "longest_prompt_tokens": summary.get("longest_prompt_tokens"),
            "prompts_shortened": summary.get("prompts_shortened"), "pairs": summary.get("pairs")}


COLUMNS = ["variant", "s/step", "first step s", "trainer set-up s", "total s", "peak RSS MiB", "vs lora (s/step)"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--grad-accum", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=768, help="the quickstart's")
    parser.add_argument("--max-prompt-length", type=int, default=640, help="the quickstart's")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--worker", choices=list(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        common.write_worker_result(args.worker_out, worker(args))
        return 0

    if args.quick:
        args.steps, args.batch_size, args.grad_accum, args.max_length, args.max_prompt_length = 2, 1, 1, 384, 320
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    script = Path(__file__).resolve()
    results = []
    for variant in variants:
        print(f"{variant}: running ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-datasets-") as cache:
            load = common.load_average()[0]
            try:
                result, child = common.run_worker(
                    script, ["--worker", variant, "--steps", str(args.steps), "--batch-size", str(args.batch_size),
                             "--grad-accum", str(args.grad_accum), "--max-length", str(args.max_length),
                             "--max-prompt-length", str(args.max_prompt_length)],
                    env={"HF_DATASETS_CACHE": cache}, timeout=args.timeout)
            except (RuntimeError, TimeoutError) as error:  # report it, keep the other variants' numbers
                print(f"{variant}: FAILED: {error}")
                continue
        result.update(peak_rss_mib=child.peak_rss_mib, load=(load, common.load_average()[0]))
        print(f"{variant}: {result['seconds_per_step']:.1f} s/step, peak RSS {child.peak_rss_mib:.0f} MiB")
        results.append(result)

    if not results:
        return 1
    lora = next((r for r in results if r["variant"] == "lora"), None)
    rows = [[r["variant"], r["seconds_per_step"], r["step_seconds"][0], r["setup_s"], r["total_s"],
             r["peak_rss_mib"], r["seconds_per_step"] / lora["seconds_per_step"] if lora else None]
            for r in results]
    title = (f"DPO training: {args.steps} steps at batch {args.batch_size} x grad-accum {args.grad_accum}, "
             f"max_length {args.max_length}")
    common.print_table(title, COLUMNS, rows)
    longest = max((r["longest_prompt_tokens"] or 0) for r in results) if results else 0
    loads = ", ".join(f"{r['variant']} {r['load'][0]:.1f}->{r['load'][1]:.1f}" for r in results)
    notes = (f"Pairs: MathDial train prompts via render_messages (longest {longest} tokens after fitting to "
             f"max_prompt_length {args.max_prompt_length}; {results[0]['prompts_shortened'] if results else 0} "
             f"of {results[0]['pairs'] if results else 0} shortened), ~35-token replies; fp32 on the CPU unless "
             "-bf16 (autocast, fp32 master weights). "
             "s/step is the median over steps after the first; 'trainer set-up' is DPOTrainer construction, "
             "which includes the reference log-prob precomputation in the -precompute variants. "
             f"1-min load average before->after: {loads}.")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
