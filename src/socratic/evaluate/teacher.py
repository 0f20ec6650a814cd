"""The real teacher's next turn as the anchor of an evaluation (issue 36).

    replies += teacher_replies(test_sets)                       # one "teacher" reply per item that has one
    anchor = summarize_teacher(judgments, models=["base", "tuned"], datasets=[...], judges=[...])
    anchor.win_rate("tuned", "mathdial-raw", "pairwise").win_rate.mean

Test items of `mathdial-raw` and `debugging-raw` carry the turn the real teacher gave next
(`socratic.data.teacher_turns.teacher_reply`). The evaluation treats it as one more reply source, named
`teacher`: written to replies.jsonl (so `socratic rate` can put it in a blind sheet), judged by every
evaluation judge, measured by the judge-free metrics. It is not a model: no lift, no gaming check.

The win rate against the teacher (MathTutorBench's measure): for each model, test set and judge, the
share of items where the judge scores the model's reply above the teacher's turn, ties counted half, with
a 95% bootstrap CI over items. A judge that knows tutoring keeps the base model's win rate near 0; a
tuned model's rises only as far as its replies really become as good as a teacher's. Both are reported on
the clean items (no evaluation judge was fitted on their problems: the headline's items) and on all.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence

from socratic.data.teacher_turns import teacher_reply
from socratic.evaluate.config import TEACHER
from socratic.evaluate.result import EvalReply, TeacherAnchor, WinRate
from socratic.evaluate.stats import mean_ci
from socratic.evaluate.summary import judgments_by_cell, scored_pairs, summarize
from socratic.records import Dialogue
from socratic.scores import Formula, Judgment, judgment_summary

TIE = 1e-9  # summaries closer than this are a tie


def teacher_replies(test_sets: Mapping[str, Sequence[Dialogue]]) -> list[EvalReply]:
    """The teacher's real next turn of every test item that carries one, as an EvalReply of `teacher`."""
    out = []
    for dataset, dialogues in test_sets.items():
        for dialogue in dialogues:
            turn = teacher_reply(dialogue)
            if turn and turn.strip():
                out.append(EvalReply(model=TEACHER, spec=TEACHER, dataset=dataset, dialogue=dialogue, reply=turn,
                                     settings=TEACHER))
    return out


def outcomes(pairs: Sequence[tuple[float, float]]) -> list[float]:
    """Per (model, teacher) summary pair: 1 (model above the teacher), 0.5 (tie), 0 (below)."""
    return [1.0 if model - teacher > TIE else 0.5 if abs(model - teacher) <= TIE else 0.0 for model, teacher in pairs]


def summarize_teacher(judgments: Sequence[Judgment], *, models: Sequence[str], datasets: Sequence[str],
                      judges: Sequence[str], excluded: Mapping[str, Collection[str]] | None = None,
                      formula: Formula = "uniform", seed: int = 0, n_resamples: int = 4000) -> TeacherAnchor | None:
    """The teacher's scores and every model's win rate against it; None when no judgment is the teacher's."""
    teacher = [j for j in judgments if j.meta.get("model") == TEACHER]
    if not teacher:
        return None
    excluded = excluded or {}
    cells = judgments_by_cell(judgments)
    items = {dataset: len({j.dialogue.id for j in teacher if j.meta["dataset"] == dataset}) for dataset in datasets}
    scores = summarize(teacher, models=[TEACHER], datasets=datasets, judges=judges, formula=formula, seed=seed,
                       n_resamples=n_resamples)["results"]
    rates = []
    for judge, dataset, model in itertools.product(judges, datasets, models):
        shared = scored_pairs(cells.get((judge, TEACHER, dataset), {}), cells.get((judge, model, dataset), {}))
        for kind in ("clean", "all"):
            kept = [(t, m) for t, m in shared if kind == "all" or t.dialogue.id not in excluded.get(dataset, ())]
            won = outcomes([(judgment_summary(m, formula), judgment_summary(t, formula)) for t, m in kept])
            rates.append(WinRate(model=model, dataset=dataset, judge=judge, items=kind, n=len(won),
                                 wins=won.count(1.0), ties=won.count(0.5), losses=won.count(0.0),
                                 win_rate=mean_ci(won, seed=seed, n_resamples=n_resamples)))
    return TeacherAnchor(items={d: n for d, n in items.items() if n}, scores=scores, win_rates=rates)
