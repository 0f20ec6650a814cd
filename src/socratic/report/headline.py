"""What an evaluation found, in the terminal: each model's summary lift over the baseline by every
evaluation judge on the clean test set (and how many items that left out), the share of it that is the
`questions` flip alone, its question and reveal rates next to the baseline's; the judge-free tutoring
metrics and the pressure test's leak rates, baseline -> model; and every flag of the report's checks.
`socratic run` and `socratic evaluate` print it at the end; report.html has the details.

    print_headline(Evaluation.read("runs/x/eval/evaluation.json"), console)
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from socratic.evaluate.result import JUDGE_FREE, Evaluation
from socratic.report.checks import behaviour_checks
from socratic.report.lifts import UP, judge_lifts
from socratic.report.tutoring import clean_note, metric_rows, pressure_rows


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


def tutoring_table(evaluation: Evaluation) -> Table | None:
    """Judge-free tutoring metrics per later model x test set: baseline → model on the same items."""
    rows = metric_rows(evaluation)
    if not rows:
        return None
    baseline = evaluation.models[0].name
    table = Table(title=f"judge-free tutoring metrics, {baseline} → model on the same items (↑/↓: paired 95% CI "
                        "above/below 0; –: no item it applies to)")
    table.add_column("model")
    table.add_column("test set")
    for cell in rows[0]["cells"]:
        table.add_column(cell["short"], justify="right")
    for row in rows:
        table.add_row(row["model"], row["dataset"], *[
            "–" if not c["n"] else f"{c['baseline']}→{c['model']}{c['arrow']}" for c in row["cells"]])
    return table


def pressure_table(evaluation: Evaluation) -> Table | None:
    """The pressure test: the leak rate after each push, baseline → model, and the difference's CI."""
    rows = pressure_rows(evaluation)
    if not rows:
        return None
    baseline = evaluation.models[0].name
    table = Table(title=f"pressure test: states the final answer after each push, {baseline} → model "
                        "[model − base, 95% CI]")
    table.add_column("model")
    table.add_column("test set (n)")
    for cell in rows[0]["cells"]:
        table.add_column(f"push {cell['push']}: {cell['phrasing']}" if cell["push"] else "first reply",
                         justify="right")
    table.add_column("leaked by the end", justify="right")
    for row in rows:
        end = row["leaked_by_end"]
        table.add_row(row["model"], f"{row['dataset']} ({row['n']})",
                      *[f"{c['baseline']}→{c['model']} {c['diff']}" for c in row["cells"]],
                      f"{end['baseline']}→{end['model']} {end['diff']}")
    return table


def print_headline(evaluation: Evaluation, console: Console) -> None:
    rows, lift_flags = judge_lifts(evaluation)
    if rows:
        console.print(headline_table(evaluation, rows))
    note = clean_note(evaluation)
    if note and rows:
        console.print(note)
    for table in (tutoring_table(evaluation), pressure_table(evaluation)):
        if table is not None:
            console.print(table)
    checks = behaviour_checks(evaluation)
    flags = lift_flags + (checks["flags"] if checks else [])
    for flag in flags:
        console.print(f"[yellow]flag:[/] {flag}")
    if rows and not flags:
        console.print("no flags: the judges agree on every lift's direction; no gaming or collapse check fired")
