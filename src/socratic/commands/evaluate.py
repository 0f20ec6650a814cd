"""`socratic evaluate`: greedy replies of each model on each test set, judged, with CIs (see socratic.evaluate.evaluation)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.evaluate.config import EvaluateConfig as C
from socratic.specs import MODEL_SPEC_HELP


def _models(given: list[str] | None) -> dict[str, str] | None:
    """--model NAME=SPEC, repeated -> the config's `models` mapping."""
    from socratic.evaluate.evaluation import parse_model_option

    return dict(parse_model_option(m) for m in given) if given else None


MODELS = opt.Opt("models", type=list[str], convert=_models,
                 help=f"NAME=SPEC (repeatable; the first is the baseline), SPEC = {MODEL_SPEC_HELP}")
NO_REPORT = opt.Param("no_report", bool, typer.Option(False, "--no-report", help="Do not write report.html / report.md."))


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    @opt.config_command(C, MODELS, "datasets", "split", "limit", "judges", "training_judge", "out", "max_new_tokens",
                        "batch_size", "concurrency", "formula", *opt.PROMPT, "seed", "no_cache", "overwrite",
                        NO_REPORT, "pressure", "pressure_limit", "teacher", opt.CONFIG)
    def evaluate(settings: C, no_report: bool) -> None:
        """Evaluate models on test sets: mean summary with 95% CIs, criteria, paired tests; resumable."""
        from socratic.evaluate import evaluation as stage
        from socratic.evaluate.result import Evaluation
        from socratic.progress import console
        from socratic.report.headline import print_headline

        path = stage.run(settings)
        print_headline(Evaluation.read(path), console)
        console.print(f"evaluation: {path}")
        if not no_report:
            from socratic.report import build_report

            html, md = build_report(settings.out)
            console.print(f"[bold]report:[/] {html}  (and {md})")
