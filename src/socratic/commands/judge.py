"""`socratic judge`: score tutor replies on the four Socratic criteria (see socratic.judge.stage)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("judge")
    def judge(
        input: Path = typer.Option(..., "--input", "-i", help="Candidate JSONL (socratic generate), Labelled-reply "
                                   "JSONL, or the socratic_llm human-eval JSON (mathdial_human_eval_dev.json)."),
        spec: str = typer.Option("rubric", "--judge", help="rubric or learned (offline) or llm:<model spec>, e.g. "
                                 "llm:embedded, llm:openai:gpt-4o, llm:openai:MODEL@http://127.0.0.1:8000/v1."),
        output: Path = typer.Option(..., "-o", "--output", help="Where to write the Judgment JSONL."),
        max_tries: int = typer.Option(3, "--max-tries", help="LLM judge: calls per item before giving up "
                                      "(each re-ask shows the model its validation error)."),
        concurrency: int = typer.Option(4, "--concurrency", help="LLM judge over HTTP: parallel requests."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Judge again instead of reading the cache."),
        formula: str = typer.Option("uniform", "--formula", help="Summary formula: uniform or reference."),
        limit: int | None = typer.Option(None, "--limit", help="Judge only the first N items."),
    ) -> None:
        """Judge tutor replies: questions, on_topic, helpful, reveal_answer and the summary score."""
        from socratic.judge import stage

        config = load_config(stage.JudgeConfig, None, {
            "input": input, "output": output, "judge": spec, "max_tries": max_tries, "concurrency": concurrency,
            "no_cache": no_cache, "formula": formula, "limit": limit})
        summary = stage.run(config)
        stage.print_summary(summary, spec, formula)
        typer.echo(f"wrote {summary.count} judgments ({summary.failures} failed) to {summary.output}")
