"""Benchmark: evaluation on the CPU against what the CPU can do, and the pressure test with and without prefix reuse.

    .venv/bin/python bench/bench_eval.py                 # 16 pressure items, 3 pushes, 2 alternating repeats
    .venv/bin/python bench/bench_eval.py --items 8 --repeats 1
    .venv/bin/python bench/bench_eval.py --quick         # tiny sizes: checks the script works

Three measurements on the embedded model in its default dtype, each in a child process:
- peak      the matmul rate of this CPU on torch's threads, fp32 and bf16, at the prefill's shape (a
            1,024-token block times the MLP's 576 x 1,536 weight) and as 2,048-square GEMMs;
- prefill   the prefill of the first `--items` MathDial test prompts, each alone (as the backend does),
            in GFLOP/s (2 x non-embedding parameters per token + causal attention), and as a share of the
            matmul rate of the dtype the backend uses;
- pressure  the pressure test's replies (evaluate.pressure: 3 pushes, greedy, 64 tokens, one batch of
            `--items`): prompts prefilled from scratch (`off`) vs from the stored prefill of the previous
            push (`on`, backends.prefixes), alternating, with the share of identical replies.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def matmul_rates() -> dict:
    import torch

    out = {"threads": torch.get_num_threads()}
    for name, dtype in (("fp32", "float32"), ("bf16", "bfloat16")):
        for shape_name, shape in (("prefill", common.PREFILL_MATMUL), ("square", (2048, 2048, 2048))):
            out[f"{name}_{shape_name}"] = common.best_matmul_rate(dtype, shape) / 1e9  # GFLOP/s
    return out


def worker(args) -> dict:
    import torch

    if args.part == "peak":
        return matmul_rates()
    from socratic.backends import GenerationOptions, load_backend
    from socratic.backends.prefixes import reusing_prefixes
    from socratic.data import load_dialogues
    from socratic.evaluate.pressure import PUSHES, pressure_items, pushed
    from socratic.render import load_system_prompt, render_messages

    system = load_system_prompt(None)
    items = pressure_items({"mathdial": load_dialogues("mathdial", "test")}, args.items)["mathdial"]
    backend = load_backend("embedded")
    model, config = backend.model, backend.model.config
    out: dict = {"dtype": backend.dtype_name, "threads": torch.get_num_threads()}
    if args.part == "prefill":
        weights = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and "lm_head" not in n)
        prompts = [backend.prompt_ids(render_messages(d, system)) for d in items]
        with torch.inference_mode():
            model(input_ids=torch.tensor([prompts[0][:64]]), logits_to_keep=1)  # warm-up
            started = time.perf_counter()
            for prompt in prompts:
                model(input_ids=torch.tensor([prompt[:-1]]), use_cache=True, logits_to_keep=1)
            seconds = time.perf_counter() - started
        tokens = [len(p) - 1 for p in prompts]
        # Per token: 2 FLOP per weight; causal attention: QK^T and AV, each 2 x hidden x (L/2) per token.
        flops = sum(2 * weights * n + 2 * config.num_hidden_layers * config.hidden_size * n * n for n in tokens)
        out.update(seconds=seconds, tokens=sum(tokens), gflops=flops / seconds / 1e9)
        return out
    greedy = GenerationOptions(greedy=True, temperature=0.0, max_new_tokens=args.tokens, seed=0, n=1)
    first = [r[0] for r in backend.generate([render_messages(d, system) for d in items], greedy)]
    so_far = {d.id: [f] for d, f in zip(items, first, strict=True)}
    replies: list[str] = []
    started = time.perf_counter()
    with reusing_prefixes(backend) if args.part == "on" else contextlib.nullcontext():
        for _ in PUSHES[:args.pushes]:
            got = [r[0] for r in backend.generate([render_messages(pushed(d, so_far[d.id]), system) for d in items],
                                                  greedy)]
            for d, reply in zip(items, got, strict=True):
                so_far[d.id].append(reply)
            replies += got
        out["reused_tokens"] = backend.prefixes.reused_tokens if args.part == "on" else 0
    out.update(seconds=time.perf_counter() - started, replies=replies)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=16, help="MathDial test items (the pressure test's batch)")
    parser.add_argument("--pushes", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--part", default="", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.items, args.pushes, args.tokens, args.repeats = 2, 2, 8, 1
    if args.worker_out:
        common.write_worker_result(args.worker_out, worker(args))
        return 0

    script = Path(__file__).resolve()
    sizes = ["--items", str(args.items), "--pushes", str(args.pushes), "--tokens", str(args.tokens)]

    def child(part: str) -> dict:
        load = common.load_average()[0]
        result, proc = common.run_worker(script, [*sizes, "--part", part], timeout=args.timeout)
        result.update(load=load, peak_rss_mib=proc.peak_rss_mib)
        return result

    peak = child("peak")
    prefill = child("prefill")
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for repeat in range(args.repeats):
        for part in ("off", "on"):
            runs[part].append(child(part))
            print(f"pressure prefixes {part} #{repeat + 1}: {runs[part][-1]['seconds']:.1f} s "
                  f"(load {runs[part][-1]['load']:.1f})", flush=True)
    dtype = "bf16" if prefill["dtype"] == "bfloat16" else "fp32"
    columns = ["measurement", "value", "note"]
    off, on = (min(r["seconds"] for r in runs[p]) for p in ("off", "on"))
    same = sum(a == b for a, b in zip(runs["off"][0]["replies"], runs["on"][0]["replies"], strict=True))
    rows = [
        ["matmul fp32, prefill shape (GFLOP/s)", peak["fp32_prefill"], f"{peak['threads']} threads"],
        ["matmul fp32, 2048 square (GFLOP/s)", peak["fp32_square"], ""],
        ["matmul bf16, prefill shape (GFLOP/s)", peak["bf16_prefill"], ""],
        ["matmul bf16, 2048 square (GFLOP/s)", peak["bf16_square"], ""],
        ["evaluation prefill (GFLOP/s)", prefill["gflops"],
         f"{prefill['tokens']} tokens in {prefill['seconds']:.1f} s, {prefill['dtype']}"],
        ["prefill / matmul rate of its dtype (prefill shape)", prefill["gflops"] / peak[f"{dtype}_prefill"], ""],
        ["prefill / best matmul rate of the CPU", prefill["gflops"] / max(v for k, v in peak.items() if k.startswith(("fp32_", "bf16_"))),
         "the issue's yardstick: the bf16 rate where bf16 is native"],
        ["pressure replies, prefixes off (s, best)", off, f"{len(runs['off'][0]['replies'])} replies"],
        ["pressure replies, prefixes on (s, best)", on, f"{runs['on'][0]['reused_tokens']} prompt tokens reused"],
        ["speed-up", off / on, f"identical replies {same}/{len(runs['on'][0]['replies'])}"],
    ]
    title = (f"Evaluation vs the CPU's matmul rate; pressure test with prefix reuse ({args.items} MathDial test "
             f"items, {args.pushes} pushes, {args.tokens} tokens)")
    common.print_table(title, columns, rows)
    loads = ", ".join(f"{p} {r['load']:.1f}" for p in runs for r in runs[p])
    rss = ", ".join(f"{p} {max(r['peak_rss_mib'] for r in runs[p]):.0f}" for p in runs)
    notes = (f"Embedded model, dtype {prefill['dtype']}, {prefill['threads']} torch threads; {args.repeats} alternating "
             f"repeats of the pressure replies. Peak RSS MiB: {rss}. 1-min load average at each child's start: "
             f"peak {peak['load']:.1f}, prefill {prefill['load']:.1f}, {loads}.")
    common.finish(title, columns, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
