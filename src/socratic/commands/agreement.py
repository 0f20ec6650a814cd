"""`socratic agreement`: compare judges with human labels (see socratic.agreement)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.config import load_config

JUDGE_HELP = ("Judge spec: rubric (default) | learned[:PATH] | llm:<model spec>; repeat to compare several "
              "judges side by side.")


def register(app: typer.Typer) -> None:
    @app.command("agreement")
    def agreement(
        labels: Path = typer.Option(None, "--labels", help="Labelled-reply JSONL, the socratic_llm human-eval "
                                    "JSON (mathdial_human_eval_dev.json), or an MRBench / BEA 2025 JSON file."),
        judge: list[str] = typer.Option(None, "--judge", help=JUDGE_HELP),
        out: Path = typer.Option(None, "-o", "--out", help="Output folder: agreement.json and figures."),
        formula: str = typer.Option(None, "--formula", help="Summary formula: uniform (default) or reference."),
        top: int = typer.Option(None, "--top", help="Largest disagreements to print per judge (default 10)."),
        bootstrap: int = typer.Option(None, "--bootstrap", help="Bootstrap resamples for the 95% CIs "
                                      "(default 2000)."),
        seed: int = typer.Option(None, "--seed", help="Bootstrap seed (default 0)."),
        folds: int = typer.Option(None, "--folds", help="k of the grouped k-fold that scores a learned judge "
                                  "on labels it was trained on (default 5)."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Re-judge instead of reading the cache."),
        config: Path = typer.Option(None, "--config", help="YAML file of these options (flags win)."),
    ) -> None:
        """Judge validation: agreement of each judge with human labels, per criterion and on the summary."""
        from socratic import agreement as stage
        from socratic.agreement_table import print_agreement

        settings = load_config(stage.AgreementConfig, config, {
            "labels": labels, "judges": judge or None, "out": out, "formula": formula, "top_k": top,
            "bootstrap": bootstrap, "seed": seed, "no_cache": no_cache or None, "folds": folds})
        print_agreement(stage.run(settings))
