"""`socratic agreement`: compare judges with human labels (see socratic.agreement.measure)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("agreement")
    def agreement(
        labels: Path = typer.Option(None, "--labels", help="Labelled-reply JSONL, the socratic_llm human-eval "
                                    "JSON (mathdial_human_eval_dev.json), or an MRBench / BEA 2025 JSON file."),
        judge: list[str] = opt.judge_option("Judge spec (default rubric; repeat to compare several side by side)"),
        out: Path = opt.out_option("Output folder: agreement.json and figures."),
        formula: str = opt.formula_option(),
        top: int = typer.Option(None, "--top", help="Largest disagreements to print per judge (default 10)."),
        bootstrap: int = typer.Option(None, "--bootstrap", help="Bootstrap resamples for the 95% CIs "
                                      "(default 2000)."),
        seed: int = opt.seed_option("Bootstrap seed (default 0)."),
        folds: int = typer.Option(None, "--folds", help="k of the grouped k-fold that scores a learned judge "
                                  "on labels it was trained on (default 5)."),
        no_cache: bool = opt.no_cache_option("Re-judge instead of reading the cache."),
        config: Path = opt.config_option(),
    ) -> None:
        """Judge validation: agreement of each judge with human labels, per criterion and on the summary."""
        from socratic.agreement import measure as stage
        from socratic.agreement.table import print_agreement

        settings = load_config(stage.AgreementConfig, config, {
            "labels": labels, "judges": judge or None, "out": out, "formula": formula, "top_k": top,
            "bootstrap": bootstrap, "seed": seed, "folds": folds, **opt.flags(no_cache=no_cache)})
        print_agreement(stage.run(settings))
