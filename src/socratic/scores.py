"""The four Socratic criteria, the summary score, and a judgment record.

    summary (uniform)   = (q + (1 - r) + (on_topic - 1)/4 + (helpful - 1)/4) / 4     in [0, 1]
    summary (reference) = 0.25 q + 0.25 (1 - r) + 0.05 on_topic + 0.05 helpful    in [0.1, 1]

`reference` is the formula of the socratic-llm reference code, kept to compare with its numbers.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from socratic.records import Dialogue
from socratic.store.artifact import ArtifactRow

Formula = Literal["uniform", "reference"]
CRITERIA = ("questions", "on_topic", "helpful", "reveal_answer")


class Scores(BaseModel):
    """A complete, validated judgment on the four criteria."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    questions: bool
    on_topic: int = Field(ge=1, le=5)
    helpful: int = Field(ge=1, le=5)
    reveal_answer: bool


def summary_score(scores: Scores, formula: Formula = "uniform") -> float:
    q, r = float(scores.questions), float(scores.reveal_answer)
    if formula == "uniform":
        return (q + (1 - r) + (scores.on_topic - 1) / 4 + (scores.helpful - 1) / 4) / 4
    if formula == "reference":
        return 0.25 * q + 0.25 * (1 - r) + 0.05 * scores.on_topic + 0.05 * scores.helpful
    raise ValueError(f"unknown summary formula {formula!r}; expected 'uniform' or 'reference'")


def expected_summary(expected: dict[str, float], formula: Formula = "uniform") -> float:
    """The summary formula over expected values (P(yes) for the booleans, E[level] for the levels), as a
    probabilistic judge reports them: a smooth score instead of one of the discrete summaries."""
    q, r = float(expected["questions"]), float(expected["reveal_answer"])
    on_topic, helpful = float(expected["on_topic"]), float(expected["helpful"])
    if formula == "uniform":
        return (q + (1 - r) + (on_topic - 1) / 4 + (helpful - 1) / 4) / 4
    if formula == "reference":
        return 0.25 * q + 0.25 * (1 - r) + 0.05 * on_topic + 0.05 * helpful
    raise ValueError(f"unknown summary formula {formula!r}; expected 'uniform' or 'reference'")


def judgment_summary(judgment: Judgment, formula: Formula = "uniform") -> float | None:
    """THE summary of a judgment, the one definition every stage uses (agreement validates it, evaluate
    reports it, pairs ranks by it): the pairwise judge's mapped utility when it gives one (uniform formula;
    the reference formula's range [0.1, 1] as 0.1 + 0.9 x), else the formula over the expected values when
    the judge reports them (learned), else the formula over the scores."""
    if judgment.scores is None:
        return None
    notes = judgment.meta.get("judge_notes") or {}
    reward = notes.get("reward")
    if reward and reward.get("summary") is not None:
        value = float(reward["summary"])
        return value if formula == "uniform" else 0.1 + 0.9 * value
    expected = notes.get("expected")
    if expected:
        return expected_summary(expected, formula)
    return summary_score(judgment.scores, formula)


class Judgment(ArtifactRow):
    """One judged reply: scores and summary, or an `error` saying why the judge failed.

    Failures are records too, never dropped: downstream stages count and skip them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    VERSION: ClassVar[int] = 1

    dialogue: Dialogue
    reply: str
    judge: str
    scores: Scores | None = None
    summary: float | None = None
    error: str | None = None
    attempts: int = 1
    # Provenance carried through from the input record (model, candidate index, ...).
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.scores is not None
