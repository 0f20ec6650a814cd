"""The shape of ratings.json, what `socratic rate import` writes next to the sheet (socratic.rate.analysis
computes it; socratic.rate.table prints it).

    result = RatingResult.read("sheet/ratings.json")
    result.source("teacher").mean.mean, result.win("tuned", "base").rate.mean
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from socratic.evaluate.stats import Estimate
from socratic.store.artifact import Artifact


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Rating(_Open):
    """One rater's score of one reply, unblinded: what every number here is computed from."""

    rater: str
    item: int
    dataset: str
    dialogue_id: str
    source: str
    score: int
    note: str = ""


class SourceRating(_Open):
    """One reply source's ratings: each an average over items of the raters' per-item value, with a
    bootstrap CI over items."""

    source: str
    items: int
    ratings: int
    mean: Estimate  # mean score, 1-5
    acceptable: Estimate  # share of ratings >= ACCEPTABLE
    harmful: Estimate  # share of ratings == HARMFUL


class WinRate(_Open):
    """How often the raters preferred `source` to `other` on the same item (ties half): per item the mean
    over raters of 1 / 0.5 / 0, then the mean over items with a bootstrap CI."""

    source: str
    other: str
    rate: Estimate


class RaterPair(_Open):
    """Two raters on the replies both rated: quadratic-weighted Cohen's kappa, exact and within-one shares."""

    raters: tuple[str, str]
    n: int
    kappa: float | None  # None: undefined (a rater gave every reply the same score)
    exact: float
    within_one: float


class JudgeAgreement(_Open):
    """An evaluation judge against the raters' mean rating of each reply it judged."""

    judge: str
    replies: int  # rated replies with a judgment that has a summary
    unjudged: int  # rated replies without one (missing, or the judge failed on them)
    spearman: float | None  # of the judge's summary with the mean rating, over all those replies
    pairs: int  # pairs of replies to one item that the raters ranked apart (different mean ratings)
    pair_agreement: float | None  # share of those the judge ranks the same way (a judge tie counts half)


class RatingResult(Artifact):
    VERSION: ClassVar[int] = 1

    sheet: str
    key: str
    evaluation: str
    files: list[str]
    raters: list[str]
    items: int
    sources: list[str]
    scale: list[dict] = Field(default_factory=list)  # the scale the sheet printed (socratic.rate.scale)
    formula: str = "uniform"
    confidence: float = 0.95
    seed: int = 0
    n_resamples: int = 0
    by_source: list[SourceRating] = Field(default_factory=list)
    wins: list[WinRate] = Field(default_factory=list)
    rater_pairs: list[RaterPair] = Field(default_factory=list)
    mean_kappa: float | None = None  # mean over rater pairs with a defined kappa
    judges: list[JudgeAgreement] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    ratings: list[Rating] = Field(default_factory=list)  # every score, for analyses of one's own

    def source(self, name: str) -> SourceRating | None:
        return next((s for s in self.by_source if s.source == name), None)

    def win(self, source: str, other: str) -> WinRate | None:
        return next((w for w in self.wins if (w.source, w.other) == (source, other)), None)
