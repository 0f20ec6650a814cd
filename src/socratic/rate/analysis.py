"""What blind ratings say, pure: per reply source, between sources, between raters, and about the judges.

    ratings = unblind(key, sheets)                       # {rater: {(item, source): score}}
    by_source(ratings, sources)                          # mean score, acceptable and harmful shares (CIs)
    win_rates(ratings, sources)                          # A preferred to B on the same item, ties half (CIs)
    rater_pairs(ratings)                                 # quadratic-weighted Cohen's kappa per pair of raters
    judge_agreement(ratings, summaries)                  # a judge's summary against the mean rating

Every CI is a bootstrap over items (socratic.evaluate.stats.mean_ci): an item's value is first averaged
over the raters, so an item counts once however many raters rated it, and the replies to one
conversation stay together. Agreement between raters is Cohen's kappa with quadratic weights from
scikit-learn, for each pair of raters: the scale is ordinal, and a 4 against a 5 is a smaller
disagreement than a 1 against a 5 (docs/rating.md says why not Krippendorff's alpha).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from socratic.evaluate.stats import mean_ci
from socratic.rate.ratings import RaterSheet
from socratic.rate.result import JudgeAgreement, RaterPair, Rating, SourceRating, WinRate
from socratic.rate.scale import ACCEPTABLE, HARMFUL, SCORES
from socratic.rate.sheet import RatingKey

Ratings = Mapping[str, Mapping[tuple[int, str], int]]  # rater -> (item, source) -> score


def unblind(key: RatingKey, sheets: Sequence[RaterSheet]) -> dict[str, dict[tuple[int, str], int]]:
    """Each rater's scores by (item, reply source) instead of (item, letter)."""
    return {s.rater: {(item, key.source(item, letter)): score for (item, letter), score in s.scores.items()}
            for s in sheets}


def rating_rows(key: RatingKey, sheets: Sequence[RaterSheet]) -> list[Rating]:
    """Every score with its rater, item, conversation, source and note, in the files' and the sheet's order."""
    rows = []
    for sheet in sheets:
        for item in key.items:
            for letter in sorted(item.letters):
                rows.append(Rating(rater=sheet.rater, item=item.item, dataset=item.dataset,
                                   dialogue_id=item.dialogue_id, source=item.letters[letter],
                                   score=sheet.scores[(item.item, letter)], note=sheet.notes[(item.item, letter)]))
    return rows


def _items(ratings: Ratings) -> list[int]:
    return sorted({item for scores in ratings.values() for item, _ in scores})


def _per_item(ratings: Ratings, source: str, value) -> list[float]:
    """For each item the source was rated on: the mean over raters of value(score)."""
    out = []
    for item in _items(ratings):
        values = [value(scores[(item, source)]) for scores in ratings.values() if (item, source) in scores]
        if values:
            out.append(float(np.mean(values)))
    return out


def by_source(ratings: Ratings, sources: Sequence[str], *, seed: int = 0, n_resamples: int = 4000,
              confidence: float = 0.95) -> list[SourceRating]:
    ci = {"seed": seed, "n_resamples": n_resamples, "confidence": confidence}
    out = []
    for source in sources:
        means = _per_item(ratings, source, float)
        out.append(SourceRating(
            source=source, items=len(means),
            ratings=sum(1 for scores in ratings.values() for _, s in scores if s == source),
            mean=mean_ci(means, **ci),
            acceptable=mean_ci(_per_item(ratings, source, lambda x: float(x >= ACCEPTABLE)), **ci),
            harmful=mean_ci(_per_item(ratings, source, lambda x: float(x == HARMFUL)), **ci)))
    return out


def _win(a: int, b: int) -> float:
    return 1.0 if a > b else 0.5 if a == b else 0.0


def win_rates(ratings: Ratings, sources: Sequence[str], *, seed: int = 0, n_resamples: int = 4000,
              confidence: float = 0.95) -> list[WinRate]:
    """Every ordered pair of sources: the share of items the raters preferred the first (ties half)."""
    out = []
    for source, other in itertools.permutations(sources, 2):
        per_item = []
        for item in _items(ratings):
            values = [_win(scores[(item, source)], scores[(item, other)]) for scores in ratings.values()
                      if (item, source) in scores and (item, other) in scores]
            if values:
                per_item.append(float(np.mean(values)))
        out.append(WinRate(source=source, other=other,
                           rate=mean_ci(per_item, seed=seed, n_resamples=n_resamples, confidence=confidence)))
    return out


def rater_pairs(ratings: Ratings) -> list[RaterPair]:
    """Each pair of raters on the replies both rated."""
    out = []
    for first, second in itertools.combinations(sorted(ratings), 2):
        common = sorted(set(ratings[first]) & set(ratings[second]))
        a = np.array([ratings[first][c] for c in common])
        b = np.array([ratings[second][c] for c in common])
        kappa = None
        if len(common):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an undefined kappa (one rater constant) is nan: reported as None
                value = float(cohen_kappa_score(a, b, labels=list(SCORES), weights="quadratic"))
            kappa = value if np.isfinite(value) else None
        out.append(RaterPair(raters=(first, second), n=len(common), kappa=kappa,
                             exact=float(np.mean(a == b)) if len(common) else 0.0,
                             within_one=float(np.mean(np.abs(a - b) <= 1)) if len(common) else 0.0))
    return out


def mean_kappa(pairs: Sequence[RaterPair]) -> float | None:
    kappas = [p.kappa for p in pairs if p.kappa is not None]
    return float(np.mean(kappas)) if kappas else None


def mean_ratings(ratings: Ratings) -> dict[tuple[int, str], float]:
    """(item, source) -> the mean of the raters' scores."""
    cells = sorted({cell for scores in ratings.values() for cell in scores})
    return {cell: float(np.mean([s[cell] for s in ratings.values() if cell in s])) for cell in cells}


def judge_agreement(judge: str, ratings: Ratings, summaries: Mapping[tuple[int, str], float]) -> JudgeAgreement:
    """`summaries`: (item, source) -> the judge's summary of that reply (socratic.scores.judgment_summary)."""
    rated = mean_ratings(ratings)
    judged = [cell for cell in rated if cell in summaries]
    spearman = None
    if len(judged) >= 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant input: nan, reported as None
            value = float(stats.spearmanr([summaries[c] for c in judged], [rated[c] for c in judged]).statistic)
        spearman = value if np.isfinite(value) else None
    agree = []
    for (item, a), (other_item, b) in itertools.combinations(judged, 2):
        if item != other_item or rated[(item, a)] == rated[(item, b)]:
            continue
        people = np.sign(rated[(item, a)] - rated[(item, b)])
        judge_sign = np.sign(summaries[(item, a)] - summaries[(item, b)])
        agree.append(0.5 if judge_sign == 0 else float(judge_sign == people))
    return JudgeAgreement(judge=judge, replies=len(judged), unjudged=len(rated) - len(judged), spearman=spearman,
                          pairs=len(agree), pair_agreement=float(np.mean(agree)) if agree else None)
