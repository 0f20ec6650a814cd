"""The shapes of evaluate's files: replies.jsonl (EvalReply) and evaluation.json (Evaluation), which
`socratic evaluate` writes and the report and the export read.

    evaluation = Evaluation.read("runs/x/eval/evaluation.json")
    evaluation.cell("tuned-mathdial", "mathdial").summary.mean

Readers go through these models instead of `.get()` chains, so a renamed field fails here, loudly,
and not as a silently empty report. Unknown keys are kept (`extra="allow"`), so a file written by a
newer version still reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from socratic.evaluate.stats import Estimate, PairedTest
from socratic.jsonl import read_json_model
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


class EvalReply(BaseModel):
    """A model's greedy reply to one test dialogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    spec: str
    dataset: str
    dialogue: Dialogue
    reply: str
    settings: str  # hash of generation options + system prompt: a changed setting is not reused


class Evaluation(_Open):
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

    def cell(self, model: str, dataset: str, judge: str | None = None) -> Cell | None:
        """The result of one model x dataset (x judge; default the first judge)."""
        judge = judge or self.judges[0]
        return next((r for r in self.results if (r.model, r.dataset, r.judge) == (model, dataset, judge)), None)

    @classmethod
    def read(cls, path: str | Path) -> Evaluation:
        return read_json_model(path, cls)
