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

from socratic.evaluate.stats import Estimate, PairedTest
from socratic.records import Dialogue
from socratic.store.artifact import Artifact, ArtifactRow


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
    asks_question: Estimate  # share with a genuine question (socratic.signals), 95% bootstrap CI
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


class TutoringLimits(_Open):
    """The thresholds of the judge-free tutoring metrics (defined in evaluate.tutoring)."""

    echo_n: int
    echo_share: float
    degenerate_min_words: int
    degenerate_unique: float
    non_latin_share: float
    english_min_words: int
    english_stopword_share: float


class TutoringRate(_Open):
    """One judge-free metric's rate for one model x test set, over the items it applies to."""

    metric: str
    model: str
    dataset: str
    n: int  # replies
    applicable: int  # replies the metric applies to (leak and false praise need a reference answer)
    rate: Estimate


class TutoringSample(_Open):
    """One random (seeded) reply of a tuned model, with its metrics: what the rates are made of."""

    model: str
    dataset: str
    id: str
    student: str  # the student's last turn
    reply: str
    metrics: dict[str, Any]


class Tutoring(_Open):
    """evaluation.json's judge-free tutoring metrics (socratic.evaluate.tutoring has the definitions)."""

    limits: TutoringLimits | None = None  # None: an evaluation.json from before these metrics
    rates: list[TutoringRate] = Field(default_factory=list)
    diffs: list[RateDiff] = Field(default_factory=list)  # model - baseline, same applicable items
    samples: list[TutoringSample] = Field(default_factory=list)

    def rate(self, metric: str, model: str, dataset: str) -> TutoringRate | None:
        return next((r for r in self.rates if (r.metric, r.model, r.dataset) == (metric, model, dataset)), None)

    def diff(self, metric: str, model: str, dataset: str) -> RateDiff | None:
        return next((r for r in self.diffs if (r.rate, r.model, r.dataset) == (metric, model, dataset)), None)


class PressureTurn(_Open):
    """The final-answer leak rate of one model after one scripted push (push 0: the first reply)."""

    model: str
    dataset: str
    push: int
    phrasing: str  # "" for push 0, else the kind of push (direct request, distress, false authority)
    leak: Estimate  # share of items whose reply after this push states the answer
    leaked_so_far: Estimate  # share of items whose tutor has stated it after any push up to this one


class Pressure(_Open):
    """evaluation.json's pressure test (socratic.evaluate.pressure): does the tutor hold when pushed?"""

    pushes: list[dict[str, str]] = Field(default_factory=list)  # {"kind", "text"} in order
    items: dict[str, int] = Field(default_factory=dict)  # test set -> items pushed (those with an answer)
    turns: list[PressureTurn] = Field(default_factory=list)
    diffs: list[RateDiff] = Field(default_factory=list)  # rate "leak@k" / "leaked_by@k", model - baseline

    def turn(self, model: str, dataset: str, push: int) -> PressureTurn | None:
        return next((t for t in self.turns if (t.model, t.dataset, t.push) == (model, dataset, push)), None)

    def diff(self, rate: str, model: str, dataset: str) -> RateDiff | None:
        return next((r for r in self.diffs if (r.rate, r.model, r.dataset) == (rate, model, dataset)), None)


class CleanSet(_Open):
    """Test items some evaluation judge was fitted or calibrated on (its training problems/conversations):
    left out of the headline lift (`Evaluation.paired_clean`) and shown apart (`Evaluation.paired`)."""

    excluded: dict[str, list[str]] = Field(default_factory=dict)  # test set -> excluded dialogue ids
    totals: dict[str, int] = Field(default_factory=dict)  # test set -> items
    judges: dict[str, str] = Field(default_factory=dict)  # judge -> what it saw, and how many test items

    def n_excluded(self) -> int:
        return sum(len(ids) for ids in self.excluded.values())


class LiftPart(_Open):
    """How much of one lift is the `questions` criterion flipping: weight x mean change of `questions`."""

    judge: str
    dataset: str
    model: str
    baseline: str
    formula: str
    items: str  # "clean" (the headline's items) or "all"
    n: int
    mean_lift: float | None
    questions_part: float | None  # the lift's share carried by `questions` alone, in summary units
    questions_share: float | None  # questions_part / mean_lift; None: lift too small to split


class WinRate(_Open):
    """How often a judge scores one model's reply above the teacher's real turn on the same item (ties half):
    MathTutorBench's win rate against the teacher, with a 95% bootstrap CI over items."""

    model: str
    dataset: str
    judge: str
    items: str  # "clean" (the headline's items) or "all"
    n: int
    wins: int
    ties: int
    losses: int
    win_rate: Estimate


class TeacherAnchor(_Open):
    """evaluation.json's teacher section (socratic.evaluate.teacher): the teacher's own scores and every
    model's win rate against the teacher, on the test items that carry the teacher's next turn."""

    items: dict[str, int] = Field(default_factory=dict)  # test set -> items with a teacher turn
    scores: list[Cell] = Field(default_factory=list)  # the teacher's turns as judged, like a model's cell
    win_rates: list[WinRate] = Field(default_factory=list)

    def win_rate(self, model: str, dataset: str, judge: str, items: str = "clean") -> WinRate | None:
        return next((w for w in self.win_rates if (w.model, w.dataset, w.judge, w.items) == (model, dataset, judge,
                                                                                               items)), None)


class EvalReply(ArtifactRow):
    """One line of replies.jsonl: a model's greedy reply to one test dialogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    VERSION: ClassVar[int] = 1

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
    tutoring: Tutoring = Field(default_factory=Tutoring)
    pressure: Pressure | None = None
    clean: CleanSet | None = None  # None: an evaluation.json from before the check
    paired_clean: list[Paired] = Field(default_factory=list)  # `paired` on the clean items only
    lift_parts: list[LiftPart] = Field(default_factory=list)
    teacher: TeacherAnchor | None = None  # None: no test item carried a teacher turn (or an older file)

    def headline_paired(self) -> list[Paired]:
        """The paired tests the headline reads: on the clean items where the check ran, else all items."""
        return self.paired_clean if self.clean is not None else self.paired

    def lift_part(self, model: str, dataset: str, judge: str, items: str = "clean") -> LiftPart | None:
        return next((p for p in self.lift_parts
                     if (p.model, p.dataset, p.judge, p.items) == (model, dataset, judge, items)), None)

    def cell(self, model: str, dataset: str, judge: str | None = None) -> Cell | None:
        """The result of one model x dataset (x judge; default the first judge)."""
        judge = judge or self.judges[0]
        return next((r for r in self.results if (r.model, r.dataset, r.judge) == (model, dataset, judge)), None)
