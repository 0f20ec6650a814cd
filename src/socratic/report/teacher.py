"""The win rate against the real teacher in the report and the headline (evaluate.teacher has the
definition). Pure: evaluation.json's `teacher` in, rows, lines and the report's section out.

    rows = teacher_rows(Evaluation.read("runs/x/eval/evaluation.json"))
"""

from __future__ import annotations

import itertools
from typing import Any

from socratic.evaluate.result import Evaluation
from socratic.report.document import Column, Muted, Paragraph, Section, Table

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
             "text": _estimate(c.summary.mean, c.summary.low, c.summary.high)}
            for c in anchor.scores if anchor.items.get(c.dataset)]  # test sets without teacher turns: nothing to show


def _teacher_items_left_out(evaluation: Evaluation) -> int:
    """Items with a teacher turn that some judge was fitted on (left out of the clean win rates)."""
    clean = evaluation.clean
    return sum(len(clean.excluded.get(d, ())) for d in evaluation.teacher.items) if clean else 0


def teacher_note(evaluation: Evaluation) -> str | None:
    """How many items carried a teacher turn, and on which items the win rates are."""
    anchor = evaluation.teacher
    if anchor is None:
        return None
    sizes = ", ".join(f"{n} {dataset}" for dataset, n in anchor.items.items())
    left = _teacher_items_left_out(evaluation)
    where = f"; {left} items some judge was fitted on are left out (all items: report)" if left else ""
    return f"{EXPLAINED}. Items with the teacher's turn: {sizes}{where}."


def _win_rate_table(evaluation: Evaluation, rows: list[dict[str, Any]], reward: str | None) -> Table:
    columns = [Column("model"), Column("test set")]
    columns += [Column(f"by {c['judge']}{' (reward)' if c['judge'] == reward else ''}", numeric=True)
                for c in rows[0]["cells"]]
    return Table(columns, [[r["model"], r["dataset"], *[[f"{c['text']} ", Muted(f"(n={c['n']})")]
                                                       for c in r["cells"]]] for r in rows])


def teacher_section(evaluation: Evaluation, reward: str | None) -> Section | None:
    """The report's section: the win rates (clean items; all items too where some were left out) and the
    teacher's own scores. `reward`: the judge that ranked the training pairs, marked in the columns."""
    if evaluation.teacher is None:
        return None
    blocks: list = [Paragraph("Where the test items carry the real teacher's next turn, the "
                              f"{teacher_note(evaluation)}")]
    rows = teacher_rows(evaluation)
    if rows:
        blocks.append(_win_rate_table(evaluation, rows, reward))
    # Only where some item with a teacher turn was left out: otherwise the second table repeats the first.
    rows_all = teacher_rows(evaluation, "all") if _teacher_items_left_out(evaluation) else None
    if rows_all:
        blocks += [Paragraph("On all items (including those some judge was fitted on):", note=False),
                   _win_rate_table(evaluation, rows_all, reward)]
    scores = "; ".join(f"{s['dataset']} by {s['judge']} {s['text']} (n={s['n']})" for s in teacher_scores(evaluation))
    blocks.append(Paragraph(f"The teacher's own mean summary by each judge: {scores}. "
                            "Its judge-free rates are in the tutoring section."))
    return Section("Against the real teacher", blocks, anchor="teacher", short="Against the teacher")
