"""What an evaluation found, in the terminal, in the order people would check it: each model's win rate
against the real teacher by every judge (where test items carry the teacher's turn); the judge-free
tutoring and correctness metrics and the pressure test's leak rates, baseline -> model; then each model's
summary lift over the baseline by every evaluation judge on the clean test set (and how many items that
left out), the share of it that is the `questions` flip alone, its question and reveal rates next to the
baseline's; and every flag of the report's checks.
`socratic run` and `socratic evaluate` print it at the end; report.html has the details.

    print_headline(Evaluation.read("runs/x/eval/evaluation.json"), console)
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from socratic.evaluate.result import JUDGE_FREE, Evaluation
from socratic.report.checks import behaviour_checks
from socratic.report.lifts import UP, independence_flags, judge_lifts
from socratic.report.teacher import teacher_note, teacher_rows
from socratic.report.tutoring import clean_note, metric_rows, pressure_rows, tutoring_flags


def _rate(evaluation: Evaluation, rate: str, model: str, dataset: str, judge: str = JUDGE_FREE) -> str:
    found = evaluation.behaviour.rate(rate, model, dataset, judge)
    if rate == "asks_question" and evaluation.tutoring.limits is not None:
        # The plain rule of evaluate.tutoring: behaviour's rate uses the rubric's question detector, the
        # reward's own signal, so it cannot tell whether the tuned model games it.
        found = evaluation.tutoring.diff(rate, model, dataset)
    if found is None or found.model_rate is None:
        return "–"
    return f"{found.baseline_rate:.2f} → {found.model_rate:.2f}"


def headline_table(evaluation: Evaluation, rows: list[dict]) -> Table:
    """One row per model x test set (its own training set's first): lift per judge, question and reveal
    rates; `rows` are `judge_lifts`'."""
    trained = {m.name: m.trained_on for m in evaluation.models}
    rows = sorted(rows, key=lambda r: (r["model"], r["dataset"] != trained.get(r["model"])))
    baseline = evaluation.models[0].name
    table = Table(title=f"summary lift over {baseline} on the clean test set [95% CI] (↑: CI above 0; q: the share "
                        f"of it that is the `questions` flip alone); rates {baseline} → model")
    table.add_column("model")
    table.add_column("test set")
    for judge in evaluation.judges:
        reward = " (reward)" if judge == evaluation.training_judge else ""
        table.add_column(f"lift by {judge}{reward}", justify="right")
    table.add_column("asks a question (plain rule)", justify="right")
    table.add_column(f"reveals (by {evaluation.judges[0]})", justify="right")
    for row in rows:
        own = " (own)" if trained.get(row["model"]) == row["dataset"] else ""
        cells = [f"{c['text']}{' ↑' if c['direction'] == UP else ''}"
                 + (f" q {c['questions_share']}" if c.get("questions_share", "–") != "–" else "") for c in row["cells"]]
        table.add_row(row["model"], row["dataset"] + own, *cells,
                      _rate(evaluation, "asks_question", row["model"], row["dataset"]),
                      _rate(evaluation, "reveal_answer", row["model"], row["dataset"], evaluation.judges[0]))
    return table


def _column(model: str, dataset: str, trained: dict[str, str | None]) -> str:
    return f"{model} on {dataset}{' (own)' if trained.get(model) == dataset else ''}"


def tutoring_table(evaluation: Evaluation) -> Table | None:
    """Judge-free tutoring metrics, one row per metric, one column per later model x test set: baseline →
    model on the same items (narrow cells, so the table reads in an 80-column terminal)."""
    rows = metric_rows(evaluation)
    if not rows:
        return None
    baseline = evaluation.models[0].name
    trained = {m.name: m.trained_on for m in evaluation.models}
    table = Table(title=f"judge-free tutoring metrics, {baseline} → model on the same items (↑/↓: paired 95% CI "
                        "above/below 0; –: no item it applies to; CIs in the report)")
    table.add_column("metric")
    for row in rows:
        table.add_column(_column(row["model"], row["dataset"], trained), justify="right")
    for n, cell in enumerate(rows[0]["cells"]):
        table.add_row(cell["label"], *["–" if not row["cells"][n]["n"] else
                                       f"{row['cells'][n]['baseline']} → {row['cells'][n]['model']}"
                                       f"{' ' + row['cells'][n]['arrow'] if row['cells'][n]['arrow'] else ''}"
                                       for row in rows])
    return table


def pressure_table(evaluation: Evaluation) -> Table | None:
    """The pressure test, one row per push, one column per later model x pushed test set: the leak rate
    baseline → model and the paired difference's 95% CI."""
    rows = pressure_rows(evaluation)
    if not rows:
        return None
    baseline = evaluation.models[0].name
    trained = {m.name: m.trained_on for m in evaluation.models}
    table = Table(title=f"pressure test: the reply states the final answer, {baseline} → model "
                        "[model − base, 95% CI]")
    table.add_column("after")
    for row in rows:
        table.add_column(f"{_column(row['model'], row['dataset'], trained)}, n={row['n']}", justify="right")
    for n, cell in enumerate(rows[0]["cells"]):
        label = f"push {cell['push']}: {cell['phrasing']}" if cell["push"] else "the first reply"
        table.add_row(label, *[f"{c['baseline']} → {c['model']} {c['arrow']} {c['diff']}".replace("  ", " ")
                               for c in (row["cells"][n] for row in rows)])
    table.add_row("any push (leaked by the end)", *[
        f"{e['baseline']} → {e['model']} {e['arrow']} {e['diff']}".replace("  ", " ")
        for e in (row["leaked_by_end"] for row in rows)])
    return table


def teacher_table(evaluation: Evaluation) -> Table | None:
    """Each model's win rate against the real teacher, one column per judge (evaluate.teacher)."""
    rows = teacher_rows(evaluation)
    if not rows:
        return None
    table = Table(title="against the real teacher: share of items where the judge prefers the model's reply to the "
                        "teacher's next turn (ties half) [95% CI]")
    table.add_column("model")
    table.add_column("test set")
    for judge in evaluation.judges:
        reward = " (reward)" if judge == evaluation.training_judge else ""
        table.add_column(f"by {judge}{reward}", justify="right")
    for row in rows:
        table.add_row(row["model"], row["dataset"], *[f"{c['text']} n={c['n']}" for c in row["cells"]])
    return table


def print_headline(evaluation: Evaluation, console: Console) -> None:
    """What people would check first (against the teacher, judge-free tutoring and correctness, the pressure
    test), then the judges' summary lifts with their caveats."""
    teacher = teacher_table(evaluation)
    if teacher is not None:
        console.print(teacher)
        console.print(teacher_note(evaluation))
    for table in (tutoring_table(evaluation), pressure_table(evaluation)):
        if table is not None:
            console.print(table)
    rows, lift_flags = judge_lifts(evaluation)
    if rows:
        console.print(headline_table(evaluation, rows))
    note = clean_note(evaluation)
    if note and rows:
        console.print(note)
    checks = behaviour_checks(evaluation)
    flags = lift_flags + independence_flags(evaluation) + (checks["flags"] if checks else []) + tutoring_flags(evaluation)
    for flag in flags:
        console.print(f"[yellow]flag:[/] {flag}")
    if rows and not flags:
        console.print("no flags: the judges agree on every lift's direction; no gaming or collapse check fired; "
                      "no judge-free failure rate is clearly above the baseline's")
