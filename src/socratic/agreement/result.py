"""The shape of agreement.json: what `socratic agreement` writes and the report and the export read.

    agreement = Agreement.read("runs/x/agreement/agreement.json")
    agreement.judges[0].summary.pearson.estimate

Only what readers outside the agreement step use is typed; the rest of each block (notes, the
confusion matrix, the per-item rows) is kept as it is (`extra="allow"`). A missing statistic is
None, never absent, so readers need no `.get()`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from socratic.store.artifact import Artifact


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Correlation(_Open):
    estimate: float | None = None
    p_value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


class SummaryAgreement(_Open):
    """Judge vs human summary score: correlations with bootstrap CIs, MAE."""

    n: int
    pearson: Correlation = Field(default_factory=Correlation)
    spearman: Correlation = Field(default_factory=Correlation)
    mae: float | None = None


class CriterionAgreement(_Open):
    """One criterion: accuracy/kappa for the yes/no ones, correlations/QWK for the 1-5 ones."""

    n: int
    accuracy: float | None = None
    kappa: float | None = None
    qwk: float | None = None
    mae: float | None = None


class JudgeAgreement(_Open):
    spec: str
    n_items: int
    failures: int = 0
    criteria: dict[str, CriterionAgreement]
    summary: SummaryAgreement


class Agreement(Artifact):
    VERSION: ClassVar[int] = 1

    config: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, Any] = Field(default_factory=dict)
    anchor: dict[str, Any] | None = None
    judges: list[JudgeAgreement] = Field(default_factory=list)
