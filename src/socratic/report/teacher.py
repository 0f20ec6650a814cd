"""The win rate against the real teacher in the report and the headline (evaluate.teacher has the
definition). Pure: evaluation.json's `teacher` in, rows and lines out.

    rows = teacher_rows(Evaluation.read("runs/x/eval/evaluation.json"))
"""

from __future__ import annotations

import itertools
from typing import Any

from socratic.evaluate.result import Evaluation

EXPLAINED = ("win rate against the teacher: the share of items where the judge scores the model's reply above the "
             "real teacher's next turn (ties half), 95% bootstrap CI; a judge that knows tutoring keeps the base "
             "model near 0")


def _estimate(mean: float | None, low: float | None, high: float | None) -> str:
    return "–" if mean is None else f"{mean:.2f} [{low:.2f}, {high:.2f}]"


def teacher_rows(evaluation: Evaluation, items: str = "clean") -> list[dict[str, Any]]:
    """Per model x test set with teacher turns: the win rate by every judge (and n); empty without a teacher."""
    anchor = evaluation.teacher
    if anchor is None:
        return []
    rows = []
    for dataset, model in itertools.product(anchor.items, [m.name for m in evaluation.models]):
        cells = []
        for judge in evaluation.judges:
            found = anchor.win_rate(model, dataset, judge, items)
            e = found.win_rate if found else None
            cells.append({"judge": judge, "text": _estimate(e.mean, e.low, e.high) if e else "–",
                          "n": found.n if found else 0, "mean": e.mean if e else None})
        rows.append({"model": model, "dataset": dataset, "cells": cells})
    return rows


def teacher_scores(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The teacher's own mean summary per test set and judge, as the models' are shown."""
    anchor = evaluation.teacher
    if anchor is None:
        return []
    return [{"dataset": c.dataset, "judge": c.judge, "n": c.judged,
             "text": _estimate(c.summary.mean, c.summary.low, c.summary.high)} for c in anchor.scores]


def teacher_note(evaluation: Evaluation) -> str | None:
    """How many items carried a teacher turn, and on which items the win rates are."""
    anchor = evaluation.teacher
    if anchor is None:
        return None
    sizes = ", ".join(f"{n} {dataset}" for dataset, n in anchor.items.items())
    clean = evaluation.clean
    left = sum(len(clean.excluded.get(d, ())) for d in anchor.items) if clean else 0
    where = f"; {left} items some judge was fitted on are left out (all items: report)" if left else ""
    return f"{EXPLAINED}. Items with the teacher's turn: {sizes}{where}."
