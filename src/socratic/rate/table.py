"""The terminal view of ratings.json: per source, who beats whom, the raters' and the judges' agreement."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from socratic.evaluate.stats import Estimate
from socratic.rate.result import RatingResult


def _share(e: Estimate) -> str:
    return "-" if e.mean is None else f"{e.mean:.0%} [{e.low:.0%}, {e.high:.0%}]"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_result(result: RatingResult, console: Console | None = None) -> None:
    console = console or Console()
    raters = ", ".join(result.raters)
    table = Table(title=f"blind ratings, 1-5: {result.items} items, {len(result.raters)} rater(s) ({raters})",
                  title_justify="left")
    for name in ("source", "mean [95% CI]", "acceptable (>= 3)", "harmful (= 1)", "items"):
        table.add_column(name, justify="left" if name == "source" else "right")
    for s in result.by_source:
        mean = "-" if s.mean.mean is None else f"{s.mean.mean:.2f} [{s.mean.low:.2f}, {s.mean.high:.2f}]"
        table.add_row(s.source, mean, _share(s.acceptable), _share(s.harmful), str(s.items))
    console.print(table)
    if len(result.sources) > 1:
        wins = Table(title="win rate: the row preferred to the column on the same item, ties half",
                     title_justify="left")
        wins.add_column("")
        for other in result.sources:
            wins.add_column(other, justify="right")
        for source in result.sources:
            cells = [_share(w.rate) if (w := result.win(source, other)) else "" for other in result.sources]
            wins.add_row(source, *cells)
        console.print(wins)
    if result.rater_pairs:
        agree = Table(title=f"raters: mean quadratic-weighted kappa {_num(result.mean_kappa)}",
                      title_justify="left")
        for name in ("raters", "replies", "kappa", "same score", "within one"):
            agree.add_column(name, justify="left" if name == "raters" else "right")
        for p in result.rater_pairs:
            agree.add_row(" / ".join(p.raters), str(p.n), _num(p.kappa), f"{p.exact:.0%}", f"{p.within_one:.0%}")
        console.print(agree)
    if result.judges:
        judges = Table(title=f"each judge against the mean rating ({result.formula} summary)", title_justify="left")
        for name in ("judge", "replies", "Spearman", "pairs ranked apart", "same order"):
            judges.add_column(name, justify="left" if name == "judge" else "right")
        for j in result.judges:
            order = "-" if j.pair_agreement is None else f"{j.pair_agreement:.0%}"
            judges.add_row(j.judge, str(j.replies), _num(j.spearman), str(j.pairs), order)
        console.print(judges)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
