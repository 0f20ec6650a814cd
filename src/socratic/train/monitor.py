"""Watching a DPO run: metrics to OUT/metrics.jsonl, failure-sign warnings, and the training-curve figure.

`MetricsCallback` is a transformers `TrainerCallback`; `socratic.train.dpo` adds it to TRL's DPOTrainer.
Each log line (a `socratic.train.artifacts.TrainLog`) is appended and fsynced, so a killed run keeps every
line logged before the kill; on resume, `truncate_metrics` drops the lines logged after the checkpoint
(they are logged again). The warnings go to warnings.json (`TrainWarnings`).

The warnings look for two known DPO failure signs:
- chosen log-probs falling steadily: the policy lowers the likelihood of the *preferred* replies
  too (it wins the margin by pushing both down), which often degrades generations;
- reward accuracy sitting at 1.0 early: the pairs are trivially separable (e.g. chosen always
  shorter, or a gamed judge) or the run overfits a tiny set.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import ProgressCallback

from socratic.progress import console
from socratic.store.jsonl import JsonlAppender, write_jsonl
from socratic.train.artifacts import TrainLog, TrainWarnings, read_train_logs

METRIC_KEYS = ("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
               "logps/chosen", "logps/rejected", "learning_rate", "grad_norm")


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """metrics.jsonl as dicts, each line checked by its model ([] when there is no file yet)."""
    return [log.model_dump() for log in read_train_logs(path)]


def truncate_metrics(path: str | Path, last_step: int) -> None:
    """Keep only the lines logged at or before `last_step` (the checkpoint a resumed run starts from)."""
    path = Path(path)
    if path.exists():
        write_jsonl(path, [log for log in read_train_logs(path) if log.step <= last_step])


def write_warnings(path: str | Path, found: Sequence[dict[str, str]]) -> Path:
    """warnings.json: `find_warnings`' result, typed and versioned."""
    return TrainWarnings.model_validate({"warnings": list(found)}).write(path)


def train_logs(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-step training logs (not the end-of-run summary line)."""
    return [r for r in records if "loss" in r and "train_runtime" not in r]


def chosen_logps_falling(records: Sequence[dict[str, Any]], min_points: int = 6) -> str | None:
    """A message when logps/chosen falls steadily: mostly falling steps and a clear overall drop."""
    values = [r["logps/chosen"] for r in train_logs(records) if "logps/chosen" in r]
    if len(values) < min_points:
        return None
    falls = sum(b < a for a, b in pairwise(values))
    k = max(2, len(values) // 4)
    start, end = sum(values[:k]) / k, sum(values[-k:]) / k
    drop = start - end
    if falls >= 0.7 * (len(values) - 1) and drop > max(1.0, 0.05 * abs(start)):
        return (f"chosen log-probs fell steadily ({start:.1f} -> {end:.1f} over {len(values)} logs): the "
                "policy is making the preferred replies less likely too; consider a higher beta, a lower "
                "learning rate, fewer epochs, or loss_type 'ipo'/'apo_zero'")
    return None


def accuracy_saturated_early(records: Sequence[dict[str, Any]], total_steps: int,
                             run_length: int = 3) -> str | None:
    """A message when rewards/accuracies is 1.0 for `run_length` logs in a row in the first quarter."""
    early = [r for r in train_logs(records) if r.get("step", 0) <= max(run_length, total_steps // 4)]
    streak = 0
    for record in early:
        streak = streak + 1 if record.get("rewards/accuracies") == 1.0 else 0
        if streak >= run_length:
            return (f"reward accuracy reached 1.0 for {run_length} logs in a row by step {record['step']} of "
                    f"{total_steps}: the pairs may be trivially separable (length, a gamed judge) or the run "
                    "overfits; check the pairs and consider more data, a higher beta or fewer epochs")
    return None


def find_warnings(records: Sequence[dict[str, Any]], total_steps: int) -> list[dict[str, str]]:
    found = []
    if message := chosen_logps_falling(records):
        found.append({"kind": "chosen_logps_falling", "message": message})
    if message := accuracy_saturated_early(records, total_steps):
        found.append({"kind": "accuracy_saturated_early", "message": message})
    return found


class MetricsCallback(TrainerCallback):
    """Appends every Trainer log to metrics.jsonl and prints each new warning once."""

    def __init__(self, out: Path):
        self.metrics_path = out / "metrics.jsonl"
        self.warnings_path = out / "warnings.json"
        self.warned: set[str] = set()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        record = {"step": state.global_step, "epoch": state.epoch, "time": time.time(),
                  **{k: v for k, v in logs.items() if isinstance(v, (int, float, str))}}
        with JsonlAppender(self.metrics_path) as appender:
            appender.write(TrainLog(**record))
        warnings = find_warnings(read_metrics(self.metrics_path), state.max_steps)
        for warning in warnings:
            if warning["kind"] not in self.warned:
                self.warned.add(warning["kind"])
                console.print(f"[bold yellow]warning:[/] {warning['message']}", highlight=False)
        if warnings:
            write_warnings(self.warnings_path, warnings)


class CompactProgressCallback(ProgressCallback):
    """transformers' tqdm bar, but each log as one short line instead of a dict of 15 strings."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and self.training_bar is not None and logs and "loss" in logs:
            self.training_bar.write(one_line(state.global_step, logs))


def one_line(step: int, logs: dict[str, Any]) -> str:
    shown = {"loss": "loss", "rewards/accuracies": "acc", "rewards/margins": "margin",
             "logps/chosen": "logp chosen", "logps/rejected": "logp rejected"}
    parts = [f"{label} {logs[key]:.4g}" for key, label in shown.items() if isinstance(logs.get(key), float | int)]
    return f"step {step}: " + ", ".join(parts)


def plot_training_curve(records: Sequence[dict[str, Any]], path: str | Path) -> Path | None:
    """A 2x2 figure (loss; rewards; accuracy; log-probs) over steps; None when nothing was logged."""
    logs = train_logs(records)
    if not logs:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("DPO loss", ["loss"]),
              ("implicit rewards", ["rewards/chosen", "rewards/rejected", "rewards/margins"]),
              ("reward accuracy", ["rewards/accuracies"]),
              ("log-probs", ["logps/chosen", "logps/rejected"])]
    figure, axes = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    for axis, (title, keys) in zip(axes.flat, panels):
        for key in keys:
            points = [(r["step"], r[key]) for r in logs if key in r]
            if points:
                steps, values = zip(*points)
                axis.plot(steps, values, marker="o", markersize=3, label=key)
        axis.set_title(title)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
        if len(keys) > 1:
            axis.legend(fontsize=8)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(tmp, dpi=100)
    plt.close(figure)
    tmp.replace(path)
    return path


def final_metrics(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The last logged value of each key metric."""
    result: dict[str, float] = {}
    for record in train_logs(records):
        result.update({k: record[k] for k in METRIC_KEYS if k in record})
    return result
