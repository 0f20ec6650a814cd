"""What an evaluation found, in the terminal: each model's summary lift over the baseline by every
evaluation judge, its question and reveal rates next to the baseline's, and every flag of the report's
checks. `socratic run` and `socratic evaluate` print it at the end; report.html has the details.

    print_headline(Evaluation.read("runs/x/eval/evaluation.json"), console)
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from socratic.evaluate.result import JUDGE_FREE, Evaluation
from socratic.report.checks import behaviour_checks
from socratic.report.lifts import UP, judge_lifts


def _rate(evaluation: Evaluation, rate: str, model: str, dataset: str, judge: str = JUDGE_FREE) -> str:
    found = evaluation.behaviour.rate(rate, model, dataset, judge)
    if found is None or found.model_rate is None:
        return "–"
    return f"{found.baseline_rate:.2f} → {found.model_rate:.2f}"


def headline_table(evaluation: Evaluation, rows: list[dict]) -> Table:
    """One row per model x test set (its own training set's first): lift per judge, question and reveal
    rates; `rows` are `judge_lifts`'."""
    trained = {m.name: m.trained_on for m in evaluation.models}
    rows = sorted(rows, key=lambda r: (r["model"], r["dataset"] != trained.get(r["model"])))
    baseline = evaluation.models[0].name
    table = Table(title=f"summary lift over {baseline} [95% CI] (↑: CI above 0); rates {baseline} → model")
    table.add_column("model")
    table.add_column("test set")
    for judge in evaluation.judges:
        reward = " (reward)" if judge == evaluation.training_judge else ""
        table.add_column(f"lift by {judge}{reward}", justify="right")
    table.add_column("asks a question", justify="right")
    table.add_column(f"reveals (by {evaluation.judges[0]})", justify="right")
    for row in rows:
        own = " (own)" if trained.get(row["model"]) == row["dataset"] else ""
        cells = [f"{c['text']}{' ↑' if c['direction'] == UP else ''}" for c in row["cells"]]
        table.add_row(row["model"], row["dataset"] + own, *cells,
                      _rate(evaluation, "asks_question", row["model"], row["dataset"]),
                      _rate(evaluation, "reveal_answer", row["model"], row["dataset"], evaluation.judges[0]))
    return table


def print_headline(evaluation: Evaluation, console: Console) -> None:
    rows, lift_flags = judge_lifts(evaluation)
    if rows:
        console.print(headline_table(evaluation, rows))
    checks = behaviour_checks(evaluation)
    flags = lift_flags + (checks["flags"] if checks else [])
    for flag in flags:
        console.print(f"[yellow]flag:[/] {flag}")
    if rows and not flags:
        console.print("no flags: the judges agree on every lift's direction; no gaming or collapse check fired")
