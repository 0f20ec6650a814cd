"""Benchmark: DPO training speed and memory through `socratic.train.run(TrainConfig(...))`: today's TRL path
against the shared-prompt path (socratic.train.shared_prompt), with and without precomputed reference
log-probs, bf16 autocast and fp32, LoRA and full fine-tuning; and the step time against the machine's
compute limit (FLOPs per step / measured matmul throughput).

    .venv/bin/python bench/bench_train.py             # 4 steps each at effective batch 4 (2 x 2)
    .venv/bin/python bench/bench_train.py --quick     # 2 tiny steps each: checks the script works
    .venv/bin/python bench/bench_train.py --variants trl-bf16,bf16

Variants named trl-* run TRL's DPOTrainer as the project ran it before the shared prompt (random
pair order, both replies' rows through the whole model, the LM head on every position on a CPU);
the others run the project's trainer (`socratic.train.dpo.trainer_class`). "bf16" alone is
TrainConfig's default on a CPU with native bf16.

Pairs: prompts are MathDial train dialogues rendered with `render_messages` (the quickstart's kind of
prompt), each with a short Socratic chosen reply and a short answer-revealing rejected reply; the
quickstart's length limits (max_length 768, max_prompt_length 640) and TrainConfig's default batch
(2 x grad-accum 2) apply. Each variant runs in its own child process with a fresh
datasets cache (so TRL cannot reuse precomputed log-probs from an earlier variant).

Reported per variant: seconds per optimizer step (median over steps 2..N: the first step carries
warm-up), the trainer set-up time (where TRL precomputes reference log-probs when asked), seconds per
step with the set-up spread over the steps (one epoch: the precomputation's whole cost), the total
wall time of `train.run` (loading, training, saving adapter + merged model), the child's peak RSS,
and the FLOPs per step each path computes with its share of the compute-bound time.

FLOPs per step (matmuls only, padding excluded), summed over the step's pairs with prompt p, replies
c and r tokens: T = backbone tokens (TRL: 2p + c + r; shared prompt: p + c + r), S = positions
through the LM head (TRL on a CPU: every position, 2p + c + r - 2; shared: c + r), N = backbone
linear weights (106.2M), P = LoRA weights (4.9M at r 16), V*d = LM head (49,152 x 576), A = attention
scores and values (4 * L^2 * d per layer per row of length L):
  policy forward 2NT + 2PT + A + 2VdS; policy backward 2NT + 4PT + 2A + 4VdS (input gradients through
  frozen weights, LoRA weight gradients; the fused LM head recomputes its forward); reference forward
  2NT + A + 2VdS (precomputed or not: once per pair per epoch either way). Full fine-tuning adds the
  weight gradients, 2NT more (P = 0).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

# bf16: autocast with fp32 master weights, native on CPUs with avx512_bf16 / amx_bf16. "trl": TRL's own
# DPOTrainer, as before the shared prompt. LoRA unless "full".
VARIANTS = {
    "trl-bf16": {"trl": True, "bf16": True, "precompute_ref_log_probs": False},  # the default before
    "trl-bf16-precompute": {"trl": True, "bf16": True, "precompute_ref_log_probs": True},
    "trl-fp32": {"trl": True, "bf16": False, "precompute_ref_log_probs": False},
    "bf16-in-step": {"bf16": True, "precompute_ref_log_probs": False},
    "bf16-no-share": {"bf16": True, "share_prompt": False},
    "bf16": {"bf16": True},  # TrainConfig's default: shared prompt, precomputed reference
    "fp32": {"bf16": False},
    "full-bf16": {"bf16": True, "lora": False},
}
BASELINE = "trl-bf16"

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
    from socratic.train import shared_prompt

    packed_calls = []
    packed = shared_prompt._packed_forward
    shared_prompt._packed_forward = lambda *a: (packed_calls.append(1), packed(*a))[1]
    variant = dict(VARIANTS[args.worker])
    if variant.pop("trl", False):
        from socratic.train import dpo

        class TodaysTrainer(trl.DPOTrainer):  # TRL's trainer, as `train.run` built it before
            def __init__(self, *a, share_prompt=None, **k):
                super().__init__(*a, **k)

        dpo.trainer_class = lambda: TodaysTrainer

    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        tmp = Path(tmp)
        pairs = tmp / "pairs.jsonl"
        make_pairs(pairs, args.steps * args.batch_size * args.grad_accum)
        tokens = pair_tokens(pairs, args.max_length, args.max_prompt_length)
        config = TrainConfig(pairs=pairs, model="embedded", out=tmp / "out", max_steps=args.steps,
                             batch_size=args.batch_size, grad_accum=args.grad_accum, save_steps=10_000,
                             max_length=args.max_length, max_prompt_length=args.max_prompt_length, **variant)
        import torch

        threads = torch.get_num_threads()
        started = time.perf_counter()
        run(config)
        total = time.perf_counter() - started
        summary = json.loads((tmp / "out" / "train_summary.json").read_text())
        logged = train_monitor.train_logs(train_monitor.read_metrics(tmp / "out" / "metrics.jsonl"))
    if shares_prompt(args.worker) != bool(packed_calls):
        raise RuntimeError(f"{args.worker}: the shared-prompt forward ran {len(packed_calls)} times")
    ends = [t for kind, t in steps if kind == "step_end"]
    begin = next(t for kind, t in steps if kind == "train_begin")
    per_step = [b - a for a, b in zip([begin, *ends], ends)]
    return {"variant": args.worker, "steps": len(ends), "step_seconds": per_step,
            "seconds_per_step": statistics.median(per_step[1:] or per_step), "setup_s": setup.get("seconds"),
            "total_s": total, "longest_prompt_tokens": summary.get("longest_prompt_tokens"),
            "prompts_shortened": summary.get("prompts_shortened"), "pairs": summary.get("pairs"),
            "pair_tokens": tokens, "threads": threads, "step1_loss": logged[0]["loss"],
            "packed_calls": len(packed_calls),
            "flops_per_step": step_flops(tokens, args.steps, shared=shares_prompt(args.worker),
                                         lora=VARIANTS[args.worker].get("lora", True))}


def shares_prompt(variant: str) -> bool:
    settings = VARIANTS[variant]
    return not settings.get("trl", False) and settings.get("share_prompt", True)


def pair_tokens(path: Path, max_length: int, max_prompt_length: int) -> list[tuple[int, int, int]]:
    """(prompt, chosen, rejected) token counts of each pair as training sees it (prompt fitted)."""
    from transformers import AutoTokenizer

    from socratic.train.dpo import resolve_model_dir
    from socratic.train.rows import chat_token_counter, completion_tokens, prepare_pairs, read_pairs

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_dir("embedded"))
    rows, _ = prepare_pairs(read_pairs(path), tokenizer, max_length=max_length, max_prompt_length=max_prompt_length)
    count = chat_token_counter(tokenizer)
    return [(count(r["prompt"]), completion_tokens(tokenizer, r["prompt"], r["chosen"]),
             completion_tokens(tokenizer, r["prompt"], r["rejected"])) for r in rows]


def model_shape() -> dict[str, int]:
    """The embedded model's sizes that its FLOPs depend on (from its config.json)."""
    from socratic.train.dpo import resolve_model_dir

    config = json.loads((resolve_model_dir("embedded") / "config.json").read_text())
    d, ff, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    head = config.get("head_dim") or d // config["num_attention_heads"]
    q, kv = config["num_attention_heads"] * head, config["num_key_value_heads"] * head
    linears = [(d, q), (d, kv), (d, kv), (q, d), (d, ff), (d, ff), (ff, d)]  # q k v o gate up down
    return {"d": d, "attention": q, "layers": layers, "vocab": config["vocab_size"],
            "backbone": layers * sum(i * o for i, o in linears),
            "lora_per_rank": layers * sum(i + o for i, o in linears)}


def step_flops(tokens: list[tuple[int, int, int]], steps: int, *, shared: bool, lora: bool,
               lora_r: int = 16) -> float:
    """Matmul FLOPs per optimizer step by the formula in the module doc (reference pass included)."""
    m = model_shape()
    n, lm_head, p_lora = m["backbone"], m["vocab"] * m["d"], (m["lora_per_rank"] * lora_r if lora else 0)
    total = 0.0
    for p, c, r in tokens:
        rows = [p + c + r] if shared else [p + c, p + r]
        t = sum(rows)
        s = c + r if shared else t - 2
        a = sum(4 * length * length * m["attention"] * m["layers"] for length in rows)
        forward = 2 * n * t + a + 2 * lm_head * s
        policy = forward + 2 * p_lora * t + (2 * n * t + 4 * p_lora * t + 2 * a + 4 * lm_head * s)
        if not lora:
            policy += 2 * n * t  # weight gradients
        total += policy + forward
    return total / steps


def matmul_worker() -> dict:
    """bf16 and fp32 matmul GFLOP/s on this process's threads: a model-shaped and a square product."""
    import torch

    shapes = {"model (2048x576 @ 576x1536)": (2048, 576, 1536), "square 2048": (2048, 2048, 2048)}
    result = {"threads": torch.get_num_threads()}
    for dtype in (torch.bfloat16, torch.float32):
        for name, (m, k, n) in shapes.items():
            a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
            for _ in range(3):
                a @ b
            reps, started = 0, time.perf_counter()
            while time.perf_counter() - started < 2.0:
                a @ b
                reps += 1
            seconds = (time.perf_counter() - started) / reps
            result[f"{str(dtype).split('.')[-1]} {name}"] = 2 * m * k * n / seconds / 1e9
    return result


COLUMNS = ["variant", "s/step", "s/step with set-up", f"speed-up vs {BASELINE}", "first step s", "trainer set-up s",
           "total s", "peak RSS MiB", "TFLOP/step", "compute-bound s/step", "of the limit", "step-1 loss - ln 2"]


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
    parser.add_argument("--worker", choices=[*VARIANTS, "matmul"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        common.write_worker_result(args.worker_out, matmul_worker() if args.worker == "matmul" else worker(args))
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
    matmul, _ = common.run_worker(script, ["--worker", "matmul"], timeout=args.timeout)
    bf16_peak = max(v for k, v in matmul.items() if k.startswith("bfloat16"))
    fp32_peak = max(v for k, v in matmul.items() if k.startswith("float32"))
    for r in results:
        r["with_setup"] = (r["setup_s"] + sum(r["step_seconds"])) / r["steps"]
        peak = bf16_peak if VARIANTS[r["variant"]].get("bf16") else fp32_peak
        r["bound"] = r["flops_per_step"] / (peak * 1e9)
    baseline = next((r for r in results if r["variant"] == BASELINE), None)
    rows = [[r["variant"], r["seconds_per_step"], r["with_setup"],
             baseline["with_setup"] / r["with_setup"] if baseline else None, r["step_seconds"][0], r["setup_s"],
             r["total_s"], r["peak_rss_mib"], r["flops_per_step"] / 1e12, r["bound"],
             f"{r['bound'] / r['with_setup']:.0%}", f"{r['step1_loss'] - math.log(2):+.4f}"] for r in results]
    title = (f"DPO training: {args.steps} steps at batch {args.batch_size} x grad-accum {args.grad_accum}, "
             f"max_length {args.max_length}")
    common.print_table(title, COLUMNS, rows)
    longest = max((r["longest_prompt_tokens"] or 0) for r in results) if results else 0
    loads = ", ".join(f"{r['variant']} {r['load'][0]:.1f}->{r['load'][1]:.1f}" for r in results)
    tokens = results[0]["pair_tokens"]
    mean = [sum(t[i] for t in tokens) / len(tokens) for i in range(3)]
    rates = "; ".join(f"{k} {v:,.0f}" for k, v in matmul.items() if k != "threads")
    notes = (f"Pairs: MathDial train prompts via render_messages (longest {longest} tokens after fitting to "
             f"max_prompt_length {args.max_prompt_length}; {results[0]['prompts_shortened']} of "
             f"{results[0]['pairs']} shortened; mean prompt {mean[0]:.0f}, chosen {mean[1]:.0f}, rejected "
             f"{mean[2]:.0f} tokens). trl-* = TRL's DPOTrainer as before; the others the shared-prompt trainer "
             "(fixed length-sorted micro-batches); bf16 = autocast with fp32 master weights; LoRA r16 unless full. "
             "s/step is the median over steps after the first; 'trainer set-up' is DPOTrainer construction "
             "(tokenizing, and the reference log-prob precomputation where precomputed); 's/step with set-up' "
             "spreads it over the steps (the bench is one epoch, so it carries the whole precomputation). "
             "Speed-up compares 's/step with set-up'. TFLOP/step by the formula in bench_train.py's doc "
             "(matmuls, padding excluded); compute-bound s/step = TFLOP/step / the best matmul rate of the "
             f"variant's dtype measured in the same run on {matmul['threads']} threads (GFLOP/s: {rates}); "
             "'of the limit' = compute-bound / measured s/step with set-up. 'step-1 loss - ln 2': the policy "
             "equals the reference at step 1, so anything but 0 is reference log-probs that differ from the "
             "policy's own pass. "
             "Shared-prompt forward calls (policy + reference, checked): "
             + ", ".join(f"{r['variant']} {r['packed_calls']}" for r in results) + ". "
             f"Training threads: {results[0]['threads']}. 1-min load average before->after: {loads}.")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
