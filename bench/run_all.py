"""Run every benchmark under bench/, one after another; each prints its table and appends to
bench/RESULTS.md.

    make bench                                   # = .venv/bin/python bench/run_all.py
    .venv/bin/python bench/run_all.py --quick    # tiny sizes: checks every script works (writes nothing)
    .venv/bin/python bench/run_all.py --only generate --only train
    .venv/bin/python bench/run_all.py --list

Benchmarks run in this order: generate, train, sft, eval, judge, serve, remote, e2e (the quickstart, the longest),
llamacpp (the installed llama.cpp build; other builds: bench/bench_llamacpp_build.py --build).
A failing benchmark is reported and the others still run; the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

BENCHMARKS = {
    "generate": ("bench_generate.py", "candidate generation: reference method vs ours vs llama.cpp"),
    "train": ("bench_train.py", "DPO s/step and peak RSS: LoRA vs full, with/without precomputed ref log-probs"),
    "sft": ("bench_sft.py", "SFT warm-up s/step and peak RSS: LM head on the reply positions vs every position"),
    "eval": ("bench_eval.py", "evaluation prefill vs the CPU's matmul rate; pressure test with prefix reuse"),
    "batching": ("bench_eval_batching.py", "evaluation replies in batches of the test set's order vs by length"),
    "judge": ("bench_judge.py", "rubric judgments/s; LLM judge over HTTP at concurrency 1/4/8"),
    "serve": ("bench_serve.py", "socratic serve: 1/4/8 streaming clients, tokens/s, p50/p95 latency"),
    "remote": ("bench_remote.py", "generate/evaluate against socratic serve over HTTP at concurrency 1/4/8"),
    "e2e": ("bench_e2e.py", "the quickstart end to end, per stage"),
    "llamacpp": ("bench_llamacpp_build.py", "llama.cpp decode speed of the installed (portable) build"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the scripts, writes no results")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (script, what) in BENCHMARKS.items():
            print(f"{name:9} bench/{script:18} {what}")
        return 0

    print(common.machine_line())
    names = args.only or list(BENCHMARKS)
    outcome: dict[str, tuple[str, float]] = {}
    for name in names:
        script = common.BENCH_DIR / BENCHMARKS[name][0]
        if not script.exists():
            outcome[name] = ("missing", 0.0)
            print(f"== {name}: {script.name} does not exist yet", flush=True)
            continue
        print(f"\n== {name}: {BENCHMARKS[name][1]}", flush=True)
        started = time.perf_counter()
        cmd = [common.PYTHON, str(script), *(["--quick"] if args.quick else [])]
        try:
            code = subprocess.call(cmd, cwd=common.ROOT)
        except KeyboardInterrupt:
            print(f"\n== {name}: interrupted")
            return 130
        outcome[name] = ("ok" if code == 0 else f"failed (exit {code})", time.perf_counter() - started)

    print("\n" + "\n".join(f"{name:9} {status:18} {seconds:7.0f} s" for name, (status, seconds) in outcome.items()))
    if not args.quick:
        print(f"results appended to {common.RESULTS}")
    return 0 if all(status == "ok" for status, _ in outcome.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
