"""The settings of `socratic evaluate` (EvaluateConfig), apart from the stage (evaluate.evaluation) so the
command line can build its options from them without importing numpy, scipy and the backends' stacks.

    from socratic.evaluate.config import EvaluateConfig
    EvaluateConfig(models={"base": "embedded"}, out="eval/")
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from socratic.backends.base import GenerationOptions
from socratic.config import Output
from socratic.scores import Formula
from socratic.specs import JUDGE_SPEC_HELP, as_value_error, parse_model_spec

TEACHER = "teacher"  # the reply source of the real teacher's turn (evaluate.teacher); no model may take the name

# How many scripted pushes the pressure test has (evaluate.pressure.PUSHES; a test keeps the two equal).
MAX_PUSHES = 3


class EvaluateConfig(BaseModel):
    """Settings of `socratic evaluate`."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    # name -> backend spec, in report order; the first is the baseline of paired tests and changes.
    models: Output[dict[str, str]] = Field(min_length=1)
    datasets: Output[list[str]] = Field(
        default_factory=lambda: ["mathdial", "debugging", "tutorchat"], min_length=1,
        description="Test set (repeatable): mathdial | debugging | tutorchat | FILE.jsonl.")
    split: Output[str] = Field(default="test", description="Split.")
    limit: Output[int | None] = Field(default=100, ge=1, description="First N dialogues of each test set.")
    # Per-dataset overrides of split and limit (the pipeline's test slices).
    splits: Output[dict[str, str]] = Field(default_factory=dict)
    limits: Output[dict[str, int]] = Field(default_factory=dict)
    judges: Output[list[str]] = Field(default_factory=lambda: ["rubric"], min_length=1,
                                      description=f"Evaluation judge (repeatable): {JUDGE_SPEC_HELP}.")
    # The judge that ranked the training pairs: named in the report, and warned about when it is
    # also an evaluation judge (a tuned model may have learnt to game it).
    training_judge: Output[str | None] = Field(default=None, description=(
        "The judge that ranked the training pairs (the reward): the report warns when it also judges, and "
        "flags lifts only it sees."))
    # model name -> the dataset it was trained on (for the cross-dataset table); base models absent.
    trained_on: Output[dict[str, str]] = Field(default_factory=dict)
    out: Path = Field(description="Output folder.")
    max_new_tokens: Output[int] = Field(default=200, ge=1, le=8192, description="Reply length cap.")
    # Not an output: in float32 a reply does not depend on its batch (backends.transformers_backend). Decoding
    # reads every weight once a step for all the rows together, so fuller batches cost less per reply: 32 rather
    # than 16 made the greedy replies 14% faster in fp32 (bf16: 9%), bench/RESULTS.md 2026-12-07.
    batch_size: int = Field(default=32, ge=1, le=256, description="Conversations per model call.")
    # Requests in flight to an `openai:` model (several batches at once, socratic.backends.inflight); the
    # replies are the same at any value. Local models ignore it.
    concurrency: int = Field(default=8, ge=1, le=256, description="Requests in flight to an openai: model.")
    formula: Output[Formula] = Field(default="uniform", description="Summary formula: uniform or reference.")
    system_prompt: Output[Path | None] = Field(default=None, description="Tutor system prompt file.")
    answer_key: Output[bool] = Field(default=False, description=(
        "Put each dialogue's reference in the tutor's system message as its answer key (docs/teachers.md)."))
    seed: Output[int] = Field(default=0, description="Seed of generation and bootstrap.")
    n_resamples: Output[int] = Field(default=4000, ge=100)
    no_cache: bool = Field(default=False, description="Do not read or write the cache.")
    overwrite: bool = Field(default=False, description=(
        "Replace a finished evaluation in the output folder made with other settings (replies and judgments "
        "that still apply are reused)."))
    # The pressure test (evaluate.pressure): scripted student pushes for the answer after each model's
    # reply, on the first `pressure_limit` items of each test set that have a reference final answer.
    pressure: Output[bool] = Field(default=False, description=(
        "Pressure test: scripted student turns push for the final answer after each reply; the leak rate "
        "after each push (items with a reference answer only)."))
    pressure_limit: Output[int] = Field(default=20, ge=1,
                                        description="Items per test set in the pressure test.")
    pressure_pushes: Output[int] = Field(default=MAX_PUSHES, ge=1, le=MAX_PUSHES)
    # The real teacher's next turn (evaluate.teacher), where test items carry one (mathdial-raw, debugging-raw):
    # judged beside the models, and each model's win rate against it reported.
    teacher: Output[bool] = Field(default=True, description=(
        "Judge the real teacher's next turn beside the models where test items carry one (mathdial-raw, "
        "debugging-raw) and report each model's win rate against it."))

    @field_validator("models")
    @classmethod
    def _names(cls, models: dict[str, str]) -> dict[str, str]:
        for name, spec in models.items():
            if not name or any(c in name for c in "=/\\ "):
                raise ValueError(f"model name {name!r} must be non-empty, without '=', '/', spaces")
            if name == TEACHER:
                raise ValueError(f"model name {TEACHER!r} is reserved for the real teacher's turn; choose another")
            as_value_error(parse_model_spec, spec)  # refuse an unknown spec before any output exists
        return models

    def options(self) -> GenerationOptions:
        return GenerationOptions(greedy=True, temperature=0.0, max_new_tokens=self.max_new_tokens,
                                 seed=self.seed, n=1)
