"""`socratic run CONFIG.yaml`: the whole method, stage by stage, into one run folder (see socratic.pipeline)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.pipeline.config import PipelineConfig as C

CONFIG = opt.Param("config", Path, typer.Argument(..., help="Pipeline config (see configs/quickstart.yaml)."))
FORCE = opt.Param("force", list[str], typer.Option(None, "--force", help=(
    "Re-run a stage (repeatable): e.g. train:mathdial, train (all train stages), evaluate, report, all.")))
DRY_RUN = opt.Param("dry_run", bool, typer.Option(False, "--dry-run",
                                                  help="Print which stages would run and why; run nothing."))


def register(app: typer.Typer) -> None:
    @app.command("run")
    @opt.config_command(C, CONFIG, FORCE, DRY_RUN, "out",
                        opt.Opt("reward_judge", prefix="Overrides the config's reward_judge. "),
                        opt.Opt("eval_judges", ("--eval-judge",),
                                prefix="Overrides the config's eval_judges (repeatable). "),
                        opt.Opt("rounds", prefix="Overrides the config's rounds. ", extra={"min": 1}))
    def run(settings: C, force: list[str] | None, dry_run: bool) -> None:
        """Run the pipeline: data -> generate -> judge -> pairs -> train -> evaluate -> agreement -> report."""
        from socratic import pipeline

        pipeline.run(settings, force=force or [], dry_run=dry_run)
