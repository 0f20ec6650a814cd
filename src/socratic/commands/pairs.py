"""`socratic pairs`: chosen/rejected pairs and a dataset card from judgments (see socratic.preference.pairs)."""

from __future__ import annotations

import typer

from socratic.commands import _options as opt
from socratic.preference.pairs import PairsConfig as C
from socratic.store.paths import check_output_file


def register(app: typer.Typer) -> None:
    @app.command("pairs")
    @opt.config_command(C, "judgments", "out", *opt.PAIRING, "formula", *opt.PROMPT, "teacher_judgments",
                        "teacher_share", opt.CONFIG)
    def pairs(settings: C) -> None:
        """Best candidate = chosen, worst = rejected, with guards (judge failures, minimum score and margin)."""
        from socratic.preference import pairs as stage

        check_output_file(settings.out)
        if settings.teacher_judgments is not None:
            from socratic.preference import teacher_pairs

            teacher_pairs.run(settings)
        else:
            stage.run(settings)
