"""`socratic judge`: score tutor replies on the four Socratic criteria (see socratic.judge.stage)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.judge.stage import JudgeConfig as C


def register(app: typer.Typer) -> None:
    @app.command("judge")
    def judge(
        input: Path = opt.option(C, "input", "--input", "-i", default=...),
        spec: str = opt.option(C, "judge", "--judge"),
        output: Path = opt.option(C, "output", "-o", "--output", default=...),
        max_tries: int = opt.option(C, "max_tries", "--max-tries"),
        concurrency: int = opt.option(C, "concurrency", "--concurrency"),
        no_cache: bool = opt.switch(C, "no_cache", "--no-cache"),
        formula: str = opt.option(C, "formula", "--formula"),
        limit: int | None = opt.option(C, "limit", "--limit"),
    ) -> None:
        """Judge tutor replies: questions, on_topic, helpful, reveal_answer and the summary score."""
        from socratic.judge import stage

        config = load_config(C, None, {
            "input": input, "output": output, "judge": spec, "max_tries": max_tries, "concurrency": concurrency,
            "formula": formula, "limit": limit, **opt.flags(no_cache=no_cache)})
        summary = stage.run(config)
        stage.print_summary(summary, config.judge, config.formula)
        typer.echo(f"wrote {summary.count} judgments ({summary.failures} failed) to {summary.output}")
