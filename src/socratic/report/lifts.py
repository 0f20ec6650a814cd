"""The evaluation judges side by side: each model's lift over the baseline by every judge, and where the
judges do not tell the same story. Pure: evaluation.json's paired tests in, rows and flags out, and
the report's section (`lifts_section`).

    rows, flags = judge_lifts(Evaluation.read("runs/x/eval/evaluation.json"))

A lift's direction by one judge is "up" when its 95% CI lies above 0, "down" when below, else
"unclear". Two flags (one line each, also in the report's caveats):
- judges disagree on the direction: one judge sees a clear lift (or drop) and another's estimate
  points the other way;
- a lift seen only by the reward judge: the judge that ranked the training pairs sees a clear lift
  and none of the other evaluation judges does (the tuned model may have learnt to please its reward
  rather than to tutor better).
`independence_flags` adds one line per evaluation judge that shares detectors with the reward judge
(socratic.judge.shared_detectors): its agreement with the reward is not independent confirmation.
The lifts are on the clean test set (`Evaluation.headline_paired`: the items no evaluation judge was fitted
or calibrated on) unless `items="all"`; each cell also says which share of the lift is the `questions`
criterion flipping alone (evaluate.behaviour.lift_parts).
"""

from __future__ import annotations

from typing import Any

from socratic.evaluate.result import Evaluation, Paired
from socratic.report import document as doc
from socratic.report.tutoring import clean_note

UP, DOWN, UNCLEAR = "up", "down", "unclear"


def direction(test: Paired) -> str:
    if test.low is not None and test.low > 0:
        return UP
    if test.high is not None and test.high < 0:
        return DOWN
    return UNCLEAR


def _sign(value: float | None) -> int:
    return 0 if not value else (1 if value > 0 else -1)


def lift_flags(tests: dict[str, Paired], reward_judge: str | None) -> list[str]:
    """The flags of one model x test set, from its paired test by each evaluation judge."""
    flags = []
    directions = {judge: direction(t) for judge, t in tests.items()}
    clear = {judge: d for judge, d in directions.items() if d != UNCLEAR}
    for judge, d in clear.items():
        want = 1 if d == UP else -1
        against = [other for other, t in tests.items() if other != judge and _sign(t.diff) == -want]
        if against:
            flags.append(f"judges disagree on the direction: {judge} sees a clear {'lift' if d == UP else 'drop'}, "
                         f"{', '.join(against)} {'a drop' if d == UP else 'a lift'}")
            break
    others = [judge for judge in tests if judge != reward_judge]
    if reward_judge in tests and others and directions[reward_judge] == UP and \
            all(directions[judge] != UP for judge in others):
        flags.append(f"lift seen only by the reward judge {reward_judge} (not by {', '.join(others)})")
    return flags


def independence_flags(evaluation: Evaluation, reward_judge: str | None = None) -> list[str]:
    """One flag per evaluation judge that shares detectors with the reward judge: it is not an independent
    check of the reward (a policy that games one games the other), so a lift it sees is not confirmation."""
    from socratic.errors import SocraticError
    from socratic.judge import shared_detectors

    reward = reward_judge or evaluation.training_judge
    if reward is None:
        return []
    flags = []
    for judge in evaluation.judges:
        try:
            shared = shared_detectors(judge, reward) if judge != reward else ()
        except SocraticError:  # a judge this version does not know (an older or a custom one): nothing declared
            continue
        if shared:
            flags.append(f"{judge} is not independent of the reward judge ({reward}): they share {', '.join(shared)}")
    return flags


def questions_share(evaluation: Evaluation, model: str, dataset: str, judge: str, items: str) -> str:
    part = evaluation.lift_part(model, dataset, judge, items)
    if part is None or part.questions_share is None:
        return "–"
    return f"{part.questions_share:.0%}"


def judge_lifts(evaluation: Evaluation, reward_judge: str | None = None,
                items: str = "clean") -> tuple[list[dict[str, Any]], list[str]]:
    """One row per model x test set against the baseline, one cell per evaluation judge; and the flags.
    `reward_judge`: the judge that ranked the training pairs (default: the one evaluation.json names);
    `items`: "clean" (the headline's) or "all"."""
    baseline = evaluation.models[0].name
    reward = reward_judge or evaluation.training_judge
    by: dict[tuple[str, str], dict[str, Paired]] = {}
    for p in (evaluation.headline_paired() if items == "clean" else evaluation.paired):
        if p.baseline == baseline and p.formula == evaluation.formula and p.diff is not None:
            by.setdefault((p.model, p.dataset), {})[p.judge] = p
    rows, flags = [], []
    for model in [m.name for m in evaluation.models[1:]]:
        for dataset in evaluation.datasets:
            tests = by.get((model, dataset))
            if not tests:
                continue
            cells = []
            for judge in evaluation.judges:
                t = tests.get(judge)
                cells.append({"judge": judge, "reward": judge == reward, "direction": direction(t) if t else None,
                              "text": "–" if t is None else f"{t.diff:+.3f} [{t.low:+.2f}, {t.high:+.2f}]",
                              "n": t.n if t else 0,
                              "questions_share": questions_share(evaluation, model, dataset, judge, items)})
            row_flags = lift_flags(tests, reward)
            rows.append({"model": model, "dataset": dataset, "cells": cells, "flags": row_flags})
            flags += [f"{model} on {dataset}: {f}" for f in row_flags]
    return rows, flags


def _arrow(cell: dict[str, Any]) -> str:
    return {UP: " ↑", DOWN: " ↓"}.get(cell["direction"], "")


def _lift_cell(cell: dict[str, Any], tone: bool) -> doc.Cell:
    text = [f"{cell['text']} ", doc.Muted(f"(n={cell['n']}, q {cell['questions_share']})"), _arrow(cell)]
    return doc.Cell(text, doc.GOOD if tone and cell["direction"] == UP else None)


def _judge_columns(evaluation: Evaluation, reward_judge: str | None) -> list[doc.Column]:
    return doc.columns(["model", "test set"],
                       [[doc.Code(j), " (reward)" if j == reward_judge else ""] for j in evaluation.judges])


def lifts_section(evaluation: Evaluation, reward_judge: str | None) -> tuple[doc.Section, list[str]]:
    """The report's section (the clean items' lifts, then all items' where some were left out) and the
    flags, for the caveats."""
    baseline, clean = evaluation.models[0].name, evaluation.clean
    rows, flags = judge_lifts(evaluation, reward_judge)
    rewarded = "; the reward judge (it ranked the training pairs) is `{reward}`" if reward_judge else ""
    on_clean = " On the clean test set: the items no evaluation judge was fitted or calibrated on." if clean else ""
    blocks: list = [doc.Paragraph(doc.prose(
        "Mean difference of the summary score on the same items (model − {baseline}) [95% CI], by every evaluation "
        f"judge{rewarded}. ↑ / ↓: the CI lies above / below 0. *q*: the share of the lift that is the `questions` "
        "criterion flipping alone (its weight in the formula × the mean change of `questions`; – for a lift below "
        f"0.02).{on_clean}", baseline=baseline, reward=reward_judge))]
    note = clean_note(evaluation)
    if note:
        blocks.append(doc.Callout(doc.Bold(note)))
    blocks.append(doc.Table(_judge_columns(evaluation, reward_judge) + [doc.Column("flags")], [
        [r["model"], r["dataset"], *[_lift_cell(c, tone=True) for c in r["cells"]],
         doc.Flag("; ".join(r["flags"])) if r["flags"] else "–"] for r in rows]))
    rows_all = judge_lifts(evaluation, reward_judge, items="all")[0] if clean and clean.n_excluded() else []
    if rows_all:
        blocks += [
            doc.Paragraph(f"The same lifts on all items, including the {clean.n_excluded()} that an evaluation "
                          "judge has seen (not the headline: a judge scoring replies to problems it learned from is "
                          "not out of sample):"),
            doc.Table(_judge_columns(evaluation, None), [
                [r["model"], r["dataset"], *[_lift_cell(c, tone=False) for c in r["cells"]]] for r in rows_all])]
    blocks += [doc.Callout([doc.Bold("Judges do not agree:"), f" {f}"]) for f in flags]
    return doc.Section(f"Judges side by side: lift over {baseline}", blocks, anchor="lifts",
                       short="Judges side by side"), flags
