"""train_summary.json: what a finished training run (DPO or the SFT warm-up) says about itself.

Written LAST into a model folder by socratic.train.dpo and socratic.train.sft (its presence marks the
folder as a finished model), read by the report, the export's model card and the pipeline.

    TrainSummary.read("runs/x/models/mathdial/train_summary.json").train_loss
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from socratic.store.artifact import Artifact

FINISHED_MARKER = "train_summary.json"


class TrainSummary(Artifact):
    VERSION: ClassVar[int] = 1

    kind: Literal["dpo", "sft"] = "dpo"
    steps: int | None = None
    epochs: float | None = None
    train_loss: float | None = None
    seconds_per_step: float | None = None
    seconds_this_session: float | None = None  # training time in the session that finished the run
    resumed_from_step: int = 0
    pairs: int | None = None  # pairs in the input file
    pairs_trained: int | None = None  # pairs left after the length budget (DPO)
    prompts_shortened: int = 0
    turns_dropped: int = 0
    contexts_shortened: int = 0
    completions_cut: int = 0
    longest_prompt_tokens: int | None = None
    final_metrics: dict[str, Any] = Field(default_factory=dict)
    base_model: str | None = None
    base_model_dir: str | None = None
    lora: bool = True
    bf16: bool | None = None
    reference_log_probs: Literal["precomputed", "per step"] | None = None
    share_prompt: bool | None = None
    learning_rate: float | None = None
    warnings: list[str] = Field(default_factory=list)  # kinds of train_monitor.find_warnings
    processes: int = 1
    effective_batch: int | None = None
