"""`socratic pairs`: chosen/rejected pairs and a dataset card from judgments (see socratic.preference.pairs)."""

from __future__ import annotations

from pathlib import Path

import typer

from socratic.commands import _options as opt
from socratic.config import load_config
from socratic.paths import check_output_file
from socratic.preference.pairs import PairsConfig as C


def register(app: typer.Typer) -> None:
    @app.command("pairs")
    def pairs(
        judgments: Path = opt.option(C, "judgments", "--judgments"),
        out: Path = opt.option(C, "out", "-o", "--out"),
        strategy: str = opt.option(C, "strategy", "--strategy"),
        min_chosen: float = opt.option(C, "min_chosen_score", "--min-chosen"),
        min_margin: float = opt.option(C, "min_margin", "--min-margin"),
        chosen_asks_question: bool = opt.option(C, "chosen_asks_question", "--chosen-asks-question/--any-chosen"),
        formula: str = opt.option(C, "formula", "--formula"),
        system_prompt: Path = opt.option(C, "system_prompt", "--system-prompt"),
        answer_key: bool = opt.switch(C, "answer_key", "--answer-key"),
        teacher_judgments: Path = opt.option(C, "teacher_judgments", "--teacher-judgments"),
        teacher_share: float = opt.option(C, "teacher_share", "--teacher-share"),
        config: Path = opt.config_option(),
    ) -> None:
        """Best candidate = chosen, worst = rejected, with guards (judge failures, minimum score and margin)."""
        from socratic.preference import pairs as stage

        settings = load_config(C, config, {
            "judgments": judgments, "out": out, "strategy": strategy, "min_chosen_score": min_chosen,
            "min_margin": min_margin,
            "chosen_asks_question": chosen_asks_question, "formula": formula, "system_prompt": system_prompt,
            "teacher_judgments": teacher_judgments, "teacher_share": teacher_share,
            **opt.flags(answer_key=answer_key)})
        check_output_file(settings.out)
        if settings.teacher_judgments is not None:
            from socratic.preference import teacher_pairs

            teacher_pairs.run(settings)
        else:
            stage.run(settings)
