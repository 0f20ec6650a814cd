"""`socratic pairs`: chosen/rejected pairs and a dataset card from judgments (see socratic.preference.pairs)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config


def register(app: typer.Typer) -> None:
    @app.command("pairs")
    def pairs(
        judgments: Path = typer.Option(None, "--judgments", help="Judgment JSONL (from socratic judge)."),
        out: Path = opt.out_option("Output pairs JSONL; README.md is written next to it."),
        strategy: str = typer.Option(None, "--strategy", help="best-worst (default, the paper's) or all-pairs."),
        min_chosen: float = typer.Option(None, "--min-chosen", help="Minimum chosen summary (default 0.5)."),
        min_margin: float = typer.Option(None, "--min-margin",
                                         help="Minimum chosen - rejected summary (default 0.05)."),
        chosen_asks_question: bool = typer.Option(
            None, "--chosen-asks-question/--any-chosen",
            help="The question filter: the chosen reply must ask a question (the judge's `questions`)."),
        formula: str = opt.formula_option(),
        system_prompt: Path = opt.system_prompt_option("Tutor system prompt file used at generation."),
        config: Path = opt.config_option(),
    ) -> None:
        """Best candidate = chosen, worst = rejected, with guards (judge failures, minimum score and margin)."""
        from socratic.preference import pairs as stage

        settings = load_config(stage.PairsConfig, config, {
            "judgments": judgments, "out": out, "strategy": strategy, "min_chosen_score": min_chosen,
            "min_margin": min_margin,
            "chosen_asks_question": chosen_asks_question, "formula": formula, "system_prompt": system_prompt})
        stage.run(settings)
