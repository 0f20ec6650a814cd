"""Decode speed of llama-cpp-python builds: the native build (-march=native) against portable ones.

    .venv/bin/python bench/bench_llamacpp_build.py                       # the installed build only
    .venv/bin/python bench/bench_llamacpp_build.py --build native=/path/llama_cpp_python-...whl \\
        --build portable-avx2=/path/other.whl                            # wheels, each in its own child

Why: `make test` installs a portable build (scripts/install-llamacpp.sh: AVX2/FMA/F16C, no AVX-512,
no AMX) because the native build segfaults on Intel Xeons with AMX. This measures what that costs.
Each build runs in its own child process, with the wheel unpacked into a temporary folder put first
on PYTHONPATH. Same GGUF (the embedded model's Q4_1), same prompt, greedy, a fixed number of new
tokens (the end-of-sequence token does not stop `Llama.generate`), 2 threads; best of --repeats.
Appends a section to bench/RESULTS.md (--no-write: print only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

PROMPT = ("<|im_start|>system\nYou are a Socratic tutor. Ask one guiding question.<|im_end|>\n"
          "<|im_start|>user\nI subtracted 3 from both sides of 2x + 3 = 11 and got 2x = 8. What now?<|im_end|>\n"
          "<|im_start|>assistant\n")

WORKER = r"""
import json, sys, time
import llama_cpp
from socratic.backends.embedded import embedded_gguf

prompt, new_tokens, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
llm = llama_cpp.Llama(model_path=str(embedded_gguf()), n_ctx=2048, n_threads=2, seed=0, verbose=False)
tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
runs = []
for _ in range(repeats):
    llm.reset()
    started = time.perf_counter()
    llm.eval(tokens)
    prefill = time.perf_counter() - started
    out, started = [], time.perf_counter()
    for token in llm.generate(tokens, temp=0.0, reset=False):
        out.append(token)
        if len(out) == new_tokens:
            break
    runs.append({"prefill_s": prefill, "decode_s": time.perf_counter() - started, "tokens": out})
best = min(runs, key=lambda r: r["decode_s"])
print(json.dumps({"system_info": llama_cpp.llama_print_system_info().decode().strip(),
                  "file": llama_cpp.__file__, "prompt_tokens": len(tokens), "new_tokens": len(best["tokens"]),
                  "decode_tok_s": len(best["tokens"]) / best["decode_s"],
                  "prefill_tok_s": len(tokens) / min(r["prefill_s"] for r in runs),
                  "same_tokens_every_run": all(r["tokens"] == best["tokens"] for r in runs),
                  "text": llm.detokenize(best["tokens"]).decode("utf-8", "replace")}))
"""


def cpu_flags() -> str:
    """The SIMD/AMX flags of this CPU that llama.cpp builds differ on."""
    words = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            words = set(line.split(":", 1)[1].split())
            break
    wanted = ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
    return " ".join(f for f in wanted if f in words) or "unknown"


def measure(name: str, wheel: Path | None, new_tokens: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="llamacpp-build-") as target:
        env = {}
        if wheel is not None:
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target,
                            str(wheel)], check=True)
            env["PYTHONPATH"] = target
        child = common.run_child([sys.executable, "-c", WORKER, PROMPT, str(new_tokens), str(repeats)], env=env,
                                 timeout=900)
    if child.returncode != 0:
        return {"build": name, "error": f"exit {child.returncode}: {child.output.strip()[-300:]}"}
    result = json.loads(child.output.strip().splitlines()[-1])
    return {"build": name, **result}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="append", default=[], metavar="NAME=WHEEL",
                        help="a llama-cpp-python wheel to measure (repeatable); none: the installed one")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--quick", action="store_true", help="8 new tokens, once, nothing written (run_all --quick)")
    args = parser.parse_args(argv)
    if args.quick:
        args.new_tokens, args.repeats, args.no_write = 8, 1, True
    builds = [(b.split("=", 1)[0], Path(b.split("=", 1)[1])) for b in args.build] or [("installed", None)]
    results = [measure(name, wheel, args.new_tokens, args.repeats) for name, wheel in builds]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["build"], "–", "–", "–", r["error"]])
            continue
        features = " ".join(p.split(" = ")[0].strip() for p in r["system_info"].split("|")
                            if p.strip().endswith("= 1") and "CPU" not in p.split(" = ")[0])
        rows.append([r["build"], round(r["decode_tok_s"], 1), round(r["prefill_tok_s"], 1),
                     "yes" if r["same_tokens_every_run"] else "no", features])
    columns = ["build", "decode tok/s", "prefill tok/s", "same greedy tokens each run", "llama.cpp system info"]
    common.print_table("llama-cpp-python builds", columns, rows)
    texts = {r["build"]: r.get("text", "")[:60] for r in results}
    notes = (f"CPU flags: {cpu_flags()}. Embedded SmolLM2-135M Q4_1 GGUF, 2 threads, prompt of "
             f"{results[0].get('prompt_tokens', '?')} tokens, {args.new_tokens} new tokens greedy, best of "
             f"{args.repeats}. Greedy text starts: " + "; ".join(f"{k}: {v!r}" for k, v in texts.items()))
    print(notes)
    if not args.no_write:
        common.append_results("llama-cpp-python builds: decode speed", common.markdown_table(columns, rows), notes)
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
