"""Benchmark: evaluation's prefill in torch (float32, each prompt alone, as the transformers backend does) against
llama.cpp on the same weights exported to an f32 GGUF (issue 40: "llama.cpp for greedy evaluation of exported
models, if its prefill is faster on these CPUs"), and whether their greedy replies agree.

    .venv/bin/python bench/bench_prefill_backends.py              # 8 MathDial test prompts, best of 2
    .venv/bin/python bench/bench_prefill_backends.py --items 2    # quicker

The GGUF is written by `socratic export --gguf f32` into a temporary folder (about 20 s, not timed). Both run
on torch's thread count (2 here) in this one process, one after the other.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

COLUMNS = ["backend", "prompt tokens", "best s", "tokens/s", "vs torch", "greedy 32 tokens same"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)

    import socratic  # noqa: F401  (sets the thread policy before torch loads)

    # isort: split
    import torch
    from llama_cpp import Llama
    from transformers import DynamicCache

    from socratic.backends import load_backend
    from socratic.backends.base import GenerationOptions
    from socratic.data import load_dialogues
    from socratic.render import load_system_prompt, render_messages

    backend = load_backend("embedded")
    instructions = load_system_prompt(None)
    conversations = [render_messages(d, instructions) for d in load_dialogues("mathdial", "test")[:args.items]]
    prompts = [backend.prompt_ids(c) for c in conversations]
    tokens = sum(len(p) for p in prompts)

    def best_of(prefill) -> float:
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            for prompt in prompts:
                prefill(prompt)
            times.append(time.perf_counter() - started)
        return min(times)

    with torch.inference_mode():
        backend.model(input_ids=torch.tensor([prompts[0][:32]]))  # warm
        torch_s = best_of(lambda p: backend.model(input_ids=torch.tensor([p]), use_cache=True, logits_to_keep=1,
                                                  cache=DynamicCache(config=backend.model.config)))
    greedy = GenerationOptions(n=1, max_new_tokens=32, greedy=True, seed=0)
    torch_replies = [r[0] for r in backend.generate(conversations, greedy)]

    with tempfile.TemporaryDirectory(prefix="bench-gguf-") as tmp:
        subprocess.run([sys.executable, "-m", "socratic", "export", "--model", "embedded", "-o", f"{tmp}/model",
                        "--gguf", "f32", "--no-verify"], check=True, capture_output=True)
        gguf = next(Path(tmp, "model").glob("**/*.gguf"))
        llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=torch.get_num_threads(), n_batch=1024,
                    n_ubatch=1024, verbose=False)

        def llama_prefill(prompt):
            llm.reset()
            llm.eval(prompt)

        llama_s = best_of(llama_prefill)
        same = 0
        for prompt, expected in zip(prompts, torch_replies, strict=True):
            llm.reset()
            new = []
            for token in llm.generate(prompt, temp=0.0, top_k=1):
                if token == llm.token_eos() or len(new) >= greedy.max_new_tokens:
                    break
                new.append(token)
            same += backend.tokenizer.decode(new, skip_special_tokens=True).strip()[:100] == expected.strip()[:100]
        llm.close()

    rows = [["torch float32 (transformers backend)", tokens, torch_s, tokens / torch_s, 1.0, "—"],
            ["llama.cpp f32 GGUF", tokens, llama_s, tokens / llama_s, torch_s / llama_s, f"{same}/{len(prompts)}"]]
    common.print_table("prefill: torch vs llama.cpp", COLUMNS, rows)
    notes = (f"{len(prompts)} MathDial test prompts, each prefilled alone, best of {args.repeats}; "
             f"{torch.get_num_threads()} threads. 'greedy same': the first 100 characters of a 32-token greedy "
             "reply equal torch's. 'vs torch' > 1 means faster than torch.")
    common.finish("Prefill: torch vs llama.cpp on an f32 GGUF (issue 40)", COLUMNS, rows, notes, quick=False,
                  no_write=args.no_write, quick_why="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
