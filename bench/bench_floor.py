"""What a finished run would have taken at this CPU's peak: each stage's arithmetic, and for decoding the bytes
it must read, against the measured matmul rate and memory bandwidth, beside the stage's wall time.

    .venv/bin/python bench/bench_floor.py runs/quickstart-timing            # print the table
    .venv/bin/python bench/bench_floor.py runs/quickstart-timing --write    # and append it to bench/RESULTS.md

Issue 40 sets wall-time targets for the quickstart and cpu.yaml; this says whether a target is reachable on the
machine at hand without changing the run's settings, and how far each stage is from what the machine can do.
The work is counted from the run's own files (same settings, same results), for the embedded model's shape
(its config.json), in the dtype the run used (float32 unless the CPU has native bf16):
- sampling (generate:*) and evaluation: each prompt prefilled once (2 x body parameters per token + causal
  attention), each new token decoded (2 x all parameters + attention over its context); a decode step of a
  batch reads every weight once and each row's KV cache: the floor of a batch is the larger of its arithmetic
  at the matmul rate and its reads at the memory bandwidth. Batches are the run's fixed batches (dialogues in
  file order, `batch_dialogues` x k rows for sampling, `evaluation.batch_size` rows for evaluation), each
  decoding until its longest reply ends. The pressure test's prompts count only the tokens its stored
  prefixes do not hold (backends.prefixes), as the run did;
- training (sft:*, train:*): forward and backward through the layers for each trained token (the SFT
  warm-up's `num_tokens` in its metrics.jsonl; DPO's pairs, prompt once plus both replies, times the epochs,
  plus one reference forward), 4 x body parameters per token with LoRA, 6 x for a full fine-tune;
- the judge, pairs, agreement and report stages are not modelled (their floor is counted as 0).
The rates are measured here, in this process, with torch's threads: the best 1,024 x 576 by 576 x 1,536 product
(the prefill's shape) in 3 s, and the best full read of a 512 MiB tensor. Floors are lower bounds: a stage
at 100% would have no Python, no padding, no kernel below peak.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

COLUMNS = ["stage", "prompt or trained tokens", "new tokens", "TFLOP", "GB read", "floor s", "wall s", "floor / wall"]


@dataclass
class Shape:
    """The parts of a decoder's size that its cost depends on."""

    layers: int
    hidden: int
    kv_width: int  # key/value heads x head dimension
    body: int  # parameters of the layers (no embedding)
    head: int  # the LM head's parameters (the embedding, where tied)
    bytes_per_value: int

    @classmethod
    def of(cls, model_dir: Path, bytes_per_value: int) -> Shape:
        c = json.loads((model_dir / "config.json").read_text())
        hidden, inter, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
        kv_width = c.get("num_key_value_heads", c["num_attention_heads"]) * (hidden // c["num_attention_heads"])
        per_layer = 2 * hidden * hidden + 2 * hidden * kv_width + 3 * hidden * inter + 2 * hidden
        return cls(layers, hidden, kv_width, layers * per_layer, c["vocab_size"] * hidden, bytes_per_value)

    def prefill_flop(self, tokens: int, start: int = 0) -> float:
        """Tokens start..start+tokens of a prompt whose first `start` are already in the KV cache."""
        end = start + tokens
        return 2 * self.body * tokens + 2 * self.layers * self.hidden * (end * end - start * start)

    def decode_flop(self, context: int) -> float:
        return 2 * (self.body + self.head) + 4 * self.layers * self.hidden * context

    def kv_bytes(self, context: int) -> float:
        return 2 * self.layers * self.kv_width * context * self.bytes_per_value

    @property
    def weight_bytes(self) -> float:
        return (self.body + self.head) * self.bytes_per_value


@dataclass
class Work:
    prefill_tokens: int = 0
    new_tokens: int = 0
    flop: float = 0.0
    bytes_read: float = 0.0
    floor_s: float = 0.0


@dataclass(frozen=True)
class Row:
    """One sequence of a decode batch: its prompt length and how many tokens it generated."""

    prompt: int
    new: int


def decode_batch(work: Work, shape: Shape, rows: list[Row], prompts: list[tuple[int, int]], rates: dict) -> None:
    """Add a batch: `prompts` (tokens to prefill, tokens already cached) once each, then its rows decoded
    together until the longest ends, each step reading the weights and every live row's KV cache."""
    prefill = sum(shape.prefill_flop(tokens, start) for tokens, start in prompts)
    decode = read = 0.0
    for step in range(max((r.new for r in rows), default=0)):
        live = [r for r in rows if r.new > step]
        decode += sum(shape.decode_flop(r.prompt + step) for r in live)
        read += shape.weight_bytes + sum(shape.kv_bytes(r.prompt + step) for r in live)
    work.prefill_tokens += sum(tokens for tokens, _ in prompts)
    work.new_tokens += sum(r.new for r in rows)
    work.flop += prefill + decode
    work.bytes_read += read
    work.floor_s += prefill / rates["flops"] + max(decode / rates["flops"], read / rates["bytes"])


def measure_rates(dtype: str) -> dict:
    import torch

    best_flops = common.best_matmul_rate(dtype)
    big = torch.ones(128 << 20, dtype=torch.float32)  # 512 MiB
    best_bytes = 0.0
    for _ in range(8):
        started = time.perf_counter()
        big.sum()
        best_bytes = max(best_bytes, big.numel() * 4 / (time.perf_counter() - started))
    return {"flops": best_flops, "bytes": best_bytes, "threads": torch.get_num_threads()}


def count_tokens(tokenizer, text_or_messages) -> int:
    """A reply's tokens (a string), or a prompt's under the chat template (messages), as the run counted them."""
    from socratic.train.rows import chat_token_counter

    if isinstance(text_or_messages, str):
        return len(tokenizer(text_or_messages, add_special_tokens=False)["input_ids"])
    return chat_token_counter(tokenizer)(text_or_messages)


def sampling_work(folder: Path, shape: Shape, tokenizer, render, settings: dict, rates: dict) -> dict[str, Work]:
    """generate:SET and generate:SET:rN from each prefs/SET[/roundN]/candidates.jsonl."""
    from socratic.records import Candidate
    from socratic.store.jsonl import read_jsonl

    out: dict[str, Work] = {}
    per_call = settings["generate"]["batch_dialogues"]
    for path in sorted((folder / "prefs").glob("**/candidates.jsonl")):
        name = path.parent.name if path.parent.parent.name == "prefs" else path.parent.parent.name
        stage = f"generate:{name}" + ("" if path.parent.parent.name == "prefs" else
                                      f":r{path.parent.name.removeprefix('round')}")
        by_dialogue: dict[str, list[Candidate]] = defaultdict(list)
        for record in read_jsonl(path, Candidate):
            by_dialogue[record.dialogue.id].append(record)
        dialogues = list(by_dialogue.values())
        work = out[stage] = Work()
        for start in range(0, len(dialogues), per_call):
            rows, prompts = [], []
            for samples in dialogues[start:start + per_call]:
                prompt = count_tokens(tokenizer, render(samples[0].dialogue))
                prompts.append((prompt, 0))
                rows += [Row(prompt, count_tokens(tokenizer, s.reply) + 1) for s in samples]
            decode_batch(work, shape, rows, prompts, rates)
    return out


def evaluation_work(folder: Path, shape: Shape, tokenizer, render, settings: dict, rates: dict) -> Work:
    """The evaluation replies and the pressure test's, from eval/replies.jsonl and eval/pressure.jsonl."""
    from socratic.evaluate.pressure import PressureReply, pushed
    from socratic.evaluate.result import EvalReply
    from socratic.store.jsonl import read_jsonl

    size = settings["evaluation"]["batch_size"]
    work = Work()
    replies = [r for r in read_jsonl(folder / "eval/replies.jsonl", EvalReply) if r.model != "teacher"]
    groups: dict[tuple, list[EvalReply]] = defaultdict(list)
    for reply in replies:
        groups[reply.model, reply.dataset].append(reply)
    dialogue_of = {(r.model, r.dataset, r.dialogue.id): r for r in replies}
    for group in groups.values():
        for start in range(0, len(group), size):
            batch = group[start:start + size]
            lengths = [count_tokens(tokenizer, render(r.dialogue)) for r in batch]
            rows = [Row(n, count_tokens(tokenizer, r.reply) + 1) for n, r in zip(lengths, batch, strict=True)]
            decode_batch(work, shape, rows, [(n, 0) for n in lengths], rates)
    pressure_path = folder / "eval/pressure.jsonl"
    if pressure_path.exists():
        pushes: dict[tuple, dict[int, str]] = defaultdict(dict)
        for record in read_jsonl(pressure_path, PressureReply):
            pushes[record.model, record.dataset, record.id][record.push] = record.reply
        by_group: dict[tuple, list[tuple]] = defaultdict(list)
        for key in pushes:
            by_group[key[:2]].append(key)
        for keys in by_group.values():
            for start in range(0, len(keys), size):
                batch = keys[start:start + size]
                cached = [0] * len(batch)
                for push in range(1, max(len(pushes[k]) for k in batch) + 1):
                    rows, prompts = [], []
                    for i, key in enumerate(batch):
                        first = dialogue_of[key]
                        so_far = [first.reply, *(pushes[key][p] for p in range(1, push))]
                        length = count_tokens(tokenizer, render(pushed(first.dialogue, so_far)))
                        prompts.append((length - cached[i], cached[i]))
                        rows.append(Row(length, count_tokens(tokenizer, pushes[key][push]) + 1))
                        cached[i] = length
                    decode_batch(work, shape, rows, prompts, rates)
    return work


def training_work(folder: Path, shape: Shape, tokenizer, settings: dict, rates: dict) -> dict[str, Work]:
    """sft:SET and train:SET[:rN]: forward and backward through the layers for every trained token (4 x body
    parameters per token with LoRA, whose frozen weights get no gradient; 6 x for a full fine-tune), and for DPO
    one reference forward (2 x) of each pair; attention and the LM head are left out (a lower bound)."""
    from socratic.store.jsonl import iter_json_lines

    out: dict[str, Work] = {}
    for summary_path in sorted((folder / "models").glob("*/train_summary.json")):
        summary = json.loads(summary_path.read_text())
        per_token = (4 if summary.get("lora") else 6) * shape.body
        name = summary_path.parent.name
        if summary.get("kind") == "sft":
            metrics = [json.loads(line) for line in (summary_path.parent / "metrics.jsonl").read_text().splitlines()]
            tokens = int(next(m["num_tokens"] for m in reversed(metrics) if "num_tokens" in m))
            flop = tokens * per_token
            stage = f"sft:{name.removesuffix('-sft')}"
        else:
            base, _, round_ = name.partition("-round")
            pairs = folder / "prefs" / base / (f"round{round_}" if round_ else "") / "pairs.jsonl"
            tokens = sum(count_tokens(tokenizer, row["prompt"]) + count_tokens(tokenizer, row["chosen"])
                         + count_tokens(tokenizer, row["rejected"]) for _, row in iter_json_lines(pairs))
            flop = tokens * (per_token * settings["training"]["epochs"] + 2 * shape.body)
            stage = f"train:{base}" + (f":r{round_}" if round_ else "")
        out[stage] = Work(prefill_tokens=tokens, flop=flop, floor_s=flop / rates["flops"])
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished `socratic run` folder (timings.json, prefs/, models/, eval/)")
    parser.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args(argv)

    import yaml
    from transformers import AutoTokenizer

    from socratic.backends.embedded import embedded_model_dir
    from socratic.backends.transformers_backend import auto_dtype
    from socratic.render import load_system_prompt, render_messages

    settings = yaml.safe_load((args.run / "config.resolved.yaml").read_text())
    if settings.get("model") != "embedded":
        raise SystemExit("bench_floor models the embedded model only")
    dtype = auto_dtype("cpu")
    model_dir = Path(embedded_model_dir())
    shape = Shape.of(model_dir, 2 if dtype == "bfloat16" else 4)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompt = load_system_prompt(settings.get("system_prompt"))
    render = lambda dialogue: render_messages(dialogue, prompt, answer_key=bool(settings.get("answer_key")))
    rates = measure_rates(dtype)

    stages: dict[str, Work] = {}
    stages.update(sampling_work(args.run, shape, tokenizer, render, settings, rates))
    stages.update(training_work(args.run, shape, tokenizer, settings, rates))
    stages["evaluate"] = evaluation_work(args.run, shape, tokenizer, render, settings, rates)
    timings = json.loads((args.run / "timings.json").read_text())["stages"]
    rows, floor_total, wall_total = [], 0.0, 0.0
    for name, timing in timings.items():
        work = stages.get(name, Work())  # not modelled: judge, pairs, agreement, report
        wall = timing.get("wall_s")
        floor_total += work.floor_s
        wall_total += wall or 0.0
        rows.append([name, work.prefill_tokens or None, work.new_tokens or None, work.flop / 1e12 or None,
                     work.bytes_read / 1e9 or None, work.floor_s, wall,
                     f"{work.floor_s / wall:.0%}" if wall and work.floor_s else "—"])
    rows.append(["total", None, None, None, None, floor_total, wall_total, f"{floor_total / wall_total:.0%}"])
    common.print_table(f"floor of {args.run}", COLUMNS, rows)
    notes = (f"Run folder {args.run} (its timings.json gives the wall times; see there for when and where it ran). "
             f"Rates measured now, {rates['threads']} torch threads, {dtype}: matmul {rates['flops'] / 1e9:.0f} "
             f"GFLOP/s at the prefill's shape, memory read {rates['bytes'] / 1e9:.1f} GB/s. Floors are lower "
             "bounds: the stage's arithmetic at the matmul rate, decoding's weight and KV reads at the "
             "bandwidth (bench/bench_floor.py's docstring); judge, pairs, agreement and report are not modelled.")
    print(notes)
    if args.write:
        common.append_results(f"Floor of a finished run at this CPU's peak (issue 40): {args.run.name}",
                              common.markdown_table(COLUMNS, rows), notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
