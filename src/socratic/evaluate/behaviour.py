"""Gaming and collapse checks of an evaluation, pure: did the tuned model learn to tutor, or to please
its judge, or to say one thing to everyone? Judgments and replies in, evaluation.json's `behaviour` out.

    behaviour = summarize_behaviour(replies, judgments, models=["base", "tuned"], datasets=["mathdial"],
                                    judges=["learned", "rubric"])

Every definition and limit of these checks lives here (the report only reads evaluation.json):
- question rate, per judge: the share of replies the judge scored `questions` = yes; judge-free: the
  share with at least one genuine question by `signals.genuine_questions` (no model; the same
  detector the rubric judge's `questions` uses, so it says what the replies contain, not what a
  learned or LLM judge thinks of them). Reveal rate: the share a judge scored `reveal_answer` = yes.
  Each tuned model's rate is compared with the baseline's on the same items, paired bootstrap (stats.py).
  Target: a reveal rate not higher than the baseline's.
- form-only share of a lift: per model x test set x judge, the sum of the per-item summary differences
  over the items whose reply changed only its form (changes.reply_change) divided by the sum over all
  items: the items of the paired test. Left out (None) when the mean lift is below MIN_LIFT_TO_SPLIT:
  a share of nothing says nothing. Target: below FORM_ONLY_SHARE_LIMIT.
- the questions part of a lift: per model x test set x judge, on the clean items (evaluate.clean) and on
  all items, the lift's part carried by the `questions` criterion alone: its weight in the summary
  formula times the mean change of `questions` over the paired items (the summary is linear in the
  criteria, so the parts add up to the lift), and its share of the mean lift (None below
  MIN_LIFT_TO_SPLIT). A lift that is mostly a flip of `questions` is a lift in form, not in tutoring.
- distinctness: per model x test set, the share of items whose reply is near-identical to the reply
  of another item (changes.same_words: token-set Jaccard >= changes.FORM_JACCARD, so equal texts too).
  Above COLLAPSE_SHARE the model has collapsed: it says much the same to every student.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from socratic.evaluate.changes import FORM_JACCARD, reply_change, same_words
from socratic.evaluate.result import (
    JUDGE_FREE,
    Behaviour,
    EvalReply,
    FormOnlyLift,
    LiftPart,
    Limits,
    RateDiff,
    ReplySet,
)
from socratic.evaluate.stats import mean_ci, paired_bootstrap
from socratic.evaluate.summary import judgments_by_cell, scored_pairs
from socratic.scores import Formula, Judgment, Scores, judgment_summary, summary_score
from socratic.signals import genuine_questions

COLLAPSE_SHARE = 0.5  # more than half the items answered (near-)identically: collapsed
FORM_ONLY_SHARE_LIMIT = 0.25  # issue 18: less than a quarter of the lift from form-only changes
MIN_LIFT_TO_SPLIT = 0.02  # mean summary difference below which no share of it is computed



# ---------------------------------------------------------------- definitions on texts

def asks_question(reply: str) -> bool:
    return bool(genuine_questions(reply))


def near_duplicates(replies: Sequence[str]) -> list[list[int]]:
    """For each reply, the indices of the other replies near-identical to it (changes.same_words)."""
    others: list[list[int]] = [[] for _ in replies]
    for i, j in itertools.combinations(range(len(replies)), 2):
        if same_words(replies[i], replies[j]):
            others[i].append(j)
            others[j].append(i)
    return others


def distinctness(replies: Sequence[str]) -> dict:
    """The near-duplicate share of one test set's replies, whether it means collapse, the top repeat."""
    others = near_duplicates(replies)
    duplicated = sum(bool(o) for o in others)
    share = duplicated / len(replies) if len(replies) >= 2 else None
    top = max(range(len(replies)), key=lambda i: len(others[i]), default=None)
    repeated = top is not None and bool(others[top])
    return {"near_duplicates": duplicated, "near_duplicate_share": share,
            "collapsed": share is not None and share > COLLAPSE_SHARE,
            "most_repeated": replies[top] if repeated else "",
            "most_repeated_count": 1 + len(others[top]) if repeated else 0}


def form_only_share(diffs: Sequence[float], kinds: Sequence[str]) -> dict:
    """The per-item summary differences split by kind of change, and the form-only share of their sum."""
    if len(diffs) != len(kinds):
        raise ValueError(f"{len(diffs)} differences for {len(kinds)} kinds of change")
    items = {kind: sum(k == kind for k in kinds) for kind in ("identical", "form", "content")}
    sums = {kind: sum(d for d, k in zip(diffs, kinds) if k == kind) for kind in items}
    total = sum(diffs)
    mean = total / len(diffs) if diffs else None
    share = sums["form"] / total if mean is not None and mean >= MIN_LIFT_TO_SPLIT else None
    return {"n": len(diffs), "items": items, "diff_sums": {k: round(v, 6) for k, v in sums.items()},
            "mean_lift": mean, "form_only_share": share}


# ---------------------------------------------------------------- over an evaluation

def _rate_diff(rate: str, judge: str, dataset: str, model: str, baseline: str, model_values: list[float],
               baseline_values: list[float], seed: int, n_resamples: int) -> RateDiff:
    test = paired_bootstrap(model_values, baseline_values, seed=seed, n_resamples=n_resamples)
    mean = lambda values: sum(values) / len(values) if values else None
    return RateDiff(rate=rate, judge=judge, dataset=dataset, model=model, baseline=baseline,
                    model_rate=mean(model_values), baseline_rate=mean(baseline_values), **test.model_dump())


def summarize_behaviour(replies: Sequence[EvalReply], judgments: Sequence[Judgment], *, models: Sequence[str],
                        datasets: Sequence[str], judges: Sequence[str], formula: Formula = "uniform",
                        seed: int = 0, n_resamples: int = 4000) -> Behaviour:
    """The checks of every model (the first is the baseline) on every test set."""
    baseline = models[0]
    by_reply: dict[tuple[str, str], dict[str, str]] = {}
    for r in replies:
        by_reply.setdefault((r.model, r.dataset), {})[r.dialogue.id] = r.reply
    reply_sets, rates, form_only = [], [], []
    for dataset in datasets:
        for model in models:
            texts = list(by_reply.get((model, dataset), {}).values())
            reply_sets.append(ReplySet(
                model=model, dataset=dataset, n=len(texts), **distinctness(texts),
                asks_question=mean_ci([float(asks_question(t)) for t in texts], seed=seed, n_resamples=n_resamples)))
        base_replies = by_reply.get((baseline, dataset), {})
        for model in models[1:]:
            own = by_reply.get((model, dataset), {})
            shared = [i for i in base_replies if i in own]
            rates.append(_rate_diff("asks_question", JUDGE_FREE, dataset, model, baseline,
                                    [float(asks_question(own[i])) for i in shared],
                                    [float(asks_question(base_replies[i])) for i in shared], seed, n_resamples))
    cells = judgments_by_cell(judgments)
    for judge, dataset, model in itertools.product(judges, datasets, models[1:]):
        pairs = scored_pairs(cells.get((judge, baseline, dataset), {}), cells.get((judge, model, dataset), {}))
        for rate in ("questions", "reveal_answer"):
            rates.append(_rate_diff(rate, judge, dataset, model, baseline,
                                    [float(getattr(tuned.scores, rate)) for _, tuned in pairs],
                                    [float(getattr(base.scores, rate)) for base, _ in pairs], seed, n_resamples))
        split = form_only_share([judgment_summary(tuned, formula) - judgment_summary(base, formula)
                                 for base, tuned in pairs],
                                [reply_change(base.reply, tuned.reply).kind for base, tuned in pairs])
        form_only.append(FormOnlyLift(judge=judge, dataset=dataset, model=model, baseline=baseline, formula=formula,
                                      **split))
    limits = Limits(form_jaccard=FORM_JACCARD, collapse_share=COLLAPSE_SHARE,
                    form_only_share=FORM_ONLY_SHARE_LIMIT, min_lift_to_split=MIN_LIFT_TO_SPLIT)
    return Behaviour(limits=limits, reply_sets=reply_sets, rates=rates, form_only=form_only)


def questions_weight(formula: Formula) -> float:
    """What flipping `questions` from no to yes adds to the summary, all else equal."""
    other = {"on_topic": 3, "helpful": 3, "reveal_answer": False}
    return summary_score(Scores(questions=True, **other), formula) - summary_score(Scores(questions=False, **other),
                                                                                    formula)


def _asks(judgment: Judgment) -> float:
    """The judgment's `questions` as its summary counts it: P(yes) where the judge gives expected values."""
    expected = (judgment.meta.get("judge_notes") or {}).get("expected") or {}
    return float(expected["questions"]) if "questions" in expected else float(judgment.scores.questions)


def questions_part(pairs: Sequence[tuple[Judgment, Judgment]], formula: Formula) -> dict:
    """The mean lift over (baseline, model) judgment pairs, of the one summary every stage reports
    (`judgment_summary`), and the part of it the `questions` flip carries under the formula (for a reward
    judge, whose summary is its utility, this part is what the flip would be worth under the formula)."""
    if not pairs:
        return {"n": 0, "mean_lift": None, "questions_part": None, "questions_share": None}
    lift = sum(judgment_summary(t, formula) - judgment_summary(b, formula) for b, t in pairs) / len(pairs)
    part = questions_weight(formula) * sum(_asks(t) - _asks(b) for b, t in pairs) / len(pairs)
    share = part / lift if lift >= MIN_LIFT_TO_SPLIT else None
    return {"n": len(pairs), "mean_lift": lift, "questions_part": part, "questions_share": share}


def lift_parts(judgments: Sequence[Judgment], *, models: Sequence[str], datasets: Sequence[str],
               judges: Sequence[str], formula: Formula = "uniform",
               excluded: dict[str, Sequence[str]] | None = None) -> list[LiftPart]:
    """The questions part of every lift against the first model, on all items and on the clean ones
    (all but `excluded`: test set -> dialogue ids)."""
    baseline, excluded = models[0], excluded or {}
    cells = judgments_by_cell(judgments)
    out = []
    for judge, dataset, model in itertools.product(judges, datasets, models[1:]):
        pairs = scored_pairs(cells.get((judge, baseline, dataset), {}), cells.get((judge, model, dataset), {}))
        dropped = set(excluded.get(dataset, ()))
        for items, kept in (("clean", [p for p in pairs if p[0].dialogue.id not in dropped]), ("all", pairs)):
            out.append(LiftPart(judge=judge, dataset=dataset, model=model, baseline=baseline, formula=formula,
                                items=items, **questions_part(kept, formula)))
    return out
