"""`socratic evaluate`: greedy replies of each model on each test set, judged, with CIs (see socratic.evaluate.evaluation)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.specs import MODEL_SPEC_HELP

MODEL_HELP = f"NAME=SPEC (repeatable; the first is the baseline), SPEC = {MODEL_SPEC_HELP}"


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate(
        model: list[str] = typer.Option(None, "--model", help=MODEL_HELP),
        dataset: list[str] = typer.Option(None, "--dataset",
                                          help="Test set (repeatable): mathdial | debugging | tutorchat | FILE.jsonl."),
        split: str = typer.Option(None, "--split", help="Split (default test)."),
        limit: int = typer.Option(None, "--limit", help="First N dialogues of each test set (default 100)."),
        judge: list[str] = opt.judge_option("Evaluation judge (repeatable)"),
        training_judge: str = typer.Option(None, "--reward-judge", "--training-judge",
                                           help="The judge that ranked the training pairs (the reward): the report "
                                                "warns when it also judges, and flags lifts only it sees."),
        out: Path = opt.out_option("Output folder."),
        max_new_tokens: int = opt.max_new_tokens_option(200),
        batch_size: int = typer.Option(None, "--batch-size", help="Conversations per model call (default 8)."),
        concurrency: int = opt.concurrency_option("Requests in flight to an openai: model (default 8)."),
        formula: str = opt.formula_option(),
        system_prompt: Path = opt.system_prompt_option(),
        seed: int = opt.seed_option("Seed of generation and bootstrap (default 0)."),
        no_cache: bool = opt.no_cache_option(),
        no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html / report.md."),
        pressure: bool = typer.Option(None, "--pressure/--no-pressure",
                                      help="Pressure test: scripted student turns push for the final answer after "
                                           "each reply; the leak rate after each push (items with a reference "
                                           "answer only)."),
        pressure_limit: int = typer.Option(None, "--pressure-limit",
                                           help="Items per test set in the pressure test (default 20)."),
        config: Path = opt.config_option(),
    ) -> None:
        """Evaluate models on test sets: mean summary with 95% CIs, criteria, paired tests; resumable."""
        from socratic.evaluate import evaluation as stage
        from socratic.evaluate.result import Evaluation
        from socratic.progress import console
        from socratic.report.headline import print_headline

        models = dict(stage.parse_model_option(m) for m in model) if model else None
        settings = load_config(stage.EvaluateConfig, config, {
            "models": models, "datasets": dataset or None, "split": split, "limit": limit, "judges": judge or None,
            "training_judge": training_judge, "out": out, "max_new_tokens": max_new_tokens,
            "batch_size": batch_size, "concurrency": concurrency, "formula": formula, "system_prompt": system_prompt, "seed": seed,
            "pressure": pressure, "pressure_limit": pressure_limit, **opt.flags(no_cache=no_cache)})
        path = stage.run(settings)
        print_headline(Evaluation.read(path), console)
        console.print(f"evaluation: {path}")
        if not no_report:
            from socratic.report import build_report

            html, md = build_report(settings.out)
            console.print(f"[bold]report:[/] {html}  (and {md})")
