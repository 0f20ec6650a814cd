"""`socratic judge`: score tutor replies on the four Socratic criteria (see socratic.judge.stage)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.judge.stage import JudgeConfig as C


def register(app: typer.Typer) -> None:
    @app.command("judge")
    @opt.config_command(C, opt.Opt("input", default=...), "judge", opt.Opt("output", default=...), "max_tries",
                        "concurrency", "no_cache", "formula", "limit")
    def judge(settings: C) -> None:
        """Judge tutor replies: questions, on_topic, helpful, reveal_answer and the summary score."""
        from socratic.judge import stage

        summary = stage.run(settings)
        stage.print_summary(summary, settings.judge, settings.formula)
        typer.echo(f"wrote {summary.count} judgments ({summary.failures} failed) to {summary.output}")
