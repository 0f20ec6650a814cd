"""The shapes of evaluate's files: replies.jsonl (EvalReply) and evaluation.json (Evaluation), which
`socratic evaluate` writes and the report and the export read.

    evaluation = Evaluation.read("runs/x/eval/evaluation.json")
    evaluation.cell("tuned-mathdial", "mathdial").summary.mean

Readers go through these models instead of `.get()` chains, so a renamed field fails here, loudly,
and not as a silently empty report. Unknown keys are kept (`extra="allow"`), so a file written by a
newer version still reads.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from socratic.artifact import Artifact
from socratic.evaluate.stats import Estimate, PairedTest
from socratic.records import Dialogue


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class EvalModel(_Open):
    """One evaluated model: its report name, its spec, and the dataset it was tuned on (None for base)."""

    name: str
    spec: str
    trained_on: str | None = None


class Cell(_Open):
    """One model x test set x judge: mean summary (both formulas) with CIs, the criteria, failures."""

    model: str
    dataset: str
    judge: str
    n: int
    judged: int
    failed: int
    empty_replies: int = 0
    errors: list[str] = Field(default_factory=list)
    summary_uniform: Estimate
    summary_reference: Estimate
    summary: Estimate  # the one of the evaluation's formula
    criteria: dict[str, Estimate] = Field(default_factory=dict)


class Paired(PairedTest):
    """Paired bootstrap of `model` minus `baseline` on the items both have (stats.PairedTest + names)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    judge: str
    dataset: str
    model: str
    baseline: str
    formula: str


JUDGE_FREE = "judge-free"  # the `judge` of a rate measured without any judge


class Limits(_Open):
    """The thresholds the checks used (defined in evaluate.behaviour), so the report reads them here."""

    form_jaccard: float
    collapse_share: float
    form_only_share: float
    min_lift_to_split: float


class ReplySet(_Open):
    """Judge-free facts of one model's replies to one test set."""

    model: str
    dataset: str
    n: int
    asks_question: Estimate  # share with a genuine question (rubric_signals), 95% bootstrap CI
    near_duplicates: int  # items whose reply is near-identical to another item's reply
    near_duplicate_share: float | None
    collapsed: bool
    most_repeated: str  # the reply with the most near-identical replies ('' when none repeats)
    most_repeated_count: int  # items answered with it or a near-identical reply (itself included)


class RateDiff(PairedTest):
    """A tuned model's rate (questions, reveal_answer, asks_question) minus the baseline's, same items."""

    model_config = ConfigDict(extra="allow", frozen=True)

    rate: str
    judge: str  # an evaluation judge, or JUDGE_FREE
    dataset: str
    model: str
    baseline: str
    model_rate: float | None
    baseline_rate: float | None


class FormOnlyLift(_Open):
    """How much of one model's summary lift over the baseline comes from form-only changes (one judge)."""

    judge: str
    dataset: str
    model: str
    baseline: str
    formula: str
    n: int
    items: dict[str, int]  # paired items per kind of change: identical, form, content
    diff_sums: dict[str, float]  # the sum of per-item summary differences per kind
    mean_lift: float | None
    form_only_share: float | None  # diff_sums["form"] / the sum over all kinds; None: lift too small


class Behaviour(_Open):
    """evaluation.json's gaming and collapse checks (socratic.evaluate.behaviour has the definitions)."""

    limits: Limits | None = None  # None: an evaluation.json from before these checks
    reply_sets: list[ReplySet] = Field(default_factory=list)
    rates: list[RateDiff] = Field(default_factory=list)
    form_only: list[FormOnlyLift] = Field(default_factory=list)

    def reply_set(self, model: str, dataset: str) -> ReplySet | None:
        return next((r for r in self.reply_sets if (r.model, r.dataset) == (model, dataset)), None)

    def rate(self, rate: str, model: str, dataset: str, judge: str = JUDGE_FREE) -> RateDiff | None:
        return next((r for r in self.rates if (r.rate, r.model, r.dataset, r.judge) == (rate, model, dataset, judge)),
                    None)

    def form_only_lift(self, model: str, dataset: str, judge: str) -> FormOnlyLift | None:
        return next((e for e in self.form_only if (e.model, e.dataset, e.judge) == (model, dataset, judge)), None)


class EvalReply(BaseModel):
    """A model's greedy reply to one test dialogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    spec: str
    dataset: str
    dialogue: Dialogue
    reply: str
    settings: str  # hash of generation options + system prompt: a changed setting is not reused


class Evaluation(Artifact):
    VERSION: ClassVar[int] = 1

    config: dict[str, Any] = Field(default_factory=dict)
    models: list[EvalModel]
    datasets: list[str]
    split: str = "test"
    judges: list[str]
    training_judge: str | None = None
    warnings: list[str] = Field(default_factory=list)
    formula: str = "uniform"
    confidence: float = 0.95
    results: list[Cell] = Field(default_factory=list)
    paired: list[Paired] = Field(default_factory=list)
    changes: list[dict[str, Any]] = Field(default_factory=list)  # evaluate.changes.summarize_changes + names
    paper_anchors: dict[str, Any] | None = None
    behaviour: Behaviour = Field(default_factory=Behaviour)

    def cell(self, model: str, dataset: str, judge: str | None = None) -> Cell | None:
        """The result of one model x dataset (x judge; default the first judge)."""
        judge = judge or self.judges[0]
        return next((r for r in self.results if (r.model, r.dataset, r.judge) == (model, dataset, judge)), None)
