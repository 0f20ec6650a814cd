"""`socratic evaluate`: greedy replies of each model on each test set, judged, with CIs (see socratic.evaluate.evaluation)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.evaluate.config import EvaluateConfig as C
from socratic.specs import MODEL_SPEC_HELP

# --model is NAME=SPEC, repeated; the config's `models` is the mapping those make.
MODEL_HELP = f"NAME=SPEC (repeatable; the first is the baseline), SPEC = {MODEL_SPEC_HELP}"


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate(
        model: list[str] = typer.Option(None, "--model", help=MODEL_HELP),
        dataset: list[str] = opt.option(C, "datasets", "--dataset"),
        split: str = opt.option(C, "split", "--split"),
        limit: int = opt.option(C, "limit", "--limit"),
        judge: list[str] = opt.option(C, "judges", "--judge"),
        training_judge: str = opt.option(C, "training_judge", "--reward-judge", "--training-judge"),
        out: Path = opt.option(C, "out", "-o", "--out"),
        max_new_tokens: int = opt.option(C, "max_new_tokens", "--max-new-tokens"),
        batch_size: int = opt.option(C, "batch_size", "--batch-size"),
        concurrency: int = opt.option(C, "concurrency", "--concurrency"),
        formula: str = opt.option(C, "formula", "--formula"),
        system_prompt: Path = opt.option(C, "system_prompt", "--system-prompt"),
        answer_key: bool = opt.switch(C, "answer_key", "--answer-key"),
        seed: int = opt.option(C, "seed", "--seed"),
        no_cache: bool = opt.switch(C, "no_cache", "--no-cache"),
        overwrite: bool = opt.switch(C, "overwrite", "--overwrite"),
        no_report: bool = typer.Option(False, "--no-report", help="Do not write report.html / report.md."),
        pressure: bool = opt.option(C, "pressure", "--pressure/--no-pressure"),
        pressure_limit: int = opt.option(C, "pressure_limit", "--pressure-limit"),
        teacher: bool = opt.option(C, "teacher", "--teacher/--no-teacher"),
        config: Path = opt.config_option(),
    ) -> None:
        """Evaluate models on test sets: mean summary with 95% CIs, criteria, paired tests; resumable."""
        from socratic.evaluate import evaluation as stage
        from socratic.evaluate.result import Evaluation
        from socratic.progress import console
        from socratic.report.headline import print_headline

        models = dict(stage.parse_model_option(m) for m in model) if model else None
        settings = load_config(C, config, {
            "models": models, "datasets": dataset or None, "split": split, "limit": limit, "judges": judge or None,
            "training_judge": training_judge, "out": out, "max_new_tokens": max_new_tokens,
            "batch_size": batch_size, "concurrency": concurrency, "formula": formula, "system_prompt": system_prompt,
            "seed": seed, "pressure": pressure, "pressure_limit": pressure_limit, "teacher": teacher,
            **opt.flags(no_cache=no_cache, overwrite=overwrite, answer_key=answer_key)})
        path = stage.run(settings)
        print_headline(Evaluation.read(path), console)
        console.print(f"evaluation: {path}")
        if not no_report:
            from socratic.report import build_report

            html, md = build_report(settings.out)
            console.print(f"[bold]report:[/] {html}  (and {md})")
