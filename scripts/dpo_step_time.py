"""DPO step time at the embedded model's real size (random weights): batch 8 x 640-token prompts, bf16.

    .venv/bin/python scripts/dpo_step_time.py                        # 6 steps on cuda if present, else the CPU
    .venv/bin/python scripts/dpo_step_time.py --steps 2 --no-bf16    # fp32 (what socratic picks on a CPU
                                                                     # without native bf16)
    .venv/bin/python scripts/dpo_step_time.py --size tiny --steps 2 --batch-size 2 --prompt-tokens 256   # a check

A random-weight model of SmolLM2-135M-Instruct's shape (random_model.py: timing does not depend on the
weights, and the real ones cannot travel to a lent GPU machine) is trained with `socratic train`'s own
code (socratic.train.dpo.run: LoRA r16 all-linear, the shared-prompt forward, reference log-probs
precomputed) on `--batch-size` pairs per step, grad-accum 1. Each pair: a MathDial train conversation
(its last student turn, the context repeated so there is enough text) fitted to exactly
`--prompt-tokens` chat-template tokens by socratic.train.rows's rules, and a chosen and a rejected reply
of `--reply-tokens` tokens each.

Printed, and written as JSON with -o: seconds per optimizer step (each step, and the median of the
steps after the first, which carries the warm-up), the trainer's set-up (tokenizing and the reference
precomputation), peak CUDA memory or peak RSS, the device, dtype and library versions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's socratic, uninstalled

CHOSEN = ("Let's slow down and look at the problem together. What is the first quantity the question gives you, "
          "and what do you think you should do with it before anything else? ")
REJECTED = ("The answer is 42. You just need to multiply the two numbers and then add the rest, so the final "
            "result is 42, and you can write that down. ")


def exact_tokens(tokenizer, text: str, count: int) -> str:
    """`text` repeated and cut to a string of `count` tokens (checked: decoding and encoding agree)."""
    ids = tokenizer(text * (count // 8 + 1), add_special_tokens=False)["input_ids"]
    for take in range(count, count + 8):  # a cut inside a word may re-tokenize differently: move the cut
        piece = tokenizer.decode(ids[:take])
        if len(tokenizer(piece, add_special_tokens=False)["input_ids"]) == count:
            return piece
    raise RuntimeError(f"could not cut a reply of exactly {count} tokens")


def write_pairs(path: Path, tokenizer, n: int, prompt_tokens: int, reply_tokens: int) -> list[int]:
    """n pairs with prompts of exactly `prompt_tokens` tokens; returns each prompt's token count."""
    from socratic.data import load_dialogues
    from socratic.render import render_messages
    from socratic.train.rows import chat_token_counter, fit_prompt

    count = chat_token_counter(tokenizer)
    dialogues = load_dialogues("mathdial", "train")
    chosen, rejected = exact_tokens(tokenizer, CHOSEN, reply_tokens), exact_tokens(tokenizer, REJECTED, reply_tokens)
    lengths = []
    with path.open("w", encoding="utf-8") as out:
        for index in range(n):
            dialogue = dialogues[index % len(dialogues)]
            # The last student turn alone, and more context than fits: fit_prompt then cuts the context from
            # the middle, so every prompt ends up at the budget (give or take the cut's last token).
            long = dialogue.model_copy(update={"turns": dialogue.turns[-1:],
                                               "context": (dialogue.context or "") * (prompt_tokens // 40 + 2)})
            prompt = fit_prompt(render_messages(long), count, prompt_tokens)
            lengths.append(count(prompt))
            out.write(json.dumps({"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                                  "rejected": [{"role": "assistant", "content": rejected}],
                                  "chosen_score": 0.9, "rejected_score": 0.1,
                                  "dialogue_id": f"{dialogue.id}#{index}"}) + "\n")
    return lengths


def measure(args) -> dict:
    import torch
    import trl
    from random_model import parameter_count, write_random_model

    from socratic.train import dpo
    from socratic.train import monitor as train_monitor

    ends: list[float] = []

    class StepClock(train_monitor.MetricsCallback):
        def on_train_begin(self, *a, **k):
            ends.append(time.perf_counter())
            return super().on_train_begin(*a, **k)

        def on_step_end(self, *a, **k):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            ends.append(time.perf_counter())
            return super().on_step_end(*a, **k)

    train_monitor.MetricsCallback = StepClock  # dpo.run builds its callbacks from this module attribute
    setup: dict[str, float] = {}
    original_init = trl.DPOTrainer.__init__

    def timed_init(self, *a, **k):  # the trainer's set-up: tokenizing, reference log-probs precomputed
        started = time.perf_counter()
        original_init(self, *a, **k)
        setup["seconds"] = time.perf_counter() - started

    trl.DPOTrainer.__init__ = timed_init

    with tempfile.TemporaryDirectory(prefix="dpo-step-time-") as tmp:
        tmp = Path(tmp)
        model = write_random_model(tmp / "model", args.size)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(model)
        pairs = tmp / "pairs.jsonl"
        lengths = write_pairs(pairs, tokenizer, args.steps * args.batch_size, args.prompt_tokens, args.reply_tokens)
        config = dpo.TrainConfig(pairs=pairs, model=f"hf:{model}", out=tmp / "out", max_steps=args.steps,
                                 batch_size=args.batch_size, grad_accum=1, save_steps=10_000, bf16=args.bf16,
                                 max_prompt_length=args.prompt_tokens,
                                 max_length=args.prompt_tokens + args.reply_tokens + 8)
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        dpo.run(config)
        total = time.perf_counter() - started
        summary = json.loads((tmp / "out" / "train_summary.json").read_text("utf-8"))
        parameters = parameter_count(model)
    steps = [b - a for a, b in itertools.pairwise(ends)]
    result = {"size": args.size, "parameters": parameters, "batch_size": args.batch_size,
              "prompt_tokens": {"min": min(lengths), "max": max(lengths)}, "reply_tokens": args.reply_tokens,
              "bf16": summary["bf16"], "steps": len(steps), "step_seconds": [round(s, 3) for s in steps],
              "seconds_per_step": round(statistics.median(steps[1:] or steps), 3),
              "setup_seconds": round(setup.get("seconds", float("nan")), 2), "total_seconds": round(total, 1),
              "loss": summary["train_loss"],
              # The 1-minute load average before and after: on a shared machine, other people's work is in it.
              "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)]}
    if torch.cuda.is_available():
        result["device"] = torch.cuda.get_device_name(0)
        result["cuda_peak_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    else:
        import resource

        from gpu_smoke import machine

        result["device"] = f"CPU {machine()['cpu']}, {os.cpu_count()} cores, {torch.get_num_threads()} threads"
        result["rss_peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    from gpu_smoke import package_versions

    result["packages"] = package_versions()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("full", "tiny"), default="full", help="full: the embedded model's shape")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps (the first is warm-up)")
    parser.add_argument("--batch-size", type=int, default=8, help="pairs per step")
    parser.add_argument("--prompt-tokens", type=int, default=640)
    parser.add_argument("--reply-tokens", type=int, default=64, help="tokens of each chosen / rejected reply")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True,
                        help="bf16 autocast (default on, as on a GPU)")
    parser.add_argument("-o", "--out", type=Path, help="also write the result here as JSON")
    args = parser.parse_args(argv)
    result = measure(args)
    print(f"[dpo_step_time] {result['device']}: {result['size']} model ({result['parameters']:,} parameters), "
          f"batch {args.batch_size} x {result['prompt_tokens']['max']}-token prompts + 2 x {args.reply_tokens}-token "
          f"replies, {'bf16' if result['bf16'] else 'fp32'}: {result['seconds_per_step']} s/step (median of steps "
          f"after the first; steps {result['step_seconds']}), set-up {result['setup_seconds']} s; load average "
          f"{result['load_average'][0]} -> {result['load_average'][1]}", flush=True)
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
