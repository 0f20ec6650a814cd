"""The files a training run writes beside the model, as typed and versioned records (socratic.store.artifact).

    OUT/train_config.json   TrainConfigRecord  the resolved TrainConfig (DPO) or SftConfig (warm-up)
    OUT/warnings.json       TrainWarnings      failure signs found by socratic.train.monitor
    OUT/metrics.jsonl       TrainLog           one line per Trainer log
    OUT/train_summary.json  TrainSummary       written LAST: its presence marks a finished model (FINISHED_MARKER)

    TrainConfigRecord.save(out / "train_config.json", config)      # config: a TrainConfig or SftConfig
    TrainWarnings.read(out / "warnings.json").warnings               # bad input -> InputError file:field
    TrainSummary.read("runs/x/models/mathdial/train_summary.json").train_loss

Light on purpose (pydantic only): the report, the export and the pipeline read these without importing
transformers. (Named `artifacts`, not `records`: socratic.records holds the data shapes of the method.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socratic.store.artifact import Artifact, ArtifactRow
from socratic.store.jsonl import read_jsonl


class TrainConfigRecord(Artifact):
    """train_config.json: the config a run trained with, every field of it (unknown keys are kept).

    The fields typed here are those a DPO run and its warm-up share, and those read back: `model` and
    `system_prompt` (the export), all of it (a `--resume` refuses a changed config). All are optional so a
    file from an older socratic, without some of them, still reads (the resume then names them as changed).
    """

    VERSION: ClassVar[int] = 1

    pairs: str | None = None
    out: str | None = None
    model: str | None = None
    seed: int | None = None
    lora: bool | None = None
    lora_r: int | None = None
    lora_alpha: int | None = None
    lora_dropout: float | None = None
    target_modules: str | list[str] | None = None
    learning_rate: float | None = None
    epochs: float | None = None
    max_steps: int | None = None
    batch_size: int | None = None
    grad_accum: int | None = None
    max_length: int | None = None
    max_prompt_length: int | None = None
    bf16: bool | None = None
    gradient_checkpointing: bool | None = None
    system_prompt: str | None = None

    @classmethod
    def save(cls, path: str | Path, config: BaseModel) -> dict[str, Any]:
        """Write `config` (a TrainConfig or SftConfig) as it dumps to JSON, stamped with the version."""
        return cls.write_checked(path, config.model_dump(mode="json"))

    def settings(self) -> dict[str, Any]:
        """The config's keys as written (without `version`), for comparing with a config's JSON dump."""
        return self.model_dump(mode="json", exclude={"version"}, exclude_unset=True)


class TrainWarning(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(min_length=1)
    message: str


class TrainWarnings(Artifact):
    """warnings.json: the failure signs socratic.train.monitor found (none: an empty list).

    Before versions the file was the bare list; it reads as version 0.
    """

    VERSION: ClassVar[int] = 1

    warnings: list[TrainWarning] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        return {"warnings": data} if isinstance(data, list) else data


class TrainLog(ArtifactRow):
    """One line of metrics.jsonl: a Trainer log (loss, rewards/..., the end-of-run summary) at a step."""

    model_config = ConfigDict(extra="allow", frozen=True)
    VERSION: ClassVar[int] = 1

    step: int
    epoch: float | None = None
    time: float | None = None  # unix time of the log


def read_train_logs(path: str | Path) -> list[TrainLog]:
    """metrics.jsonl's lines ([] when it does not exist); a torn last line (a killed run) is dropped."""
    path = Path(path)
    return read_jsonl(path, TrainLog, tolerate_torn_tail=True) if path.exists() else []


FINISHED_MARKER = "train_summary.json"


class TrainSummary(Artifact):
    """train_summary.json: what a finished training run (DPO or the SFT warm-up) says about itself.

    Written LAST into a model folder by socratic.train.dpo and socratic.train.sft, read by the report, the
    export's model card and the pipeline."""

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
