"""`socratic run CONFIG.yaml`: the whole method, stage by stage, into one run folder (see socratic.pipeline)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.specs import JUDGE_SPEC_HELP


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        config: Path = typer.Argument(..., help="Pipeline config (see configs/quickstart.yaml)."),
        force: list[str] = typer.Option(None, "--force",
                                        help="Re-run a stage (repeatable): e.g. train:mathdial, train (all "
                                             "train stages), evaluate, report, all."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print which stages would run and why; run nothing."),
        out: Path = opt.out_option("Run folder (default runs/<name>)."),
        reward_judge: str = typer.Option(None, "--reward-judge",
                                         help=f"Override reward_judge, the judge that ranks the preference pairs' "
                                              f"candidates: {JUDGE_SPEC_HELP}."),
        eval_judge: list[str] = typer.Option(None, "--eval-judge",
                                             help="Override eval_judges (repeatable): the judges that score the "
                                                  "evaluation, side by side in the report."),
        rounds: int = typer.Option(None, "--rounds", min=1,
                                   help="Override rounds: DPO rounds, each sampling new candidates from the "
                                        "previous round's model (iterative, on-policy DPO)."),
    ) -> None:
        """Run the pipeline: data -> generate -> judge -> pairs -> train -> evaluate -> agreement -> report."""
        from socratic import pipeline

        settings = pipeline.load(config, {"out": out, "reward_judge": reward_judge,
                                          "eval_judges": eval_judge or None, "rounds": rounds})
        pipeline.run(settings, force=force or [], dry_run=dry_run)
