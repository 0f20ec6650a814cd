"""The run config of `socratic run CONFIG.yaml`: one section per stage, composed from the stages' own
settings (preference.generate.Sampling, preference.pairs.PairSettings, evaluate.config.EvaluateConfig's
fields, train.dpo.TrainConfig's fields, train.sft.SftSettings), checked all at once with the line of every problem.
See configs/quickstart.yaml for a commented example.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from socratic.config import load_config, section
from socratic.errors import SocraticError
from socratic.evaluate.config import EvaluateConfig
from socratic.preference.generate import Sampling
from socratic.preference.pairs import PairSettings
from socratic.scores import Formula
from socratic.specs import (
    DATA_PREFIX,
    JUDGE_SPEC_HELP,
    as_value_error,
    parse_judge_spec,
    parse_model_spec,
    parse_trainable_spec,
)
from socratic.store.run_folder import slug
from socratic.train.dpo import TrainConfig
from socratic.train.sft import SftSettings

PIPELINE_SET = {"pairs", "out", "model", "resume", "seed"}  # TrainConfig fields the pipeline fills itself


class TrainSlice(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    source: str
    split: str = "train"
    limit: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _loads(self, info: ValidationInfo) -> TrainSlice:
        # A config a user wrote (load_config's context): a dataset or split that does not exist is refused
        # here, with its line, before a run trains for an hour and then fails in `evaluate`.
        if info.context and info.context.get("check_files"):
            from socratic.pipeline.preflight import dataset_problem

            problem = dataset_problem(self.source, self.split, test=isinstance(self, TestSlice))
            if problem:
                raise ValueError(problem)
        return self


class TestSlice(TrainSlice):
    split: str = "test"


class Datasets(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    train: list[TrainSlice] = Field(min_length=1)
    test: list[TestSlice] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Datasets:
        for kind, slices in (("train", self.train), ("test", self.test)):
            keys = [slug(s.source) for s in slices]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{kind}: each dataset may appear once ({', '.join(keys)})")
        return self


class GenerateSettings(Sampling):
    """generate's sampling settings, with what a run needs on top: pairs need two sampled candidates."""

    @field_validator("k")
    @classmethod
    def _two(cls, k: int) -> int:
        if k < 2:
            raise ValueError("Input should be greater than or equal to 2 (a pair needs two candidates)")
        return k

    @field_validator("temperature")
    @classmethod
    def _sampled(cls, temperature: float) -> float:
        if temperature <= 0:
            raise ValueError("Input should be greater than 0 (greedy decoding gives k identical candidates)")
        return temperature


# Keys renamed when the reward and the evaluation judges became separate settings (issue 17): an old
# config gets one line naming the new key instead of pydantic's "extra inputs are not permitted".
RENAMED = {"judge": "reward_judge", "evaluation.judges": "eval_judges"}


def _renamed(key: str) -> str:
    return (f"renamed to '{RENAMED[key]}' (reward_judge: the judge that ranks the preference pairs' candidates; "
            "eval_judges: [..] the judges that score the evaluation, side by side in the report)")


class _EvaluationSection(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    @field_validator("judges", check_fields=False)
    @classmethod
    def _old_judges(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(_renamed("evaluation.judges"))
        return value


class _TrainingSection(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _not_set_by_the_pipeline(cls, data: Any) -> Any:
        clash = sorted(PIPELINE_SET & set(data)) if isinstance(data, dict) else []
        if clash:
            raise ValueError(f"{', '.join(clash)}: set by the pipeline, not under training")
        return data

    @field_validator("loss_type", check_fields=False)
    @classmethod
    def _known_loss(cls, loss_type: str) -> str:
        return TrainConfig._known_loss(loss_type)  # its own check, on the field, with the field's line

    @model_validator(mode="after")
    def _trains(self) -> _TrainingSection:
        # TrainConfig's checks across fields too (max_prompt_length below max_length, ...), as each round builds
        # it (pipeline.stages: these fields, and the pipeline's on top).
        try:
            TrainConfig(pairs=Path("pairs.jsonl"), out=Path("model"), **self.model_dump(exclude_unset=True))
        except ValidationError as error:
            raise ValueError("; ".join(f"{'.'.join(map(str, e['loc'])) or '(training)'}: {e['msg']}"
                                       for e in error.errors())) from None
        return self


# `training:`: TrainConfig's fields, as it declares them, but those the pipeline fills itself.
TrainingSettings = section(TrainConfig, "TrainingSettings",
                           [name for name in TrainConfig.model_fields if name not in PIPELINE_SET], _TrainingSection)


# evaluate's own settings that a run may set (the models, test sets, judges and files are the run's): the
# reply length, the bootstrap, the pressure test and the real teacher's turn, as EvaluateConfig declares them.
EvaluationSettings = section(EvaluateConfig, "EvaluationSettings", (
    "max_new_tokens", "batch_size", "n_resamples", "pressure", "pressure_limit", "pressure_pushes", "teacher"),
    _EvaluationSection, judges=(Any, Field(default=None, exclude=True)))  # renamed: refused with the new name


class PipelineConfig(BaseModel):
    """Everything `socratic run` needs; see configs/quickstart.yaml for a commented example."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(default="run", pattern=r"^[A-Za-z0-9_.-]+$")
    out: Path | None = Field(default=None, description="Run folder (default runs/<name>).")
    model: str = "embedded"
    system_prompt: Path | None = None
    # The answer key as MathDial's teachers had it: each dialogue's reference in the tutor's system message,
    # hidden from the student, in generation, pairs, the warm-up and the evaluation (docs/teachers.md).
    answer_key: bool = False
    seed: int = 0
    formula: Formula = "uniform"
    datasets: Datasets
    generate: GenerateSettings = Field(default_factory=GenerateSettings)
    # The reward: ranks the k candidates of each training dialogue into the DPO pairs.
    reward_judge: str = Field(default="rubric", description=(
        f"The judge that ranks the preference pairs' candidates: {JUDGE_SPEC_HELP}."))
    # The yardsticks: every one scores every evaluation reply; the report shows them side by side and
    # flags lifts they disagree on, or that only the reward judge sees.
    eval_judges: list[str] = Field(default_factory=lambda: ["rubric"], min_length=1, description=(
        "The judges that score the evaluation, side by side in the report."))
    judge: Any = Field(default=None, exclude=True)  # renamed: refused with the new name
    judge_concurrency: int = Field(default=4, ge=1, le=64)
    judge_max_tries: int = Field(default=3, ge=1, le=20)
    pairs: PairSettings = Field(default_factory=PairSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)  # DPO (lora, epochs, beta, ...)
    # Iterative (on-policy) DPO: round r > 1 samples new candidates for the same training dialogues from
    # round r-1's tuned model, judges them, and trains again from that model (socratic.pipeline.stages).
    rounds: int = Field(default=1, ge=1, le=10, description=(
        "DPO rounds, each sampling new candidates from the previous round's model (iterative, on-policy DPO)."))
    # A supervised warm-up before round 1's DPO, on its pairs' chosen replies and/or the teachers' turns
    # (sft.data); absent = none.
    sft: SftSettings | None = None
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    reference_models: dict[str, str] = Field(default_factory=dict)  # name -> spec, prompt-only
    labels: Path | None = None  # human-labelled replies -> the agreement stage
    report_examples: int = Field(default=2, ge=0, le=20)
    # A guard, not a device switch: a run that only makes sense on a GPU refuses to start without one.
    requires_gpu: bool = False

    @field_validator("model")
    @classmethod
    def _trainable(cls, spec: str) -> str:
        try:
            return as_value_error(parse_trainable_spec, spec)
        except ValueError as error:
            raise ValueError(f"{error} (reference_models takes API models)") from None

    @field_validator("judge")
    @classmethod
    def _old_judge(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(_renamed("judge"))
        return value

    @field_validator("reward_judge")
    @classmethod
    def _judge(cls, spec: str) -> str:
        return as_value_error(parse_judge_spec, spec)

    @field_validator("eval_judges")
    @classmethod
    def _judges(cls, judges: list[str]) -> list[str]:
        for spec in judges:
            as_value_error(parse_judge_spec, spec)
        if len(set(judges)) != len(judges):
            raise ValueError(f"each judge may appear once ({', '.join(judges)})")
        return judges

    @field_validator("reference_models")
    @classmethod
    def _references(cls, models: dict[str, str]) -> dict[str, str]:
        for name, spec in models.items():
            if name == "base" or name.startswith("tuned-") or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
                raise ValueError(f"reference model name {name!r}: use letters, digits, '-', '_', '.', "
                                 "and not 'base' or 'tuned-*'")
            as_value_error(parse_model_spec, spec)
        return models

    @field_serializer("training")
    def _as_written(self, training: BaseModel, info: Any) -> dict[str, Any]:
        # config.resolved.yaml keeps `training:` as written, typed: experiments/tries.py lists the keys a run set.
        return training.model_dump(mode=info.mode, exclude_unset=True)

    @field_validator("labels", "system_prompt", mode="before")
    @classmethod
    def _data_path(cls, value: Any, info: ValidationInfo) -> Any:
        # "data:socratic_llm/x.json" = a file of the datasets (data/location.py), wherever they are installed.
        if isinstance(value, str) and value.startswith(DATA_PREFIX):
            from socratic.data.location import data_file

            try:
                return data_file(*Path(value.removeprefix(DATA_PREFIX)).parts)
            except SocraticError as error:
                raise ValueError(str(error)) from None
        # A relative path written in a config file means the file beside it, wherever the command runs.
        context = info.context or {}
        folder = context.get("config_dir")
        if (isinstance(value, (str, Path)) and folder is not None and not Path(value).expanduser().is_absolute()
                and info.field_name not in context.get("overridden", ())):
            return (Path(folder) / Path(value).expanduser()).resolve()
        return value

    @field_validator("labels", "system_prompt")
    @classmethod
    def _exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.exists():
            raise ValueError(f"file not found: {path}")
        return path

    @field_validator("out")
    @classmethod
    def _folder(cls, out: Path | None) -> Path | None:
        if out is not None and out.exists() and not out.is_dir():
            raise ValueError(f"not a folder: {out} is a file; name a folder (new or existing) for the run")
        return out

    @property
    def run_dir(self) -> Path:
        return (self.out or Path("runs") / self.name).resolve()


def load(path: str | Path, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    return load_config(PipelineConfig, path, overrides)
