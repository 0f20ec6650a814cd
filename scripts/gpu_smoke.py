"""GPU smoke run: the shortest path through every GPU code path, one line per step with time and memory.

    .venv/bin/python scripts/gpu_smoke.py models/Qwen2.5-0.5B-Instruct          # any local transformers folder
    .venv/bin/python scripts/gpu_smoke.py models/Phi-3-mini-4k-instruct --k 4 --gguf q8_0 -o /tmp/smoke

Steps (each on `cuda`, bf16 where the GPU has it):
    1 load      the model folder as `hf:PATH` (TransformersBackend picks cuda and bf16 itself)
    2 generate  k sampled candidates for --dialogues MathDial train dialogues (`socratic generate`)
    3 pairs     candidate 0 vs candidate 1 of each dialogue (no judge: this is a smoke run, not a quality run)
    4 train     3 DPO steps, LoRA, bf16 autocast, a checkpoint at the end (`socratic train`)
    5 evaluate  the tuned model's greedy replies to 8 MathDial test items, judged by the rubric (`socratic evaluate`)
    6 export    the merged folder with its model card (`socratic export`; GGUF too with --gguf, which needs
                the llamacpp extra)
Each line: seconds, the step's peak CUDA memory (allocated / reserved by torch) and the process's
peak RSS. Exit 0 when every step ran; 2 with one line saying why when it cannot run here (no CUDA
device, a CPU build of torch, no model folder); otherwise the failing step's traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def why_not_here(model: Path) -> list[str]:
    """Reasons this machine cannot run the smoke test (empty when it can)."""
    import torch

    reasons = []
    if not torch.cuda.is_available():
        build = torch.version.cuda
        if build is None:
            reasons.append(f"torch {torch.__version__} is a CPU-only build (torch.version.cuda is None): install "
                           "a CUDA build of torch on the GPU machine")
        else:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            reasons.append(f"torch {torch.__version__} (CUDA {build}) sees no CUDA device"
                           + (f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else "")
                           + ": no GPU, or no driver")
    if not (model / "config.json").exists():
        reasons.append(f"{model} is not a transformers model folder (no config.json)")
    return reasons


class Steps:
    def __init__(self, total: int):
        self.total, self.number = total, 0
        self.results: list[dict] = []

    def run(self, name: str, what: str, fn):
        import torch

        self.number += 1
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        value = fn()
        torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        mib = 1024 * 1024
        record = {"step": name, "what": what, "seconds": round(seconds, 2),
                  "cuda_peak_allocated_mib": round(torch.cuda.max_memory_allocated() / mib),
                  "cuda_peak_reserved_mib": round(torch.cuda.max_memory_reserved() / mib),
                  "rss_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
        self.results.append(record)
        print(f"[gpu_smoke] {self.number}/{self.total} {name:<8} {seconds:7.1f} s   GPU peak "
              f"{record['cuda_peak_allocated_mib']:,} MiB allocated / {record['cuda_peak_reserved_mib']:,} MiB "
              f"reserved   RSS peak {record['rss_peak_mib']:,} MiB   {what}", flush=True)
        return value


def write_pairs(candidates_path: Path, out: Path) -> int:
    from socratic.preference.generate import load_candidates
    from socratic.render import render_messages

    by_dialogue: dict[str, list] = {}
    for candidate in load_candidates(candidates_path):
        by_dialogue.setdefault(candidate.dialogue.id, []).append(candidate)
    rows = []
    for dialogue_id, candidates in by_dialogue.items():
        candidates.sort(key=lambda c: c.index)
        first, second = candidates[0], candidates[1]
        rows.append({"prompt": render_messages(first.dialogue),
                     "chosen": [{"role": "assistant", "content": first.reply or "What do you think?"}],
                     "rejected": [{"role": "assistant", "content": second.reply or "The answer is 4."}],
                     "dialogue_id": dialogue_id})
    out.write_text("".join(json.dumps(row) + "\n" for row in rows), "utf-8")
    return len(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a local transformers model folder (config.json + weights)")
    parser.add_argument("-o", "--out", type=Path, help="work folder (default: a new temporary folder)")
    parser.add_argument("--k", type=int, default=4, help="candidates per dialogue (default 4)")
    parser.add_argument("--dialogues", type=int, default=4, help="training dialogues (default 4)")
    parser.add_argument("--items", type=int, default=8, help="evaluation items (default 8)")
    parser.add_argument("--steps", type=int, default=3, help="DPO steps (default 3)")
    parser.add_argument("--gguf", default="", help="also export GGUF of these types, e.g. q8_0")
    args = parser.parse_args(argv)

    model = args.model.expanduser().resolve()
    reasons = why_not_here(model)
    if reasons:
        print("[gpu_smoke] stopped before step 1: " + "; ".join(reasons), file=sys.stderr)
        return 2
    import torch

    work = args.out or Path(tempfile.mkdtemp(prefix="gpu-smoke-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"[gpu_smoke] {torch.cuda.get_device_name(0)}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
          f"bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}; model {model}; work folder {work}", flush=True)
    from socratic.backends import load_backend
    from socratic.evaluate import evaluation as evaluate
    from socratic.export import hf_folder as export
    from socratic.preference import generate
    from socratic.train import dpo as train

    spec = f"hf:{model}"
    steps = Steps(6)
    try:
        backend = steps.run("load", spec, lambda: load_backend(spec))
        print(f"[gpu_smoke]   loaded on {backend.device} as {backend.dtype_name}", flush=True)
        candidates = work / "candidates.jsonl"
        steps.run("generate", f"k={args.k} candidates x {args.dialogues} dialogues", lambda: generate.run(
            generate.GenerateConfig(dataset="mathdial", split="train", model=spec, k=args.k, limit=args.dialogues,
                                    max_new_tokens=64, out=candidates, overwrite=True, no_cache=True)))
        pairs = work / "pairs.jsonl"
        count = steps.run("pairs", "candidate 0 vs 1 per dialogue", lambda: write_pairs(candidates, pairs))
        tuned = work / "tuned"
        steps.run("train", f"{args.steps} DPO steps on {count} pairs, LoRA, bf16", lambda: train.run(train.TrainConfig(
            pairs=pairs, model=spec, out=tuned, max_steps=args.steps, batch_size=1, grad_accum=1, max_length=768,
            max_prompt_length=640, save_steps=args.steps, bf16=torch.cuda.is_bf16_supported())))
        steps.run("evaluate", f"{args.items} MathDial test items, rubric judge", lambda: evaluate.run(
            evaluate.EvaluateConfig(models={"tuned": f"hf:{tuned}"}, datasets=["mathdial"], limit=args.items,
                                    judges=["rubric"], out=work / "eval", max_new_tokens=64, no_cache=True)))
        gguf = [t for t in args.gguf.split(",") if t]
        steps.run("export", "merged folder + card" + (f" + GGUF {','.join(gguf)}" if gguf else ""),
                  lambda: export.run(export.ExportConfig(model=f"hf:{tuned}", out=work / "export", gguf=gguf)))
    except Exception:  # noqa: BLE001 - report which step failed, with its traceback
        traceback.print_exc()
        print(f"[gpu_smoke] FAILED at step {steps.number}/{steps.total}", file=sys.stderr)
        return 1
    finally:
        (work / "gpu_smoke.json").write_text(json.dumps(steps.results, indent=2), "utf-8")
    print(f"[gpu_smoke] all {steps.total} steps ran; per-step figures in {work / 'gpu_smoke.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
