"""Benchmark: the SFT warm-up's speed and memory through `socratic.train.sft.run`, in four variants:
- `trl-every-position`: TRL's SFTTrainer as it is on a CPU (the LM head on every position, prompt included);
- `replies-only`: the LM head on the reply positions only (`socratic.train.shared_prompt.score_replies_only`,
  in every variant below), at batch x grad-accum as given, with DPO's LoRA dropout 0.05 (the configs' warm-up
  before 2026-12-07);
- `micro-batch-1`: the same turns a step, one conversation per micro-batch (no padding);
- `micro-batch-1-no-dropout`: and `sft.lora_dropout: 0.0` (no random masks): the configs' warm-up since.

    .venv/bin/python bench/bench_sft.py                 # 4 steps each at batch 2 x grad-accum 2, on pairs
    .venv/bin/python bench/bench_sft.py --data teacher  # on MathDial's teacher turns, as the configs' warm-up
    .venv/bin/python bench/bench_sft.py --quick         # 2 tiny steps each: checks the script works

Pairs: bench_train.py's (MathDial train prompts rendered with `render_messages`, a short Socratic chosen
reply); the warm-up learns the chosen reply. `--data teacher`: the real teachers' MathDial turns, as
configs/quickstart.yaml's warm-up takes them. Each variant runs in its own child process. Reported: seconds
per optimizer step (median over steps 2..N), the first step, the whole `sft.run` (loading, training,
saving), the child's peak RSS, and the step-1 loss (about the same in all: they compute the same loss; the
dropout masks and the padding differ).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from bench_train import make_pairs

# name -> (the LM head on the replies only, one conversation per micro-batch, the warm-up's own LoRA dropout)
VARIANTS = {"trl-every-position": (False, False, None), "replies-only": (True, False, None),
            "micro-batch-1": (True, True, None), "micro-batch-1-no-dropout": (True, True, 0.0)}
COLUMNS = ["variant", "s/step", "first step s", "total s", "peak RSS MiB", "step-1 loss", "speed-up"]


def worker(args) -> dict:
    from socratic.train import monitor as train_monitor
    from socratic.train import sft, shared_prompt
    from socratic.train.dpo import TrainConfig

    ends: list[float] = []

    class Timing(train_monitor.MetricsCallback):
        def on_train_begin(self, *a, **k):
            ends.append(time.perf_counter())

        def on_step_end(self, *a, **k):
            ends.append(time.perf_counter())

    train_monitor.MetricsCallback = Timing  # sft.run builds its callback from this module attribute
    replies_only, micro_batch_one, lora_dropout = VARIANTS[args.worker]
    if not replies_only:
        shared_prompt.score_replies_only = lambda model, outputs=None: None
    batch_size, grad_accum = ((1, args.batch_size * args.grad_accum) if micro_batch_one
                              else (args.batch_size, args.grad_accum))
    with tempfile.TemporaryDirectory(prefix="bench-sft-") as tmp:
        tmp = Path(tmp)
        pairs = tmp / "pairs.jsonl"
        make_pairs(pairs, args.steps * args.batch_size * args.grad_accum)
        dpo = TrainConfig(pairs=pairs, model="embedded", out=tmp / "dpo", max_length=args.max_length,
                          max_prompt_length=args.max_prompt_length)
        schedule = {"batch_size": batch_size, "grad_accum": grad_accum, "lora_dropout": lora_dropout}
        if args.data == "teacher":
            settings = sft.SftSettings(data="teacher", max_steps=args.steps, learning_rate=1e-3, **schedule)
        else:
            settings = sft.SftSettings(epochs=1, **schedule)
        config = sft.warm_up_config(settings, dpo, tmp / "out", "mathdial")
        started = time.perf_counter()
        sft.run(config)
        total = time.perf_counter() - started
        logged = train_monitor.train_logs(train_monitor.read_metrics(tmp / "out" / "metrics.jsonl"))
    per_step = [b - a for a, b in itertools.pairwise(ends)]
    return {"variant": args.worker, "steps": len(per_step), "step_seconds": per_step,
            "seconds_per_step": statistics.median(per_step[1:] or per_step), "total_s": total,
            "step1_loss": logged[0]["loss"] if logged else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--grad-accum", type=int, default=2)
    parser.add_argument("--data", choices=["pairs", "teacher"], default="pairs",
                        help="what the warm-up learns: bench_train.py's pairs, or MathDial's teacher turns")
    parser.add_argument("--max-length", type=int, default=768, help="configs/cpu.yaml's")
    parser.add_argument("--max-prompt-length", type=int, default=640, help="configs/cpu.yaml's")
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
    results = []
    for variant in VARIANTS:
        print(f"{variant}: running ...", flush=True)
        load = common.load_average()[0]
        result, child = common.run_worker(Path(__file__).resolve(), [
            "--worker", variant, "--data", args.data, "--steps", str(args.steps), "--batch-size", str(args.batch_size),
            "--grad-accum", str(args.grad_accum), "--max-length", str(args.max_length),
            "--max-prompt-length", str(args.max_prompt_length)], timeout=3600)
        result.update(peak_rss_mib=child.peak_rss_mib, load=(load, common.load_average()[0]))
        print(f"{variant}: {result['seconds_per_step']:.1f} s/step, peak RSS {child.peak_rss_mib:.0f} MiB", flush=True)
        results.append(result)
    base = results[0]["seconds_per_step"]
    rows = [[r["variant"], r["seconds_per_step"], r["step_seconds"][0], r["total_s"], r["peak_rss_mib"],
             r["step1_loss"], f"{base / r['seconds_per_step']:.2f}x"] for r in results]
    title = (f"SFT warm-up on {'MathDial teacher turns' if args.data == 'teacher' else 'pairs'}: {args.steps} steps "
             f"of {args.batch_size * args.grad_accum} conversations (batch {args.batch_size} x grad-accum "
             f"{args.grad_accum}, or 1 x {args.batch_size * args.grad_accum})")
    loads = ", ".join(f"{r['variant']} {r['load'][0]:.1f}->{r['load'][1]:.1f}" for r in results)
    what = ("MathDial's teacher turns (learning rate 1e-3, as the configs)" if args.data == "teacher"
            else "bench_train.py's MathDial pairs, chosen reply learnt")
    notes = (f"{what}, LoRA r16, bf16 where native (TrainConfig's "
             f"defaults), max_length {args.max_length}, max_prompt_length {args.max_prompt_length}. s/step: median "
             f"over steps after the first. 1-min load average before->after: {loads}.")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
