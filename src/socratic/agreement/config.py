"""The settings of `socratic agreement` (AgreementConfig), apart from the stage (agreement.measure) so the
command line can build its options from them without importing numpy, scipy and scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from socratic.config import Output
from socratic.scores import Formula
from socratic.specs import JUDGE_SPEC_HELP


class AgreementConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    labels: Output[Path] = Field(description=(
        "Labelled-reply JSONL, the socratic_llm human-eval JSON (mathdial_human_eval_dev.json), or an MRBench "
        "/ BEA 2025 JSON file."))
    judges: Output[list[str]] = Field(default_factory=lambda: ["rubric"], min_length=1, description=(
        f"Judge spec (repeat to compare several side by side): {JUDGE_SPEC_HELP}."))
    out: Path = Field(description="Output folder: agreement.json and figures.")
    formula: Output[Formula] = Field(default="uniform", description="Summary formula: uniform or reference.")
    bootstrap: Output[int] = Field(default=2000, ge=0, description="Bootstrap resamples for the 95% CIs.")
    seed: Output[int] = Field(default=0, description="Bootstrap seed.")
    top_k: Output[int] = Field(default=10, ge=0, description="Largest disagreements to print per judge.")
    no_cache: bool = Field(default=False, description="Re-judge instead of reading the cache.")
    # Judges that learned from these labels are scored out-of-sample: k-fold grouped by problem/conversation.
    folds: Output[int] = Field(default=5, ge=2, le=20, description=(
        "k of the grouped k-fold that scores a learned judge on labels it was trained on."))
    # The shipped teacher-vs-model pairs (socratic.judge.labels.teacher_vs_model): accuracy and perturbation flips per judge.
    teacher_pairs: Output[int | None] = Field(default=None, ge=0, description=(
        "Teacher-vs-model pairs to check each judge on (the first N shipped; default all; 0: skip)."))
