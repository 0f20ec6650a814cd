"""Benchmark: candidate generation, k samples per dialogue, with the embedded model.

    .venv/bin/python bench/bench_generate.py            # 32 MathDial train dialogues, k=5, 64 new tokens
    .venv/bin/python bench/bench_generate.py --quick    # 2 dialogues, 8 tokens: checks the script works
    .venv/bin/python bench/bench_generate.py --methods reference,backend

Methods (each in its own child process, so its peak RSS is its own):
- reference  the reference code's method: per dialogue, k separate sampled `model.generate` calls at
             batch size 1, plain transformers in fp32 (src/gen_train_dataset.py of socratic-llm);
- backend    `load_backend("embedded").generate(conversations, GenerationOptions(n=k))`, one dialogue
             per call (`socratic generate --batch-dialogues 1`, the default until 2026-12);
- backend-b4 the same with 4 dialogues per call;
- stage      our default path: `socratic.preference.generate.run(GenerateConfig(...))` with its defaults, end to
             end (4 dialogues per call, progress bar, JSONL writing; cache off);
- llamacpp   llama-cpp-python on the GGUF the embedded model ships as (Q4_1), k sequential
             `create_chat_completion` calls per dialogue (llama.cpp reuses the prompt's KV cache
             between calls), stopping only at end-of-turn like the reference;
- llamacpp-backend  our `llamacpp:FILE.gguf` backend on the same GGUF (it also stops where the
             student's next turn would start). Both llamacpp methods are skipped without llama_cpp.

Same prompts (`render_messages`), sampling settings and max_new_tokens for all. Model loading and a
short warm-up are timed apart and excluded from throughput. Generated tokens are counted exactly for
reference and llamacpp (token ids / usage); for the backends and the stage the returned text is
re-tokenized, which undercounts a little when a backend trims the reply at the end of the tutor's turn.
Our backends stop a sample once it starts writing the student's next turn (the reference did not), so
they may generate fewer tokens per candidate: compare tokens/s as well as candidates/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

ALL_METHODS = ("reference", "backend", "backend-b4", "stage", "llamacpp", "llamacpp-backend")
DEFAULT_METHODS = ("reference", "backend", "stage", "llamacpp", "llamacpp-backend")


# --- workers (run in a child process) ----------------------------------------------------------

def _conversations(n: int) -> list[list[dict[str, str]]]:
    from socratic.data import load_dialogues
    from socratic.render import render_messages

    dialogues = load_dialogues("mathdial", "train", dedupe=True)[:n]  # the stage's dialogues too
    return [render_messages(d) for d in dialogues]


def _tokenizer():
    from transformers import AutoTokenizer

    from socratic.backends.embedded import embedded_model_dir

    return AutoTokenizer.from_pretrained(embedded_model_dir())


def _prompt_tokens(tokenizer, conversations) -> list[int]:
    return [len(tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=True,
                                              return_dict=True)["input_ids"]) for c in conversations]


def worker_reference(args) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    from socratic.backends.embedded import embedded_model_dir

    conversations = _conversations(args.dialogues)
    started = time.perf_counter()
    tokenizer = _tokenizer()
    model = AutoModelForCausalLM.from_pretrained(embedded_model_dir(), dtype=torch.float32).eval()
    load_s = time.perf_counter() - started
    torch.manual_seed(0)
    eos = tokenizer.eos_token_id

    def sample(conversation, max_new_tokens):
        inputs = tokenizer.apply_chat_template(conversation, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=True,
                             temperature=args.temperature, top_p=args.top_p, pad_token_id=eos)
        new = out[0, inputs["input_ids"].shape[1]:].tolist()
        return len(new) - (1 if new and new[-1] == eos else 0)

    sample(conversations[0], 4)  # warm-up
    tokens = 0
    started, cpu = time.perf_counter(), time.process_time()
    with torch.inference_mode():
        for conversation in conversations:
            for _ in range(args.k):
                tokens += sample(conversation, args.max_new_tokens)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu_s": cpu, "load_s": load_s, "candidates": len(conversations) * args.k,
            "tokens": tokens, "prompt_tokens": _prompt_tokens(tokenizer, conversations),
            "threads": torch.get_num_threads()}


def worker_backend(args) -> dict:
    import torch

    from socratic.backends import GenerationOptions, load_backend
    from socratic.backends.embedded import embedded_gguf

    conversations = _conversations(args.dialogues)
    started = time.perf_counter()
    backend = load_backend(f"llamacpp:{embedded_gguf()}" if args.worker == "llamacpp-backend" else "embedded")
    load_s = time.perf_counter() - started
    options = GenerationOptions(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                                top_p=args.top_p, n=args.k, seed=0)
    backend.generate(conversations[:1], options.model_copy(update={"max_new_tokens": 4}))  # warm-up
    replies: list[str] = []
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(conversations), args.batch_dialogues):
        for samples in backend.generate(conversations[i:i + args.batch_dialogues], options):
            replies += samples
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    tokenizer = _tokenizer()
    tokens = sum(len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in replies)
    return {"seconds": seconds, "cpu_s": cpu, "load_s": load_s, "candidates": len(replies), "tokens": tokens,
            "prompt_tokens": _prompt_tokens(tokenizer, conversations), "threads": torch.get_num_threads(),
            "empty_replies": sum(1 for r in replies if not r.strip())}


def worker_stage(args) -> dict:
    import tempfile

    from socratic.backends import GenerationOptions, load_backend
    from socratic.preference.generate import GenerateConfig, load_candidates, run

    started = time.perf_counter()
    backend = load_backend("embedded")  # run() reuses this instance
    backend.generate(_conversations(1), GenerationOptions(max_new_tokens=4, n=1))
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "candidates.jsonl"
        started, cpu = time.perf_counter(), time.process_time()
        run(GenerateConfig(dataset="mathdial", split="train", limit=args.dialogues, k=args.k, out=out,
                           temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens,
                           no_cache=True))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        replies = [c.reply for c in load_candidates(out)]
    tokenizer = _tokenizer()
    tokens = sum(len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in replies)
    return {"seconds": seconds, "cpu_s": cpu, "load_s": load_s, "candidates": len(replies), "tokens": tokens,
            "prompt_tokens": _prompt_tokens(tokenizer, _conversations(args.dialogues)),
            "empty_replies": sum(1 for r in replies if not r.strip())}


def worker_llamacpp(args) -> dict:
    from llama_cpp import Llama

    from socratic.backends.embedded import embedded_gguf

    conversations = _conversations(args.dialogues)
    threads = os.cpu_count() or 1
    started = time.perf_counter()
    llm = Llama(model_path=str(embedded_gguf()), n_ctx=2048, n_threads=threads, n_batch=512, seed=0,
                verbose=False)
    load_s = time.perf_counter() - started
    llm.create_chat_completion(messages=conversations[0], max_tokens=4)  # warm-up
    tokens = candidates = 0
    prompt_tokens = []
    started, cpu = time.perf_counter(), time.process_time()
    for conversation in conversations:
        for _ in range(args.k):
            reply = llm.create_chat_completion(messages=conversation, max_tokens=args.max_new_tokens,
                                               temperature=args.temperature, top_p=args.top_p)
            tokens += reply["usage"]["completion_tokens"]
            candidates += 1
        prompt_tokens.append(reply["usage"]["prompt_tokens"])
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu_s": cpu, "load_s": load_s, "candidates": candidates, "tokens": tokens,
            "prompt_tokens": prompt_tokens, "threads": threads}


WORKERS = {"reference": worker_reference, "backend": worker_backend, "backend-b4": worker_backend,
           "stage": worker_stage, "llamacpp": worker_llamacpp, "llamacpp-backend": worker_backend}


# --- the parent --------------------------------------------------------------------------------

def llama_cpp_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def measure(methods, args) -> list[dict]:
    script = Path(__file__).resolve()
    base = ["--dialogues", str(args.dialogues), "-k", str(args.k), "--max-new-tokens", str(args.max_new_tokens),
            "--temperature", str(args.temperature), "--top-p", str(args.top_p)]
    results = []
    for method in methods:
        if method.startswith("llamacpp") and not llama_cpp_available():
            print("llamacpp: skipped (llama_cpp is not importable; install the llamacpp extra)")
            continue
        extra = ["--batch-dialogues", "4" if method == "backend-b4" else "1"]
        print(f"{method}: running ...", flush=True)
        load_before = common.load_average()[0]
        try:
            result, child = common.run_worker(script, ["--worker", method, *base, *extra], timeout=args.timeout)
        except (RuntimeError, TimeoutError) as error:  # report it, keep the other methods' numbers
            print(f"{method}: FAILED: {error}")
            continue
        result.update(method=method, peak_rss_mib=child.peak_rss_mib, load=(load_before, common.load_average()[0]))
        print(f"{method}: {result['candidates']} candidates, {result['tokens']} tokens in {result['seconds']:.1f} s")
        results.append(result)
    return results


LABELS = {"reference": "reference (k x generate, batch 1, fp32)", "backend": "ours: backend, 1 dialogue/call",
          "backend-b4": "ours: backend, 4 dialogues/call", "stage": "ours: socratic generate, defaults",
          "llamacpp": "llama.cpp Q4_1, k calls", "llamacpp-backend": "ours: llamacpp:GGUF backend"}
COLUMNS = ["method", "cand/s", "tok/s", "tok/cand", "seconds", "CPU s", "load s", "peak RSS MiB",
           "x ref (cand/s)", "x ref (tok/s)", "x ref (cand/CPU-s)"]


def table_rows(results: list[dict]) -> list[list]:
    ref = next((r for r in results if r["method"] == "reference"), None)
    rows = []
    for r in results:
        cps, tps = r["candidates"] / r["seconds"], r["tokens"] / r["seconds"]
        up_c = cps / (ref["candidates"] / ref["seconds"]) if ref else None
        up_t = tps / (ref["tokens"] / ref["seconds"]) if ref and ref["tokens"] else None
        up_cpu = (r["candidates"] / r["cpu_s"]) / (ref["candidates"] / ref["cpu_s"]) if ref else None
        rows.append([LABELS[r["method"]], cps, tps, r["tokens"] / max(1, r["candidates"]), r["seconds"],
                     r["cpu_s"], r["load_s"], r["peak_rss_mib"], up_c, up_t, up_cpu])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script, not the speed")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS), help=f"comma list of {', '.join(ALL_METHODS)}")
    parser.add_argument("--dialogues", type=int, default=32)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--batch-dialogues", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--no-write", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--worker", choices=ALL_METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        common.write_worker_result(args.worker_out, WORKERS[args.worker](args))
        return 0

    if args.quick:
        args.dialogues, args.k, args.max_new_tokens = 2, 2, 4
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = set(methods) - set(ALL_METHODS)
    if unknown:
        parser.error(f"unknown methods: {', '.join(sorted(unknown))}")
    results = measure(methods, args)
    if not results:
        return 1
    rows = table_rows(results)
    title = (f"Candidate generation: k={args.k} on {args.dialogues} MathDial train dialogues, "
             f"{args.max_new_tokens} new tokens, T={args.temperature}, top_p={args.top_p}")
    common.print_table(title, COLUMNS, rows)
    prompt = [t for r in results[:1] for t in r["prompt_tokens"]]
    loads = ", ".join(f"{r['method']} {r['load'][0]:.1f}->{r['load'][1]:.1f}" for r in results)
    notes = (f"Prompts: {len(prompt)} dialogues, mean {sum(prompt) / max(1, len(prompt)):.0f} tokens "
             f"(max {max(prompt, default=0)}). 1-min load average before->after each method: {loads}. "
             "Speed-up is relative to the reference method in the same run. Load time excluded from rates. "
             "'CPU s' is the process CPU time of the measured part (all threads): on a shared machine the "
             "per-CPU-second ratio is steadier than the wall-time ratio.")
    common.finish(title, COLUMNS, rows, notes, quick=args.quick, no_write=args.no_write,
                  quick_why="tiny sizes; not a measurement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
