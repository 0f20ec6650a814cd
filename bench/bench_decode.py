"""Benchmark: the decoding loop of the transformers backend, this tree against an earlier commit, side by side.

    .venv/bin/python bench/bench_decode.py                      # against the commit before the decoding loop
    .venv/bin/python bench/bench_decode.py --variants before,ab78ceb,after    # a third tree: another commit
    .venv/bin/python bench/bench_decode.py --baseline HEAD~3 --eval-items 16 --gen-dialogues 8
    .venv/bin/python bench/bench_decode.py --quick              # tiny sizes: checks the script works

Two slices of `socratic run configs/cpu.yaml`, on the embedded model with its default dtype:
- eval     the evaluation: the first `--eval-items` MathDial test dialogues, greedy, `--eval-tokens` new
           tokens, one batch (cpu.yaml's evaluation batch_size 16), then the first pressure push on the
           same items (evaluate.pressure.pushed), one batch again;
- gen      candidate generation: the first `--gen-dialogues` MathDial train dialogues, k samples each
           (T 1.0, top-p 0.95, 64 new tokens), 4 dialogues per call, each call seeded as the stage seeds it
           (preference.generate.batch_seed).

Each tree runs in its own child process (`src` of the baseline commit is extracted with `git archive`),
both children in turn, `--repeats` times, alternating, so that a change of machine load hits both.
Reported: seconds per slice (best and mean of the repeats) and the share of replies that are identical
between the two trees (greedy replies may differ only by bf16 batch-shape rounding; sampled ones the same).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

DEFAULT_BASELINE = "e1a4f0d"  # main before the decoding loop (issue 28)


def worker(args) -> dict:
    import torch

    from socratic.backends import GenerationOptions, load_backend
    from socratic.data import load_dialogues
    from socratic.evaluate.pressure import pushed
    from socratic.preference.generate import batch_seed
    from socratic.render import load_system_prompt, render_messages

    system = load_system_prompt(None)
    tests = load_dialogues("mathdial", "test")[:args.eval_items]
    trains = load_dialogues("mathdial", "train", dedupe=True)[:args.gen_dialogues]
    backend = load_backend("embedded")
    if args.backend_batch:
        backend.batch_size = args.backend_batch
    backend.generate([render_messages(tests[0], system)], GenerationOptions(max_new_tokens=4, greedy=True,
                                                                            temperature=0.0))  # warm-up
    out: dict = {"threads": torch.get_num_threads(), "dtype": backend.dtype_name}
    greedy = GenerationOptions(greedy=True, temperature=0.0, max_new_tokens=args.eval_tokens, seed=0, n=1)
    started, cpu = time.perf_counter(), time.process_time()
    first = [r[0] for r in backend.generate([render_messages(d, system) for d in tests], greedy)]
    out["eval_first_s"] = time.perf_counter() - started
    mid = time.perf_counter()
    push = [r[0] for r in backend.generate([render_messages(pushed(d, [f]), system) for d, f in zip(tests, first)],
                                           greedy)]
    out["eval_push_s"] = time.perf_counter() - mid
    out["eval_s"], out["eval_cpu_s"] = time.perf_counter() - started, time.process_time() - cpu
    out["eval_replies"] = first + push
    sampled: list[str] = []
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(trains), 4):
        conversations = [render_messages(d, system) for d in trains[start:start + 4]]
        options = GenerationOptions(temperature=1.0, top_p=0.95, max_new_tokens=64, n=args.k,
                                    seed=batch_seed(0, conversations))
        sampled += [s for samples in backend.generate(conversations, options) for s in samples]
    out["gen_s"], out["gen_cpu_s"] = time.perf_counter() - started, time.process_time() - cpu
    out["gen_replies"] = sampled
    tokenizer = backend.tokenizer
    out["eval_tokens"] = sum(len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in first + push)
    out["gen_tokens"] = sum(len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in sampled)
    return out


def baseline_src(rev: str, into: Path) -> Path:
    """`src/` of commit `rev`, extracted under `into`."""
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(common.ROOT), "archive", "-o", str(archive), rev, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def same(a: list[str], b: list[str]) -> str:
    return f"{sum(x == y for x, y in zip(a, b, strict=True))}/{len(a)}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="the git commit to compare with")
    parser.add_argument("--eval-items", type=int, default=16)
    parser.add_argument("--eval-tokens", type=int, default=64)
    parser.add_argument("--gen-dialogues", type=int, default=8)
    parser.add_argument("-k", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", default="before,after,after@32",
                        help="comma list of TREE[@BATCH]: before (--baseline), after (this tree) or a git commit; "
                             "BATCH: the backend's batch of rows if not its default")
    parser.add_argument("--backend-batch", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.eval_items, args.eval_tokens, args.gen_dialogues, args.k, args.repeats = 2, 8, 4, 2, 1
    if args.worker_out:
        common.write_worker_result(args.worker_out, worker(args))
        return 0

    script = Path(__file__).resolve()
    sizes = ["--eval-items", str(args.eval_items), "--eval-tokens", str(args.eval_tokens),
             "--gen-dialogues", str(args.gen_dialogues), "-k", str(args.k)]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="socratic-bench-decode-") as tmp:
        trees = {"before": baseline_src(args.baseline, Path(tmp) / "before"), "after": common.ROOT / "src"}
        for variant in variants:  # TREE may also be any other git commit
            tree = variant.partition("@")[0]
            if tree not in trees:
                trees[tree] = baseline_src(tree, Path(tmp) / tree)
        for repeat in range(args.repeats):
            for variant in variants:
                tree, _, batch = variant.partition("@")
                env = {**os.environ, "PYTHONPATH": str(trees[tree]), "HF_HUB_OFFLINE": "1"}
                load = common.load_average()[0]
                result, child = common.run_worker(script, [*sizes, "--backend-batch", batch or "0"], env=env,
                                                  timeout=args.timeout)
                result.update(load=(load, common.load_average()[0]), peak_rss_mib=child.peak_rss_mib)
                print(f"{variant} #{repeat + 1}: eval {result['eval_s']:.1f} s, gen {result['gen_s']:.1f} s "
                      f"(load {load:.1f})", flush=True)
                runs[variant].append(result)
    first = variants[0]
    columns = ["slice", *(f"{v} s (best)" for v in variants), *(f"{v} s (mean)" for v in variants),
               *(f"x {first} (best) {v}" for v in variants[1:]), *(f"same replies {v}" for v in variants[1:])]
    rows = []
    for key, label, replies in (("eval_first_s", "eval: first replies", None), ("eval_push_s", "eval: push 1", None),
                                ("eval_s", "eval: both", "eval_replies"), ("gen_s", "gen: k samples", "gen_replies")):
        best = {v: min(r[key] for r in runs[v]) for v in variants}
        mean = {v: sum(r[key] for r in runs[v]) / len(runs[v]) for v in variants}
        rows.append([label, *best.values(), *mean.values(), *(best[first] / best[v] for v in variants[1:]),
                     *(same(runs[first][0][replies], runs[v][0][replies]) if replies else ""
                       for v in variants[1:])])
    title = (f"Decoding loop vs {args.baseline}: {args.eval_items} MathDial test items greedy "
             f"{args.eval_tokens} tokens + push 1; {args.gen_dialogues} train dialogues x k {args.k}, 64 tokens")
    common.print_table(title, columns, rows)
    loads = "; ".join(f"{v} {r['load'][0]:.1f}->{r['load'][1]:.1f}" for v in variants for r in runs[v])
    tokens = ", ".join(f"{v} eval {runs[v][0]['eval_tokens']} gen {runs[v][0]['gen_tokens']}" for v in variants)
    rss = ", ".join(f"{v} {max(r['peak_rss_mib'] for r in runs[v]):.0f}" for v in variants)
    notes = (f"Embedded model, dtype {runs[first][0]['dtype']}, {runs[first][0]['threads']} torch threads, "
             f"{args.repeats} alternating repeats per variant (TREE@BATCH: the backend's batch of rows, its "
             f"default otherwise). Reply tokens: {tokens}. Peak RSS MiB: {rss}. 1-min load average before->after each child: "
             f"{loads}.")
    common.finish(title, columns, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
