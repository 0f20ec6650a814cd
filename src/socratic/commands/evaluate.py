"""`socratic evaluate`: greedy replies of each model on each test set, judged, with CIs (see socratic.evaluate)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.config import load_config

MODEL_HELP = "NAME=SPEC (repeatable; the first is the baseline), SPEC = embedded | hf:PATH | openai:MODEL[@URL]"


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate(
        model: list[str] = typer.Option(None, "--model", help=MODEL_HELP),
        dataset: list[str] = typer.Option(None, "--dataset",
                                          help="Test set (repeatable): mathdial | debugging | tutorchat | FILE.jsonl."),
        split: str = typer.Option(None, "--split", help="Split (default test)."),
        limit: int = typer.Option(None, "--limit", help="First N dialogues of each test set (default 100)."),
        judge: list[str] = typer.Option(None, "--judge", help="Evaluation judge (repeatable): rubric | llm:SPEC."),
        training_judge: str = typer.Option(None, "--training-judge",
                                           help="The judge that made the training pairs (for the report's warning)."),
        out: Path = typer.Option(None, "-o", "--out", help="Output folder."),
        max_new_tokens: int = typer.Option(None, "--max-new-tokens", help="Reply length cap (default 200)."),
        batch_size: int = typer.Option(None, "--batch-size", help="Conversations per model call (default 8)."),
        concurrency: int = typer.Option(None, "--concurrency",
                                        help="Requests in flight to an openai: model (default 8)."),
        formula: str = typer.Option(None, "--formula", help="Summary formula: uniform (default) | reference."),
        system_prompt: Path = typer.Option(None, "--system-prompt", help="Tutor system prompt file."),
        seed: int = typer.Option(None, "--seed", help="Seed of generation and bootstrap (default 0)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
        no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html / report.md."),
        config: Path = typer.Option(None, "--config", help="YAML file of these options (flags win)."),
    ) -> None:
        """Evaluate models on test sets: mean summary with 95% CIs, criteria, paired tests; resumable."""
        from socratic import evaluate as stage
        from socratic.progress import console

        models = dict(stage.parse_model_option(m) for m in model) if model else None
        settings = load_config(stage.EvaluateConfig, config, {
            "models": models, "datasets": dataset or None, "split": split, "limit": limit, "judges": judge or None,
            "training_judge": training_judge, "out": out, "max_new_tokens": max_new_tokens,
            "batch_size": batch_size, "concurrency": concurrency, "formula": formula, "system_prompt": system_prompt, "seed": seed,
            **({"no_cache": True} if no_cache else {})})
        path = stage.run(settings)
        console.print(f"evaluation: {path}")
        if not no_report:
            from socratic.report import build_report

            html, md = build_report(settings.out)
            console.print(f"[bold]report:[/] {html}  (and {md})")
