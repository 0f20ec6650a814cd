"""The files a training run writes beside the model, as typed and versioned records (socratic.store.artifact).

    OUT/train_config.json   TrainConfigRecord  the resolved TrainConfig (DPO) or SftConfig (warm-up)
    OUT/warnings.json       TrainWarnings      failure signs found by socratic.train.monitor
    OUT/metrics.jsonl       TrainLog           one line per Trainer log
    OUT/train_summary.json  socratic.train.summary.TrainSummary, written last

    TrainConfigRecord.save(out / "train_config.json", config)      # config: a TrainConfig or SftConfig
    TrainWarnings.read(out / "warnings.json").warnings               # bad input -> InputError file:field

Light on purpose (pydantic only): the report, the export and the pipeline read these without importing
transformers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

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
