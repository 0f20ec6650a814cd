"""`socratic run CONFIG.yaml`: the whole method, stage by stage, into one run folder (see socratic.pipeline)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.pipeline.config import PipelineConfig as C


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        config: Path = typer.Argument(..., help="Pipeline config (see configs/quickstart.yaml)."),
        force: list[str] = typer.Option(None, "--force",
                                        help="Re-run a stage (repeatable): e.g. train:mathdial, train (all "
                                             "train stages), evaluate, report, all."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print which stages would run and why; run nothing."),
        out: Path = opt.option(C, "out", "-o", "--out"),
        reward_judge: str = opt.option(C, "reward_judge", "--reward-judge",
                                       prefix="Overrides the config's reward_judge. "),
        eval_judge: list[str] = opt.option(C, "eval_judges", "--eval-judge",
                                           prefix="Overrides the config's eval_judges (repeatable). "),
        rounds: int = opt.option(C, "rounds", "--rounds", min=1, prefix="Overrides the config's rounds. "),
    ) -> None:
        """Run the pipeline: data -> generate -> judge -> pairs -> train -> evaluate -> agreement -> report."""
        from socratic import pipeline

        settings = pipeline.load(config, {"out": out, "reward_judge": reward_judge,
                                          "eval_judges": eval_judge or None, "rounds": rounds})
        pipeline.run(settings, force=force or [], dry_run=dry_run)
